//! The properties panel of the selected activity: its form, its JSON, and a channel
//! activity's preview and proof.

use super::*;

/// A channel activity's message as one recipient gets it.
pub(super) struct PreviewView {
    pub(super) activity: String,
    pub(super) index: u64,
    /// The message and count the preview was asked for (a change asks again).
    pub(super) message: crate::model::Message,
    pub(super) generation: u64,
    pub(super) result: Option<Result<crate::console::MessagePreview, crate::console::UserError>>,
}

impl CanvasEditor {
    pub(super) fn properties(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Properties").strong());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("✖").on_hover_text("Close the properties").clicked() {
                    self.focus = None;
                }
            });
        });
        let Some(node) = self.focus.as_deref().and_then(|id| self.graph.node_of(id)) else {
            ui.label(RichText::new("Select an activity to see its properties.").color(theme::muted(ui)));
            return;
        };
        let a = self.graph.snarl[node].clone();
        ui.label(RichText::new(format!("{} · {}", a.kind.label(), a.id)).color(theme::muted(ui)));
        if let Some(e) = palette::entry_of(&a.kind) {
            ui.label(RichText::new(e.description).small());
        }
        ui.add_space(6.0);
        ui.label("Label");
        let (_, text) = match &mut self.label_edit {
            Some((id, text)) if *id == a.id => (id.clone(), text),
            _ => {
                self.label_edit = Some((a.id.clone(), a.label.clone()));
                let Some((id, text)) = &mut self.label_edit else { return };
                (id.clone(), text)
            }
        };
        let r = ui.add(egui::TextEdit::singleline(text).desired_width(f32::INFINITY));
        if r.lost_focus() && !text.trim().is_empty() && text.trim() != a.label {
            let label = text.trim().to_owned();
            self.graph.snarl[node].label = label;
        }
        ui.add_space(6.0);
        let mine: Vec<&Problem> = self.problems.iter().filter(|p| p.activity.as_deref() == Some(&a.id)).collect();
        for p in mine {
            let text = match &p.parameter {
                Some(param) => format!("{param}: {}", p.message),
                None => p.message.clone(),
            };
            ui.label(RichText::new(format!("{} {text}", theme::ICON_ERROR)).color(theme::error(ui)));
        }
        ui.add_space(6.0);
        ui.separator();
        // The form of the activity's kind, on a copy: a change becomes one edit.
        let mut kind = a.kind.clone();
        let surroundings = self.surroundings(&a.id);
        let mut cx = fields::FormContext {
            model: &self.context.model,
            choices: &self.choices,
            wanted: Vec::new(),
            today: crate::clock::today(),
        };
        let form_id = egui::Id::new(("form", self.campaign.id, &a.id));
        let edit = forms::kind_form(ui, &mut cx, &surroundings, form_id, &mut kind);
        let wanted = std::mem::take(&mut cx.wanted);
        for w in wanted {
            if !self.asked_choices.contains(&w) {
                self.asked_choices.push(w.clone());
                commands.push(CanvasCommand::DistinctValues { entity: w.0, column: w.1 });
            }
        }
        if edit.changed && kind != a.kind {
            self.set_kind(node, kind, edit.removed_output);
            self.params_edit = None;
        }
        if let ActivityKind::Channel { message, .. } = &self.graph.snarl[node].kind {
            let message = message.clone();
            egui::CollapsingHeader::new("Preview for a recipient").id_salt(("preview", &a.id)).show(ui, |ui| {
                self.preview_ui(ui, &a.id, message, commands);
            });
        }
        ui.add_space(6.0);
        egui::CollapsingHeader::new("Parameters as JSON").id_salt(("json", &a.id)).show(ui, |ui| {
            self.json_editor(ui, node, &a);
        });
        self.last_sql_ui(ui, &a.id);
    }

    /// What the form of activity `id` offers choices from: the saved audiences, credentials,
    /// the population arriving and its columns, the transitions into it.
    fn surroundings(&self, id: &str) -> forms::Surroundings<'_> {
        forms::Surroundings {
            audiences: &self.context.audiences,
            credentials: &self.context.credentials,
            sms_configurations: &self.context.sms_configurations,
            dimension: inbound_dimension(&self.committed, id, &self.context.audiences),
            inbound: self
                .committed
                .transitions
                .iter()
                .filter(|t| t.to == id)
                .map(|t| {
                    let from = self.committed.activity(&t.from).map_or(t.from.as_str(), |f| f.label.as_str());
                    (t.id.clone(), format!("{from} ({})", t.output))
                })
                .collect(),
            now: crate::clock::wall(),
            work_columns: self
                .committed
                .transitions
                .iter()
                .find(|t| t.to == id)
                .and_then(|t| self.flows.get(&t.id))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// What the last count ran for activity `id`: its SQL and time.
    fn last_sql_ui(&self, ui: &mut egui::Ui, id: &str) {
        let report = self.last_report.as_ref().and_then(|r| r.activities.iter().find(|x| x.activity == id));
        if let Some(r) = report {
            ui.add_space(6.0);
            let how = if r.reused {
                "reused from the previous count".to_owned()
            } else {
                format!("{:.3} s", r.duration.as_secs_f64())
            };
            egui::CollapsingHeader::new(format!("SQL of the last count ({how})")).id_salt(("sql", id)).show(ui, |ui| {
                let mut sql = r.sql.join(";\n\n");
                ui.add(
                    egui::TextEdit::multiline(&mut sql).code_editor().interactive(true).desired_width(f32::INFINITY),
                );
            });
        }
    }

    /// The parameters as JSON, for what the form does not show or for pasting.
    pub(super) fn json_editor(&mut self, ui: &mut egui::Ui, node: NodeId, a: &Activity) {
        let current = self.graph.snarl[node].kind.clone();
        if self.params_edit.as_ref().is_none_or(|p| p.activity != a.id) {
            self.params_edit = Some(ParamsEdit {
                activity: a.id.clone(),
                text: serde_json::to_string_pretty(&current).unwrap_or_default(),
                error: None,
            });
        }
        let Some(edit) = &mut self.params_edit else { return };
        ui.add(egui::TextEdit::multiline(&mut edit.text).code_editor().desired_rows(8).desired_width(f32::INFINITY));
        let mut apply = None;
        ui.horizontal(|ui| {
            if ui.button("Apply").clicked() {
                match serde_json::from_str::<ActivityKind>(&edit.text) {
                    Ok(kind) if kind.label() != current.label() => {
                        edit.error = Some(format!("The activity must stay a {}.", current.label()));
                    }
                    Ok(kind) => {
                        edit.error = None;
                        apply = Some(kind);
                    }
                    Err(e) => edit.error = Some(format!("These parameters cannot be read: {e}")),
                }
            }
            if ui.button("Revert").clicked() {
                edit.text = serde_json::to_string_pretty(&current).unwrap_or_default();
                edit.error = None;
            }
        });
        if let Some(e) = &edit.error {
            ui.label(RichText::new(e).color(theme::error(ui)));
        }
        if let Some(kind) = apply {
            self.set_kind(node, kind, None);
        }
    }

    /// The message rendered for one recipient of the last count, with Previous / Next.
    pub(super) fn preview_ui(
        &mut self,
        ui: &mut egui::Ui,
        activity: &str,
        message: crate::model::Message,
        commands: &mut Commands,
    ) {
        let stale = self.preview.as_ref().is_none_or(|p| {
            p.activity != activity || p.message != message || (p.generation != self.generation && !self.is_counting())
        });
        if stale && !self.is_counting() {
            let index = self.preview.as_ref().filter(|p| p.activity == activity).map_or(0, |p| p.index);
            self.ask_preview(activity, index, message.clone(), commands);
        }
        let Some(p) = &self.preview else { return };
        match &p.result {
            None => {
                ui.spinner();
            }
            Some(Err(why)) => {
                ui.label(RichText::new(why.message.as_str()).color(theme::muted(ui)));
            }
            Some(Ok(r)) => {
                let mut go = None;
                ui.horizontal(|ui| {
                    if ui.add_enabled(r.index > 0, egui::Button::new("◀")).on_hover_text("Previous recipient").clicked()
                    {
                        go = Some(r.index - 1);
                    }
                    ui.label(format!("{} of {}", theme::count(r.index + 1), theme::count(r.total)));
                    if ui
                        .add_enabled(r.index + 1 < r.total, egui::Button::new("▶"))
                        .on_hover_text("Next recipient")
                        .clicked()
                    {
                        go = Some(r.index + 1);
                    }
                });
                ui.label(RichText::new(format!("{} · {}", r.recipient, r.address)).small().color(theme::muted(ui)));
                if let Some(ActivityKind::Channel { channel: crate::model::Channel::Sms, .. }) =
                    self.graph.node_of(activity).map(|n| &self.graph.snarl[n].kind)
                {
                    let size = crate::personalize::sms_size(&r.text);
                    ui.label(
                        RichText::new(format!(
                            "{} characters, {} SMS for this recipient",
                            size.characters, size.segments
                        ))
                        .small()
                        .color(theme::muted(ui)),
                    );
                }
                for (label, text) in [("Subject", &r.subject), ("Text", &r.text), ("HTML", &r.html)] {
                    if text.is_empty() {
                        continue;
                    }
                    ui.label(RichText::new(label).strong());
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.add(egui::Label::new(RichText::new(text.as_str()).monospace()).wrap());
                    });
                }
                self.proof_ui(ui, activity, r.index, commands);
                if let Some(i) = go {
                    self.ask_preview(activity, i, message, commands);
                }
            }
        }
    }

    /// A proof: the message, as the recipient `index` gets it, to typed addresses (X: to the
    /// service marked Test account).
    fn proof_ui(&mut self, ui: &mut egui::Ui, activity: &str, index: u64, commands: &mut Commands) {
        ui.add_space(4.0);
        let x = matches!(
            self.graph.node_of(activity).map(|n| &self.graph.snarl[n].kind),
            Some(ActivityKind::Channel { channel: crate::model::Channel::X | crate::model::Channel::XDm, .. })
        );
        let mut send = false;
        if x {
            ui.label(
                RichText::new(
                    "A proof goes to the X service marked Test account (with the Sandbox: the Sandbox X account).",
                )
                .small()
                .color(theme::muted(ui)),
            );
            send = ui.button("Send proof").clicked();
        } else {
            ui.label("Send a proof to");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.proof_to)
                        .hint_text("addresses, separated by commas")
                        .desired_width(ui.available_width() - 90.0),
                );
                send = ui.button("Send proof").clicked();
            });
        }
        match &self.proof {
            Some(Ok(n)) => {
                let to = if x { "the test account".to_owned() } else { n.to_string() };
                ui.label(RichText::new(format!("Proof sent to {to}.")).color(theme::muted(ui)));
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e.message.as_str()).color(theme::error(ui)));
            }
            None => {}
        }
        if send {
            self.proof = None;
            commands.push(ProofCommand::Send {
                campaign_id: self.campaign.id,
                canvas: self.committed.clone(),
                activity: activity.to_owned(),
                index,
                addresses: self.proof_to.split([',', ';']).map(|s| s.trim().to_owned()).collect(),
            });
        }
    }

    pub(super) fn ask_preview(
        &mut self,
        activity: &str,
        index: u64,
        message: crate::model::Message,
        commands: &mut Commands,
    ) {
        commands.push(ProofCommand::Preview {
            campaign_id: self.campaign.id,
            canvas: self.committed.clone(),
            activity: activity.to_owned(),
            index,
        });
        self.preview = Some(PreviewView {
            activity: activity.to_owned(),
            index,
            message,
            generation: self.generation,
            result: None,
        });
    }

    /// A message preview arrived.
    pub fn preview_arrived(
        &mut self,
        campaign_id: i64,
        activity: &str,
        index: u64,
        result: Result<crate::console::MessagePreview, crate::console::UserError>,
    ) {
        if campaign_id != self.campaign.id {
            return;
        }
        if let Some(p) = &mut self.preview
            && p.activity == activity
            && p.index == index
        {
            if let Ok(r) = &result {
                p.index = r.index;
            }
            p.result = Some(result);
        }
    }

    /// A proof was sent (or not).
    pub fn proof_sent(&mut self, campaign_id: i64, _activity: &str, result: Result<u64, crate::console::UserError>) {
        if campaign_id == self.campaign.id {
            self.proof = Some(result);
        }
    }

    /// The preview on show (tests).
    pub fn preview(&self) -> Option<&Result<crate::console::MessagePreview, crate::console::UserError>> {
        self.preview.as_ref().and_then(|p| p.result.as_ref())
    }

    /// The distinct values of a column arrived.
    pub fn distinct_values_arrived(&mut self, entity: String, column: String, values: Option<Vec<String>>) {
        self.choices.insert((entity, column), values);
    }
}
