//! The editor's toolbar, keyboard shortcuts, palette and SQL window.

use super::*;

impl CanvasEditor {
    pub(super) fn toolbar(&mut self, ui: &mut egui::Ui, commands: &mut Commands) -> bool {
        ui.add_space(6.0);
        let back = ui
            .horizontal(|ui| {
                let back = ui.button("⬅ All campaigns").clicked();
                ui.heading(&self.campaign.name);
                ui.label(
                    RichText::new(format!("{} · {}", self.campaign.kind.label(), self.campaign.status.label()))
                        .color(theme::muted(ui)),
                );
                ui.separator();
                if ui.button("Save").on_hover_text("Ctrl+S. Edits are also saved automatically.").clicked() {
                    self.save_now(commands);
                }
                let saved = if self.saving {
                    "Saving…"
                } else if self.is_saved() {
                    "All changes saved"
                } else {
                    "Unsaved changes"
                };
                ui.label(RichText::new(saved).color(theme::muted(ui)));
                ui.separator();
                if ui.add_enabled(!self.undo.is_empty(), egui::Button::new("Undo")).on_hover_text("Ctrl+Z").clicked() {
                    self.undo_step();
                }
                if ui.add_enabled(!self.redo.is_empty(), egui::Button::new("Redo")).on_hover_text("Ctrl+Y").clicked() {
                    self.redo_step();
                }
                ui.separator();
                if self.is_counting() {
                    let (done, total) = self.progress.unwrap_or((0, 0));
                    let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
                    ui.add(egui::ProgressBar::new(fraction).desired_width(140.0).text(if total == 0 {
                        "Counting…".to_owned()
                    } else {
                        format!("Counting {done}/{total}")
                    }));
                    if ui.button("Cancel").on_hover_text("Stop the count; what was counted stays.").clicked() {
                        commands.push(CanvasCommand::CancelCount { generation: next_generation() });
                        self.count = CountState::Idle;
                        self.progress = None;
                    }
                } else if ui
                    .button("Count")
                    .on_hover_text("A full test run: every transition counted again from the data, nothing sent.")
                    .clicked()
                {
                    self.count = CountState::Due(0.0);
                    self.fresh = true;
                }
                let sql = ui
                    .add_enabled(self.focus.is_some() && self.last_report.is_some(), egui::Button::new("Show SQL"))
                    .on_hover_text("The SQL the last count ran for the selected activity.")
                    .on_disabled_hover_text("Select a counted activity to see its SQL.");
                if sql.clicked() {
                    self.show_sql = !self.show_sql;
                }
                match (&self.last_report, self.kept_from) {
                    (Some(_), Some(at)) => {
                        let time = at.strftime("%H:%M");
                        let text = if self.is_counting() {
                            format!("counts of {time}\u{2026}")
                        } else {
                            format!("counts of {time}")
                        };
                        ui.label(RichText::new(text).color(theme::muted(ui))).on_hover_text(format!(
                            "Kept from the count of {} (UTC): the canvas and the data have not changed since, or a count is running to confirm them.",
                            theme::when(at)
                        ));
                    }
                    (Some(r), None) => {
                        ui.label(
                            RichText::new(format!("last count {:.2} s", r.total.as_secs_f64()))
                                .color(theme::muted(ui)),
                        );
                    }
                    _ => {}
                }
                self.start_button(ui, commands);
                let blocked = if !self.problems.is_empty() || self.count_error.is_some() {
                    Some("Fix the problems listed under the canvas first.")
                } else if !self.is_saved() {
                    Some("Wait for the canvas to be saved.")
                } else {
                    None
                };
                life::life_controls(ui, &self.campaign, &self.committed, blocked, commands);
                back
            })
            .inner;
        ui.add_space(4.0);
        back
    }

