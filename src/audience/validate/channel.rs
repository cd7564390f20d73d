//! Checking a channel activity: its credential, recipients, address and message.

use super::*;
use crate::model::{Entity, Message};

pub(super) fn channel(ck: &mut Checker<'_>, scope: &Scope<'_, '_>) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, input, dim, .. } = *scope;
    let ActivityKind::Channel { channel, per, message, .. } = &a.kind else { return None };
    let entity = dim?;
    let f = input?;
    match channel {
        Channel::XDm => return direct_message(ck, scope, entity, f, message),
        Channel::X => {
            post(ck, a, message);
            return Some(vec![("out".into(), f.clone())]);
        }
        _ => {}
    }
    let profile = profile_entity(b.model);
    let Some(profile) = profile else {
        ck.add(Some(a), None, "the data model has no profile entity (identity namespaces point at none)");
        return None;
    };
    // What the message may use: the profile, the row sent about (one message per
    // secondary entity), the enrichment columns that arrive.
    let columns =
        |e: &str| b.model.entity(e).map(|e| e.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
    let scope = crate::personalize::Scope {
        profile: columns(profile),
        secondary: (*per == Recipient::SecondaryEntity && entity.name != profile)
            .then(|| (entity.name.clone(), columns(&entity.name))),
        enrichment: f.columns.iter().map(|c| c.alias.clone()).collect(),
        context: false,
        visitor: false,
        trigger: false,
    };
    for (part, source) in [("subject", &message.subject), ("text", &message.text), ("HTML", &message.html)] {
        if source.trim().is_empty() {
            continue;
        }
        if let Err(problems) = crate::personalize::check(source, &scope) {
            for p in problems {
                ck.add(Some(a), Some(&format!("message {part}")), p.to_string());
            }
        }
    }
    for column in &message.columns {
        if let Err(problems) = crate::personalize::check(&format!("{{{{ {column} }}}}"), &scope) {
            for p in problems {
                ck.add(Some(a), Some("columns"), p.to_string());
            }
        }
    }
    let reaches = entity.name == profile
        || matches!(b.relation(entity, profile), Ok(super::super::expr::Relation::Parent { .. }));
    if !reaches {
        ck.add(Some(a), None, format!("{} cannot be sent to: it has no link to {profile}", entity.label));
    }
    if *per == Recipient::SecondaryEntity && entity.name == profile {
        ck.add(
            Some(a),
            Some("per"),
            "\u{201c}one message per secondary entity\u{201d} needs a Change dimension before it",
        );
    }
    if let Some(ns) = address_namespace(*channel)
        && !b.model.identity_namespaces.iter().any(|n| n.name == ns && n.entity == profile)
    {
        ck.add(
            Some(a),
            None,
            format!("{} needs the profiles' {ns} (an identity namespace \u{201c}{ns}\u{201d})", channel.label()),
        );
    }
    let out = if *per == Recipient::Profile && entity.name != profile {
        Flow { dimension: Some(profile.to_owned()), columns: Vec::new() }
    } else {
        f.clone()
    };
    Some(vec![("out".into(), out)])
}

/// An X direct message: it goes to visitors (its population must be theirs), personalized
/// with `visitor.<column>` and the enrichment columns.
fn direct_message(
    ck: &mut Checker<'_>,
    scope: &Scope<'_, '_>,
    entity: &Entity,
    f: &Flow,
    message: &Message,
) -> Option<Vec<(String, Flow)>> {
    let Scope { b, a, .. } = *scope;
    let Some(visitors) = b.model.entity(crate::model::VISITORS) else {
        ck.add(
            Some(a),
            None,
            "an X direct message goes to visitors, and there are none yet: synchronize an X service's followers (Visitors \u{2192} Synchronize now)",
        );
        return None;
    };
    if entity.name != visitors.name {
        ck.add(
            Some(a),
            None,
            format!(
                "an X direct message goes to visitors: build its audience over {} (or change the dimension to {}), not over {}",
                visitors.label, visitors.label, entity.label
            ),
        );
    }
    let scope = crate::personalize::Scope {
        profile: visitors.columns.iter().map(|c| c.name.clone()).collect(),
        secondary: None,
        enrichment: f.columns.iter().map(|c| c.alias.clone()).collect(),
        context: false,
        visitor: true,
        trigger: false,
    };
    if let Err(problems) = crate::personalize::check(&message.text, &scope) {
        for p in problems {
            ck.add(Some(a), Some("message text"), p.to_string());
        }
    }
    Some(vec![("out".into(), f.clone())])
}

/// An X post: one on the service's account per run, the same for everyone, so its text uses
/// no recipient's values.
fn post(ck: &mut Checker<'_>, a: &Activity, message: &Message) {
    if let Err(problems) = crate::personalize::check(&message.text, &crate::personalize::Scope::default()) {
        for p in problems {
            let message = match &p.variable {
                Some(v) => {
                    format!("an X post is one message on the account, the same for everyone: it cannot use {{{{{v}}}}}")
                }
                None => p.to_string(),
            };
            ck.add(Some(a), Some("message text"), message);
        }
    }
}
