//! The Data screen. Import…: a small customers file typed into the import page is read (its
//! first rows, types and identities guessed), checked (the refused row listed with its line and
//! reason), imported, and the new entity is on the Data screen with its rows in the workspace,
//! where its label can be changed. Browse rows…: the profiles of the workspace, searched,
//! sorted by a column, a row opened with its bookings, and the matching rows exported.

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
    h.get_by_label("Save changes").click();
    h.run_steps(2);
    settle(&mut h);
    let o = console.data_overview().unwrap();
    assert_eq!((o.entities[0].entity.name.as_str(), o.entities[0].entity.label.as_str()), ("customers", "Clients"));
    h.get_by_label("Columns of Clients");

    // A label left empty is refused in words; what was typed stays to be corrected.
    type_into(&mut h, "Shown to marketers as", "   ");
    h.get_by_label("Save changes").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("a label cannot be empty");
    h.get_by_label("Save changes");
    assert_eq!(console.data_overview().unwrap().entities[0].entity.label, "Clients");
}

#[test]
fn the_profiles_are_browsed_searched_sorted_opened_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(400, 5, false, &mut |_| true).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Data").click();
    settle(&mut h);
    h.get_by_label("Browse rows\u{2026}").click();
    h.run_steps(2);
    settle(&mut h);
    let view = h.state().data_screen().browse_view().unwrap();
    assert_eq!((view.entity(), view.total()), ("profiles", Some(400)));
    h.get_by_label("400 in all");
    h.get_by_label("Browse Profiles");

    // A search: the rows whose text holds the words, as the workspace has them.
    let db = sqlite(dir.path());
    let name: String = db.query_row("SELECT last_name FROM profiles WHERE id = 7", [], |r| r.get(0)).unwrap();
    let expected = one(
        &db,
        &format!(
            "SELECT COUNT(*) FROM profiles WHERE lower(last_name) = lower('{name}') OR email LIKE '%{}%' OR first_name LIKE '%{name}%' OR city LIKE '%{name}%'",
            name.to_lowercase()
        ),
    );
    type_into(&mut h, "Search", &name.to_uppercase());
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    settle(&mut h);
    let view = h.state().data_screen().browse_view().unwrap();
    assert_eq!(view.total(), Some(expected as u64));
    assert!(view.loaded_rows().all(|r| r.cells.iter().any(|c| c.to_lowercase().contains(&name.to_lowercase()))));
    h.get_by_label(&format!("{expected} matching"));

    // Sorted by email, then descending: the loaded rows follow.
    h.get_by_label("Email").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("Email \u{23f6}").click();
    h.run_steps(2);
    settle(&mut h);
    let emails: Vec<String> =
        h.state().data_screen().browse_view().unwrap().loaded_rows().map(|r| r.cells[1].clone()).collect();
    assert!(emails.windows(2).all(|w| w[0] >= w[1]), "{emails:?}");
    assert_eq!(emails.len() as i64, expected);

    // A row clicked: its bookings in the detail pane, as many as the workspace has.
    let key = h.state().data_screen().browse_view().unwrap().loaded_rows().next().unwrap().key;
    h.get_by_label(&emails[0]).click();
    h.run_steps(2);
    settle(&mut h);
    let detail = h.state().data_screen().browse_view().unwrap().detail().unwrap().clone();
    assert_eq!(detail.key, key);
    let bookings = one(&db, &format!("SELECT COUNT(*) FROM bookings WHERE profile_id = {key}"));
    h.get_by_label(&format!("Bookings ({bookings})"));
    h.get_by_label(&format!("Profiles #{key}"));

    // Exported: the matching rows.
    h.get_by_label("Export to CSV\u{2026}").click();
    h.run_steps(2);
    let file = dir.path().join("found.csv");
    type_into(&mut h, "Path", &file.display().to_string());
    h.get_by_label("Export").click();
    h.run_steps(2);
    settle(&mut h);
    let lines = std::fs::read_to_string(&file).unwrap().lines().count() as i64;
    assert_eq!(lines, expected + 1, "a header and the matching rows");

    // Back to the data model.
    h.get_by_label("\u{2b05} Data").click();
    h.run_steps(2);
    settle(&mut h);
    assert!(h.state().data_screen().browse_view().is_none());
    h.get_by_label("Columns of Profiles");
}

#[test]
fn a_column_is_hidden_and_described_and_what_no_campaign_uses_is_removed_on_the_data_screen() {
    use egui::accesskit::Role;
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 5, false, &mut |_| true).unwrap();
    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Data").click();
    settle(&mut h);

    // crm_id: not offered to marketers, and described.
    // Its "Offered" box: the last of the profiles' columns.
    h.query_all_by_role(Role::CheckBox).last().unwrap().click();
    h.run_steps(1);
    type_into(&mut h, "crm_id", "The id in the CRM");
    h.get_by_label("Save changes").click();
    h.run_steps(2);
    settle(&mut h);
    let db = sqlite(dir.path());
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM cc_columns WHERE name = 'crm_id' AND hidden = 1 AND description = 'The id in the CRM'"
        ),
        1
    );
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_columns WHERE hidden = 1"), 1, "only that column");

    // The link from bookings to hotels removed (no campaign uses it): Bookings offers to link it again.
    let removes = h.query_all_by_label("Remove").count();
    assert_eq!(removes, 5 + 4, "a Remove per link and per identity");
    // The second link of the grid is bookings → hotels (links are listed by entity, then name);
    // the grid is below the fold.
    h.query_all_by_label("Remove").nth(1).unwrap().scroll_to_me();
    h.run_steps(3);
    h.query_all_by_label("Remove").nth(1).unwrap().click();
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_links WHERE foreign_key = 'hotel_id'"), 0);
    h.get_by_label("Entities").scroll_to_me();
    h.run_steps(3);
    h.get_by_label("Bookings").click(); // the entity table
    settle(&mut h);
    h.get_by_label("Link Bookings through");
    h.get_by_label("Add link");
    assert!(format!("{:?}", h.get_by_label("Add link")).contains("disabled: true"), "nothing chosen yet");
    // Removing what the demo canvas uses is refused with the campaign named.
    // The identities are crm_id, email, phone, x_handle.
    let email = h.query_all_by_label("Remove").count() - 3;
    h.query_all_by_label("Remove").nth(email).unwrap().scroll_to_me();
    h.run_steps(3);
    h.query_all_by_label("Remove").nth(email).unwrap().click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("cannot be removed: the campaign \u{201c}Summer getaway\u{201d} uses it");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_identity_namespaces WHERE name = 'email'"), 1);
}

