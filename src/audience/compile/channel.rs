//! Compiling a channel activity: its reachable recipients and its exclusions with their reasons.

use super::facts::Covering;
use super::*;
use crate::audience::{RuleError, unfit};

impl<'a> Compiler<'a> {
    /// A channel activity: who is reachable, and who is excluded and why.
    pub(super) fn channel(&mut self, scope: &Scope<'_, 'a>, out: &mut Statements) -> Result<(), RuleError> {
        let Scope { a, input_flow, input_table, dim, flow_for, .. } = *scope;
        let ActivityKind::Channel { channel, per, credential, .. } = &a.kind else { return Ok(()) };
        let (Some(entity), Some(w)) = (dim, input_table.as_deref()) else { return Ok(()) };
        let flow = flow_for("out");
        if *channel == crate::model::Channel::X {
            // A post has no recipient: the population goes on as it came.
            self.alias_output(&a.id, "out", Some(w));
            self.sends.push(CompiledSend::everyone(&a.id, entity, w, input_flow));
            return Ok(());
        }
        // Who messages go to: the profiles, or the visitors (X direct messages).
        let profile = self.b.entity(self.b.model.recipient_entity(*channel).unwrap_or_default())?;
        // Who a message goes to before exclusions, and (one message per row of another
        // entity) how each row reaches its profile.
        let (recipients, via) = if entity.name == profile.name {
            (w.to_owned(), None)
        } else {
            let Relation::Parent { other, fk } = self.b.relation(entity, &profile.name)? else {
                return Err(unfit!("{} has no link to {}", entity.label, profile.label));
            };
            if *per == Recipient::Profile {
                let r = self.scratch_table(&flow, 0, out);
                out.push(self.fill(&r, &flow, parents(w, entity, fk, other))?);
                (r, None)
            } else {
                (w.to_owned(), Some((entity, fk)))
            }
        };
        let kept_checks =
            crate::model::address::AddressKind::of(*channel).is_some_and(|k| address_checks::kept(k, self.options));
        let mut reasons = exclusion_reasons(*channel, self.b.model, profile, self.options.dialect, kept_checks);
        if *channel == crate::model::Channel::XDm {
            let service = credential
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .or(self.options.default_x_service.as_deref());
            reasons.extend(visitor_reasons(service));
        }
        let mut send =
            CompiledSend { reachable: recipients.clone(), ..CompiledSend::everyone(&a.id, entity, w, input_flow) };
        if reasons.is_empty() && via.is_none() {
            self.alias_output(&a.id, "out", Some(&recipients));
            self.sends.push(send);
            return Ok(());
        }
        // The recipients the message can reach (the output), and the others with the
        // first reason that excludes them (in the order the ledger gives them).
        let mut excluded_when: Vec<(&str, Expr)> = Vec::new();
        if via.is_some() {
            excluded_when.push(("no_profile", col("p", &profile.primary_key).is_null()));
        }
        excluded_when.extend(reasons);
        // The excluded first, each reason checked once per recipient (an address check can be
        // costly: a phone number against its country's plan); then the reachable, the others
        // (each reason is true or false, never unknown: no recipient is in neither).
        let xflow = Flow { dimension: flow.dimension.clone(), columns: Vec::new() };
        let x = self.scratch_table(&xflow, 0, out);
        let q = self.excluded(&recipients, profile, via, &excluded_when, kept_checks, out)?;
        out.push(self.fill(&x, &xflow, q)?);
        // (A population holds rows of its entity only, so the profiles need not be read again:
        // every recipient is excluded or reachable.)
        let mut q = carry("w", &recipients, &flow);
        q.and_where(Expr::not_exists(key_in(&x, "x", "w")));
        // Counted as the recipients less the excluded.
        let t = self.view_or_copy(&a.id, "out", &flow, q, Some((recipients.clone(), vec![x.clone()])), out)?;
        send.reachable = t;
        send.excluded = Some(x);
        self.sends.push(send);
        Ok(())
    }
}

impl Compiler<'_> {
    /// The recipients in work table `recipients` (aliased `w`) that a channel cannot reach,
    /// with the first of `excluded_when` (conditions on their profile, aliased `p`, reached
    /// `via` a column of their entity when they are not profiles) that holds.
    fn excluded(
        &self,
        recipients: &str,
        profile: &Entity,
        via: Option<(&Entity, &str)>,
        excluded_when: &[(&str, Expr)],
        kept_checks: bool,
        out: &mut Statements,
    ) -> Result<SelectStatement, RuleError> {
        let mut reason = Expr::case(excluded_when[0].1.clone(), excluded_when[0].0);
        for (code, when) in &excluded_when[1..] {
            reason = reason.case(when.clone(), *code);
        }
        let mut q = Query::select();
        q.from_as(Alias::new(recipients), Alias::new("w"));
        // Each profile's reason kept as a fact: a count then reads one value by key instead
        // of the profile, its address and its check. For every profile at once when checking
        // every address costs about what a count's checks do; for the profiles counted so
        // far when it costs more (phone numbers, 12 s at a million profiles: see
        // `address_checks.rs`).
        let covering = if kept_checks { Covering::RowsOf(recipients) } else { Covering::Every };
        let fact = match via {
            None if self.keeps_facts() => {
                self.fact_table(profile, "p", vec![(reason.clone().into(), "")], false, covering, out)?
            }
            _ => None,
        };
        if let Some(fact) = fact {
            super::facts::join_fact_table(&mut q, &fact, "xf", "w", "key");
            q.expr(col("w", "key")).expr(col("xf", "v1")).and_where(col("xf", "v1").is_not_null());
            return Ok(q);
        }
        q.expr(col("w", "key")).expr(reason);
        match via {
            None => join_profile(&mut q, profile),
            Some((entity, fk)) => {
                q.left_join(
                    Alias::new(&entity.name).into_table_ref().alias(Alias::new("d")),
                    col("d", &entity.primary_key).equals((Alias::new("w"), Alias::new("key"))),
                )
                .left_join(
                    Alias::new(&profile.name).into_table_ref().alias(Alias::new("p")),
                    col("p", &profile.primary_key).equals((Alias::new("d"), Alias::new(fk))),
                );
            }
        }
        if let Some(any) = excluded_when.iter().map(|(_, e)| e.clone()).reduce(|a, b| a.or(b)) {
            q.and_where(any);
        }
        Ok(q)
    }
}

/// Why an X direct message cannot reach a visitor (aliased `p`), in the order the ledger
/// checks them: no X account id, no longer following the service, following another one
/// (`service`: the name of the service it sends through, as the visitors' `service` holds it;
/// compared without the case of ASCII letters). Each condition is true or false, never unknown.
fn visitor_reasons(service: Option<&str>) -> Vec<(&'static str, Expr)> {
    let text = |column: &str| {
        let trimmed = Func::cust(Alias::new("TRIM")).arg(col("p", column).cast_as(Alias::new("TEXT")));
        Expr::from(Func::coalesce([Expr::from(trimmed), Expr::val("")]))
    };
    let mut reasons = vec![
        ("no_address", text("external_id").eq("")),
        ("not_following", Expr::from(Func::coalesce([col("p", "following"), Expr::val(false)])).not()),
    ];
    if let Some(service) = service {
        reasons
            .push(("other_service", Expr::from(Func::lower(text("service"))).ne(service.trim().to_ascii_lowercase())));
    }
    reasons
}
