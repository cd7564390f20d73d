//! Twilio: the requests the provider builds, held to Twilio's OpenAPI description; every error
//! class against a local fake; the lookup after a crash; Verify SMS connection; and the
//! server's signed webhooks (status callbacks, inbound keywords) on a loopback port.

use std::sync::Arc;
use std::time::Duration;

use campaign_console::channels::twilio;
use campaign_console::console::Console;
use campaign_console::model::{CampaignKind, Channel, Message, ProviderKind};
use campaign_console::ui::testing;
use serde_json::json;

use super::support::fake_twilio::{self, FakeTwilio, SERVICE, SID, TOKEN};
use super::support::mock_http::Reply;
use super::support::{one, settings, sqlite};

/// Twilio's OpenAPI description (2010-04-01), as Twilio publishes it.
fn spec() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/twilio/twilio_api_v2010.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Whether `value` matches a pattern of the shape Twilio's SIDs use: `^PP[0-9a-fA-F]{N}$`.
fn matches_sid_pattern(pattern: &str, value: &str) -> bool {
    let inner = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$')).expect("an anchored pattern");
    let (prefix, rest) = inner.split_once("[0-9a-fA-F]{").expect("a SID pattern");
    let count: usize = rest.strip_suffix('}').expect("a counted class").parse().unwrap();
    value.strip_prefix(prefix).is_some_and(|hex| hex.len() == count && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Holds a form to the spec's `CreateMessageRequest`: required fields there, every field
/// known, and each value of its type, pattern and format.
fn conforms(spec: &serde_json::Value, form: &[(String, String)]) -> Result<(), String> {
    let post = &spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["post"];
    let schema = &post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(schema["title"], "CreateMessageRequest");
    for required in schema["required"].as_array().unwrap() {
        let name = required.as_str().unwrap();
        if !form.iter().any(|(k, _)| k == name) {
            return Err(format!("{name} is required"));
        }
    }
    for (name, value) in form {
        let property = schema["properties"].get(name).ok_or_else(|| format!("{name} is not a field of the request"))?;
        match property["type"].as_str() {
            Some("string") => {}
            other => return Err(format!("{name} is sent as a string, the spec says {other:?}")),
        }
        if let Some(p) = property["pattern"].as_str()
            && !matches_sid_pattern(p, value)
        {
            return Err(format!("{name} = {value} does not match {p}"));
        }
        match property["format"].as_str() {
            Some("uri") if reqwest::Url::parse(value).is_err() => return Err(format!("{name} is not a URI")),
            Some("phone-number") if !(value.starts_with('+') && value[1..].bytes().all(|b| b.is_ascii_digit())) => {
                return Err(format!("{name} = {value} is not an E.164 number"));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn twilio_credential(console: &Console, fake: &FakeTwilio, extra: serde_json::Value) -> i64 {
    let mut s = json!({
        "account_sid": SID, "messaging_service_sid": SERVICE, "base_url": fake.base, "timeout_seconds": 1,
        "retry_backoff_seconds": 0.2, "status_callback_base": "https://hooks.example.com",
    });
    s.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    console.add_credential(Channel::Sms, "Twilio", settings(ProviderKind::Twilio, s), Some(TOKEN)).unwrap().id
}

/// A demo workspace of `n` profiles, all opted in to SMS, profile `i` at +3361000000i.
pub(super) fn workspace(n: u64) -> (tempfile::TempDir, Arc<Console>) {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(n, 6, false, &mut |_| true).unwrap();
    sqlite(dir.path())
        .execute_batch("UPDATE profiles SET sms_opt_in = 1, phone = '+3361' || printf('%07d', id);")
        .unwrap();
    (dir, console)
}

fn phone(id: i64) -> String {
    format!("+3361{id:07}")
}

fn texts(console: &Console) -> campaign_console::console::RunSummary {
    let c = console.create_campaign("Texts", CampaignKind::Orchestrated).unwrap();
    let message = Message { text: "Hi {{ profile.first_name }}, our sale starts today".into(), ..Message::default() };
    console.save_canvas(c.id, &super::support::blast(Channel::Sms, Some("Twilio"), message)).unwrap();
    console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap()
}

#[test]
fn twilio_requests_follow_the_openapi_description_and_its_example_answer_is_read() {
    let spec = spec();
    let example = &spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["post"]["responses"]["201"]["content"]
        ["application/json"]["examples"]["create"]["value"];
    let read: twilio::MessageResource = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(read.sid.as_deref(), Some("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_eq!(read.status.as_deref(), Some("queued"));
    // Both senders, with and without a status callback.
    let base = campaign_console::model::settings::Twilio {
        account_sid: SID.into(),
        messaging_service_sid: SERVICE.into(),
        status_callback_base: "https://hooks.example.com/cc".into(),
        ..Default::default()
    };
    let with_number = campaign_console::model::settings::Twilio {
        messaging_service_sid: String::new(),
        from: "+14155550100".into(),
        status_callback_base: String::new(),
        ..base.clone()
    };
    let m = campaign_console::channels::Outgoing {
        address: "+33612345678".into(),
        text: "Hello \u{1f44b}".into(),
        ..Default::default()
    };
    for s in [base, with_number] {
        let form: Vec<(String, String)> = twilio::message_form(&twilio::TwilioSettings::read(&s).unwrap(), &m)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        conforms(&spec, &form).unwrap();
    }
    let form =
        vec![("To".to_owned(), "+33612345678".to_owned()), ("MessagingServiceSid".to_owned(), "MG12".to_owned())];
    assert!(conforms(&spec, &form).is_err(), "the check itself refuses a bad SID");
    assert!(conforms(&spec, &[("Body".to_owned(), "x".to_owned())]).is_err(), "and a missing To");
}

#[test]
fn twilio_sends_retries_what_passes_and_refuses_what_twilio_calls_final() {
    let (dir, console) = workspace(40);
    // By recipient (id % 20): a final refusal per code, or a passing one the first time.
    let fake = FakeTwilio::start(|to, attempt| {
        let id: i64 = to[to.len() - 7..].parse().unwrap();
        match (id % 20, attempt) {
            (1, _) => Some(fake_twilio::error(400, 21211, "The 'To' number is not a valid phone number.")),
            (2, _) => {
                Some(fake_twilio::error(400, 21408, "Permission to send an SMS has not been enabled for the region"))
            }
            (3, _) => Some(fake_twilio::error(400, 21610, "Attempt to send to unsubscribed recipient")),
            (4, _) => Some(fake_twilio::error(400, 21614, "'To' number is not a valid mobile number")),
            (5, _) => Some(fake_twilio::error(400, 21608, "The number is unverified. Trial accounts cannot send")),
            (6, 0) => Some(Reply::Status {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: String::new(),
                delay: Duration::ZERO,
            }),
            (7, 0) => Some(fake_twilio::error(429, 20429, "Too Many Requests")),
            (8, 0) => Some(Reply::status(503)),
            (9, 0) => Some(Reply::Status {
                status: 201,
                headers: Vec::new(),
                body: "{}".into(),
                delay: Duration::from_secs(3),
            }),
            _ => None,
        }
    });
    twilio_credential(&console, &fake, json!({}));
    let summary = texts(&console);
    let d = &summary.deliveries[0];
    use campaign_console::model::delivery::status;
    assert_eq!(d.count(status::SENT) + d.count(status::FAILED), 40, "{d:?}");
    assert_eq!(d.count(status::FAILED), 10, "five final codes, twice each");
    let db = sqlite(dir.path());
    for code in ["21211", "21408", "21610", "21614", "21608"] {
        let n = one(
            &db,
            &format!(
                "SELECT COUNT(*) FROM cc_ledger WHERE status = 'failed' AND error_code = '{code}' AND attempts = 1"
            ),
        );
        assert_eq!(n, 2, "{code} is final at the first attempt");
    }
    let words: String = db
        .query_row("SELECT error_message FROM cc_ledger WHERE error_code = '21608' LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert!(words.starts_with("a trial account can only send to numbers verified"), "{words}");
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent' AND attempts = 2"),
        8,
        "429, 20429, 503 and a timeout pass"
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent' AND provider_message_id LIKE 'SM%'"),
        30,
        "Twilio's SID is kept"
    );
    assert_eq!(
        one(&db, "SELECT COUNT(*) FROM profiles WHERE sms_opt_in = 0"),
        2,
        "21610 (unsubscribed at Twilio) turns the profile's SMS opt-in off"
    );
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 3"), 0);
    // Every request conforms, sends the personalized text through the Messaging Service and
    // asks for status callbacks at this app's server.
    let spec = spec();
    let created = fake.created();
    assert!(created.len() >= 48, "{}", created.len());
    for form in &created {
        conforms(&spec, form).unwrap();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("MessagingServiceSid"), Some(SERVICE));
        assert_eq!(get("StatusCallback"), Some("https://hooks.example.com/webhooks/twilio/status"));
        assert!(get("Body").unwrap().starts_with("Hi ") && get("Body").unwrap().ends_with("our sale starts today"));
    }
    // A message Twilio would refuse as too long is refused before it is sent; so is a number
    // that is not one.
    let id = console.credentials().unwrap().into_iter().find(|c| c.name == "Twilio").unwrap().id;
    let long = "x".repeat(1_601);
    assert!(console.verify_sms(id, "+33612345678", &long).unwrap_err().to_string().contains("1600"));
    assert!(console.verify_sms(id, "06 12", "hi").unwrap_err().to_string().contains("international form"));
}

#[test]
fn a_message_left_sending_by_a_crash_is_found_at_twilio_or_sent_once_more() {
    let (dir, console) = workspace(6);
    let fake = FakeTwilio::start(|_, _| None);
    twilio_credential(&console, &fake, json!({}));
    texts(&console);
    assert_eq!(fake.created().len(), 6);
    // As a crash leaves them: two rows `sending`, their delivery unfinished. Twilio has the
    // first; the second never reached it.
    let db = sqlite(dir.path());
    let sid_of_2: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '2'", [], |r| r.get(0)).unwrap();
    db.execute_batch(
        "UPDATE cc_ledger SET status = 'sending', provider_message_id = NULL WHERE recipient_key IN ('2', '5');
         UPDATE cc_deliveries SET status = 'sending', finished_at = NULL;",
    )
    .unwrap();
    fake.forget(&phone(5));
    console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap();
    let got: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '2'", [], |r| r.get(0)).unwrap();
    assert_eq!(got, sid_of_2, "found at Twilio by number, day and body: not sent again");
    let created = fake.created();
    assert_eq!(created.len(), 7, "only the message Twilio never got is sent again");
    assert_eq!(created[6].iter().find(|(k, _)| k == "To").unwrap().1, phone(5));
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent'"), 6);
}

#[test]
fn verify_sms_connection_keeps_twilios_answer_on_the_credential() {
    let (_dir, console) = workspace(1);
    let fake = FakeTwilio::start(|to, _| {
        (to == "+33699999999").then(|| fake_twilio::error(400, 21608, "The number +33699999999 is unverified."))
    });
    let id = twilio_credential(&console, &fake, json!({}));
    let v = console.verify_sms(id, "+33612345678", "Hello from Campaign Console").unwrap();
    assert!(v.ok, "{v:?}");
    assert!(v.summary.contains("SM") && v.summary.contains("queued"), "{}", v.summary);
    let kept = console.credentials().unwrap().into_iter().find(|c| c.id == id).unwrap().verified.unwrap();
    assert_eq!(kept, v, "kept on the credential with its time");
    let v = console.verify_sms(id, "+33699999999", "Hello").unwrap();
    assert!(!v.ok);
    assert_eq!(v.code, "21608");
    assert!(v.summary.starts_with("a trial account can only send"), "{}", v.summary);
    // A wrong token is said in words.
    let other = console
        .add_credential(
            Channel::Sms,
            "Wrong token",
            settings(
                ProviderKind::Twilio,
                json!({ "account_sid": SID, "from": "+14155550100", "base_url": fake.base }),
            ),
            Some("not-the-token"),
        )
        .unwrap();
    let v = console.verify_sms(other.id, "+33612345678", "Hello").unwrap();
    assert_eq!(v.code, "20003");
    assert!(v.summary.starts_with("Twilio refused the Account SID and Auth Token"), "{}", v.summary);
}

/// The server on a loopback port, on a runtime of its own; stops when dropped.
pub(super) struct Served {
    url: String,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    pub(super) fn start(console: Arc<Console>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = campaign_console::server::Server::new(console, url.clone());
        runtime.spawn(campaign_console::server::serve(server, listener, async {
            let _ = stopped.await;
        }));
        Self { url, runtime, stop: Some(stop) }
    }

    /// Posts `params` to `path`, signed with `token` (no signature when `None`).
    pub(super) fn post(&self, path: &str, params: &[(&str, &str)], token: Option<&str>) -> (u16, String) {
        let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let url = format!("{}{path}", self.url);
        let mut request = reqwest::Client::new().post(&url).form(&params);
        if let Some(token) = token {
            request = request.header("X-Twilio-Signature", twilio::signature(token, &url, &params));
        }
        self.runtime.block_on(async {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        })
    }

    /// GETs `path` without following a redirect: the status, `Location` and the body.
    pub(super) fn get(&self, path: &str) -> (u16, Option<String>, String) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let url = format!("{}{path}", self.url);
        self.runtime.block_on(async {
            let r = client.get(&url).send().await.unwrap();
            let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), location, r.text().await.unwrap())
        })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[test]
fn signed_status_callbacks_count_deliveries_once_and_forged_ones_change_nothing() {
    let (dir, console) = workspace(4);
    let fake = FakeTwilio::start(|_, _| None);
    twilio_credential(&console, &fake, json!({}));
    texts(&console);
    let served = Served::start(Arc::clone(&console));
    let db = sqlite(dir.path());
    let sid: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '1'", [], |r| r.get(0)).unwrap();
    let delivered = [("AccountSid", SID), ("MessageSid", sid.as_str()), ("MessageStatus", "delivered")];
    let events = || one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'delivered'");

    let (status, body) = served.post("/webhooks/twilio/status", &delivered, None);
    assert_eq!(status, 403, "unsigned: {body}");
    let (status, _) = served.post("/webhooks/twilio/status", &delivered, Some("forged-token"));
    assert_eq!(status, 403, "signed with another token");
    assert_eq!(events(), 0, "a refused callback changes nothing");

    assert_eq!(served.post("/webhooks/twilio/status", &delivered, Some(TOKEN)).0, 200);
    assert_eq!(events(), 1);
    assert_eq!(served.post("/webhooks/twilio/status", &delivered, Some(TOKEN)).0, 200, "a repeat is answered");
    let late_sent = [("AccountSid", SID), ("MessageSid", sid.as_str()), ("MessageStatus", "sent")];
    assert_eq!(served.post("/webhooks/twilio/status", &late_sent, Some(TOKEN)).0, 200);
    assert_eq!(events(), 1, "a repeated or late callback writes nothing more");
    let kept: String =
        db.query_row("SELECT provider_status FROM cc_ledger WHERE recipient_key = '1'", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "delivered", "a late 'sent' does not undo 'delivered'");
    let sid2: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '2'", [], |r| r.get(0)).unwrap();
    let failed =
        [("AccountSid", SID), ("MessageSid", sid2.as_str()), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")];
    assert_eq!(served.post("/webhooks/twilio/status", &failed, Some(TOKEN)).0, 200);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'bounced'"), 1);
    let unknown =
        [("AccountSid", SID), ("MessageSid", "SMffffffffffffffffffffffffffffffff"), ("MessageStatus", "delivered")];
    assert_eq!(
        served.post("/webhooks/twilio/status", &unknown, Some(TOKEN)).0,
        200,
        "an unknown message is answered 200"
    );
    // The Deliveries screen's figures.
    let d = &console.deliveries(Some("Texts")).unwrap()[0];
    assert_eq!((d.events_of("delivered"), d.events_of("bounced")), (1, 1));

    // The server's own answers: liveness, unknown routes, request ids, the body limit.
    let client = reqwest::Client::new();
    served.runtime.block_on(async {
        let r = client.get(format!("{}/healthz", served.url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().contains_key("x-request-id"));
        let r =
            client.get(format!("{}/nothing/here", served.url)).header("x-request-id", "abc-1").send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-request-id"], "abc-1");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["request_id"], "abc-1");
        assert!(body["error"].as_str().unwrap().contains("/nothing/here"));
        let big = "x".repeat(campaign_console::server::BODY_LIMIT + 1);
        let r = client.post(format!("{}/webhooks/twilio/status", served.url)).body(big).send().await.unwrap();
        assert_eq!(r.status(), 413);
    });
}

#[test]
fn stop_then_start_from_a_phone_changes_its_profiles_sms_opt_in_and_gets_the_replies() {
    let (dir, console) = workspace(3);
    let fake = FakeTwilio::start(|_, _| None);
    twilio_credential(&console, &fake, json!({ "inbound_number": "+14155550111" }));
    let served = Served::start(Arc::clone(&console));
    let db = sqlite(dir.path());
    let from = phone(2);
    let inbound = |sid: &str, body: &str| {
        [("AccountSid", SID), ("MessageSid", sid), ("From", from.as_str()), ("To", "+14155550111"), ("Body", body)]
            .map(|(k, v)| (k, v.to_owned()))
    };
    let post = |params: &[(&str, String)], token| {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        served.post("/webhooks/twilio/inbound", &p, token)
    };
    assert_eq!(post(&inbound("SM01", " stop "), Some("forged")).0, 403);
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 2"), 1, "a forged STOP changes nothing");

    let (status, twiml) = post(&inbound("SM01", " stop "), Some(TOKEN));
    assert_eq!(status, 200);
    assert!(twiml.contains("<Response><Message>You are unsubscribed"), "{twiml}");
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 2"), 0);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM profiles WHERE sms_opt_in = 0"), 1, "only that number's profile");
    // The next run excludes them.
    let summary = texts(&console);
    assert_eq!(summary.deliveries[0].count(campaign_console::model::delivery::status::SENT), 2);
    assert!(fake.created().iter().all(|f| f.iter().all(|(_, v)| *v != from)), "nothing sent to who said STOP");

    let (_, twiml) = post(&inbound("SM02", "Start"), Some(TOKEN));
    assert!(twiml.contains("subscribed again"), "{twiml}");
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 2"), 1);
    let (_, twiml) = post(&inbound("SM03", "What time do you open?"), Some(TOKEN));
    assert!(!twiml.contains("<Message>"), "no keyword, no reply: {twiml}");
    // A repeated webhook changes nothing more.
    post(&inbound("SM02", "Start"), Some(TOKEN));
    let list = console.inbound_messages(10).unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    assert_eq!(list.iter().filter(|m| m.profile_key.as_deref() == Some("2")).count(), 3);
    assert_eq!(list.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["What time do you open?", "Start", " stop "]);
}

#[test]
fn no_auth_token_reaches_the_workspace_files() {
    let (dir, console) = workspace(2);
    let fake = FakeTwilio::start(|_, _| None);
    let id = twilio_credential(&console, &fake, json!({}));
    console.verify_sms(id, "+33612345678", "Hello").unwrap();
    texts(&console);
    drop(console);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "the token is in {}", path.display());
        }
    }
}
