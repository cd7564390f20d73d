//! The execution API against the real server on a loopback port: every status code, retries
//! that send nothing new, the date window, creating missing profiles (on and off), the context
//! escaped in email HTML and never kept in the workspace, the cURL command the form shows run
//! as printed, rate limits, events counted once, and the OpenAPI document matching the router.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

mod support;
#[path = "api/tracking.rs"]
mod tracking;

use std::sync::Arc;
use std::time::{Duration, Instant};

use campaign_console::console::{Console, KEY_PLACEHOLDER, LifeAction};
use campaign_console::model::api::{ApiCampaign, ApiScope, ContextAttribute};
use campaign_console::model::{CampaignKind, Channel, Message, ProviderKind};
use campaign_console::ui::testing;
use serde_json::{Value, json};
use support::{one, settings, sqlite};

/// A demo workspace served on a loopback port.
struct Api {
    dir: tempfile::TempDir,
    console: Arc<Console>,
    runtime: tokio::runtime::Runtime,
    url: String,
    key: String,
}

impl Api {
    fn start(limits: Option<campaign_console::server::RateLimits>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let console = testing::console(dir.path()).unwrap();
        console.generate_demo(60, 7, false, &mut |_| true).unwrap();
        sqlite(dir.path())
            .execute_batch("UPDATE profiles SET email = 'p' || id || '@example.com', email_opt_in = (id % 2)")
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Links in messages (tracked, short) lead to the workspace's public URL: this server.
        let public = campaign_console::model::server::ServerSettings { public_url: url.clone(), ..Default::default() };
        console.set_server_settings(&public).unwrap();
        let mut server = campaign_console::server::Server::new(Arc::clone(&console), url.clone());
        if let Some(l) = limits {
            server.limits = Arc::new(l);
        }
        runtime.spawn(campaign_console::server::serve(server, listener, std::future::pending()));
        let (key, _) = console.create_api_key("Website", &[ApiScope::Trigger, ApiScope::Events]).unwrap();
        Self { dir, console, runtime, url, key }
    }

    /// (status, headers' replayed flag, body as JSON).
    fn call(&self, method: &str, path: &str, body: Option<Value>, key: Option<&str>) -> (u16, bool, Value) {
        self.runtime.block_on(async {
            let client = reqwest::Client::new();
            let url = format!("{}{path}", self.url);
            let mut r = if method == "GET" { client.get(url) } else { client.post(url) };
            if let Some(k) = key {
                r = r.bearer_auth(k);
            }
            if let Some(b) = body {
                r = r.json(&b);
            }
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let replayed = r.headers().contains_key("idempotent-replayed");
            let text = r.text().await.unwrap();
            (status, replayed, serde_json::from_str(&text).unwrap_or(Value::String(text)))
        })
    }

    fn trigger(&self, campaign: i64, body: Value) -> (u16, bool, Value) {
        self.call("POST", &format!("/v1/campaigns/{campaign}/trigger"), Some(body), Some(&self.key))
    }

