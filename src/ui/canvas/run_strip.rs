//! Start, the confirmation before a run, and the strip under the canvas while it sends.

use super::*;

/// How a run ended: a summary, or what went wrong.
pub type RunOutcome = Result<String, crate::console::UserError>;

/// The campaign's sending, as the editor shows it.
#[derive(Default)]
pub(super) struct RunView {
    /// The latest progress of each delivery.
    pub(super) progress: std::collections::BTreeMap<i64, crate::model::delivery::Progress>,
    pub(super) running: bool,
    /// (time, messages settled) of recent progress, for the rate.
    pub(super) samples: std::collections::VecDeque<(f64, u64)>,
    /// How the run ended, in words.
    pub(super) outcome: Option<RunOutcome>,
}

impl RunView {
    pub(super) fn totals(&self) -> crate::model::delivery::Progress {
        let mut t = crate::model::delivery::Progress::default();
        for p in self.progress.values() {
            t.total += p.total;
            t.sent += p.sent;
            t.failed += p.failed;
            t.excluded += p.excluded;
            t.unconfirmed += p.unconfirmed;
            t.remaining += p.remaining;
            t.waiting_until = t.waiting_until.or(p.waiting_until);
        }
        t
    }

    /// Messages settled per second over the last few seconds.
    pub(super) fn rate(&self) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let dt = last.0 - first.0;
        (dt > 0.2).then(|| (last.1.saturating_sub(first.1)) as f64 / dt)
    }
}

impl CanvasEditor {
    /// A delivery of this campaign moved on.
    pub fn run_progress(&mut self, campaign_id: i64, progress: crate::model::delivery::Progress) {
        if campaign_id != self.campaign.id {
            return;
        }
        let run = self.run.get_or_insert_with(RunView::default);
        run.running = true;
        run.progress.insert(progress.delivery, progress);
        let settled = run.totals();
        let now = crate::clock::wall().as_millisecond() as f64 / 1000.0;
        run.samples.push_back((now, settled.sent + settled.failed));
        while run.samples.front().is_some_and(|(t, _)| now - t > 5.0) {
            run.samples.pop_front();
        }
    }

    /// This campaign's run ended.
    pub fn run_finished(&mut self, campaign_id: i64, outcome: Result<String, crate::console::UserError>) {
        if campaign_id != self.campaign.id {
            return;
        }
        let run = self.run.get_or_insert_with(RunView::default);
        run.running = false;
        run.outcome = Some(outcome);
    }

    /// The workspace's deliveries were listed: keep this campaign's.
    pub fn deliveries(&mut self, list: &[crate::model::delivery::Delivery]) {
        // Proofs are not runs.
        self.earlier =
            list.iter().filter(|d| d.campaign_id == Some(self.campaign.id) && !d.is_proof).cloned().collect();
    }

    /// The run on show: (running, settled fraction, outcome) (tests).
    pub fn run_state(&self) -> Option<(bool, f32, Option<&RunOutcome>)> {
        self.run.as_ref().map(|r| (r.running, r.totals().fraction(), r.outcome.as_ref()))
    }

    /// Whether an earlier run of this campaign was left unfinished (paused, crashed).
    pub(super) fn unfinished(&self) -> bool {
        self.earlier.iter().any(crate::model::delivery::Delivery::is_unfinished)
    }

    pub(super) fn start_button(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let running = self.run.as_ref().is_some_and(|r| r.running);
        let has_channel = self.committed.activities.iter().any(|a| matches!(a.kind, ActivityKind::Channel { .. }));
        let why_not = if running {
            Some("Sending now.")
        } else if !self.problems.is_empty() || self.count_error.is_some() {
            Some("Fix the problems listed under the canvas first.")
        } else if self.is_counting() {
            Some("Wait for the count to finish.")
        } else if !has_channel {
            Some("Add a channel activity (Email, SMS, …): there is nothing to send.")
        } else if !self.is_saved() {
            Some("Wait for the canvas to be saved.")
        } else {
            None
        };
        let unfinished = self.unfinished();
        let label = if unfinished { "▶ Resume" } else { "▶ Start" };
        let r = ui
            .add_enabled(why_not.is_none(), egui::Button::new(RichText::new(label).strong()))
            .on_hover_text(if unfinished {
                "Carry on the run that was paused or interrupted: nothing is sent twice."
            } else {
                "Run the campaign: count, then send every message."
            })
            .on_disabled_hover_text(why_not.unwrap_or_default());
        if r.clicked() {
            if unfinished {
                self.begin_run(false, commands);
            } else {
                self.confirm_start = true;
            }
        }
    }

    pub(super) fn begin_run(&mut self, again: bool, commands: &mut Commands) {
        commands.push(RunCommand::Start { campaign_id: self.campaign.id, again });
        self.run = Some(RunView { running: true, ..RunView::default() });
        self.confirm_start = false;
    }

