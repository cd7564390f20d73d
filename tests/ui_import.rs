//! Data → Import…: a small customers file typed into the import page is read (its first rows,
//! types and identities guessed), checked (the refused row listed with its line and reason),
//! imported, and the new entity is on the Data screen with its rows in the workspace, where its
//! label can be changed.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use campaign_console::import::Key;
use campaign_console::model::ColumnType;
use campaign_console::ui::{App, SavedState, testing};
use egui_kittest::kittest::Queryable;
use support::{harness, one, settle, sqlite, type_into};

#[test]
fn a_customers_file_is_read_checked_and_imported_through_the_import_page() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let file = dir.path().join("customers.csv");
    std::fs::write(
        &file,
        "customer_id;email;signed_up;spent\n1;ann@example.com;31/01/2024;12,5\n2;not an address;15/02/2024;3\n3;cy@example.com;01/03/2024;0\n",
    )
    .unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Data").click();
    settle(&mut h);
    h.get_by_label("Import a CSV file\u{2026}").click();
    h.run_steps(2);
    type_into(&mut h, "Path", &file.display().to_string());
    h.get_by_label("Read the file").click();
    h.run_steps(2);
    settle(&mut h);

    // What the page guessed: the key, the types, the email identity.
    let m = h.state().data_screen().import_view().unwrap().mapping().unwrap().clone();
    assert_eq!(m.entity, "customers");
    assert_eq!(m.key, Key::Column("customer_id".into()));
    let types: Vec<ColumnType> = m.columns.iter().map(|c| c.column_type).collect();
    assert_eq!(types, [ColumnType::Integer, ColumnType::Text, ColumnType::Date, ColumnType::Decimal]);
    assert_eq!(m.columns[1].namespace.as_deref(), Some("email"));
    h.get_by_label("31/01/2024"); // the first rows are shown

    h.get_by_label("Check every row").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("is not an email address");
    assert_eq!(
        one(&sqlite(dir.path()), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'customers'"),
        0,
        "a check writes nothing"
    );

    h.get_by_label("Import the 2 good rows").click();
    h.run_steps(2);
    settle(&mut h);
    let report = h.state().data_screen().import_view().unwrap().report().cloned().unwrap().unwrap();
    assert_eq!((report.written, report.refused), (2, 1));
    let db = sqlite(dir.path());
    assert_eq!(one(&db, "SELECT COUNT(*) FROM customers"), 2);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM customers WHERE signed_up = '2024-01-31' AND spent = 12.5"), 1);

    h.get_by_label("Done").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("Customers"); // the new entity, on the Data screen
    h.get_by_label("Columns of Customers");

    // Its label, changed on the Data screen: the workspace keeps it, its name stays.
    type_into(&mut h, "Shown to marketers as", "Clients");
    h.get_by_label("Save labels").click();
    h.run_steps(2);
    settle(&mut h);
    let o = console.data_overview().unwrap();
    assert_eq!((o.entities[0].entity.name.as_str(), o.entities[0].entity.label.as_str()), ("customers", "Clients"));
    h.get_by_label("Columns of Clients");
}