    /// Waits until no recipient of the execution is still queued or being sent.
    fn settled(&self, execution: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, _, body) = self.call("GET", &format!("/v1/executions/{execution}"), None, Some(&self.key));
            assert_eq!(status, 200, "{body}");
            let busy = body["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["status"] == "sending" || r["status"] == "queued");
            if !busy || Instant::now() > deadline {
                return body;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

/// The demo's "Password reset" (id 3): email, by email, reset_url required.
const RESET: i64 = 3;

fn one_recipient(request_id: &str, email: &str, context: Value) -> Value {
    json!({ "request_id": request_id, "recipients": [{ "namespace": "email", "id": email, "context": context }] })
}

#[test]
fn every_status_code_of_a_trigger_and_a_retry_sends_nothing_new() {
    let api = Api::start(None);
    let db = sqlite(api.dir.path());
    let ok = one_recipient("r-1", "p2@example.com", json!({ "reset_url": "https://example.com/r?t=1" }));

    // Keys: none, unknown, without the scope.
    assert_eq!(api.call("POST", "/v1/campaigns/3/trigger", Some(ok.clone()), None).0, 401);
    assert_eq!(api.call("POST", "/v1/campaigns/3/trigger", Some(ok.clone()), Some("cc_nope")).0, 401);
    let (events_only, _) = api.console.create_api_key("Events", &[ApiScope::Events]).unwrap();
    let (status, _, body) = api.call("POST", "/v1/campaigns/3/trigger", Some(ok.clone()), Some(&events_only));
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("trigger scope"), "{body}");
    api.console.revoke_api_key("events").unwrap();
    assert_eq!(api.call("POST", "/v1/campaigns/3/trigger", Some(ok.clone()), Some(&events_only)).0, 401, "revoked");

    // Unknown campaign, or not an API one.
    assert_eq!(api.trigger(999, ok.clone()).0, 404);
    assert_eq!(api.trigger(1, ok.clone()).0, 404, "an orchestrated campaign");
    assert_eq!(api.call("POST", "/v1/campaigns/abc/trigger", Some(ok.clone()), Some(&api.key)).0, 404);

    // Bad bodies: the field is pointed at.
    let pointer = |body: Value| {
        let (status, _, answer) = api.trigger(RESET, body);
        assert_eq!(status, 422, "{answer}");
        answer["pointer"].as_str().unwrap().to_owned()
    };
    assert_eq!(pointer(json!({ "request_id": "x", "recipients": [] })), "/recipients");
    let many: Vec<Value> = (0..101)
        .map(|i| json!({ "namespace": "email", "id": format!("p{i}@example.com"), "context": {"reset_url": "u"} }))
        .collect();
    assert_eq!(pointer(json!({ "request_id": "x", "recipients": many })), "/recipients");
    let mut four: Vec<Value> = (1..=4)
        .map(|i| json!({ "namespace": "email", "id": format!("p{i}@example.com"), "context": {"reset_url": "u"} }))
        .collect();
    four[3]["context"]["reset_url"] = json!(12);
    assert_eq!(pointer(json!({ "request_id": "x", "recipients": four.clone() })), "/recipients/3/context/reset_url");
    four[3]["context"] = json!({});
    assert_eq!(
        pointer(json!({ "request_id": "x", "recipients": four })),
        "/recipients/3/context/reset_url",
        "required"
    );
    assert_eq!(pointer(one_recipient("x", "not an email", json!({"reset_url": "u"}))), "/recipients/0/id");
    assert_eq!(
        pointer(one_recipient("x", "p1@example.com", json!({"reset_url": "u", "system": "x"}))),
        "/recipients/0/context/system"
    );
    assert_eq!(pointer(json!({ "request_id": "", "recipients": [] })), "/request_id");
    let wrong_ns = json!({ "request_id": "x", "recipients": [{ "namespace": "phone", "id": "+33612345678" }] });
    assert_eq!(pointer(wrong_ns), "/recipients/0/namespace");
    assert_eq!(pointer(json!({ "recipients": "nope" })), "", "not the body the call takes");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_api_executions"), 0, "nothing written by a refusal");

    // Accepted, then a retry: the same execution, nothing sent again.
    let (status, replayed, first) = api.trigger(RESET, ok.clone());
    assert_eq!((status, replayed), (202, false), "{first}");
    let execution = first["execution_id"].as_str().unwrap().to_owned();
    let done = api.settled(&execution);
    assert_eq!(done["recipients"][0]["status"], "sent", "{done}");
    let (status, replayed, again) = api.trigger(RESET, ok.clone());
    assert_eq!((status, replayed), (202, true));
    assert_eq!(again["execution_id"], execution.as_str());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE address = 'p2@example.com'"), 1, "sent once");
    let body: String = db.query_row("SELECT body FROM cc_sandbox_messages", [], |r| r.get(0)).unwrap();
    // The context's link, rendered, then tracked: the server's link stands for it.
    let token = body.split("/t/c/").nth(1).unwrap().split_whitespace().next().unwrap();
    match api.console.read_tracking_token(token).unwrap() {
        Some(campaign_console::model::tracking::Tracked::Click { url, .. }) => {
            assert_eq!(url, "https://example.com/r?t=1");
        }
        other => panic!("not a tracked link: {other:?} in {body}"),
    }
    assert_eq!(api.call("GET", "/v1/executions/nope", None, Some(&api.key)).0, 404);

    // Not live: 409; outside its dates: 422 naming them.
    api.console.change_api_life(RESET, LifeAction::Pause).unwrap();
    let (status, _, body) = api.trigger(RESET, one_recipient("r-2", "p2@example.com", json!({"reset_url": "u"})));
    assert_eq!(status, 409, "{body}");
    api.console.change_api_life(RESET, LifeAction::Resume).unwrap();
    let (_, form) = api.console.api_campaign(RESET).unwrap();
    let now = api.console.now();
    let later = now.checked_add(jiff::SignedDuration::from_hours(48)).unwrap();
    api.console.save_api_campaign(RESET, "", form, (Some(later), None)).unwrap();
    let (status, _, body) = api.trigger(RESET, one_recipient("r-3", "p2@example.com", json!({"reset_url": "u"})));
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("takes calls from"), "{body}");
}

#[test]
fn missing_profiles_are_created_only_when_the_campaign_allows_it() {
    let api = Api::start(None);
    let db = sqlite(api.dir.path());
    let (_, mut form) = api.console.api_campaign(RESET).unwrap();
    let profiles = one(&db, "SELECT COUNT(*) FROM profiles");

    let (status, _, body) = api.trigger(RESET, one_recipient("a", "new@example.com", json!({"reset_url": "u"})));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["recipients"][0]["status"], "queued", "accepted; resolved just after: {body}");
    let done = api.settled(body["execution_id"].as_str().unwrap());
    assert_eq!(done["recipients"][0]["status"], "not_found", "{done}");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM profiles"), profiles, "none created");

