//! The follower synchronization against the fake X: followers kept as visitors page by page,
//! X's rate limit waited out, a stopped run carried on without fetching a page twice, those
//! who stopped following kept but marked, revoked keys stopping the run and noted.

use std::cell::Cell;
use std::sync::Arc;

use campaign_console::console::Console;
use campaign_console::model::settings::XService;
use campaign_console::model::{Channel, ProviderSettings};
use campaign_console::ui::testing;

use super::support::fake_x::{self, FakeX, Followers, HANDLE};
use super::support::{one, sqlite};

fn with_service(fans: usize, per_page: usize) -> (tempfile::TempDir, Arc<Console>, FakeX) {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    *fake.followers.lock().unwrap() = Followers::fans(fans, per_page);
    let settings = ProviderSettings::XApi(XService {
        internal_name: HANDLE.into(),
        visitor_folder: "Fans".into(),
        base_url: fake.base.clone(),
        ..XService::default()
    });
    console.add_credential_with(Channel::X, "Brand", settings, &fake_x::slots(&fake_x::keys())).unwrap();
    (dir, console, fake)
}

#[test]
fn followers_are_kept_as_visitors_page_by_page_waiting_out_the_rate_limit() {
    let (dir, console, fake) = with_service(2_500, 1_000);
    fake.followers.lock().unwrap().limit_at = Some(1);
    let mut waited = false;
    let runs = console.sync_followers(None, &mut |p| waited |= p.waiting_until.is_some(), &|| false).unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!((run.status.as_str(), run.pages, run.visitors), ("done", 3, 2_500), "{run:?}");
    assert!(waited, "the progress said it waited for the rate limit");
    assert_eq!(fake.followers.lock().unwrap().asked, [0, 1, 1, 2], "the limited page asked again after the reset");
    assert_eq!(fake.unsigned(), 0);
    let db = sqlite(dir.path());
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM visitors WHERE following = 1 AND folder = 'Fans' AND service = 'Brand'"),
        2_500
    );
    let (name, followers): (String, i64) = db
        .query_row("SELECT full_name, followers FROM visitors WHERE username = 'fan7'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((name.as_str(), followers), ("Fan fan7", 3));
    assert_eq!(console.visitor_count(Some("brand"), None).unwrap(), (2_500, 2_500));
    let declared = one(&db, "SELECT COUNT(*) FROM cc_entities WHERE name = 'visitors'");
    assert_eq!(declared, 1, "an entity of the data model: a canvas can target visitors");
}

#[test]
fn a_stopped_sync_carries_on_without_fetching_a_page_twice_and_unfollowers_stay_marked() {
    let (dir, console, fake) = with_service(2_500, 1_000);
    let pages = Cell::new(0);
    let run = console.sync_followers(None, &mut |p| pages.set(p.pages), &|| pages.get() >= 1).unwrap().remove(0);
    // Stopped once a page was kept: the page asked for ahead meanwhile is kept too.
    assert_eq!((run.status.as_str(), run.pages), ("cancelled", 2), "{run:?}");
    assert!(run.outcome.contains("stopped after 2 pages") && run.outcome.contains("carries on"), "{}", run.outcome);
    let run = console.sync_followers(None, &mut |_| {}, &|| false).unwrap().remove(0);
    assert_eq!((run.status.as_str(), run.pages, run.visitors), ("done", 3, 2_500), "{run:?}");
    assert_eq!(fake.followers.lock().unwrap().asked, [0, 1, 2], "no page fetched twice");
    assert_eq!(console.sync_runs(10).unwrap().len(), 1, "one run, carried on");

    // A hundred stopped following: kept, marked.
    fake.followers.lock().unwrap().list.drain(..100);
    let run = console.sync_followers(Some("Brand"), &mut |_| {}, &|| false).unwrap().remove(0);
    assert_eq!((run.status.as_str(), run.visitors, run.unfollowed), ("done", 2_400, 100), "{run:?}");
    assert_eq!(console.visitor_count(None, Some("fans")).unwrap(), (2_500, 2_400));
    let db = sqlite(dir.path());
    assert_eq!(one(&db, "SELECT following FROM visitors WHERE username = 'fan0'"), 0);
    assert_eq!(one(&db, "SELECT following FROM visitors WHERE username = 'fan100'"), 1);
}