/// The ten-minute story: a team with its own customers.csv and orders.csv, in a new workspace
/// that holds the demo, removes the demo, imports both files one after the other (orders
/// linked to customers, email and phone found), and sees the exact number of customers with
/// an order on a new canvas.
#[test]
fn a_team_brings_its_customers_and_orders_and_counts_them_on_a_canvas() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(200, 5, false, &mut |_| true).unwrap();
    let customers = dir.path().join("customers.csv");
    std::fs::write(
        &customers,
        "Customer ID,Name,E-mail,Mobile,Signed up\n1,Ann,ann@example.com,06 12 34 56 78,31/01/2024\n\
         2,Bob,bob@example.com,+49 151 23456789,15/02/2024\n3,Cy,cy@example.com,,01/03/2024\n",
    )
    .unwrap();
    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, "Order ID,Customer ID,Total\n10,1,12.5\n11,1,3\n12,3,40\n13,9,1\n").unwrap();

    // A canvas the team drew for its own data (customers who ordered).
    let campaign = console.create_campaign("Win back", campaign_console::model::CampaignKind::Orchestrated).unwrap();
    let rule = campaign_console::model::Rule::Linked {
        entity: "orders".into(),
        condition: campaign_console::model::LinkedCondition::Exists {
            rule: Box::new(campaign_console::model::Rule::everyone()),
        },
    };
    let canvas = campaign_console::model::Canvas {
        activities: vec![campaign_console::model::Activity {
            id: "audience".into(),
            label: "Customers who ordered".into(),
            kind: campaign_console::model::ActivityKind::BuildAudience {
                dimension: "customers".into(),
                rule,
                emit_when_empty: false,
            },
            position: [0.0, 0.0],
        }],
        ..Default::default()
    };
    console.save_canvas(campaign.id, &canvas).unwrap();

    let mut h = harness(App::new(console.clone(), SavedState::default()));
    settle(&mut h);
    h.get_by_label_contains("Data").click();
    settle(&mut h);
    h.get_by_label("Remove the demo data\u{2026}").click();
    h.run_steps(2);
    h.get_by_label("Remove the demo data").click();
    h.run_steps(2);
    settle(&mut h);
    assert!(console.data_overview().unwrap().entities.is_empty());
    let left: Vec<String> = console.campaigns().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(left, ["Win back"], "the sample campaigns went, the team's stays");

    h.get_by_label("Import a CSV file\u{2026}").click();
    h.run_steps(2);
    type_into(&mut h, "Path", &customers.display().to_string());
    h.state_mut().data_screen_mut().import_view_mut().unwrap().queue_files(vec![orders.clone()]);
    h.get_by_label("Read the file").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("Then: orders.csv");
    let m = h.state().data_screen().import_view().unwrap().mapping().unwrap().clone();
    let namespaces: Vec<Option<&str>> = m.columns.iter().map(|c| c.namespace.as_deref()).collect();
    assert_eq!(namespaces, [None, None, Some("email"), Some("phone"), None]);
    h.get_by_label("Check every row").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("Import 3 rows").click();
    h.run_steps(2);
    settle(&mut h);

    // The next file: its customer_id links to the customers just imported.
    h.get_by_label("Next file: orders.csv").click();
    h.run_steps(2);
    settle(&mut h);
    let m = h.state().data_screen().import_view().unwrap().mapping().unwrap().clone();
    assert_eq!(m.entity, "orders");
    assert_eq!(m.columns[1].link.as_deref(), Some("customers"));
    h.get_by_label("Check every row").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("1 row of orders would point to no customers");
    h.get_by_label("Import 4 rows").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label("Done").click();
    h.run_steps(2);
    settle(&mut h);
    let o = console.data_overview().unwrap();
    let names: Vec<&str> = o.entities.iter().map(|e| e.entity.name.as_str()).collect();
    assert_eq!(names, ["customers", "orders"]);
    assert_eq!(o.model().profile_entity(), Some("customers"));

    // The canvas drawn beforehand: customers with an order, counted exactly (1 and 3).
    h.get_by_label_contains("Campaigns").click();
    settle(&mut h);
    h.get_by_label("Win back").click();
    settle(&mut h);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Open").click();
    settle(&mut h);
    // The editor counts the canvas as it opens; its Count button is there once it has settled
    // (on a busy machine, a few frames after the Console went idle).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.query_by_role_and_label(egui::accesskit::Role::Button, "Count").is_none() {
        assert!(std::time::Instant::now() < deadline, "the canvas editor did not show its Count button");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Count").click();
    h.run_steps(2);
    settle(&mut h);
    h.run_steps(4);
    h.get_by_role_and_label(egui::accesskit::Role::Link, "2");
}