    form.create_missing = true;
    api.console.save_api_campaign(RESET, "", form, (None, None)).unwrap();
    let (status, _, body) = api.trigger(RESET, one_recipient("b", "new@example.com", json!({"reset_url": "u"})));
    assert_eq!(status, 202, "{body}");
    let done = api.settled(body["execution_id"].as_str().unwrap());
    assert_eq!(done["recipients"][0]["created"], true, "{done}");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM profiles"), profiles + 1);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM profiles WHERE email = 'new@example.com'"), 1);
    assert_eq!(done["recipients"][0]["status"], "sent", "transactional: sent without opt-in: {done}");

    // The campaign's report counts its calls as the executions say.
    let api_figures = api.console.campaign_report(RESET).unwrap().api.unwrap();
    let expected = campaign_console::model::report::ApiFigures {
        calls: 2,
        recipients: 2,
        not_found: 1,
        created: 1,
        ..Default::default()
    };
    assert_eq!(api_figures, expected);
}

#[test]
fn a_marketing_campaign_needs_the_opt_in_and_the_same_profile_gets_one_message_per_call() {
    let api = Api::start(None);
    let (_, mut form) = api.console.api_campaign(RESET).unwrap();
    form.transactional = false;
    api.console.save_api_campaign(RESET, "", form, (None, None)).unwrap();
    let body = json!({ "request_id": "m", "recipients": [
        { "namespace": "email", "id": "p1@example.com", "context": {"reset_url": "u"} },
        { "namespace": "email", "id": "p2@example.com", "context": {"reset_url": "u"} },
        { "namespace": "email", "id": "p1@example.com", "context": {"reset_url": "u"} },
    ]});
    let (status, _, answer) = api.trigger(RESET, body);
    assert_eq!(status, 202, "{answer}");
    let done = api.settled(answer["execution_id"].as_str().unwrap());
    let states: Vec<&str> =
        done["recipients"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(states, ["sent", "excluded", "excluded"], "{done}");
    assert!(done["recipients"][1]["reason"].as_str().unwrap().contains("not opted in"));
    assert!(done["recipients"][2]["reason"].as_str().unwrap().contains("twice"));
}

#[test]
fn the_context_is_escaped_in_html_and_never_kept_in_the_workspace() {
    let api = Api::start(None);
    let sink = support::smtp_sink::SmtpSink::start("mailer", "pw");
    let smtp = settings(
        ProviderKind::Smtp,
        json!({ "host": "127.0.0.1", "port": sink.port, "tls": "none", "username": "mailer", "from": "a@example.com" }),
    );
    api.console.add_credential(Channel::Email, "Relay", smtp, Some("pw")).unwrap();
    let c = api.console.create_campaign("Order shipped", CampaignKind::ApiTriggered).unwrap();
    let form = ApiCampaign {
        credential: Some("Relay".into()),
        message: Message {
            subject: "Your order".into(),
            text: "Tracking: {{ context.tracking }}".into(),
            html: "<p>Tracking: {{ context.tracking }}</p>".into(),
            ..Message::default()
        },
        context: vec![ContextAttribute { name: "tracking".into(), required: true, sample: "T-1".into() }],
        ..ApiCampaign::default()
    };
    api.console.save_api_campaign(c.id, "", form, (None, None)).unwrap();
    api.console.review_api_campaign(c.id).unwrap();
    let marker = "ZQ-7f3a<b>&9";
    let (status, _, body) = api.trigger(c.id, one_recipient("s1", "p4@example.com", json!({ "tracking": marker })));
    assert_eq!(status, 202, "{body}");
    let done = api.settled(body["execution_id"].as_str().unwrap());
    assert_eq!(done["recipients"][0]["status"], "sent", "{done}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].data.contains("Tracking: ZQ-7f3a<b>&9"), "as it is in the text part");
    assert!(mails[0].data.contains("<p>Tracking: ZQ-7f3a&lt;b&gt;&amp;9</p>"), "escaped in HTML: {}", mails[0].data);
    // Nowhere in the workspace's files (the database, its log), the ledger included.
    let db = sqlite(api.dir.path());
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    for entry in std::fs::read_dir(api.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(7).any(|w| w == b"ZQ-7f3a"), "the context is in {}", path.display());
        }
    }
}

