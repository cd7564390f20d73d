//! The eframe window: a left navigation, one screen at a time, notices, and a status bar with
//! background jobs. Screens read from and send [`Command`]s to the [`Console`]; they never
//! touch SQL, the keychain or the runtime.

mod api_campaign;
mod api_keys;
pub mod browse;
mod campaign_file;
mod campaign_table;
mod campaigns;
pub mod canvas;
pub mod channels;
mod connector;
mod data;
pub mod deliveries;
mod icon;
mod import;
mod launcher;
mod path_field;
pub mod report;
mod report_compare;
pub mod reports;
mod saved_state;
pub mod screen;
mod secret_field;
mod sent_message;
mod settings;
pub mod social;
mod table;
mod technical_workflows;
#[cfg(feature = "testing")]
pub mod testing;
pub mod theme;
pub mod visitors;

pub use launcher::{Launcher, OpenWorkspace};
use saved_state::STORAGE_KEY;
pub use saved_state::{Page, SavedState, ThemeChoice};
pub use screen::{Screen, ScreenContext};

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::console::{
    Answer, CampaignCommand, CampaignEvent, CanvasEvent, ChannelEvent, Command, Console, DataCommand, Event,
    JobCommand, JobEvent, JobId, RequestId, RunEvent, UserError,
};

/// A background job as the status bar shows it.
struct JobView {
    id: JobId,
    label: String,
    fraction: f32,
    cancelling: bool,
    /// Rows handled so far, for jobs that count them.
    rows: Option<u64>,
    /// When the status bar first showed it (egui's clock, seconds).
    started: Option<f64>,
}

/// A message at the bottom of the window, on the screen that raised it. Info notices fade after
/// a few seconds, errors after longer; an error goes as soon as what it was about succeeds.
struct Notice {
    text: String,
    details: Option<String>,
    is_error: bool,
    shown_at: Instant,
    screen: Page,
    topic: Topic,
}

/// What a notice is about, so that a later success clears an earlier failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topic {
    /// A run of this campaign.
    Run(i64),
    /// Saving a credential.
    Credential,
    /// A background job (demo generation, an export).
    Job,
    /// A proof of a campaign.
    Proof(i64),
    Other,
}

const NOTICE_TIME: Duration = Duration::from_secs(6);
const ERROR_TIME: Duration = Duration::from_secs(30);

/// Commands collected while drawing, sent at the end of the frame, each as a request whose
/// answers carry its id back.
#[derive(Default)]
pub struct Commands(Vec<(RequestId, Command)>);

impl Commands {
    /// Queues `c`; returns the id its answers will carry.
    pub fn push(&mut self, c: impl Into<Command>) -> RequestId {
        let id = crate::console::next_request();
        self.0.push((id, c.into()));
        id
    }

    /// The commands queued so far, taken (benchmarks answer them themselves).
    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.0).into_iter().map(|(_, c)| c).collect()
    }
}

