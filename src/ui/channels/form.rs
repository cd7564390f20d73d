//! A credential's form: the settings as typed (by the provider's fields), checked field by
//! field as they are typed, and the editor of each setting.

use crate::console::UserError;
use crate::console::provider_form;
use crate::model::provider::{Field, FieldKind as Kind};
use crate::model::{Channel, Credential, ProviderKind, ProviderSettings};
use crate::secrets::Typed;

/// The size of a setting's text field: as wide on every form, whatever the other fields (a
/// grid's columns keep the width they had the frame before).
pub(super) const FIELD: [f32; 2] = [320.0, 20.0];

/// A provider's form, from the provider registry.
pub(super) fn fields(provider: ProviderKind) -> Vec<Field> {
    provider_form(provider)
}

/// The form being edited.
#[derive(Clone)]
pub(super) struct Form {
    pub(super) id: Option<i64>,
    pub(super) channel: Channel,
    pub(super) provider: ProviderKind,
    pub(super) name: String,
    /// Settings as typed, by key.
    pub(super) values: std::collections::BTreeMap<&'static str, String>,
    /// Secrets as typed, by slot (the key of their field).
    pub(super) secrets: std::collections::BTreeMap<&'static str, String>,
    pub(super) reveal: bool,
    /// The slots that hold a secret in the keychain already.
    pub(super) stored: Vec<String>,
}

impl Form {
    pub(super) fn new(channel: Channel, provider: ProviderKind) -> Self {
        let mut form = Self {
            id: None,
            channel,
            provider,
            name: String::new(),
            values: Default::default(),
            secrets: Default::default(),
            reveal: false,
            stored: Vec::new(),
        };
        form.defaults();
        form
    }

    pub(super) fn defaults(&mut self) {
        for f in fields(self.provider) {
            let value = match (f.kind, f.key) {
                (Kind::Secret, _) => continue,
                (Kind::Choice(options), _) if f.default.is_empty() => options[0].0.to_owned(),
                _ => f.default.to_owned(),
            };
            self.values.entry(f.key).or_insert(value);
        }
    }

    pub(super) fn of(c: &Credential) -> Self {
        let mut form = Self::new(c.channel, c.provider());
        form.id = Some(c.id);
        form.name = c.name.clone();
        form.stored = c.secrets.keys().cloned().collect();
        let settings = c.settings.to_json();
        for f in fields(c.provider()) {
            let value = match (f.kind, settings.get(f.key)) {
                (_, None | Some(serde_json::Value::Null)) => continue,
                (Kind::Lines, Some(serde_json::Value::Object(map))) => map
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                (_, Some(serde_json::Value::String(s))) => s.clone(),
                (_, Some(other)) => other.to_string(),
            };
            form.values.insert(f.key, value);
        }
        form
    }