#[test]
fn the_curl_the_form_shows_works_as_printed() {
    let api = Api::start(None);
    let settings =
        campaign_console::model::server::ServerSettings { public_url: api.url.clone(), ..Default::default() };
    api.console.set_server_settings(&settings).unwrap();
    let page = api.console.api_campaign_page(RESET).unwrap();
    assert!(page.problems.is_empty(), "{:?}", page.problems);
    assert!(page.curl.contains(&format!("{}/v1/campaigns/{RESET}/trigger", api.url)), "{}", page.curl);
    let command = page.curl.replace(KEY_PLACEHOLDER, &api.key);
    let run = || {
        let out = std::process::Command::new("sh").arg("-c").arg(&command).output().expect("curl runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    assert!(first["execution_id"].is_string(), "{first}");
    assert_eq!(first["recipients"][0]["namespace"], "email");
    let second = run();
    assert_eq!(first["execution_id"], second["execution_id"], "the same request id: nothing sent twice");
    let db = sqlite(api.dir.path());
    api.settled(first["execution_id"].as_str().unwrap());
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM cc_ledger l JOIN cc_deliveries d ON d.id = l.delivery_id WHERE d.campaign_id = 3"
        ),
        1
    );
}

#[test]
fn a_key_over_its_rate_is_told_when_to_come_back() {
    use std::num::NonZeroU32;
    let limits = campaign_console::server::RateLimits::new(NonZeroU32::MIN, NonZeroU32::new(2).unwrap());
    let api = Api::start(Some(limits));
    let path = "/v1/executions/none";
    assert_eq!(api.call("GET", path, None, Some(&api.key)).0, 404);
    assert_eq!(api.call("GET", path, None, Some(&api.key)).0, 404);
    let answer = api.runtime.block_on(async {
        reqwest::Client::new().get(format!("{}{path}", api.url)).bearer_auth(&api.key).send().await.unwrap()
    });
    assert_eq!(answer.status().as_u16(), 429);
    let wait: u64 = answer.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
}

