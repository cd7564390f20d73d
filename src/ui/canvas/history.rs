//! Undo, redo and autosave of the canvas being edited.

use super::*;

impl CanvasEditor {
    pub fn saved(&mut self, at: jiff::Timestamp, campaign_id: i64) {
        if campaign_id == self.campaign.id {
            self.saving = false;
            self.campaign.modified_at = at;
        }
    }

    pub fn save_failed(&mut self) {
        if self.saving {
            self.saving = false;
            // Try again later; the canvas stays unsaved (and says so).
            self.saved = Canvas::default();
        }
    }

    pub(super) fn undo_step(&mut self) {
        if let Some(previous) = self.undo.pop() {
            self.redo.push(std::mem::replace(&mut self.committed, previous.clone()));
            self.restore(&previous);
        }
    }

    pub(super) fn redo_step(&mut self) {
        if let Some(next) = self.redo.pop() {
            self.undo.push(std::mem::replace(&mut self.committed, next.clone()));
            self.restore(&next);
        }
    }

    pub(super) fn restore(&mut self, canvas: &Canvas) {
        self.graph = Graph::from_canvas(canvas);
        self.label_edit = None;
        self.params_edit = None;
        self.count = CountState::Due(0.0);
        self.save_due = Some(0.0);
    }

    /// After the frame: a finished change (nothing being dragged) becomes an undo step, and
    /// schedules a save and, when more than positions changed, a count.
    pub(super) fn commit(&mut self, ui: &egui::Ui, now: f64) {
        // The canvas changes only through input (a click, a key, a drop, a drag ended): frames
        // without any, and the one after, skip the comparison (a copy of the whole canvas).
        let input = ui.input(|i| {
            i.pointer.any_released()
                || i.events.iter().any(|e| !matches!(e, egui::Event::PointerMoved(_) | egui::Event::MouseMoved(_)))
        });
        let look = input || self.look_again;
        self.look_again = input;
        if !look || ui.input(|i| i.pointer.any_down()) {
            self.look_again |= look;
            return;
        }
        let current = self.graph.to_canvas();
        if current == self.committed {
            return;
        }
        let previous = std::mem::replace(&mut self.committed, current);
        if !same_apart_from_positions(&previous, &self.committed) {
            self.count = CountState::Due(now + COUNT_DEBOUNCE);
        }
        self.undo.push(previous);
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.save_due = Some(now + SAVE_DEBOUNCE);
    }

    pub(super) fn save_now(&mut self, commands: &mut Commands) {
        self.saved = self.graph.to_canvas();
        self.committed = self.saved.clone();
        self.saving = true;
        self.save_due = None;
        commands.push(CanvasCommand::Save { campaign_id: self.campaign.id, canvas: self.saved.clone() });
    }
}

/// Whether two canvases differ only in where their activities are.
pub(super) fn same_apart_from_positions(a: &Canvas, b: &Canvas) -> bool {
    let strip = |c: &Canvas| {
        let mut c = c.clone();
        for x in &mut c.activities {
            x.position = [0.0, 0.0];
        }
        c
    };
    strip(a) == strip(b)
}
