//! What the integration tests share: the app in a kittest harness and waiting for background
//! work (here), a hand-made dataset (`fixture`), the smallest sending canvas (`blast`), and
//! local fakes of providers: an HTTP server (`mock_http`) and an SMTP sink (`smtp_sink`).
//! Each test file uses part of it.

#![allow(dead_code, unused_imports, reason = "each test file uses a part of the shared support")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

pub mod blast;
pub mod fake_twilio;
pub mod fake_x;
pub mod fixture;
pub mod mock_http;
pub mod smtp_sink;

pub use blast::{blast, kill_again_and_again, one, sqlite};

use std::time::{Duration, Instant};

use campaign_console::model::{ProviderKind, ProviderSettings};
use campaign_console::ui::App;
use egui_kittest::Harness;

/// Focuses the text field labelled `label` (a password field when it is "Password"), selects
/// what is there and types `text` over it.
pub fn type_into(h: &mut Harness<'static, App>, label: &str, text: &str) {
    use egui::accesskit::Role;
    use egui_kittest::kittest::Queryable;
    let role = if label == "Password" { Role::PasswordInput } else { Role::TextInput };
    h.get_by_role_and_label(role, label).click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_role_and_label(role, label).type_text(text);
    h.run_steps(2);
}

/// Counts `canvas` as campaign `campaign_id`'s canvas being edited (previews and proofs use
/// that count), and waits for it.
pub fn count_as_edited(
    console: &std::sync::Arc<campaign_console::console::Console>,
    campaign_id: i64,
    canvas: &campaign_console::model::Canvas,
) {
    console.send(campaign_console::console::CanvasCommand::Count {
        campaign_id,
        canvas: canvas.clone(),
        generation: 1,
        fresh: false,
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !console.is_idle() {
        assert!(Instant::now() < deadline, "the count did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A provider's settings, keyed as its form names its fields.
pub fn settings(kind: ProviderKind, json: serde_json::Value) -> ProviderSettings {
    ProviderSettings::from_json(kind, json).unwrap()
}

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
            // One frame drains the events, the next lays out what they brought. Settled when no
            // work was started meanwhile (work asked for and answered within those frames has
            // events still to drain).
            let started = h.state().console().started_work();
            h.run_steps(3);
            if h.state().console().is_idle() && h.state().console().started_work() == started {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the Console did not finish its work within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The process's peak resident memory in MB (VmHWM), for benchmarks (NaN where unknown).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