    /// The settings as typed, or what is wrong with what was typed.
    pub(super) fn settings(&self) -> Result<ProviderSettings, UserError> {
        let mut map = serde_json::Map::new();
        for f in fields(self.provider) {
            let text = self.values.get(f.key).map_or("", |s| s.trim());
            if text.is_empty() || matches!(f.kind, Kind::Secret) {
                continue;
            }
            let value = match f.kind {
                Kind::Number => {
                    let x = text.replace(',', ".").parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
                        UserError::plain(format!("{} must be a number, not \u{201c}{text}\u{201d}", f.label))
                    })?;
                    if x.fract() == 0.0 && x.abs() < 1e15 {
                        serde_json::Value::from(x as i64)
                    } else {
                        serde_json::Value::from(x)
                    }
                }
                Kind::Lines => {
                    let mut headers = serde_json::Map::new();
                    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                        let (name, value) = line.split_once(':').ok_or_else(|| {
                            UserError::plain(format!(
                                "the header line \u{201c}{line}\u{201d} needs a colon: Name: value"
                            ))
                        })?;
                        headers.insert(name.trim().to_owned(), serde_json::Value::from(value.trim()));
                    }
                    serde_json::Value::Object(headers)
                }
                _ => serde_json::Value::from(text),
            };
            map.insert(f.key.to_owned(), value);
        }
        ProviderSettings::from_json(self.provider, serde_json::Value::Object(map))
            .map_err(|e| UserError::plain(e.to_string()))
    }

    /// The settings as typed, and every problem with the form, each with the key of its field
    /// ("name" for the name, "" for the whole form): all at once, not the first only.
    pub(super) fn checked(&self, others: &[Credential]) -> (Option<ProviderSettings>, Vec<(&'static str, String)>) {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            problems.push(("name", "Give the credential a name.".to_owned()));
        } else if others
            .iter()
            .any(|c| c.channel == self.channel && Some(c.id) != self.id && c.name.to_lowercase() == name.to_lowercase())
        {
            problems.push((
                "name",
                format!("A {} credential named \u{201c}{name}\u{201d} already exists.", self.channel.label()),
            ));
        }
        // Each field alone first (a number that is not one); the provider's checks then see
        // the fields that could be read.
        let mut one = self.clone();
        for f in fields(self.provider) {
            let mut just = self.clone();
            just.values.retain(|k, _| *k == f.key);
            if let Err(e) = just.settings() {
                problems.push((f.key, e.message));
                one.values.remove(f.key);
            }
        }
        let settings = match one.settings() {
            Ok(settings) => Some(settings),
            Err(e) => {
                problems.push(("", e.message));
                None
            }
        };
        for f in fields(self.provider).iter().filter(|f| f.kind == Kind::Secret && f.required) {
            let typed = self.secrets.get(f.key).is_some_and(|v| !v.is_empty());
            if !typed && !self.stored.iter().any(|s| s == f.key) {
                problems.push((f.key, format!("the {} is missing: type it (it goes to the keychain only)", f.label)));
            }
        }
        for (key, why) in settings.iter().flat_map(crate::console::Console::credential_problems) {
            if !problems.iter().any(|(k, _)| *k == key) {
                problems.push((key, why));
            }
        }
        (settings, problems)
    }

    /// The secrets typed, by slot: only the slots this provider's form has.
    pub(super) fn typed_secrets(&self) -> std::collections::BTreeMap<String, Typed> {
        fields(self.provider)
            .iter()
            .filter(|f| f.kind == Kind::Secret)
            .filter_map(|f| {
                self.secrets.get(f.key).filter(|v| !v.is_empty()).map(|v| (f.key.to_owned(), Typed(v.clone())))
            })
            .collect()
    }
}

/// The editor of one setting of a provider's form.
pub(super) fn setting_editor(ui: &mut egui::Ui, f: &Field, value: &mut String, label: egui::Id) {
    match f.kind {
        Kind::Text | Kind::Number => {
            ui.add_sized(FIELD, egui::TextEdit::singleline(value).hint_text(f.hint)).labelled_by(label);
        }
        Kind::Lines => {
            ui.add_sized([FIELD[0], 60.0], egui::TextEdit::multiline(value).hint_text(f.hint).desired_rows(3))
                .labelled_by(label);
        }
        Kind::Choice(options) => {
            let text =
                |v: &str| options.iter().find(|(o, _)| *o == v).map_or_else(|| v.to_owned(), |(_, l)| (*l).to_owned());
            egui::ComboBox::from_id_salt(f.key)
                .selected_text(text(value))
                .show_ui(ui, |ui| {
                    for (o, label) in options {
                        ui.selectable_value(value, (*o).to_owned(), *label);
                    }
                })
                .response
                .labelled_by(label);
        }
        Kind::Template => {
            egui::ScrollArea::vertical().id_salt(f.key).min_scrolled_height(180.0).max_height(220.0).show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(value)
                        .code_editor()
                        .desired_rows(10)
                        .desired_width(FIELD[0] + 120.0)
                        .hint_text(f.hint),
                )
                .labelled_by(label);
            });
        }
        Kind::Secret => {}
        Kind::Folder => {
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(value).hint_text(f.hint).desired_width(240.0)).labelled_by(label);
                if ui.button("Choose…").clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    *value = dir.display().to_string();
                }
            });
        }
    }
}

/// Each template field of a form rendered for a sample recipient, while it is typed (a
/// template that cannot be rendered has its problem beside its field).
pub(super) fn template_samples(ui: &mut egui::Ui, form: &Form) {
    for f in fields(form.provider).iter().filter(|f| f.kind == Kind::Template) {
        let text = form.values.get(f.key).map_or("", String::as_str);
        let from = form.values.get("from").map_or("", String::as_str);
        if let Ok(json) = crate::console::Console::payload_sample(text, from) {
            egui::CollapsingHeader::new(format!("{}, rendered for a sample recipient", f.label))
                .default_open(true)
                .show(ui, |ui| {
                    ui.label(egui::RichText::new(json).monospace().size(11.0));
                });
        }
    }
}
