//! The forms of the channel activities: the credential, the message and direct mail's columns.

use super::*;

pub(super) fn channel_form(
    ui: &mut Ui,
    s: &Surroundings<'_>,
    id: Id,
    channel: Channel,
    credential: &mut Option<String>,
    configuration: &mut Option<String>,
    per: &mut Recipient,
) -> bool {
    let mut changed = false;
    if channel == Channel::Sms {
        changed |= sms_configuration_row(ui, s, id, configuration);
    }
    if configuration.is_none() {
        changed |= credential_row(ui, s, id, channel, credential);
    }
    if matches!(channel, Channel::X | Channel::XDm) {
        // A post goes out once; a direct message to each visitor.
        return changed;
    }
    let dimension = s.dimension.clone().unwrap_or_else(|| "row".to_owned());
    let pers = [
        (Recipient::Profile, "one message per profile".to_owned()),
        (Recipient::SecondaryEntity, format!("one message per {dimension} row")),
    ];
    changed |= row(ui, "Send", |ui| combo(ui, id.with("per"), per, &pers));
    changed
}

/// An SMS activity's configuration (credential, sender, keywords), and what it sends as.
fn sms_configuration_row(ui: &mut Ui, s: &Surroundings<'_>, id: Id, configuration: &mut Option<String>) -> bool {
    let mut options: Vec<(Option<String>, String)> = vec![(None, "none: choose a credential".to_owned())];
    options.extend(s.sms_configurations.iter().map(|c| (Some(c.name.clone()), c.name.clone())));
    if let Some(name) = configuration.as_ref()
        && !s.sms_configurations.iter().any(|c| c.name.eq_ignore_ascii_case(name))
    {
        options.push((Some(name.clone()), format!("{name} (not configured)")));
    }
    let changed = row(ui, "Configuration", |ui| combo(ui, id.with("configuration"), configuration, &options));
    let chosen = configuration
        .as_deref()
        .and_then(|name| s.sms_configurations.iter().find(|c| c.name.eq_ignore_ascii_case(name)));
    if let Some(c) = chosen {
        let credential = s.credentials.iter().find(|k| k.id == c.credential_id);
        let through = credential.map_or("a deleted credential", |k| k.name.as_str());
        let sender = c.sender().map_or_else(|| "the credential's own sender".to_owned(), str::to_owned);
        let links = if c.shorten_links { "; links shortened and counted" } else { "" };
        let mut words: Vec<&str> = c.keywords.opt_out.iter().map(String::as_str).take(3).collect();
        if c.keywords.opt_out.len() > 3 {
            words.push("\u{2026}");
        }
        ui.label(
            RichText::new(format!("Sends through {through} as {sender}; {} opts out{links}.", words.join(", ")))
                .color(theme::muted(ui)),
        );
    } else if configuration.is_some() {
        missing(ui, "this configuration is gone: choose another one, or add it in Channels \u{2013} SMS");
    }
    changed
}

/// The credential a channel activity sends with.
fn credential_row(
    ui: &mut Ui,
    s: &Surroundings<'_>,
    id: Id,
    channel: Channel,
    credential: &mut Option<String>,
) -> bool {
    let default = crate::model::default_credential(s.credentials, channel)
        .map_or_else(|| "the built-in Sandbox".to_owned(), crate::model::Credential::display_name);
    let mut options: Vec<(Option<String>, String)> = vec![(None, format!("the channel's default: {default}"))];
    options.extend(
        s.credentials
            .iter()
            .filter(|c| c.channel == channel.credential_channel())
            .map(|c| (Some(c.name.clone()), c.display_name())),
    );
    if let Some(name) = credential.as_ref()
        && !options.iter().any(|(v, _)| v.as_ref() == Some(name))
    {
        options.push((Some(name.clone()), format!("{name} (not configured)")));
    }
    row(ui, "Send with", |ui| combo(ui, id.with("credential"), credential, &options))
}

