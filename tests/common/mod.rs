//! Shared UI-test helpers: the app in a kittest harness, and waiting for background work.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a panic is the failure report.
#![allow(dead_code)]

pub mod fixture;

use std::time::{Duration, Instant};

use campaign_console::ui::App;
use egui_kittest::Harness;

/// The real app in a 1280×800 harness.
pub fn harness(app: App) -> Harness<'static, App> {
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_ui_state(|ui, app: &mut App| app.show(ui), app)
}

/// Runs frames until the Console has finished every command and the UI has drawn the results.
pub fn settle(h: &mut Harness<'static, App>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        if h.state().console().is_idle() {
            // One frame drains the events, the next lays out what they brought.
            h.run_steps(3);
            if h.state().console().is_idle() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the Console did not finish its work within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}
