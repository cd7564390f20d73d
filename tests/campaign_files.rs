//! Campaign files: a campaign exported from one workspace imports into another with identical
//! counts; a follow-up finds its campaigns by name; what a workspace lacks is listed; every
//! earlier version of the format is read; bad files are refused in words with nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

use campaign_console::console::Console;
use campaign_console::model::CampaignStatus;
use campaign_console::model::campaign_file::CampaignFile;
use campaign_console::ui::testing;

fn demo(profiles: u64) -> (tempfile::TempDir, std::sync::Arc<Console>) {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(profiles, 9, false, &mut |_| true).unwrap();
    (dir, console)
}

/// Every transition's count, by transition id.
fn counts(console: &Console, campaign: &str) -> Vec<(String, u64)> {
    let (_, canvas, report) = console.count_campaign(campaign, &|| false).unwrap();
    canvas.transitions.iter().map(|t| (t.id.clone(), report.count_of(&t.id).unwrap_or(u64::MAX))).collect()
}

#[test]
fn an_exported_campaign_imports_into_another_workspace_with_identical_counts() {
    let (a_dir, a) = demo(400);
    let path = a_dir.path().join(CampaignFile::file_name("Summer getaway"));
    let file = a.export_campaign("Summer getaway", &path).unwrap();
    assert!(path.is_file());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"format\": \"campaign-console/campaign\""));
    assert!(!text.contains("@example.com"), "no customer data");
    assert!(file.canvas.is_some());

    let (_b_dir, b) = demo(400);
    let imported = b.import_campaign(&path).unwrap();
    assert_eq!(imported.campaign.name, "Summer getaway (imported)", "the name is taken: kept apart");
    assert_eq!(imported.campaign.status, CampaignStatus::Draft);
    assert!(imported.missing.is_empty(), "{:?}", imported.missing);
    let before = counts(&a, "Summer getaway");
    assert!(before.iter().any(|(_, n)| *n > 0));
    assert_eq!(counts(&b, "Summer getaway (imported)"), before);
    // Imported again: another name, never a half-written one.
    assert_eq!(b.import_campaign(&path).unwrap().campaign.name, "Summer getaway (imported 2)");
}

#[test]
fn a_follow_up_finds_its_campaigns_by_name_and_what_is_missing_is_listed() {
    let (a_dir, a) = demo(50);
    let path = a_dir.path().join("reminder.campaign.json");
    a.export_campaign("Summer reminder", &path).unwrap();

    // Into a workspace with the same campaigns: the trigger is on its own "Summer getaway".
    let (_b_dir, b) = demo(50);
    b.delete_campaign(b.campaign("Summer reminder").unwrap().id).unwrap();
    let imported = b.import_campaign(&path).unwrap();
    assert!(imported.missing.is_empty(), "{:?}", imported.missing);
    let (_, form) = b.connector(imported.campaign.id).unwrap();
    assert_eq!(form.triggers[0].campaign, Some(b.campaign("Summer getaway").unwrap().id));

    // Into one without it, nor the credential it names: both said, the draft kept.
    let (_c_dir, c) = demo(50);
    c.delete_campaign(c.campaign("Summer getaway").unwrap().id).unwrap();
    let mut file = CampaignFile::read(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file.connector.as_mut().unwrap().credential = Some("Relay EU".into());
    let imported = c.import_campaign_file(file).unwrap();
    assert_eq!(imported.missing.len(), 2, "{:?}", imported.missing);
    assert!(imported.missing[0].contains("on a campaign this workspace does not have"));
    assert!(imported.missing[1].contains("\u{201c}Relay EU\u{201d}, which this workspace does not have"));
    let (_, form) = c.connector(imported.campaign.id).unwrap();
    assert_eq!(form.triggers[0].campaign, None);
    assert!(!c.connector_problems(&imported.campaign, &form).unwrap().is_empty(), "it cannot go live as it is");
}

#[test]
fn every_earlier_version_is_read() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/campaign-files");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let (_w, console) = demo(30);
        let imported = console.import_campaign(&path).unwrap();
        assert!(imported.missing.is_empty(), "{}: {:?}", path.display(), imported.missing);
        read += 1;
    }
    assert!(read >= 1, "a file of each version is kept in {}", dir.display());
}

#[test]
fn bad_files_are_refused_in_words_and_nothing_is_written() {
    let (dir, console) = demo(20);
    let before = console.campaigns().unwrap().len();
    let refused = |text: Option<&str>| {
        let path = dir.path().join("bad.campaign.json");
        match text {
            Some(t) => std::fs::write(&path, t).unwrap(),
            None => drop(std::fs::remove_file(&path)),
        }
        console.import_campaign(&path).unwrap_err().to_string()
    };
    assert!(refused(None).contains("could not be read"));
    assert!(refused(Some("{ not json")).contains("it is not JSON"));
    assert!(refused(Some("{\"name\": \"x\"}")).contains("not a Campaign Console campaign file"));
    let newer = r#"{"format": "campaign-console/campaign", "version": 7, "name": "x", "kind": "orchestrated"}"#;
    assert!(refused(Some(newer)).contains("newer Campaign Console"));
    assert_eq!(console.campaigns().unwrap().len(), before);
    let e = console.export_campaign("No such campaign", &dir.path().join("x.campaign.json")).unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
    assert!(!dir.path().join("x.campaign.json").exists());
}
