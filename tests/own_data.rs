//! Your own data, whole: the demo exported entity by entity and imported into a fresh
//! workspace counts the demo canvas exactly as the original; update by key keeps or clears
//! what the file leaves empty; replace leaves only the file's rows; a cancelled import leaves
//! the workspace as it was. Browsing: pages read one after the other (keyset) or jumped to give
//! the rows in the order sorted here independently, ties and empty values included; a search
//! and a filter match what is recomputed here; a row's detail has its linked rows, messages and
//! events; the rows exported are the ones that match.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;

use std::path::Path;

use campaign_console::console::Console;
use campaign_console::import::{Key, Mapping, Mode};
use campaign_console::model::{CampaignKind, DataModel};
use campaign_console::ui::testing;
use support::{one, sqlite};

/// The mapping the file suggests, made to match `like`'s declaration of the entity (types,
/// labels, key, links, namespaces): how a team re-imports an export with care.
fn mapping_like(
    console: &Console,
    path: &Path,
    entity: &str,
    like: &DataModel,
) -> (campaign_console::import::Format, Mapping) {
    let sample = console.import_sample(path, None).unwrap();
    let mut m = console.guess_mapping(&sample, entity).unwrap();
    let e = like.entity(entity).unwrap();
    m.entity_label = e.label.clone();
    m.key = Key::Column(e.primary_key.clone());
    for c in &mut m.columns {
        let target = c.target.clone().unwrap();
        let declared = e.column(&target).unwrap();
        c.column_type = declared.column_type;
        c.label = declared.label.clone();
        c.link = like.links.iter().find(|l| l.child == entity && l.foreign_key == target).map(|l| l.parent.clone());
        c.namespace =
            like.identity_namespaces.iter().find(|n| n.entity == entity && n.column == target).map(|n| n.name.clone());
    }
    (sample.format, m)
}

