//! Colours, spacing and icons. Screens take them from here rather than inventing their own.

use egui::Color32;

/// Space between sections of a screen.
pub const SECTION_GAP: f32 = 14.0;
/// Height of a table row.
pub const ROW_HEIGHT: f32 = 24.0;
/// Width of the navigation panel.
pub const NAV_WIDTH: f32 = 176.0;

/// Text colour for problems the user must act on.
pub fn error(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}

/// Text colour for things that deserve attention but are not errors.
pub fn warning(ui: &egui::Ui) -> Color32 {
    ui.visuals().warn_fg_color
}

/// Text colour for things that went well.
pub fn ok(ui: &egui::Ui) -> Color32 {
    if ui.visuals().dark_mode { Color32::from_rgb(110, 200, 130) } else { Color32::from_rgb(30, 130, 60) }
}

/// Secondary text (hints, units, timestamps).
pub fn muted(ui: &egui::Ui) -> Color32 {
    ui.visuals().weak_text_color()
}

/// The background of the (empty) campaign canvas.
pub fn canvas_background(ui: &egui::Ui) -> Color32 {
    if ui.visuals().dark_mode { Color32::from_gray(24) } else { Color32::from_gray(246) }
}

/// Dots of the canvas grid.
pub fn canvas_grid(ui: &egui::Ui) -> Color32 {
    if ui.visuals().dark_mode { Color32::from_gray(52) } else { Color32::from_gray(210) }
}

pub const ICON_CAMPAIGNS: &str = "📣";
pub const ICON_DATA: &str = "🗄";
pub const ICON_DELIVERIES: &str = "📤";
pub const ICON_REPORTS: &str = "📊";
pub const ICON_VISITORS: &str = "👥";
pub const ICON_CHANNELS: &str = "✉";
pub const ICON_SOCIAL: &str = "🐦";
pub const ICON_SETTINGS: &str = "⚙";
pub const ICON_ERROR: &str = "⚠";
pub const ICON_INFO: &str = "ℹ";

/// Formats a count with thin thousands separators: 1 234 567.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A timestamp as the user reads it, in UTC: `2026-11-23 09:05`.
pub fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(999), "999");
        assert_eq!(super::count(1_000), "1\u{2009}000");
        assert_eq!(super::count(1_234_567), "1\u{2009}234\u{2009}567");
    }
}