    /// "Send now?": what each channel activity will send to, and a warning when it ran before.
    pub(super) fn confirm_window(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.confirm_start {
            return;
        }
        let mut open = true;
        let mut send = false;
        egui::Window::new(format!("Send \u{201c}{}\u{201d} now?", self.campaign.name))
            .id(egui::Id::new(("confirm_start", self.campaign.id)))
            .collapsible(false)
            .resizable(false)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(self.canvas_rect.center())
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                ui.label("The campaign is counted again, then each channel activity sends to its recipients:");
                ui.add_space(4.0);
                for a in &self.committed.activities {
                    let ActivityKind::Channel { channel, credential, configuration, .. } = &a.kind else {
                        continue;
                    };
                    // The same choice the run makes.
                    let with = match crate::model::sms::send_with(
                        &self.context.credentials,
                        &self.context.sms_configurations,
                        *channel,
                        credential.as_deref(),
                        configuration.as_deref(),
                    ) {
                        Ok((Some(s), Some(c))) => {
                            format!(
                                "the configuration {}: {} as {}",
                                s.name,
                                c.display_name(),
                                s.sender().unwrap_or("its own sender")
                            )
                        }
                        Ok((_, Some(c))) => c.display_name(),
                        Ok((_, None)) => "the built-in Sandbox".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    if *channel == crate::model::Channel::X {
                        ui.label(format!(
                            "\u{2022} {} \u{201c}{}\u{201d}: one post on the account, through {with}",
                            a.kind.label(),
                            a.label
                        ));
                        continue;
                    }
                    let (reachable, excluded) = self
                        .sends
                        .get(&a.id)
                        .map_or((0, Vec::new()), |s| (s.reachable.unwrap_or(0), s.excluded.clone()));
                    ui.label(format!(
                        "\u{2022} {} \u{201c}{}\u{201d}: {} recipients at the last count, through {with}",
                        a.kind.label(),
                        a.label,
                        theme::count(reachable)
                    ));
                    if !excluded.is_empty() {
                        let reasons: Vec<String> = excluded
                            .iter()
                            .map(|(code, n)| format!("{} {}", theme::count(*n), crate::audience::exclusion_label(code)))
                            .collect();
                        ui.label(
                            RichText::new(format!("    not sent to: {}", reasons.join(", "))).color(theme::muted(ui)),
                        );
                    }
                }
                if !self.earlier.is_empty() {
                    ui.add_space(4.0);
                    ui.label(
                        RichText::new(format!(
                            "{} This campaign already ran ({} deliveries): sending again reaches everyone again.",
                            theme::ICON_ERROR,
                            self.earlier.len()
                        ))
                        .color(theme::warning(ui)),
                    );
                }
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    if ui.button(RichText::new("Send now").strong()).clicked() {
                        send = true;
                    }
                    if ui.button("Not now").clicked() {
                        self.confirm_start = false;
                    }
                });
            });
        if !open {
            self.confirm_start = false;
        }
        if send {
            let again = !self.earlier.is_empty();
            self.begin_run(again, commands);
        }
    }

    /// Whether the run strip's Report was clicked since last asked.
    pub fn take_report_request(&mut self) -> bool {
        std::mem::take(&mut self.report_asked)
    }

    /// The strip with the run's progress, rate, time left and its controls.
    pub(super) fn run_panel(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let unfinished = self.unfinished();
        let Some(run) = &self.run else { return };
        let t = run.totals();
        let running = run.running;
        let rate = run.rate();
        let outcome = run.outcome.clone();
        let mut close = false;
        let mut resume = false;
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Sending").strong());
            let text = if t.total == 0 && running {
                "Counting and writing the ledger…".to_owned()
            } else {
                format!("{} of {}", theme::count(t.total - t.remaining), theme::count(t.total))
            };
            ui.add(
                egui::ProgressBar::new(if t.total == 0 { 0.0 } else { t.fraction() }).desired_width(260.0).text(text),
            );
            ui.label(format!(
                "sent {} · failed {} · excluded {} · remaining {}",
                theme::count(t.sent),
                theme::count(t.failed),
                theme::count(t.excluded),
                theme::count(t.remaining)
            ));
            if let Some(until) = t.waiting_until.filter(|_| running && t.remaining > 0) {
                ui.label(
                    RichText::new(format!(
                        "\u{23f3} the day's direct messages are sent: the rest wait until {}",
                        until.to_zoned(jiff::tz::TimeZone::system()).strftime("%a %H:%M")
                    ))
                    .color(theme::warning(ui)),
                );
            } else if let Some(r) = rate.filter(|_| running) {
                ui.label(RichText::new(format!("{r:.0} msg/s")).color(theme::muted(ui)));
                if r > 0.0 && t.remaining > 0 {
                    let secs = (t.remaining as f64 / r).ceil() as u64;
                    ui.label(
                        RichText::new(format!("about {}:{:02} left", secs / 60, secs % 60)).color(theme::muted(ui)),
                    );
                }
            }
            if ui.button("Report").on_hover_text("The campaign's report: it fills as the messages go").clicked() {
                self.report_asked = true;
            }
            if running {
                if ui.button("Pause").on_hover_text("Stop after the current batch; Resume carries on.").clicked() {
                    commands.push(RunCommand::Stop { campaign_id: self.campaign.id, cancel: false });
                }
                if ui
                    .button("Cancel sending")
                    .on_hover_text("Stop, and settle what was not sent as cancelled.")
                    .clicked()
                {
                    commands.push(RunCommand::Stop { campaign_id: self.campaign.id, cancel: true });
                }
                ui.spinner();
            } else {
                if unfinished && ui.button("Resume").clicked() {
                    resume = true;
                }
                if ui.button("Close").clicked() {
                    close = true;
                }
            }
        });
        if let Some(o) = outcome {
            match o {
                Ok(text) => ui.label(RichText::new(text).color(theme::muted(ui))),
                Err(e) => ui.label(RichText::new(format!("{} {e}", theme::ICON_ERROR)).color(theme::error(ui))),
            };
        }
        if resume {
            self.begin_run(false, commands);
        }
        if close {
            self.run = None;
        }
    }
}