/// The content: subject, text, HTML as the channel uses them, with the SMS size while typing
/// and the variables the message can use.
pub(super) fn message_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    s: &Surroundings<'_>,
    id: Id,
    channel: Channel,
    per: Recipient,
    message: &mut Message,
) -> bool {
    let mut changed = false;
    ui.add_space(4.0);
    ui.label(RichText::new("Message").strong());
    let (subject, text, html) = match channel {
        Channel::Email => (Some("Subject"), Some("Text part"), true),
        Channel::Push => (Some("Title"), Some("Text"), false),
        Channel::Sms | Channel::X | Channel::XDm => (None, Some("Text"), false),
        Channel::Webhook => (None, Some("JSON body"), false),
        Channel::DirectMail => (None, None, false),
    };
    if let Some(label) = subject {
        ui.label(label);
        changed |= text_field(ui, id.with("subject"), &mut message.subject, "Hello {{profile.first_name}}");
    }
    if let Some(label) = text {
        ui.label(label);
        if channel == Channel::Webhook {
            ui.label(
                RichText::new(
                    "Values are written as JSON: {\"name\": {{ profile.first_name }}}. Empty: a JSON object with the recipient and the message.",
                )
                .small()
                .color(theme::muted(ui)),
            );
        }
        let sms = channel == Channel::Sms;
        changed |= text_area(ui, id.with("text"), &mut message.text, "", if sms { 4 } else { 6 }, |ui, typed| {
            if sms {
                let size = crate::personalize::sms_size(typed);
                let encoding = match size.encoding {
                    crate::personalize::SmsEncoding::Gsm7 => "GSM-7",
                    crate::personalize::SmsEncoding::Ucs2 => "Unicode (UCS-2)",
                };
                let segments = if size.segments == 1 { "1 SMS".to_owned() } else { format!("{} SMS", size.segments) };
                let too_long = size.characters > crate::personalize::SMS_MAX_CHARACTERS;
                let colour = if too_long { theme::error(ui) } else { theme::muted(ui) };
                let limit = if too_long {
                    format!(" · over the {} characters an SMS can have", crate::personalize::SMS_MAX_CHARACTERS)
                } else {
                    String::new()
                };
                ui.label(
                    RichText::new(format!(
                        "{} characters · {encoding} · {segments} (before personalization){limit}",
                        size.characters
                    ))
                    .small()
                    .color(colour),
                );
            }
            if channel == Channel::X {
                let length = crate::personalize::x_length(typed);
                let max = crate::personalize::X_MAX_LENGTH;
                let colour = if length > max { theme::error(ui) } else { theme::muted(ui) };
                ui.label(
                    RichText::new(format!(
                        "{length} of {max} as X counts them (a link is 23, an emoji or a CJK character 2; before personalization)"
                    ))
                    .small()
                    .color(colour),
                );
            }
        });
    }
    if html {
        ui.label("HTML part");
        changed |=
            text_area(ui, id.with("html"), &mut message.html, "<p>Hello {{profile.first_name}}</p>", 6, |_, _| {});
    }
    if channel == Channel::DirectMail {
        changed |= columns_form(ui, cx, s, id, per, &mut message.columns);
        return changed;
    }
    variables(ui, cx, s, id, channel, per);
    changed
}

/// The variables a message can use, listed under it.
fn variables(ui: &mut Ui, cx: &FormContext<'_>, s: &Surroundings<'_>, id: Id, channel: Channel, per: Recipient) {
    egui::CollapsingHeader::new("Variables").id_salt(id.with("variables")).show(ui, |ui| {
        let model = cx.model;
        if channel == Channel::X {
            ui.label(
                RichText::new("A post is one message on the account, the same for everyone: it uses no variables.")
                    .small(),
            );
            return;
        }
        let profile = model.recipient_entity(channel).unwrap_or("profiles").to_owned();
        let root = crate::personalize::recipient_root(channel == Channel::XDm);
        let mut lines: Vec<String> = Vec::new();
        if let Some(e) = model.entity(&profile) {
            lines.extend(
                e.columns.iter().filter(|c| !c.hidden).map(|c| format!("{{{{{root}.{}}}}}  {}", c.name, c.label)),
            );
        }
        if per == Recipient::SecondaryEntity
            && let Some(d) = s.dimension.as_deref().filter(|d| *d != profile).and_then(|d| model.entity(d))
        {
            lines.extend(
                d.columns.iter().filter(|c| !c.hidden).map(|c| format!("{{{{{}.{}}}}}  {}", d.name, c.name, c.label)),
            );
        }
        lines.push("{{enrichment.<name>}}  a column added by an Enrichment before this activity".into());
        lines.push("Filters: | default(\"…\") | upper | lower | date(\"%d %B %Y\")".into());
        for l in lines {
            ui.label(RichText::new(l).small().monospace());
        }
    });
}

/// Direct mail: the columns of the extraction file, each a variable of the recipient.
pub(super) fn columns_form(
    ui: &mut Ui,
    cx: &mut FormContext<'_>,
    s: &Surroundings<'_>,
    id: Id,
    per: Recipient,
    columns: &mut Vec<String>,
) -> bool {
    let model = cx.model;
    let profile = model.identity_namespaces.first().map(|n| n.entity.clone()).unwrap_or_else(|| "profiles".into());
    let mut options: Vec<(String, String)> = Vec::new();
    if let Some(e) = model.entity(&profile) {
        options.extend(
            e.columns
                .iter()
                .filter(|c| !c.hidden || columns.contains(&format!("profile.{}", c.name)))
                .map(|c| (format!("profile.{}", c.name), format!("{} (profile)", c.label))),
        );
    }
    if per == Recipient::SecondaryEntity
        && let Some(d) = s.dimension.as_deref().filter(|d| *d != profile).and_then(|d| model.entity(d))
    {
        options.extend(
            d.columns
                .iter()
                .filter(|c| !c.hidden || columns.contains(&format!("{}.{}", d.name, c.name)))
                .map(|c| (format!("{}.{}", d.name, c.name), format!("{} ({})", c.label, d.label))),
        );
    }
    let mut changed = false;
    ui.label("Columns of the extraction file");
    ui.label(
        RichText::new("One line per recipient in a CSV file, written to the credential's folder.")
            .small()
            .color(theme::muted(ui)),
    );
    let mut remove = None;
    for (i, column) in columns.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let mut here = options.clone();
            if !here.iter().any(|(v, _)| v == column) {
                here.push((column.clone(), column.clone()));
            }
            changed |= combo(ui, id.with(("column", i)), column, &here);
            if remove_button(ui, &format!("column {}", i + 1)) {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        columns.remove(i);
        changed = true;
    }
    if ui.button("+ Column").clicked()
        && let Some((first, _)) = options.iter().find(|(v, _)| !columns.contains(v))
    {
        columns.push(first.clone());
        changed = true;
    }
    ui.label(
        RichText::new("An enrichment's column can be typed in the JSON parameters as enrichment.<name>.")
            .small()
            .color(theme::muted(ui)),
    );
    changed
}
