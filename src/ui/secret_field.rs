//! A secret's field (a password, a token): typed hidden, shown on demand, and saying where the
//! secret is kept. What it holds goes to the keychain, never to the workspace.

use egui::{Id, Response, TextEdit, Ui};

/// The field for a secret labelled by `label`: `stored` says the keychain already holds one
/// (then typing replaces it). Returns the text field's response.
pub fn secret_field(ui: &mut Ui, value: &mut String, reveal: &mut bool, stored: bool, label: Id) -> Response {
    ui.horizontal(|ui| {
        let hint = if stored { "stored in the keychain: type to replace" } else { "kept in the keychain only" };
        let response = ui
            .add(TextEdit::singleline(value).password(!*reveal).hint_text(hint).desired_width(240.0))
            .labelled_by(label);
        let eye = if *reveal { "Hide" } else { "Show" };
        if ui.button(eye).on_hover_text("Show or hide what you typed").clicked() {
            *reveal = !*reveal;
        }
        response
    })
    .inner
}