#[test]
fn reported_events_are_counted_once_by_their_id() {
    let api = Api::start(None);
    let db = sqlite(api.dir.path());
    let event = |id: &str, kind: &str, email: &str| json!({ "event_id": id, "kind": kind, "namespace": "email", "id": email, "campaign_id": 1, "message": "m1" });
    let body = json!({ "events": [event("e1", "push_opened", "p1@example.com"), event("e2", "content_card_clicked", "p2@example.com"), event("e3", "push_opened", "ghost@example.com")] });
    let (status, _, report) = api.call("POST", "/v1/events", Some(body.clone()), Some(&api.key));
    assert_eq!(status, 202, "{report}");
    assert_eq!(report, json!({ "accepted": 2, "duplicates": 0, "not_found": [2] }));
    let (_, _, report) = api.call("POST", "/v1/events", Some(body), Some(&api.key));
    assert_eq!(report["duplicates"], 2);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'push_opened'"), 1);
    let bad = json!({ "events": [event("e4", "push_opened", "p1@example.com"), event("e5", "teleported", "p1@example.com")] });
    let (status, _, answer) = api.call("POST", "/v1/events", Some(bad), Some(&api.key));
    assert_eq!((status, answer["pointer"].as_str()), (422, Some("/events/1/kind")));
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE event_id = 'e4'"), 0, "all or nothing");
    let (trigger_only, _) = api.console.create_api_key("Trigger only", &[ApiScope::Trigger]).unwrap();
    let body = json!({ "events": [event("e6", "push_opened", "p1@example.com")] });
    assert_eq!(api.call("POST", "/v1/events", Some(body), Some(&trigger_only)).0, 403);
}

/// The `/v1` routes the router declares, read from its source: (method, path).
fn routed() -> Vec<(String, String)> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/mod.rs")).unwrap();
    source
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix(".route(\"")?;
            let (path, call) = rest.split_once("\", ")?;
            let method = call.split('(').next()?;
            path.starts_with("/v1").then(|| (method.to_uppercase(), path.to_owned()))
        })
        .collect()
}

#[test]
fn the_openapi_document_describes_every_route_and_only_those() {
    let api = Api::start(None);
    let (status, _, doc) = api.call("GET", "/v1/openapi.json", None, None);
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone())))
        .collect();
    let mut router = routed();
    documented.sort();
    router.sort();
    assert_eq!(router.len(), 4, "{router:?}");
    assert_eq!(documented, router, "the document and the router differ");
    // And each documented route is answered by it, not by the fallback.
    for (method, path) in &documented {
        let path = path.replace("{id}", "1");
        let (status, _, body) = api.call(method, &path, None, None);
        assert!(status == 200 || status == 401, "{method} {path}: {status} {body}");
    }
}

#[test]
fn review_to_activate_lists_every_problem_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20, 1, false, &mut |_| true).unwrap();
    let c = console.create_campaign("Codes", CampaignKind::ApiTriggered).unwrap();
    let form = ApiCampaign { channel: Channel::Sms, namespace: "fax".into(), ..ApiCampaign::default() };
    console.save_api_campaign(c.id, "", form.clone(), (None, None)).unwrap();
    let err = console.review_api_campaign(c.id).unwrap_err().to_string();
    assert!(err.contains("identity namespace"), "{err}");
    assert!(err.contains("no text"), "{err}");
    // The reserved attribute is refused when saved, with the reason.
    let reserved =
        ApiCampaign { message: Message { text: "{{ context.system }}".into(), ..Message::default() }, ..form };
    let err = console.save_api_campaign(c.id, "", reserved, (None, None)).unwrap_err().to_string();
    assert!(err.contains("reserved"), "{err}");
    // Fixed: it goes live; the form lists the context the message uses.
    let fixed = ApiCampaign {
        channel: Channel::Sms,
        namespace: "phone".into(),
        message: Message { text: "Your code: {{ context.code }}".into(), ..Message::default() },
        ..ApiCampaign::default()
    };
    let (_, kept) = console.save_api_campaign(c.id, "Login codes", fixed, (None, None)).unwrap();
    assert_eq!(kept.context.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["code"]);
    let live = console.review_api_campaign(c.id).unwrap();
    assert_eq!((live.name.as_str(), live.status), ("Login codes", campaign_console::model::CampaignStatus::Live));
}