    pub(super) fn shortcuts(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if ui.input_mut(|i| i.consume_shortcut(&SAVE)) {
            self.save_now(commands);
        }
        // The rest only when no text field has the keyboard.
        if ui.memory(|m| m.focused().is_some()) {
            return;
        }
        if ui.input_mut(|i| i.consume_shortcut(&REDO) || i.consume_shortcut(&REDO_Y)) {
            self.redo_step();
        } else if ui.input_mut(|i| i.consume_shortcut(&UNDO)) {
            self.undo_step();
        }
        let selected = get_selected_nodes(self.snarl_id(), ui.ctx());
        if ui.input_mut(|i| i.consume_shortcut(&DUPLICATE)) {
            let copies: Vec<Activity> =
                selected.iter().filter_map(|n| self.graph.snarl.get_node(*n).cloned()).collect();
            self.paste(&copies);
        }
        if ui.input_mut(|i| i.consume_shortcut(&COPY)) && !selected.is_empty() {
            self.clipboard = selected.iter().filter_map(|n| self.graph.snarl.get_node(*n).cloned()).collect();
        }
        if ui.input_mut(|i| i.consume_shortcut(&PASTE)) {
            let copies = self.clipboard.clone();
            self.paste(&copies);
        }
        if ui.input_mut(|i| i.consume_shortcut(&FIT)) {
            self.fit_passes = FIT_PASSES;
        }
        if ui.input(|i| i.key_pressed(Key::Delete) || i.key_pressed(Key::Backspace)) {
            for n in selected {
                self.remove(n);
            }
        }
    }

    pub(super) fn palette(&mut self, ui: &mut egui::Ui) {
        ui.add_space(4.0);
        ui.label(RichText::new("Activities").strong());
        ui.label(
            RichText::new("Drag onto the canvas, or double-click to add in the middle.")
                .small()
                .color(theme::muted(ui)),
        );
        egui::ScrollArea::vertical().show(ui, |ui| {
            for group in palette::Group::ALL {
                ui.add_space(6.0);
                ui.label(RichText::new(group.label()).color(theme::muted(ui)));
                for e in palette::ENTRIES.iter().filter(|e| e.group == group) {
                    let id = egui::Id::new(("palette", e.label));
                    // One widget clicked and dragged: a drag source laid over a button would
                    // take the pointer from it (no double-click).
                    let r = ui
                        .add(
                            egui::Button::new(format!("{} {}", e.icon, e.label))
                                .min_size(egui::vec2(ui.available_width(), 22.0))
                                .sense(egui::Sense::click_and_drag()),
                        )
                        .on_hover_text(e.description);
                    r.dnd_set_drag_payload(e.label);
                    if r.dragged()
                        && let Some(at) = ui.ctx().pointer_interact_pos()
                    {
                        // What is carried, under the pointer until it is dropped.
                        egui::Area::new(id.with("carried"))
                            .order(egui::Order::Tooltip)
                            .fixed_pos(at + egui::vec2(8.0, 8.0))
                            .interactable(false)
                            .show(ui.ctx(), |ui| {
                                egui::Frame::popup(ui.style())
                                    .show(ui, |ui| ui.label(format!("{} {}", e.icon, e.label)));
                            });
                        ui.ctx().set_cursor_icon(egui::CursorIcon::Grabbing);
                    }
                    // A double-click, or Enter / Space on the focused entry.
                    let double = r.double_clicked();
                    let keyboard = r.clicked() && !ui.input(|i| i.pointer.any_released());
                    if double || keyboard {
                        let centre = self.transform.inverse() * self.canvas_rect.center();
                        let centre = if centre.x.is_finite() { centre } else { egui::pos2(100.0, 100.0) };
                        self.add(e.label, centre);
                    }
                }
            }
        });
    }

    /// The SQL the last count ran for the selected activity, in a window.
    pub(super) fn sql_window(&mut self, ui: &mut egui::Ui) {
        if !self.show_sql {
            return;
        }
        let focus = self.focus.clone().unwrap_or_default();
        let label = self.graph.node_of(&focus).map(|n| self.graph.snarl[n].label.clone());
        let report = self.last_report.as_ref().and_then(|r| r.activities.iter().find(|x| x.activity == focus));
        let mut open = true;
        egui::Window::new(format!("SQL: {}", label.as_deref().unwrap_or("no activity selected")))
            .id(egui::Id::new(("sql_window", self.campaign.id)))
            .open(&mut open)
            .default_size([640.0, 360.0])
            .resizable(true)
            .show(ui.ctx(), |ui| match report {
                Some(r) => {
                    egui::ScrollArea::both().show(ui, |ui| {
                        let mut sql = r.sql.join(";\n\n");
                        ui.add(egui::TextEdit::multiline(&mut sql).code_editor().desired_width(f32::INFINITY));
                    });
                }
                None => {
                    ui.label("The last count did not run this activity: select another one, or count again.");
                }
            });
        self.show_sql = open;
    }
}
