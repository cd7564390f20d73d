//! X services against a local fake X that checks every OAuth 1.0a signature: a service is
//! saved only with the keys of the account it names (a mismatch and refused keys say so and
//! keep nothing), its keys stay in the keychain, a post is signed, and a campaign's X activity
//! does not post once per recipient through an account.

use campaign_console::channels::Provider as _;
use campaign_console::channels::x::{XApi, oauth1};
use campaign_console::model::settings::XService;
use campaign_console::model::{Channel, ProviderKind, ProviderSettings};
use campaign_console::ui::testing;

use super::support::fake_x::{self, FakeX, HANDLE};

fn service(fake: &FakeX, handle: &str) -> ProviderSettings {
    ProviderSettings::XApi(XService {
        internal_name: handle.into(),
        base_url: fake.base.clone(),
        ..XService::default()
    })
}

#[test]
fn an_x_service_is_saved_only_with_the_keys_of_the_account_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    let fake = FakeX::start();
    let keys = fake_x::slots(&fake_x::keys());

    let e = console.add_credential_with(Channel::X, "Other", service(&fake, "OtherBrand"), &keys).unwrap_err();
    assert!(e.to_string().contains("the keys are those of @TravelBrand, not of @OtherBrand"), "{e}");
    let mut wrong = keys.clone();
    wrong.insert("consumer_secret".into(), "not-the-secret".into());
    let e = console.add_credential_with(Channel::X, "Wrong", service(&fake, HANDLE), &wrong).unwrap_err();
    assert!(e.to_string().contains("X rejected the service's keys (401)"), "{e}");
    assert!(console.credentials().unwrap().iter().all(|c| c.provider() != ProviderKind::XApi), "nothing kept");

    let saved = console.add_credential_with(Channel::X, "Brand", service(&fake, "@travelbrand"), &keys).unwrap();
    let said = console.verify_credential_with(Some(saved.id), &saved.settings, Default::default()).unwrap();
    assert_eq!(said, "X confirms the keys are @TravelBrand's (Travel Brand, 5210 followers, verified)");
    assert_eq!(fake.unsigned(), 1, "only the request with the wrong secret failed its signature");
    assert_eq!(console.credential_secrets(&saved).unwrap(), keys, "the four keys, from the keychain");
    let on_disk = std::fs::read(dir.path().join("workspace.sqlite")).unwrap();
    for secret in keys.values() {
        assert!(!on_disk.windows(secret.len()).any(|w| w == secret.as_bytes()), "a key is in the workspace");
    }

    // An edit to another account's handle is refused; the saved service is unchanged.
    let e = console
        .update_credential_with(saved.id, "Brand", service(&fake, "OtherBrand"), &Default::default())
        .unwrap_err();
    assert!(e.to_string().contains("not of @OtherBrand"), "{e}");
    let kept = console.credentials().unwrap().into_iter().find(|c| c.id == saved.id).unwrap();
    assert_eq!(kept.settings, saved.settings);
}

#[test]
fn a_post_goes_to_x_signed_with_the_services_keys() {
    let fake = FakeX::start();
    let ProviderSettings::XApi(s) = service(&fake, HANDLE) else { unreachable!() };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let x = XApi::new(&s, fake_x::keys(), 1).unwrap();
    let id = runtime.block_on(x.post("Summer sale: 20% off, today only. ☀️ #travel")).unwrap();
    assert!(id.starts_with("17"), "{id}");
    assert_eq!(*fake.posts.lock().unwrap(), ["Summer sale: 20% off, today only. ☀️ #travel"]);
    assert_eq!(fake.unsigned(), 0);
    let e = runtime.block_on(x.post("  ")).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let other = oauth1::Keys { access_token_secret: "stale".into(), ..fake_x::keys() };
    let stale = XApi::new(&s, other, 1).unwrap();
    let e = runtime.block_on(stale.verify()).unwrap_err();
    assert!(e.to_string().starts_with("credentials_rejected"), "{e}");
}
