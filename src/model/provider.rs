//! What an admin fills in for a provider's credential: its form's fields, described as data so
//! that the Channels screen draws any provider's form (the provider registry gives each
//! provider's fields).

/// How a setting is edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    /// One of these (value as stored, label as shown).
    Choice(&'static [(&'static str, &'static str)]),
    Folder,
    /// One entry per line.
    Lines,
    /// A JSON template on several lines (a custom provider's payload), kept as typed.
    Template,
    /// A secret (password, token): typed in the form, kept in the keychain, never in the
    /// workspace. Its key names the slot it is kept in.
    Secret,
}

/// The email tracking setting's choices (`tracking`, see `ProviderSettings::tracks_email`).
pub const TRACKING_CHOICES: &[(&str, &str)] = &[("on", "Track opens and clicks"), ("off", "Do not track")];

/// One setting of a provider's form: its key in the settings, label, editor and hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub hint: &'static str,
    /// What a new credential's form starts with ("" for nothing).
    pub default: &'static str,
    /// A credential cannot work without it (a secret is then asked for until one is stored).
    pub required: bool,
}

pub const fn field(key: &'static str, label: &'static str, kind: FieldKind, hint: &'static str) -> Field {
    Field { key, label, kind, hint, default: "", required: false }
}

impl Field {
    /// The field, starting with `default` on a new credential's form.
    #[must_use]
    pub const fn with_default(mut self, default: &'static str) -> Self {
        self.default = default;
        self
    }

    /// The field, which a credential cannot do without.
    #[must_use]
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// The pace of a credential that sends often: every such provider's form ends with these.
pub const PACE_FIELDS: [Field; 2] = [
    field("rate_per_second", "Messages per second", FieldKind::Number, "empty: as fast as the provider answers"),
    field("max_in_flight", "Messages at once", FieldKind::Number, "calls waiting for an answer together"),
];

/// How the Sandbox pretends the world answered, per channel (from its credential's settings).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SandboxRates {
    /// Events come this long after the message.
    pub delay: std::time::Duration,
    /// The share delivered; the rest bounces.
    pub delivered: f64,
    /// Of those delivered, the share opened (email and push).
    pub opened: f64,
    /// Of those opened, the share clicked.
    pub clicked: f64,
}