#[test]
fn a_proof_is_the_preview_with_the_sample_context_sent_to_typed_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let console = testing::console(dir.path()).unwrap();
    console.generate_demo(20, 1, false, &mut |_| true).unwrap();
    let (_, form) = console.api_campaign(RESET).unwrap();
    let (preview, _) = console.preview_api_message(&form, None).unwrap();
    assert!(preview.text.contains("https://example.com/reset?token=abc123"), "{}", preview.text);
    let err = console.send_api_proof(RESET, &form, &["not an address".into()]).unwrap_err().to_string();
    assert!(err.contains("not a valid"), "{err}");
    assert_eq!(console.send_api_proof(RESET, &form, &["qa@example.com".into()]).unwrap(), 1);
    let db = sqlite(dir.path());
    let (subject, body): (String, String) = db
        .query_row("SELECT subject, body FROM cc_sandbox_messages WHERE address = 'qa@example.com'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(subject, "[Proof] Reset your password");
    assert!(body.contains("token=abc123"), "{body}");
    assert_eq!(one(&db, "SELECT is_proof FROM cc_deliveries WHERE campaign_id = 3"), 1);
}

#[test]
fn messages_a_stopped_server_left_being_sent_are_failed_with_the_reason() {
    let api = Api::start(None);
    let (status, _, body) = api.trigger(RESET, one_recipient("i", "p2@example.com", json!({"reset_url": "u"})));
    assert_eq!(status, 202, "{body}");
    let execution = body["execution_id"].as_str().unwrap().to_owned();
    api.settled(&execution);
    let db = sqlite(api.dir.path());
    // As a crash leaves it: still being sent, long ago.
    db.execute_batch("UPDATE cc_ledger SET status = 'sending', updated_at = '2020-01-01T00:00:00Z'").unwrap();
    assert_eq!(api.console.fail_interrupted_api_sends().unwrap(), (1, 0));
    let (_, _, done) = api.call("GET", &format!("/v1/executions/{execution}"), None, Some(&api.key));
    assert_eq!(done["recipients"][0]["status"], "failed");
    assert!(done["recipients"][0]["reason"].as_str().unwrap().contains("trigger it again"), "{done}");
    assert_eq!(api.console.fail_interrupted_api_sends().unwrap(), (0, 0), "once");
}

#[test]
fn calls_a_stopped_server_accepted_but_never_sent_are_failed_with_the_reason() {
    let api = Api::start(None);
    let (status, _, body) = api.trigger(RESET, one_recipient("j", "p2@example.com", json!({"reset_url": "u"})));
    assert_eq!(status, 202, "{body}");
    let execution = body["execution_id"].as_str().unwrap().to_owned();
    api.settled(&execution);
    let db = sqlite(api.dir.path());
    // As a crash leaves it: accepted two minutes ago, its recipients never resolved.
    db.execute_batch(
        "INSERT INTO cc_api_executions (id, campaign_id, request_id, recipients_json, created_at)
         VALUES ('lost', 3, 'lost-1', '[{\"namespace\":\"email\",\"id\":\"p3@example.com\"}]', '2020-01-01T00:00:00Z')",
    )
    .unwrap();
    let (_, _, before) = api.call("GET", "/v1/executions/lost", None, Some(&api.key));
    assert_eq!(before["recipients"][0]["status"], "queued", "{before}");
    assert_eq!(api.console.fail_interrupted_api_sends().unwrap(), (0, 1));
    let (_, _, after) = api.call("GET", "/v1/executions/lost", None, Some(&api.key));
    assert_eq!(after["recipients"][0]["status"], "failed", "{after}");
    assert!(
        after["recipients"][0]["reason"].as_str().unwrap().contains("before this call's messages were made"),
        "{after}"
    );
    let retried = api.trigger(RESET, one_recipient("lost-1", "p3@example.com", json!({"reset_url": "u"})));
    assert_eq!((retried.0, retried.1), (202, true), "the same request id: the same execution, nothing sent");
    assert_eq!(retried.2["execution_id"], "lost");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_sandbox_messages WHERE address = 'p3@example.com'"), 0);
}