#[test]
fn revoked_keys_stop_the_sync_and_are_noted_on_the_service() {
    let (_dir, console, fake) = with_service(10, 5);
    fake.followers.lock().unwrap().revoked = true;
    let run = console.sync_followers(None, &mut |_| {}, &|| false).unwrap().remove(0);
    assert_eq!(run.status, "failed");
    assert!(run.outcome.contains("X rejected the service's keys (401)"), "{}", run.outcome);
    let service = console.credentials().unwrap().into_iter().find(|c| c.name == "Brand").unwrap();
    let note = service.verified.expect("noted on the service");
    assert_eq!((note.ok, note.code.as_str()), (false, "credentials_rejected"));
    let e = console.sync_followers(Some("nope"), &mut |_| {}, &|| false).unwrap_err();
    assert!(e.to_string().contains("no X service called"), "{e}");
}

#[test]
fn the_sandbox_x_account_serves_its_followers_and_one_sync_runs_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let other = testing::console(dir.path()).unwrap();
    let e = console.set_sandbox_followers(10).unwrap_err();
    assert!(e.to_string().contains("generate the demo data first"), "{e}");
    let settings = ProviderSettings::Sandbox(Default::default());
    console.add_credential_with(Channel::X, "Sandbox", settings, &Default::default()).unwrap();
    assert!(console.set_sandbox_followers(6_000_000).is_err(), "more than the Sandbox account can have");
    console.set_sandbox_followers(2_500).unwrap();

    // A second synchronization while one runs (another window) is refused, and starts nothing.
    let mut refused = None;
    let runs = console
        .sync_followers(
            None,
            &mut |p| {
                if p.pages == 1 && refused.is_none() {
                    refused = Some(other.sync_followers(None, &mut |_| {}, &|| false).unwrap_err().to_string());
                }
            },
            &|| false,
        )
        .unwrap();
    let refused = refused.expect("the other window tried");
    assert!(refused.contains("another window or process"), "{refused}");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!((runs[0].status.as_str(), runs[0].pages, runs[0].visitors), ("done", 3, 2_500), "{runs:?}");
    assert_eq!(console.sync_runs(10).unwrap().len(), 1);
    let db = sqlite(dir.path());
    assert_eq!(one(&db, "SELECT COUNT(DISTINCT username) FROM visitors WHERE service = 'Sandbox'"), 2_500);

    // The lease is given up with the run: the other window synchronizes now.
    other.set_sandbox_followers(2_000).unwrap();
    let run = other.sync_followers(None, &mut |_| {}, &|| false).unwrap().remove(0);
    assert_eq!((run.visitors, run.unfollowed), (2_000, 500), "{run:?}");
}

#[test]
fn visitors_are_linked_to_the_profiles_whose_x_handle_they_are() {
    use campaign_console::model::browse::BrowseQuery;
    use campaign_console::model::{LinkedCondition, Rule};
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    // 40 demo profiles: one in four has the X handle of one of the Sandbox account's followers.
    console.generate_demo(40, campaign_console::demo::DEFAULT_SEED, false, &mut |_| true).unwrap();
    console.set_sandbox_followers(20).unwrap();
    let run = console.sync_followers(Some("Sandbox"), &mut |_| {}, &|| false).unwrap().remove(0);
    assert!(run.outcome.contains("10 are profiles (by X handle)"), "{}", run.outcome);
    let db = sqlite(dir.path());
    let handle = campaign_console::channels::x::sandbox::follower(3).username;
    let linked: i64 =
        db.query_row("SELECT profile_id FROM visitors WHERE username = ?1", [&handle], |r| r.get(0)).unwrap();
    assert_eq!(linked, 16, "profile 16 has the handle of follower 3");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_links WHERE child = 'visitors' AND parent = 'profiles'"), 1);

    // The link is the data model's: the profiles who follow, as a canvas's rule finds them.
    let mut followers = BrowseQuery::new("profiles");
    followers.filter = Rule::Linked {
        entity: "visitors".into(),
        condition: LinkedCondition::Exists { rule: Box::new(Rule::everyone()) },
    };
    assert_eq!(console.browse_count(&followers).unwrap(), 10);
    // A handle typed in capitals still links.
    db.execute("UPDATE profiles SET x_handle = upper(x_handle) WHERE id = 16", []).unwrap();
    console.sync_followers(Some("Sandbox"), &mut |_| {}, &|| false).unwrap();
    assert_eq!(console.browse_count(&followers).unwrap(), 10);
}

