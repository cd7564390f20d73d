//! Start on the canvas sends the campaign through the Sandbox with a progress bar, and the
//! Deliveries screen lists the deliveries and pages through a ledger.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::ui::{App, SavedState, testing};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::{harness, settle};

#[test]
fn start_sends_through_the_sandbox_and_deliveries_shows_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(1_000, 6, false, &mut |_| true).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label("Summer getaway").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::Button, "Open").click();
    settle(&mut h);
    h.run_steps(10);
    settle(&mut h);

    // The SMS's properties preview its message for a recipient of the last count.
    h.get_by_role_and_label(Role::Label, "💬 Summer offer SMS").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Preview for a recipient").click();
    h.run_steps(2);
    settle(&mut h);
    h.run_steps(2);
    let first = h.state_mut().canvas_editor().unwrap().preview().cloned().unwrap().unwrap();
    assert_eq!(first.index, 0);
    assert!(first.text.contains(", thanks for your ") && first.text.ends_with("Reply STOP to opt out."), "{first:?}");
    assert!(first.address.starts_with('+') || first.address.starts_with("no address"), "{first:?}");
    h.get_by_role_and_label(Role::Button, "▶").click();
    h.run_steps(2);
    settle(&mut h);
    h.run_steps(2);
    let second = h.state_mut().canvas_editor().unwrap().preview().cloned().unwrap().unwrap();
    assert_eq!((second.index, second.total), (1, first.total));
    assert_ne!(second.recipient, first.recipient);
    h.get_by_role_and_label(Role::Button, "✖").click();
    h.run_steps(2);

    // Start asks first, with what each channel activity will send to.
    h.get_by_role_and_label(Role::Button, "▶ Start").click();
    h.run_steps(2);
    h.get_by_label_contains("“Summer offer SMS”: ");
    h.get_by_role_and_label(Role::Button, "Send now").click();
    h.run_steps(2);
    settle(&mut h);
    h.run_steps(4);
    let (running, fraction, outcome) = {
        let e = h.state_mut().canvas_editor().unwrap();
        let (r, f, o) = e.run_state().unwrap();
        (r, f, o.cloned())
    };
    assert!(!running);
    assert_eq!(fraction, 1.0);
    let text = outcome.unwrap().unwrap();
    assert!(text.contains("sent"), "{text}");

    // The workspace holds the deliveries and their messages.
    let list = console.deliveries(Some("Summer getaway")).unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|d| d.status == "done"));
    let sent: u64 = list.iter().map(|d| d.count(campaign_console::model::delivery::status::SENT)).sum();
    assert!(sent > 0);
    h.get_by_label_contains(&format!("sent {}", campaign_console::ui::theme::count(sent)));

    // The run strip opens the campaign's report, its numbers the ledger's; back is the canvas.
    h.get_by_role_and_label(Role::Button, "Report").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("Report: Summer getaway");
    h.get_by_label(&format!("{sent} sent"));
    h.get_by_label("⬅ Canvas").click();
    h.run_steps(2);
    settle(&mut h);

    // A second Start warns that it already ran.
    h.get_by_role_and_label(Role::Button, "▶ Start").click();
    h.run_steps(2);
    h.get_by_label_contains("already ran");
    h.get_by_role_and_label(Role::Button, "Not now").click();
    h.run_steps(2);

    // Deliveries: both listed; clicking one shows its ledger.
    h.get_by_label_contains("Deliveries").click();
    settle(&mut h);
    h.run_steps(2);
    assert_eq!(h.state().deliveries_screen().list().len(), 2);
    let email = list.iter().find(|d| d.channel == "email").unwrap();
    // Activities by their labels, not their ids.
    assert_eq!(email.activity_label, "Summer offer email");
    h.get_by_label("Summer offer email");
    h.get_by_label(&email.id.to_string()).click();
    h.run_steps(2);
    settle(&mut h);
    h.run_steps(2);
    assert_eq!(h.state().deliveries_screen().selected(), Some(email.id));
    let page = h.state().deliveries_screen().page().unwrap().clone();
    assert_eq!(page.total, email.total());
    assert_eq!(page.rows.len() as u64, email.total().min(100));
    assert!(page.rows.iter().all(|r| r.status == "sent" && r.provider_message_id.is_some()));
    h.get_by_label_contains(&format!("of {}", campaign_console::ui::theme::count(email.total())));
    h.get_by_label_contains(&format!("delivered {} of sent", email.rate("delivered", "sent")));

    // The export asks where: a path field (Browse… opens the system's dialog when there is one).
    h.get_by_label("Export to CSV…").click();
    h.run_steps(2);
    h.get_by_label("Path");
    h.get_by_label("Cancel").click();
    h.run_steps(2);

    // Export the ledger (the screen asks where with a dialog; here the path is given).
    let file = dir.path().join("ledger.csv");
    console.send(campaign_console::console::RunCommand::ExportLedger { delivery: email.id, path: file.clone() });
    settle(&mut h);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("id,recipient_key,secondary_key,address,status"));
    assert_eq!(lines.count() as u64, email.total());
    h.get_by_label_contains(&format!("Exported {} ledger rows", email.total()));

    a_ledger_row_opens_its_message(&mut h, &console, &page.rows[0]);
}

/// A ledger row opens its message as the Sandbox kept it, its link tracked through the server.
fn a_ledger_row_opens_its_message(
    h: &mut egui_kittest::Harness<'static, App>,
    console: &std::sync::Arc<campaign_console::console::Console>,
    row: &campaign_console::model::delivery::LedgerRow,
) {
    h.get_all_by_label(&row.address).next().unwrap().click();
    h.run_steps(2);
    settle(h);
    h.run_steps(2);
    h.get_by_label(&format!("Message of ledger row {}", row.id));
    h.get_by_label_contains(&format!("{} (email)", row.address));
    // Hyperlinks (egui gives them the role of a label).
    h.get_by_label("Book now");
    h.get_by_label("List-Unsubscribe link");
    let kept = console.sent_message(row.id).unwrap().unwrap();
    let base = console.server_settings().unwrap().public_base();
    assert_eq!(kept.links.len(), 1);
    assert!(kept.links[0].url.starts_with(&format!("{base}/t/c/")), "{:?}", kept.links);
    assert!(kept.text.contains(&format!("{base}/t/c/")), "{}", kept.text);
}
