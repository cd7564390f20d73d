//! The Social (X) screen: the X services, and for the one selected its **Twitter page** (the
//! account as X describes it now: avatar, name, handle, followers, verified — which confirms the
//! delegation works) and a **composer** (the post counted as X counts it, previewed as it will
//! look, posted now; to post later, an X post activity after a Scheduler on a canvas).

use egui::RichText;

use super::screen::{Screen, ScreenContext};
use super::{Commands, theme};
use crate::console::{ChannelEvent, Event, RequestId, UserError, XAccountCommand, XAccountPage, XCommand, XOverview};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Tab {
    #[default]
    Page,
    Compose,
}

#[derive(Default)]
pub struct SocialScreen {
    overview: Option<Result<XOverview, UserError>>,
    asked: bool,
    selected: Option<i64>,
    tab: Tab,
    /// The selected service's account as X describes it (`None` while X is asked).
    page: Option<(i64, Option<Result<XAccountPage, UserError>>)>,
    avatar: Option<(i64, egui::TextureHandle)>,
    draft: String,
    posting: bool,
    posted: Option<Result<String, UserError>>,
}

impl SocialScreen {
    /// The selected service's page, once X answered (tests).
    pub fn page(&self) -> Option<&Result<XAccountPage, UserError>> {
        self.page.as_ref().and_then(|(_, p)| p.as_ref())
    }

    /// What came of the last post (tests).
    pub fn posted(&self) -> Option<&Result<String, UserError>> {
        self.posted.as_ref()
    }