#[test]
fn a_large_synchronization_makes_the_search_indexes_again_at_its_end_even_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let settings = ProviderSettings::Sandbox(Default::default());
    console.add_credential_with(Channel::X, "Sandbox", settings, &Default::default()).unwrap();
    console.set_sandbox_followers(100_000).unwrap();
    let indexes = || {
        one(
            &sqlite(dir.path()),
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visitors'
               AND name IN ('visitors_username', 'visitors_full_name', 'visitors_followers', 'visitors_profile',
                            'visitors_service')",
        )
    };
    // Stopped after 5 pages (written without them, and the one asked for ahead): they are there again.
    let pages = Cell::new(0);
    let run = console.sync_followers(None, &mut |p| pages.set(p.pages), &|| pages.get() >= 5).unwrap().remove(0);
    assert_eq!((run.status.as_str(), run.pages), ("cancelled", 6), "{run:?}");
    assert_eq!(indexes(), 5);
    let run = console.sync_followers(None, &mut |_| {}, &|| false).unwrap().remove(0);
    assert_eq!((run.status.as_str(), run.visitors), ("done", 100_000), "{run:?}");
    assert_eq!(indexes(), 5);
    assert_eq!(console.visitor_count(None, None).unwrap(), (100_000, 100_000));
}

#[test]
fn visitor_folders_are_created_renamed_with_their_visitors_and_deleted_when_empty() {
    let (dir, console, _fake) = with_service(30, 10);
    console.sync_followers(None, &mut |_| {}, &|| false).unwrap();
    let names =
        |c: &Console| c.visitor_folders().unwrap().into_iter().map(|f| (f.name, f.visitors)).collect::<Vec<_>>();
    assert_eq!(names(&console), [("Fans".to_owned(), 30)]);
    console.create_visitor_folder("VIP").unwrap();
    let e = console.create_visitor_folder(" vip ").unwrap_err().to_string();
    assert!(e.contains("there is a folder \u{201c}vip\u{201d} already"), "{e}");
    assert!(console.create_visitor_folder("  ").unwrap_err().to_string().contains("type the folder's name"));
    // Renamed: its visitors and the service landing there move with it.
    assert_eq!(console.rename_visitor_folder("fans", "Followers").unwrap(), 30);
    assert_eq!(names(&console), [("Followers".to_owned(), 30), ("VIP".to_owned(), 0)]);
    assert_eq!(one(&sqlite(dir.path()), "SELECT COUNT(*) FROM visitors WHERE folder = 'Followers'"), 30);
    let e = console.rename_visitor_folder("Followers", "vip").unwrap_err().to_string();
    assert!(e.contains("cannot be merged"), "{e}");
    // The next synchronization lands in the renamed folder.
    console.sync_followers(None, &mut |_| {}, &|| false).unwrap();
    assert_eq!(console.visitor_count(None, Some("Followers")).unwrap(), (30, 30));
    // Deleted only when empty and no service lands there.
    let e = console.delete_visitor_folder("Followers").unwrap_err().to_string();
    assert!(e.contains("holds 30 visitors"), "{e}");
    console.delete_visitor_folder("vip").unwrap();
    assert_eq!(names(&console), [("Followers".to_owned(), 30)]);
    assert!(console.delete_visitor_folder("Nope").unwrap_err().to_string().contains("there is no folder"));
}
