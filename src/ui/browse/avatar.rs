//! A visitor's avatar at the top of its detail: asked for once per picture (kept in the
//! workspace, else downloaded off the window's thread), shown when it is here; a letter in a
//! circle while it comes, when there is none, or when it cannot be had (saying why).

use std::collections::HashMap;

use crate::console::{Avatar, XAccountCommand};
use crate::model::browse::RowDetail;
use crate::ui::{Commands, theme};

/// An avatar asked for.
#[derive(Clone)]
enum State {
    Asked,
    /// Here, not yet a texture (none: the note says why).
    Arrived(Option<Avatar>, String),
    Shown(Option<egui::TextureHandle>, String),
}

/// The avatars asked for, by address: the picture (once here), or why there is none.
#[derive(Default)]
pub struct Avatars {
    shown: HashMap<String, State>,
}

impl Avatars {
    /// The picture at `url` arrived (or why it cannot be had).
    pub fn arrived(&mut self, url: &str, avatar: Option<&Avatar>, note: Option<&str>) {
        let Some(slot) = self.shown.get_mut(url) else { return };
        *slot = State::Arrived(avatar.cloned(), note.unwrap_or("no picture").to_owned());
    }

    /// Draws the avatar of visitor `d` (its `avatar_url` at `at` among its fields).
    pub fn ui(&mut self, ui: &mut egui::Ui, d: &RowDetail, at: Option<usize>, commands: &mut Commands) {
        let url = at.and_then(|i| d.fields.get(i)).map_or("", |(_, v)| v.trim()).to_owned();
        let username = d.fields.iter().find(|(label, _)| label == "Username").map_or("", |(_, v)| v.as_str());
        let side = egui::vec2(56.0, 56.0);
        let state = if url.is_empty() {
            State::Shown(None, "X gives no picture for this visitor".to_owned())
        } else {
            let slot = self.shown.entry(url.clone()).or_insert_with(|| {
                commands.push(XAccountCommand::Avatar { url: url.clone() });
                State::Asked
            });
            if let State::Arrived(arrived, note) = slot {
                let texture = arrived.as_ref().map(|a| {
                    let image = egui::ColorImage::from_rgba_unmultiplied([a.width, a.height], &a.rgba);
                    ui.ctx().load_texture(format!("avatar {url}"), image, egui::TextureOptions::LINEAR)
                });
                *slot = State::Shown(texture, std::mem::take(note));
            }
            slot.clone()
        };
        ui.add_space(8.0);
        match state {
            State::Shown(Some(texture), _) => {
                ui.add(egui::Image::new((texture.id(), side)).corner_radius(28.0));
            }
            other => {
                let (rect, r) = ui.allocate_exact_size(side, egui::Sense::hover());
                ui.painter().circle_filled(rect.center(), 28.0, ui.visuals().faint_bg_color);
                let letter = username.chars().next().unwrap_or('?').to_uppercase().to_string();
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    letter,
                    egui::FontId::proportional(24.0),
                    theme::muted(ui),
                );
                match other {
                    State::Shown(None, why) => {
                        r.on_hover_text(why.as_str());
                    }
                    _ => {
                        r.on_hover_text("The picture is coming\u{2026}");
                    }
                }
            }
        }
    }
}
