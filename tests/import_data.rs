//! Importing whole datasets: the demo exported entity by entity and imported into a fresh
//! workspace counts the demo canvas exactly as the original; update by key keeps or clears
//! what the file leaves empty; replace leaves only the file's rows; a cancelled import leaves
//! the workspace as it was.

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
        let report = fresh.import_file(&path, &format, &mapping, true, None, &mut |_| {}, &|| false).unwrap();
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
    console.import_file(path, &sample.format, &m, true, None, &mut |_| {}, &|| false).unwrap()
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
    let err = console.import_file(&path, &sample.format, &m, true, None, &mut |_| {}, &cancel_late).unwrap_err();
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