#[test]
fn the_demo_exported_and_imported_into_a_fresh_workspace_counts_the_same() {
    let files = tempfile::tempdir().unwrap();
    let from = tempfile::tempdir().unwrap();
    let source = testing::console(from.path()).unwrap();
    source.generate_demo(3_000, 7, false, &mut |_| true).unwrap();
    let (_, _, before) = source.count_campaign("Summer getaway", &|| false).unwrap();
    let model = campaign_console::store::data_model::load(&sqlite(from.path())).unwrap();

    let to = tempfile::tempdir().unwrap();
    let fresh = testing::console(to.path()).unwrap();
    // Parents before children, as links need their entity.
    let mut order: Vec<&str> = Vec::new();
    while order.len() < model.entities.len() {
        for e in &model.entities {
            let ready = model.links.iter().filter(|l| l.child == e.name).all(|l| order.contains(&l.parent.as_str()));
            if ready && !order.contains(&e.name.as_str()) {
                order.push(&e.name);
            }
        }
    }
    for entity in order {
        let path = files.path().join(format!("{entity}.csv"));
        let exported = source.export_entity(entity, &path, &|| false).unwrap();
        let (format, mapping) = mapping_like(&fresh, &path, entity, &model);
        let report = fresh.import_file(&path, &format, &mapping, true, None, &mut |_, _| {}, &|| false).unwrap();
        assert_eq!((report.written, report.refused), (exported, 0), "{entity}: {:?}", report.rejects.first());
    }
    let imported = campaign_console::store::data_model::load(&sqlite(to.path())).unwrap();
    for e in &model.entities {
        assert_eq!(imported.entity(&e.name).unwrap().columns, e.columns, "{} keeps its columns", e.name);
    }

    let c = fresh.create_campaign("Summer getaway", CampaignKind::Orchestrated).unwrap();
    fresh.save_canvas(c.id, &campaign_console::demo::summer_canvas()).unwrap();
    let (_, _, after) = fresh.count_campaign("Summer getaway", &|| false).unwrap();
    let counts = |r: &campaign_console::audience::CountReport| -> Vec<(String, Option<u64>)> {
        r.transitions.iter().map(|t| (t.transition.clone(), t.count)).collect()
    };
    assert!(counts(&before).iter().any(|(_, n)| n.unwrap_or(0) > 0), "the canvas counts someone");
    assert_eq!(counts(&after), counts(&before));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load(
    console: &Console,
    path: &Path,
    entity: &str,
    tweak: impl FnOnce(&mut Mapping),
) -> campaign_console::console::ImportReport {
    let sample = console.import_sample(path, None).unwrap();
    let mut m = console.guess_mapping(&sample, entity).unwrap();
    tweak(&mut m);
    console.import_file(path, &sample.format, &m, true, None, &mut |_, _| {}, &|| false).unwrap()
}

#[test]
fn update_by_key_keeps_or_clears_empty_cells_and_replace_keeps_only_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let first = write(dir.path(), "c.csv", "id,city,vip\n1,Paris,yes\n2,Lyon,no\n");
    load(&console, &first, "customers", |_| {});
    let db = sqlite(dir.path());
    let rows = |db: &rusqlite::Connection| -> Vec<(i64, Option<String>, Option<i64>)> {
        db.prepare("SELECT id, city, vip FROM customers ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };

    // Insert refuses a key that is there, and adds the new one.
    let again = write(dir.path(), "d.csv", "id,city,vip\n2,Nice,yes\n3,Rome,no\n");
    let report = load(&console, &again, "customers", |m| m.mode = Mode::Insert);
    assert_eq!((report.written, report.refused), (1, 1));
    assert!(report.rejects[0].reason.contains("a key the workspace has already"), "{:?}", report.rejects);
    assert_eq!(rows(&db)[1], (2, Some("Lyon".into()), Some(0)));

    // Upsert, keeping what the file leaves empty.
    let update = write(dir.path(), "e.csv", "id,city,vip\n1,,no\n4,Oslo,yes\n");
    load(&console, &update, "customers", |m| m.mode = Mode::Upsert);
    assert_eq!(rows(&db)[0], (1, Some("Paris".into()), Some(0)), "the empty city is kept");
    assert_eq!(rows(&db).len(), 4);

    // Upsert, clearing it.
    load(&console, &update, "customers", |m| {
        m.mode = Mode::Upsert;
        m.clear_empty = true;
    });
    assert_eq!(rows(&db)[0], (1, None, Some(0)), "the empty city is cleared");

    // Replace: only the file's rows are left.
    let only = write(dir.path(), "f.csv", "id,city,vip\n9,Bern,yes\n");
    load(&console, &only, "customers", |m| m.mode = Mode::Replace);
    assert_eq!(rows(&db), [(9, Some("Bern".into()), Some(1))]);
}

#[test]
fn a_cancelled_import_leaves_the_workspace_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let seed = write(dir.path(), "seed.csv", "id,name\n1,Ann\n");
    load(&console, &seed, "people", |_| {});
    let mut big = String::from("id,name,city\n");
    for i in 2..60_000 {
        big.push_str(&format!("{i},Name {i},City {}\n", i % 97));
    }
    let path = write(dir.path(), "big.csv", &big);
    let sample = console.import_sample(&path, None).unwrap();
    let mut m = console.guess_mapping(&sample, "people").unwrap();
    m.mode = Mode::Upsert;
    let db = sqlite(dir.path());
    let version = campaign_console::store::customer_data::data_version(&db).unwrap();
    let calls = std::cell::Cell::new(0);
    let cancel_late = || {
        calls.set(calls.get() + 1);
        calls.get() > 3
    };
    let err = console.import_file(&path, &sample.format, &m, true, None, &mut |_, _| {}, &cancel_late).unwrap_err();
    assert!(err.to_string().contains("cancelled: nothing was written"), "{err}");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM people"), 1);
    let columns = one(&db, "SELECT COUNT(*) FROM pragma_table_info('people')");
    assert_eq!(columns, 2, "the new column city is not added either");
    let model = console.data_overview().unwrap();
    assert_eq!(model.entities[0].entity.columns.len(), 2, "nor declared");
    assert_eq!(campaign_console::store::customer_data::data_version(&db).unwrap(), version);
}

#[test]
fn labels_change_without_breaking_canvases_and_an_entity_in_use_is_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(500, 3, false, &mut |_| true).unwrap();
    let (_, _, before) = console.count_campaign("Summer getaway", &|| false).unwrap();

    // New labels; the names canvases use stay, so the canvas counts the same.
    console.set_labels("bookings", "Stays", &[("status".into(), "Stay status".into())]).unwrap();
    let o = console.data_overview().unwrap();
    let stays = o.entities.iter().find(|e| e.entity.name == "bookings").unwrap();
    assert_eq!(stays.entity.label, "Stays");
    assert_eq!(stays.entity.column("status").unwrap().label, "Stay status");
    let (_, _, after) = console.count_campaign("Summer getaway", &|| false).unwrap();
    let counts =
        |r: &campaign_console::audience::CountReport| r.transitions.iter().map(|t| t.count).collect::<Vec<_>>();
    assert_eq!(counts(&after), counts(&before));
    assert!(console.set_labels("bookings", "  ", &[]).unwrap_err().to_string().contains("cannot be empty"));

    // The demo canvas uses bookings: deleting them is refused, naming the campaign.
    let refused = console.drop_entity("bookings").unwrap_err().to_string();
    assert!(refused.contains("\u{201c}Summer getaway\u{201d}"), "{refused}");
    let db = sqlite(dir.path());
    assert!(one(&db, "SELECT COUNT(*) FROM bookings") > 0, "nothing was deleted");

    // An entity no campaign uses goes, with its table, its links and a new data version.
    let file = write(dir.path(), "notes.csv", "id,profile_id,note\n1,1,hello\n");
    load(&console, &file, "notes", |m| {
        m.columns.iter_mut().find(|c| c.source == "profile_id").unwrap().link = Some("profiles".into());
    });
    assert!(console.campaigns_using("notes").unwrap().is_empty());
    let version = campaign_console::store::customer_data::data_version(&db).unwrap();
    console.drop_entity("notes").unwrap();
    assert_eq!(one(&db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'notes'"), 0);
    let o = console.data_overview().unwrap();
    assert!(o.entities.iter().all(|e| e.entity.name != "notes"));
    assert!(o.links.iter().all(|l| l.child != "notes"));
    assert!(campaign_console::store::customer_data::data_version(&db).unwrap() > version);
}

#[test]
fn columns_hide_and_describe_links_and_identities_are_declared_and_what_a_campaign_uses_stays() {
    use campaign_console::model::ColumnLook;
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(400, 3, false, &mut |_| true).unwrap();
    let counts = |c: &Console| {
        let (_, _, r) = c.count_campaign("Summer getaway", &|| false).unwrap();
        r.transitions.iter().map(|t| t.count).collect::<Vec<_>>()
    };
    let before = counts(&console);
    let profiles = |c: &Console| {
        c.data_overview().unwrap().entities.into_iter().find(|e| e.entity.name == "profiles").unwrap().entity
    };

    // Every column hidden and described: the canvas still counts the same, and it is kept.
    let looks: Vec<ColumnLook> = profiles(&console)
        .columns
        .iter()
        .map(|c| ColumnLook {
            name: c.name.clone(),
            label: c.label.clone(),
            hidden: true,
            description: format!("  what {} holds ", c.name),
        })
        .collect();
    console.set_presentation("profiles", "Guests", &looks).unwrap();
    let p = profiles(&console);
    assert_eq!(p.label, "Guests");
    assert!(p.columns.iter().all(|c| c.hidden && c.description == format!("what {} holds", c.name)));
    assert_eq!(counts(&console), before, "a hidden column still counts where a canvas uses it");
    let mut unknown = looks.clone();
    unknown[0].name = "shoe_size".into();
    let e = console.set_presentation("profiles", "Guests", &unknown).unwrap_err().to_string();
    assert!(e.contains("shoe_size"), "{e}");
    assert!(profiles(&console).columns.iter().all(|c| c.hidden), "a refused change changes nothing");

    // What the demo canvas uses cannot be removed; the campaign is named.
    for refused in [
        console.remove_link("bookings", "profile_id").unwrap_err().to_string(),
        console.remove_identity("email").unwrap_err().to_string(),
    ] {
        assert!(
            refused.contains("cannot be removed: the campaign \u{201c}Summer getaway\u{201d} uses it"),
            "{refused}"
        );
    }
    // The rest can, and comes back.
    console.remove_link("bookings", "hotel_id").unwrap();
    assert!(console.data_overview().unwrap().links.iter().all(|l| l.foreign_key != "hotel_id"));
    let e = console.add_link("bookings", "status", "hotels").unwrap_err().to_string();
    assert!(e.contains("a link needs whole numbers"), "{e}");
    let e = console.add_link("bookings", "id", "hotels").unwrap_err().to_string();
    assert!(e.contains("is the key of"), "{e}");
    console.add_link("bookings", "hotel_id", "hotels").unwrap();
    let e = console.add_link("bookings", "hotel_id", "profiles").unwrap_err().to_string();
    assert!(e.contains("already links"), "{e}");
    let db = sqlite(dir.path());
    assert!(
        one(
            &db,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bookings' AND sql LIKE '%(\"hotel_id\")%'"
        ) >= 1
    );

    console.remove_identity("crm_id").unwrap();
    let e = console.add_identity("crm_id", "bookings", "status").unwrap_err().to_string();
    assert!(e.contains("identities all sit on the entity messages are addressed to, Guests"), "{e}");
    let e = console.add_identity("x_handle", "profiles", "birth_date").unwrap_err().to_string();
    assert!(e.contains("needs a text column"), "{e}");
    let e = console.add_identity("CRM id", "profiles", "crm_id").unwrap_err().to_string();
    assert!(e.contains("cannot name an identity"), "{e}");
    console.add_identity("crm_id", "profiles", "crm_id").unwrap();
    let e = console.add_identity("crm_id", "profiles", "email").unwrap_err().to_string();
    assert!(e.contains("already profiles.crm_id"), "{e}");
    assert_eq!(counts(&console), before);
}

#[test]
fn a_check_says_how_many_rows_would_point_nowhere_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let customers = write(dir.path(), "customers.csv", "customer_id,name,referred_by\n1,Ann,\n2,Bob,1\n3,Cy,7\n");
    // Customers refer customers: the file's own keys count (2 → 1), 7 is nowhere.
    let report = load(&console, &customers, "customers", |m| {
        m.columns[2].link = Some("customers".into());
    });
    assert_eq!(
        report.dangling_sentences(),
        ["1 row of customers points to no customers (referred_by): they never join a population through it"]
    );
    let orders = write(
        dir.path(),
        "orders.csv",
        "order_id,customer_id,total\n1,1,10\n2,2,20\n3,9,30\n4,9,40\n5,10,50\n6,x,60\n",
    );
    let sample = console.import_sample(&orders, None).unwrap();
    let m = console.guess_mapping(&sample, "orders").unwrap();
    assert_eq!(m.columns[1].link.as_deref(), Some("customers"), "the link is guessed from the column's name");
    let check = console.import_file(&orders, &sample.format, &m, false, None, &mut |_, _| {}, &|| false).unwrap();
    assert_eq!((check.rows, check.refused), (6, 1));
    assert_eq!(
        check.dangling_sentences(),
        ["3 rows of orders would point to no customers (customer): they never join a population through it"]
    );
    assert_eq!(one(&sqlite(dir.path()), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'orders'"), 0);
    let done = console.import_file(&orders, &sample.format, &m, true, None, &mut |_, _| {}, &|| false).unwrap();
    assert_eq!(done.dangling, check.dangling, "the check said what the import found");
}

mod browse {
    use std::cmp::Ordering;

    use campaign_console::console::{BROWSE_PAGE, Console};
    use campaign_console::model::browse::{BrowseQuery, PageStart, Sort};
    use campaign_console::model::{LinkedCondition, Op, Operand, Rule};
    use campaign_console::ui::testing;
    use rusqlite::types::Value;

    use super::support::{one, sqlite};

    fn demo(profiles: u64) -> (tempfile::TempDir, std::sync::Arc<Console>) {
        let dir = tempfile::tempdir().unwrap();
        let console = testing::console(dir.path()).unwrap();
        console.generate_demo(profiles, 11, false, &mut |_| true).unwrap();
        (dir, console)
    }

    /// SQLite's order of values: none first, then numbers, then text (byte order).
    fn order(a: &Value, b: &Value) -> Ordering {
        let rank = |v: &Value| match v {
            Value::Null => 0,
            Value::Integer(_) | Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Blob(_) => 3,
        };
        let number = |v: &Value| match v {
            Value::Integer(i) => *i as f64,
            Value::Real(x) => *x,
            _ => 0.0,
        };
        match (a, b) {
            (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
            _ if rank(a) == 1 && rank(b) == 1 => number(a).total_cmp(&number(b)),
            _ => rank(a).cmp(&rank(b)),
        }
    }

    /// The profiles' keys sorted here: by `column` (ascending, or descending with no value
    /// last), ties by key.
    fn sorted_keys(dir: &std::path::Path, column: &str, descending: bool) -> Vec<i64> {
        let db = sqlite(dir);
        let mut stmt = db.prepare(&format!("SELECT id, {column} FROM profiles")).unwrap();
        let mut rows: Vec<(i64, Value)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        rows.sort_by(|(ka, a), (kb, b)| {
            let by_value = if descending { order(b, a) } else { order(a, b) };
            by_value.then(ka.cmp(kb))
        });
        rows.into_iter().map(|(k, _)| k).collect()
    }

    /// Every key of `query`, page after page (keyset), checking each page's size.
    fn paged_keys(console: &Console, query: &BrowseQuery) -> Vec<i64> {
        let mut keys = Vec::new();
        let mut start = PageStart::Offset(0);
        loop {
            let page = console.browse_page(query, &start).unwrap();
            keys.extend(page.rows.iter().map(|r| r.key));
            match page.next {
                Some(c) => {
                    assert_eq!(page.rows.len() as u64, BROWSE_PAGE, "a page that has a next is full");
                    start = PageStart::After(c);
                }
                None => return keys,
            }
        }
    }

    #[test]
    fn pages_one_after_the_other_or_jumped_to_follow_the_sort_with_ties_and_empty_values() {
        let (dir, console) = demo(2_100);
        let blanks = one(&sqlite(dir.path()), "SELECT COUNT(*) FROM profiles WHERE phone IS NULL");
        assert!(blanks > 0, "the demo has profiles with no phone: the order of empty values is tried");
        for (column, descending) in [
            ("id", false),
            ("id", true),
            ("phone", false),
            ("phone", true),
            ("loyalty_tier", false),
            ("loyalty_tier", true),
            ("birth_date", true),
            ("city", false),
            ("sms_opt_in", true),
        ] {
            let mut query = BrowseQuery::new("profiles");
            query.sort = Some(Sort { column: column.into(), descending });
            let expected = sorted_keys(dir.path(), column, descending);
            assert_eq!(paged_keys(&console, &query), expected, "{column} descending: {descending}");
            // A jump deep down starts where reading on would have got.
            let jump = console.browse_page(&query, &PageStart::Offset(1_234)).unwrap();
            let got: Vec<i64> = jump.rows.iter().map(|r| r.key).collect();
            assert_eq!(got, expected[1_234..1_434], "{column} from row 1234");
            assert_eq!(console.browse_count(&query).unwrap(), 2_100);
        }
    }

    #[test]
    fn a_search_and_a_filter_find_the_rows_recomputed_here() {
        let (dir, console) = demo(1_500);
        let db = sqlite(dir.path());
        // A search: any text column holding the words, in any case (ü as well as u).
        let model = console.data_overview().unwrap().model();
        let profiles = model.entity("profiles").unwrap();
        let text: Vec<&str> = profiles
            .columns
            .iter()
            .filter(|c| c.column_type == campaign_console::model::ColumnType::Text)
            .map(|c| c.name.as_str())
            .collect();
        let mut stmt = db.prepare(&format!("SELECT id, {} FROM profiles ORDER BY id", text.join(", "))).unwrap();
        let rows: Vec<(i64, Vec<Option<String>>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, (1..=text.len()).map(|i| r.get(i).unwrap()).collect())))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut query = BrowseQuery::new("profiles");
        query.search = "  MÜLLER ".into();
        let expected: Vec<i64> = rows
            .iter()
            .filter(|(_, values)| values.iter().flatten().any(|v| v.to_lowercase().contains("müller")))
            .map(|(k, _)| *k)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(paged_keys(&console, &query), expected);
        assert_eq!(console.browse_count(&query).unwrap(), expected.len() as u64);
        // A number is also a key.
        query.search = "42".into();
        assert!(paged_keys(&console, &query).contains(&42));

        // A filter from the rule builder: French profiles with a booking, the search on top.
        let mut query = BrowseQuery::new("profiles");
        query.filter = Rule::All {
            rules: vec![
                Rule::Column { column: "country".into(), op: Op::Eq, value: Operand::Text("FR".into()) },
                Rule::Linked {
                    entity: "bookings".into(),
                    condition: LinkedCondition::Exists { rule: Box::new(Rule::everyone()) },
                },
            ],
        };
        let french_bookers = one(
            &db,
            "SELECT COUNT(*) FROM profiles p WHERE p.country = 'FR' AND p.id IN (SELECT profile_id FROM bookings)",
        );
        assert!(french_bookers > 0);
        assert_eq!(console.browse_count(&query).unwrap(), french_bookers as u64);
        assert_eq!(paged_keys(&console, &query).len(), french_bookers as usize);

        // Exported: the matching rows, in the browser's order, with a header line.
        query.sort = Some(Sort { column: "city".into(), descending: false });
        let file = dir.path().join("french.csv");
        let written = console.export_rows(&query, &file, &|| false).unwrap();
        assert_eq!(written, french_bookers as u64);
        let mut reader = csv::Reader::from_path(&file).unwrap();
        let headers = reader.headers().unwrap().clone();
        assert_eq!(&headers[0], "id");
        let exported: Vec<i64> = reader.records().map(|r| r.unwrap()[0].parse().unwrap()).collect();
        assert_eq!(exported, paged_keys(&console, &query));
    }

    #[test]
    fn what_cannot_be_browsed_is_said_in_words() {
        let (dir, console) = demo(200);
        let start = PageStart::Offset(0);
        let e = console.browse_page(&BrowseQuery::new("customers"), &start).unwrap_err().to_string();
        assert!(e.contains("no entity called \u{201c}customers\u{201d}"), "{e}");
        let mut query = BrowseQuery::new("profiles");
        query.sort = Some(Sort { column: "shoe_size".into(), descending: false });
        let e = console.browse_page(&query, &start).unwrap_err().to_string();
        assert!(e.contains("Profiles has no column \u{201c}shoe_size\u{201d} to sort by"), "{e}");
        let mut query = BrowseQuery::new("profiles");
        query.filter =
            Rule::Column { column: "birth_date".into(), op: Op::Contains, value: Operand::Text("19".into()) };
        let e = console.browse_count(&query).unwrap_err().to_string();
        assert!(e.starts_with("The filter cannot be used:") && e.contains("only applies to text"), "{e}");
        let missing = dir.path().join("no such folder").join("rows.csv");
        let e = console.export_rows(&BrowseQuery::new("profiles"), &missing, &|| false).unwrap_err().to_string();
        assert!(e.contains("no such folder does not exist: choose another place"), "{e}");
    }

    #[test]
    fn a_rows_detail_has_its_linked_rows_messages_and_events() {
        let (dir, console) = demo(600);
        let db = sqlite(dir.path());
        let (profile, bookings): (i64, i64) = db
            .query_row(
                "SELECT profile_id, COUNT(*) FROM bookings GROUP BY profile_id ORDER BY 2 DESC, 1 LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        // Two messages and an event for it, as a delivery writes them.
        db.execute_batch(&format!(
            "INSERT INTO cc_deliveries (id, campaign_id, channel, status, created_at)
               VALUES (90, (SELECT id FROM cc_campaigns WHERE name = 'Summer getaway'), 'email', 'done', '2026-11-01T09:00:00Z');
             INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, address, status, updated_at)
               VALUES (90, '90:{profile}:a', '{profile}', 'a@example.com', 'sent', '2026-11-01T09:00:00Z');
             INSERT INTO cc_ledger (delivery_id, idempotency_key, recipient_key, address, status, error_message, updated_at)
               VALUES (90, '90:{profile}:b', '{profile}', '', 'excluded', 'the profile has no address', '2026-11-02T09:00:00Z');
             INSERT INTO cc_interactions (kind, at, campaign_id, delivery_id, profile_key)
               VALUES ('opened', '2026-11-03T10:00:00Z', 1, 90, '{profile}');"
        ))
        .unwrap();

        let d = console.row_detail("profiles", profile).unwrap();
        assert_eq!(d.fields[0].1, profile.to_string());
        let b = d.linked.iter().find(|l| l.entity == "bookings").unwrap();
        assert_eq!(b.total, bookings as u64);
        assert_eq!(b.rows.len() as u64, (bookings as u64).min(campaign_console::console::DETAIL_ROWS));
        assert!(b.rows.windows(2).all(|w| w[0].key < w[1].key));
        assert_eq!(d.messages_total, 2);
        assert_eq!((d.messages[0].status.as_str(), d.messages[1].status.as_str()), ("excluded", "sent"));
        assert_eq!(d.messages[0].reason.as_deref(), Some("the profile has no address"));
        assert_eq!(d.messages[1].campaign.as_deref(), Some("Summer getaway"));
        assert_eq!((d.events_total, d.events[0].kind.as_str()), (1, "opened"));

        // A booking: its profile and its hotel (the one row each it points to), no messages.
        let booking = b.rows[0].key;
        let d = console.row_detail("bookings", booking).unwrap();
        let p = d.linked.iter().find(|l| l.entity == "profiles").unwrap();
        assert_eq!((p.total, p.rows[0].key), (1, profile));
        let hotel = one(&db, &format!("SELECT hotel_id FROM bookings WHERE id = {booking}"));
        assert_eq!(d.linked.iter().find(|l| l.entity == "hotels").unwrap().rows[0].key, hotel);
        assert!(d.messages.is_empty() && d.events.is_empty());

        // A row that is gone: no fields, said on screen.
        assert!(console.row_detail("profiles", 999_999).unwrap().fields.is_empty());
    }
}