    fn draw(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        if !self.asked {
            self.asked = true;
            commands.push(XCommand::Overview);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.heading("Social (X)");
            if ui.button("Refresh").clicked() {
                self.asked = false;
                self.page = None;
            }
        });
        let Some(o) = super::visitors::ready(ui, self.overview.as_ref()) else { return };
        if o.services.is_empty() {
            ui.label(
                RichText::new(
                    "No X service yet: add one in Channels, X (Twitter), with the account's handle and its four keys (the demo's Sandbox is the Sandbox X account).",
                )
                .color(theme::muted(ui)),
            );
            return;
        }
        let services: Vec<(i64, String, String)> =
            o.services.iter().map(|(id, label, handle, _, _)| (*id, label.clone(), handle.clone())).collect();
        if self.selected.is_none_or(|id| !services.iter().any(|s| s.0 == id)) {
            self.selected = services.first().map(|s| s.0);
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            ui.label(RichText::new("X services").color(theme::muted(ui)));
            for (id, label, handle) in &services {
                if ui.selectable_label(self.selected == Some(*id), format!("{label} (@{handle})")).clicked() {
                    self.selected = Some(*id);
                }
            }
        });
        let Some(service) = self.selected else { return };
        ui.separator();
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Page, "Twitter page");
            ui.selectable_value(&mut self.tab, Tab::Compose, "Compose a post");
        });
        ui.add_space(6.0);
        if self.page.as_ref().is_none_or(|(id, _)| *id != service) {
            self.page = Some((service, None));
            self.posted = None;
            commands.push(XAccountCommand::Describe { service });
        }
        match self.tab {
            Tab::Page => self.twitter_page(ui, service, commands),
            Tab::Compose => self.composer(ui, service, commands),
        }
    }

    /// The account as X describes it.
    fn twitter_page(&mut self, ui: &mut egui::Ui, service: i64, commands: &mut Commands) {
        let page = match self.page.as_ref().and_then(|(_, p)| p.as_ref()) {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Asking X for the account\u{2026}");
                });
                return;
            }
            Some(Err(e)) => {
                ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
                if ui.button("Ask X again").clicked() {
                    self.page = None;
                }
                return;
            }
            Some(Ok(p)) => p.clone(),
        };
        ui.horizontal(|ui| {
            self.avatar_ui(ui, service, &page);
            ui.vertical(|ui| {
                ui.heading(if page.user.name.is_empty() { &page.user.username } else { &page.user.name });
                ui.label(RichText::new(format!("@{}", page.user.username)).color(theme::muted(ui)));
                if page.user.verified {
                    ui.colored_label(theme::ok(ui), "\u{2714} verified");
                }
                ui.label(format!(
                    "{} followers \u{00b7} {} following",
                    theme::count(page.user.public_metrics.followers_count),
                    theme::count(page.user.public_metrics.following_count)
                ));
            });
        });
        ui.add_space(6.0);
        if !page.user.description.is_empty() {
            ui.label(&page.user.description);
        }
        if !page.user.location.is_empty() {
            ui.label(RichText::new(format!("\u{1f4cd} {}", page.user.location)).color(theme::muted(ui)));
        }
        ui.add_space(theme::SECTION_GAP);
        let confirmed = if page.sandbox {
            "The Sandbox X account: made up, with no account at X; what it posts stays on this computer.".to_owned()
        } else {
            format!("X confirms that the keys of \u{201c}{}\u{201d} are @{}'s.", page.label, page.user.username)
        };
        ui.label(RichText::new(confirmed).color(theme::muted(ui)));
        if ui.button("Ask X again").on_hover_text("GET /2/users/me with the service's keys").clicked() {
            self.page = Some((service, None));
            commands.push(XAccountCommand::Describe { service });
        }
    }

    /// The avatar, or a placeholder saying why there is none.
    fn avatar_ui(&mut self, ui: &mut egui::Ui, service: i64, page: &XAccountPage) {
        let side = egui::vec2(72.0, 72.0);
        match &page.avatar {
            Some(a) => {
                if self.avatar.as_ref().is_none_or(|(id, _)| *id != service) {
                    let image = egui::ColorImage::from_rgba_unmultiplied([a.width, a.height], &a.rgba);
                    let texture = ui.ctx().load_texture("x_avatar", image, egui::TextureOptions::LINEAR);
                    self.avatar = Some((service, texture));
                }
                if let Some((_, texture)) = &self.avatar {
                    ui.add(egui::Image::new((texture.id(), side)).corner_radius(36.0));
                }
            }
            None => {
                let (rect, r) = ui.allocate_exact_size(side, egui::Sense::hover());
                ui.painter().circle_filled(rect.center(), 36.0, ui.visuals().faint_bg_color);
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    page.user.username.chars().next().unwrap_or('?').to_uppercase().to_string(),
                    egui::FontId::proportional(28.0),
                    theme::muted(ui),
                );
                if let Some(note) = &page.avatar_note {
                    r.on_hover_text(note.as_str());
                }
            }
        }
    }

    /// The post as typed, counted and previewed; Post now.
    fn composer(&mut self, ui: &mut egui::Ui, service: i64, commands: &mut Commands) {
        let (name, handle) = match self.page.as_ref().and_then(|(_, p)| p.as_ref()) {
            Some(Ok(p)) => (p.user.name.clone(), p.user.username.clone()),
            _ => (String::new(), String::new()),
        };
        ui.label("Post");
        ui.add(
            egui::TextEdit::multiline(&mut self.draft)
                .hint_text("What's happening? A link counts 23, an emoji 2.")
                .desired_rows(4)
                .desired_width(520.0),
        );
        let length = crate::personalize::x_length(&self.draft);
        let max = crate::personalize::X_MAX_LENGTH;
        let colour = if length > max { theme::error(ui) } else { theme::muted(ui) };
        ui.label(RichText::new(format!("{length} of {max} as X counts them")).small().color(colour));
        if !self.draft.trim().is_empty() {
            ui.add_space(4.0);
            ui.label(RichText::new("Preview").strong());
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(520.0);
                ui.horizontal(|ui| {
                    ui.strong(if name.is_empty() { &handle } else { &name });
                    if !handle.is_empty() {
                        ui.label(RichText::new(format!("@{handle} \u{00b7} now")).color(theme::muted(ui)));
                    }
                });
                ui.add(egui::Label::new(self.draft.trim()).wrap());
            });
        }
        ui.add_space(4.0);
        let ready = !self.draft.trim().is_empty() && length <= max && !self.posting;
        ui.horizontal(|ui| {
            let post = ui.add_enabled(ready, egui::Button::new(RichText::new("Post now").strong()));
            if post.clicked() {
                self.posting = true;
                self.posted = None;
                commands.push(XAccountCommand::Post { service, text: self.draft.trim().to_owned() });
            }
            if self.posting {
                ui.spinner();
            }
        });
        match &self.posted {
            Some(Ok(id)) => {
                ui.colored_label(theme::ok(ui), format!("Posted (X's id {id}); kept in Deliveries."));
            }
            Some(Err(e)) => {
                ui.colored_label(theme::error(ui), format!("{} {e}", theme::ICON_ERROR));
            }
            None => {}
        }
        ui.label(
            RichText::new("To post later, put an X post activity after a Scheduler on a campaign's canvas.")
                .small()
                .color(theme::muted(ui)),
        );
    }
}

impl Screen for SocialScreen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| self.draw(ui, cx.commands));
    }

    fn on_event(&mut self, event: &Event, _request: Option<RequestId>) {
        match event {
            Event::X(o) => self.overview = Some(o.clone()),
            Event::XAccount { service, result } => {
                if let Some((id, page)) = &mut self.page
                    && id == service
                {
                    *page = Some(result.clone());
                    self.avatar = None;
                }
            }
            Event::XPosted { service, result } if self.selected == Some(*service) => {
                self.posting = false;
                if result.is_ok() {
                    self.draft.clear();
                }
                self.posted = Some(result.clone());
            }
            // A service added, changed or removed.
            Event::Channel(ChannelEvent::Credentials(_)) => {
                self.asked = false;
                self.page = None;
            }
            _ => {}
        }
    }
}
