//! The canvas's counts: asked for after each change (debounced), shown when they arrive.

use super::*;

impl CanvasEditor {
    pub fn counted(&mut self, campaign_id: i64, generation: u64, outcome: CountOutcome) {
        if campaign_id != self.campaign.id {
            return;
        }
        let canvas = self.requested.remove(&generation);
        if self.count != CountState::Running(generation) {
            return;
        }
        self.count = CountState::Idle;
        self.progress = None;
        match outcome {
            CountOutcome::Counted(report) => self.show_report(report, Vec::new(), canvas.as_ref()),
            CountOutcome::Invalid { problems, partial } => match partial {
                Some(report) => self.show_report(report, problems, canvas.as_ref()),
                None => {
                    self.problems = problems;
                    self.count_error = None;
                    self.counts.clear();
                    self.durations.clear();
                    self.sends.clear();
                    self.last_report = None;
                }
            },
            CountOutcome::Failed(e) => {
                self.count_error = Some(e.message);
            }
            CountOutcome::Superseded => {}
        }
        // The rows on show belong to the previous count: fetch them again.
        if let Some(i) = &mut self.inspector {
            i.loading = true;
        }
    }

    /// How far the running count has got.
    pub fn count_progress(&mut self, campaign_id: i64, generation: u64, done: usize, total: usize) {
        if campaign_id == self.campaign.id && self.count == CountState::Running(generation) {
            self.progress = Some((done, total));
        }
    }

    pub(super) fn show_report(&mut self, report: CountReport, problems: Vec<Problem>, canvas: Option<&Canvas>) {
        self.kept_from = None;
        self.problems = problems;
        self.count_error = None;
        self.counts.clear();
        if let Some(canvas) = canvas {
            for t in &canvas.transitions {
                if let Some(n) = report.count_of(&t.id) {
                    self.counts.insert((t.from.clone(), t.output.clone()), n);
                }
            }
            // Outputs wired to nothing, counted all the same.
            for a in &canvas.activities {
                for output in crate::audience::outputs(&a.kind) {
                    if let Some(n) = report.count_of(&crate::audience::open_transition(&a.id, &output)) {
                        self.counts.entry((a.id.clone(), output)).or_insert(n);
                    }
                }
            }
        }
        self.durations = report.activities.iter().map(|a| (a.activity.clone(), a.duration)).collect();
        self.sends = report.sends.iter().map(|s| (s.activity.clone(), s.clone())).collect();
        // What each transition carries, for the forms (a split on enrichment columns).
        self.flows = report.transitions.iter().map(|t| (t.transition.clone(), t.columns.clone())).collect();
        self.last_report = Some(report);
    }

    /// Starts what is due: the debounced count, the debounced save.
    pub(super) fn schedule(&mut self, ui: &egui::Ui, now: f64, commands: &mut Commands) {
        if let CountState::Due(at) = self.count {
            if now >= at {
                self.generation = next_generation();
                let canvas = self.committed.clone();
                self.requested.insert(self.generation, canvas.clone());
                commands.push(CanvasCommand::Count {
                    campaign_id: self.campaign.id,
                    canvas,
                    generation: self.generation,
                    fresh: std::mem::take(&mut self.fresh),
                });
                self.count = CountState::Running(self.generation);
            } else {
                ui.ctx().request_repaint_after(Duration::from_secs_f64(at - now));
            }
        }
        if let Some(at) = self.save_due {
            if now >= at && self.committed != self.saved {
                self.save_now(commands);
            } else if now >= at {
                self.save_due = None;
            } else {
                ui.ctx().request_repaint_after(Duration::from_secs_f64(at - now));
            }
        }
    }
}
