//! The providers this version sends with, one [`Entry`] each: on which channels, the form an
//! admin fills in, what is wrong with its settings, and how it is built. A new provider is one
//! file (its `ENTRY` beside its code) and one line in [`ENTRIES`].

use std::sync::Arc;

use super::{ChannelError, Provider, custom_sms, direct_mail, sandbox, smtp, twilio, webhook, x};
use crate::model::provider::{Field, PACE_FIELDS};
use crate::model::{Channel, ProviderKind, ProviderSettings};

/// What building a provider gets from the credential and the Console.
pub struct Parts<'a> {
    pub settings: &'a ProviderSettings,
    /// The credential's secrets by slot (the keys of its form's secret fields), from the
    /// keychain or the deployment.
    pub secrets: &'a std::collections::BTreeMap<String, String>,
    /// Where messages kept in the workspace go (the Sandbox's), made on demand.
    pub outbox: &'a dyn Fn() -> Result<Box<dyn sandbox::Outbox>, ChannelError>,
}

impl Parts<'_> {
    /// The secret in `slot`, if the credential has one there.
    pub fn secret(&self, slot: &str) -> Option<String> {
        self.secrets.get(slot).cloned()
    }
}

/// A provider built, and how many calls it takes at once unless its settings say.
pub type Built = (Arc<dyn Provider>, usize);

/// One provider of the registry.
pub struct Entry {
    pub kind: ProviderKind,
    /// The channels it sends on.
    pub channels: &'static [Channel],
    /// Channels where it comes before the Sandbox in the list of choices.
    pub first_on: &'static [Channel],
    /// Its form, without the pace fields.
    pub fields: &'static [Field],
    /// It sends often enough to take a pace (messages per second, at once).
    pub paced: bool,
    /// Every problem with settings (this provider's), with the key of its field ("" for the
    /// whole form).
    pub problems: fn(&ProviderSettings) -> Vec<(&'static str, String)>,
    pub build: fn(Parts<'_>) -> Result<Built, ChannelError>,
}

/// Every provider, in the order forms list them.
pub const ENTRIES: &[&Entry] = &[
    &sandbox::ENTRY,
    &smtp::ENTRY,
    &twilio::ENTRY,
    &custom_sms::ENTRY,
    &webhook::ENTRY,
    &direct_mail::ENTRY,
    &x::ENTRY,
];

/// The registry's entry for `kind`, if this version sends with it.
pub fn entry(kind: ProviderKind) -> Option<&'static Entry> {
    ENTRIES.iter().copied().find(|e| e.kind == kind)
}

/// The providers this version can send with on `channel` (the Sandbox first unless one comes
/// first on that channel).
pub fn providers_for(channel: Channel) -> Vec<ProviderKind> {
    let on: Vec<&Entry> = ENTRIES.iter().copied().filter(|e| e.channels.contains(&channel)).collect();
    let first = on.iter().filter(|e| e.first_on.contains(&channel));
    let rest = on.iter().filter(|e| !e.first_on.contains(&channel));
    first.chain(rest).map(|e| e.kind).collect()
}

/// The secret slots of a provider's form (the keys of its secret fields).
pub fn secret_slots(kind: ProviderKind) -> Vec<&'static str> {
    entry(kind).map_or_else(Vec::new, |e| {
        e.fields.iter().filter(|f| f.kind == crate::model::provider::FieldKind::Secret).map(|f| f.key).collect()
    })
}

/// A provider's whole form: its fields, then the pace when it takes one.
pub fn form(kind: ProviderKind) -> Vec<Field> {
    entry(kind).map_or_else(Vec::new, |e| {
        let mut out = e.fields.to_vec();
        if e.paced {
            out.extend(PACE_FIELDS);
        }
        out
    })
}

/// The provider of `parts`' settings, built with what `parts` gives, or what to fix.
pub fn build(parts: Parts<'_>) -> Result<Built, ChannelError> {
    let kind = parts.settings.kind();
    let entry = entry(kind).ok_or(ChannelError::Unavailable(kind.label()))?;
    (entry.build)(parts)
}