/// A problem as a sentence on its own: its first letter in upper case.
pub(crate) fn sentence(why: &str) -> String {
    let mut chars = why.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// The server the window runs, or why it could not start.
enum WindowServer {
    Running(crate::server::Background),
    Failed(String),
}

/// The application window.
pub struct App {
    console: Arc<Console>,
    pub state: SavedState,
    applied_theme: Option<ThemeChoice>,
    campaigns: campaigns::CampaignsScreen,
    data: data::DataScreen,
    deliveries: deliveries::DeliveriesScreen,
    reports: reports::ReportsScreen,
    channels: channels::ChannelsScreen,
    settings: settings::SettingsScreen,
    visitors: visitors::VisitorsScreen,
    social: social::SocialScreen,
    jobs: Vec<JobView>,
    notices: Vec<Notice>,
    started: bool,
    /// The server the window runs (Settings → Server), or why it could not start.
    server: Option<WindowServer>,
    /// The window's title as last set (it names the workspace).
    title: String,
}

impl App {
    pub fn new(console: Arc<Console>, state: SavedState) -> Self {
        Self {
            console,
            state,
            applied_theme: None,
            campaigns: campaigns::CampaignsScreen::default(),
            data: data::DataScreen::default(),
            deliveries: deliveries::DeliveriesScreen::default(),
            reports: reports::ReportsScreen::default(),
            channels: channels::ChannelsScreen::default(),
            settings: settings::SettingsScreen::default(),
            visitors: visitors::VisitorsScreen::default(),
            social: social::SocialScreen::default(),
            jobs: Vec::new(),
            notices: Vec::new(),
            started: false,
            server: None,
            title: String::new(),
        }
    }

    pub fn console(&self) -> &Arc<Console> {
        &self.console
    }

    /// The Data screen (tests look at it).
    pub fn data_screen(&self) -> &data::DataScreen {
        &self.data
    }

    /// The Data screen, to change (tests).
    pub fn data_screen_mut(&mut self) -> &mut data::DataScreen {
        &mut self.data
    }

    pub fn channels_screen(&self) -> &channels::ChannelsScreen {
        &self.channels
    }

    /// The Reports screen (tests look at it).
    pub fn reports_screen(&self) -> &reports::ReportsScreen {
        &self.reports
    }

    /// The Deliveries screen (tests look at it).
    pub fn deliveries_screen(&self) -> &deliveries::DeliveriesScreen {
        &self.deliveries
    }

    pub fn social_screen(&self) -> &social::SocialScreen {
        &self.social
    }

    pub fn visitors_screen(&self) -> &visitors::VisitorsScreen {
        &self.visitors
    }

    /// The canvas editor of the opened campaign, if any (tests look at it).
    pub fn canvas_editor(&mut self) -> Option<&mut canvas::CanvasEditor> {
        self.campaigns.editor()
    }

    /// Draws one frame.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if !self.started {
            self.started = true;
            let ctx = ui.ctx().clone();
            self.console.set_repaint(move || ctx.request_repaint());
            self.console.send(CampaignCommand::Refresh);
            self.console.send(DataCommand::RefreshOverview);
            self.console.send(crate::console::ServerCommand::Refresh);
        }
        if self.applied_theme != Some(self.state.theme) {
            ui.ctx().set_theme(self.state.theme.egui());
            self.applied_theme = Some(self.state.theme);
        }
        self.drain_events();

        let mut commands = Commands::default();
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar(ui, &mut commands));
        self.notices.retain(|n| n.shown_at.elapsed() < if n.is_error { ERROR_TIME } else { NOTICE_TIME });
        if self.notices.iter().any(|n| n.screen == self.state.screen) {
            egui::Panel::bottom("notices").show(ui, |ui| self.notices_ui(ui));
        }
        egui::Panel::left("navigation")
            .exact_size(theme::NAV_WIDTH)
            .resizable(false)
            .show(ui, |ui| self.navigation(ui));
        let page = self.state.screen;
        let console = Arc::clone(&self.console);
        let theme = &mut self.state.theme;
        let screen: &mut dyn Screen = match page {
            Page::Campaigns => &mut self.campaigns,
            Page::Data => &mut self.data,
            Page::Deliveries => &mut self.deliveries,
            Page::Reports => &mut self.reports,
            Page::Channels => &mut self.channels,
            Page::Settings => &mut self.settings,
            Page::Visitors => &mut self.visitors,
            Page::Social => &mut self.social,
        };
        egui::CentralPanel::default()
            .show(ui, |ui| screen.ui(ui, &mut ScreenContext { console: &console, commands: &mut commands, theme }));

        for (request, command) in commands.0 {
            self.console.send_as(request, command);
        }
    }

    /// Every event goes to every screen (each takes those about it); the app itself keeps the
    /// jobs of the status bar and says in a notice what succeeded or failed.
    fn drain_events(&mut self) {
        while let Some(Answer { request, event }) = self.console.poll_answer() {
            if let Event::Failed(e) = &event {
                if !self.campaigns.take_error(e) {
                    self.notify_error(Topic::Other, e.clone());
                }
                continue;
            }
            self.notice_of(&event);
            if let Event::Job(e) = event {
                self.job_event(e);
                continue;
            }
            if let Event::Server(settings) = &event {
                self.run_server(settings);
            }
            for screen in [
                &mut self.campaigns as &mut dyn Screen,
                &mut self.data,
                &mut self.deliveries,
                &mut self.reports,
                &mut self.channels,
                &mut self.settings,
                &mut self.visitors,
                &mut self.social,
            ] {
                screen.on_event(&event, request);
            }
        }
    }

    /// Starts, restarts or stops the window's server as the settings say.
    fn run_server(&mut self, settings: &crate::model::server::ServerSettings) {
        let wanted = settings.run_in_window.then(|| (settings.bind.trim().to_owned(), settings.public_base()));
        let running = match &self.server {
            Some(WindowServer::Running(b)) => Some((b.address.to_string(), b.public_url.clone())),
            _ => None,
        };
        if wanted.is_some() && wanted == running {
            return;
        }
        // The one listening now stops first (it may hold the address).
        self.server = None;
        if let Some((bind, public_url)) = wanted {
            let started = match bind.parse::<std::net::SocketAddr>() {
                Err(e) => WindowServer::Failed(format!("{bind} is not an address to listen on ({e})")),
                Ok(addr) => match crate::server::Background::start(Arc::clone(&self.console), addr, public_url) {
                    Ok(b) => WindowServer::Running(b),
                    Err(e) => WindowServer::Failed(format!("cannot listen on {bind}: {e}")),
                },
            };
            self.server = Some(started);
        }
        self.settings.set_server_status(self.server_status());
    }

    /// Where the window's server runs, or why it does not (`None`: it is off).
    pub fn server_status(&self) -> Option<settings::ServerStatus> {
        self.server.as_ref().map(|s| match s {
            WindowServer::Running(b) => settings::ServerStatus::Running(format!(
                "serving on http://{} (providers reach it at {})",
                b.address, b.public_url
            )),
            WindowServer::Failed(e) => settings::ServerStatus::Failed(e.clone()),
        })
    }

    /// The notice an event brings, if any.
    fn notice_of(&mut self, event: &Event) {
        match event {
            Event::Campaign(CampaignEvent::Created(c)) => {
                self.notify(Topic::Other, format!("Campaign \u{201c}{}\u{201d} created.", c.name));
            }
            Event::Run(RunEvent::Finished { campaign_id, outcome }) => match outcome {
                Ok(summary) => self.notify(Topic::Run(*campaign_id), summary.clone()),
                Err(e) => self.notify_error(Topic::Run(*campaign_id), e.clone()),
            },
            Event::Canvas(CanvasEvent::ProofSent { campaign_id, result, .. }) => {
                let topic = Topic::Proof(*campaign_id);
                match result {
                    Ok(n) => {
                        self.notify(topic, format!("Proof sent to {n} address{}.", if *n == 1 { "" } else { "es" }));
                    }
                    Err(e) => self.notify_error(
                        topic,
                        UserError {
                            message: format!("The proof was not sent: {}", e.message),
                            details: e.details.clone(),
                        },
                    ),
                }
            }
            Event::Channel(ChannelEvent::Saved(Ok(c))) => {
                self.notify(Topic::Credential, format!("Credential \u{201c}{}\u{201d} saved.", c.name));
            }
            _ => {}
        }
    }

    fn job_event(&mut self, event: JobEvent) {
        match event {
            // A job started again under its id says what it does now ("waiting for …").
            JobEvent::Started { id, label } => match self.jobs.iter_mut().find(|j| j.id == id) {
                Some(j) => j.label = label,
                None => {
                    self.jobs.push(JobView { id, label, fraction: 0.0, cancelling: false, rows: None, started: None })
                }
            },
            JobEvent::Progress { id, fraction, rows } => {
                if let Some(j) = self.jobs.iter_mut().find(|j| j.id == id) {
                    j.fraction = fraction;
                    j.rows = rows.or(j.rows);
                }
            }
            JobEvent::Finished { id, outcome } => {
                self.jobs.retain(|j| j.id != id);
                match outcome {
                    Ok(summary) => self.notify(Topic::Job, summary),
                    Err(e) => self.notify_error(Topic::Job, e),
                }
            }
        }
    }

    /// A success: shown on this screen for a few seconds; the failures it answers go.
    fn notify(&mut self, topic: Topic, text: String) {
        if topic != Topic::Other {
            self.notices.retain(|n| n.topic != topic);
        }
        let screen = self.state.screen;
        self.notices.push(Notice { text, details: None, is_error: false, shown_at: Instant::now(), screen, topic });
    }

    fn notify_error(&mut self, topic: Topic, e: UserError) {
        tracing::warn!("{}", e.message);
        if topic != Topic::Other {
            self.notices.retain(|n| n.topic != topic);
        }
        self.notices.push(Notice {
            text: e.message,
            details: Some(e.details),
            is_error: true,
            shown_at: Instant::now(),
            screen: self.state.screen,
            topic,
        });
    }

    fn navigation(&mut self, ui: &mut egui::Ui) {
        ui.add_space(10.0);
        ui.heading("Campaign Console");
        ui.add_space(10.0);
        for screen in Page::ALL {
            let text = format!("{}  {}", screen.icon(), screen.label());
            let button = egui::Button::selectable(self.state.screen == screen, text)
                .min_size(egui::vec2(ui.available_width(), 28.0));
            if ui.add(button).clicked() {
                if screen == Page::Campaigns && self.state.screen == Page::Campaigns {
                    self.campaigns.back_to_list();
                }
                self.state.screen = screen;
            }
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let name = self.console.workspace_dir().file_name().map(|n| n.to_string_lossy().into_owned());
        let title = format!("{} \u{2014} Campaign Console", name.as_deref().unwrap_or("workspace"));
        if title != self.title {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(format!("Workspace: {}", name.unwrap_or_default())).color(theme::muted(ui)))
                .on_hover_text(self.console.workspace_dir().display().to_string());
            match &self.server {
                Some(WindowServer::Running(b)) => {
                    ui.separator();
                    ui.label(egui::RichText::new(format!("Server: http://{}", b.address)).color(theme::ok(ui)))
                        .on_hover_text(format!("Providers reach it at {}", b.public_url));
                }
                Some(WindowServer::Failed(e)) => {
                    ui.separator();
                    ui.label(egui::RichText::new("Server: not running").color(theme::error(ui))).on_hover_text(e);
                }
                None => {}
            }
            if self.console.clock_is_set() {
                ui.separator();
                let now = self.console.now().to_zoned(jiff::tz::TimeZone::system());
                ui.label(
                    egui::RichText::new(format!("Clock set: {}", now.strftime("%Y-%m-%d %H:%M")))
                        .color(theme::warning(ui)),
                )
                .on_hover_text("The app's clock was set with --clock: campaigns, schedules and records use it.");
                ui.ctx().request_repaint_after(std::time::Duration::from_secs(30));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if self.jobs.is_empty() {
                    ui.label(egui::RichText::new("Ready").color(theme::muted(ui)));
                }
                let now = ui.input(|i| i.time);
                for job in &mut self.jobs {
                    let started = *job.started.get_or_insert(now);
                    let cancel = ui.add_enabled(!job.cancelling, egui::Button::new("Cancel"));
                    if cancel.clicked() {
                        job.cancelling = true;
                        commands.push(JobCommand::Cancel(job.id));
                    }
                    ui.add(egui::ProgressBar::new(job.fraction).desired_width(180.0).show_percentage());
                    ui.label(if job.cancelling {
                        format!("{} — cancelling…", job.label)
                    } else {
                        format!("{}{}", job.label, crate::model::pace(now - started, job.fraction, job.rows))
                    });
                }
            });
        });
    }

    fn notices_ui(&mut self, ui: &mut egui::Ui) {
        let mut dismiss = None;
        let screen = self.state.screen;
        for (i, n) in self.notices.iter().enumerate().filter(|(_, n)| n.screen == screen) {
            ui.horizontal(|ui| {
                let (icon, colour) =
                    if n.is_error { (theme::ICON_ERROR, theme::error(ui)) } else { (theme::ICON_INFO, theme::ok(ui)) };
                ui.label(egui::RichText::new(format!("{icon} {}", n.text)).color(colour));
                if let Some(details) = &n.details {
                    ui.collapsing("Details", |ui| ui.label(egui::RichText::new(details).monospace().small()));
                }
                if ui.small_button("Dismiss").clicked() {
                    dismiss = Some(i);
                }
            });
        }
        if let Some(i) = dismiss {
            self.notices.remove(i);
        }
        if !self.notices.is_empty() {
            ui.ctx().request_repaint_after(Duration::from_millis(500));
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.state);
    }
}

/// How fast Ctrl + wheel zooms (egui's default is 1/200: a notch of the wheel zoomed by a
/// third).
pub const CANVAS_ZOOM_SPEED: f32 = 1.0 / 600.0;

/// Opens the window on the workspace `first` opened (or on what is wrong with `dir` when it
/// could not be opened: another folder can then be opened with `open`) and runs until it is
/// closed.
pub fn run_window(
    open: launcher::OpenWorkspace,
    dir: &std::path::Path,
    first: Result<Arc<Console>, crate::console::ConsoleError>,
) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Campaign Console")
            .with_app_id("campaign-console")
            .with_icon(icon::app_icon())
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([860.0, 560.0]),
        ..Default::default()
    };
    let dir = dir.to_owned();
    eframe::run_native(
        "Campaign Console",
        options,
        Box::new(move |cc| {
            // Ctrl + wheel zooms the canvas: in gentler steps than egui's default.
            cc.egui_ctx.options_mut(|o| o.input_options.scroll_zoom_speed = CANVAS_ZOOM_SPEED);
            let state = cc.storage.and_then(|s| eframe::get_value(s, STORAGE_KEY)).unwrap_or_default();
            Ok(Box::new(launcher::Launcher::new(open, &dir, first, state)))
        }),
    )
}
