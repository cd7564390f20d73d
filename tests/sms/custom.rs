//! A custom SMS credential (RCS): the payload template rendered per recipient into the rich
//! card a fake RCS provider expects, each authentication kind, the answer read with JSON
//! pointers, the webhook retry classes; and its inbound and feedback webhooks on the server,
//! authenticated by the credential's token.

use std::sync::Arc;
use std::time::Duration;

use campaign_console::console::Console;
use campaign_console::model::{CampaignKind, Channel, Message, ProviderKind};
use serde_json::json;

use super::support::mock_http::{MockHttp, Received, Reply};
use super::support::{one, settings, sqlite};
use super::twilio::workspace;

/// A rich card: a title with the recipient's first name, a picture, two suggested replies.
const RICH_CARD: &str = r#"{
  "to": {{to}},
  "sender": {{from}},
  "reference": {{message_id}},
  "rcs": {
    "card": {
      "title": {{ "Summer deals for " ~ profile.first_name }},
      "description": {{body}},
      "media": {"url": "https://cdn.example.com/summer.jpg", "height": "MEDIUM"},
      "suggestions": [
        {"reply": {"text": "Book now", "postback": "book"}},
        {"action": {"text": "See offers", "url": {{ "https://example.com/offers?c=" ~ profile.id }}}}
      ]
    }
  },
  "fallback_sms": {{body}}
}"#;

fn texts(console: &Console, credential: &str) -> campaign_console::console::RunSummary {
    let c = console.create_campaign("Texts", CampaignKind::Orchestrated).unwrap();
    let message = Message {
        text: "Hi {{ profile.first_name }}, \"20%\" off.\nReply STOP to opt out.".into(),
        ..Message::default()
    };
    console.save_canvas(c.id, &super::support::blast(Channel::Sms, Some(credential), message)).unwrap();
    console.run_campaign("Texts", false, None, &mut |_, _| {}, &|| false).unwrap()
}

/// The fake RCS provider: OAuth2 tokens at /oauth/token, messages at /messages (with that
/// token), each checked to be the rich card for its recipient.
fn fake_rcs() -> MockHttp {
    MockHttp::start(|r: &Received, before| {
        if r.path == "/oauth/token" {
            let form: Vec<(String, String)> = serde_urlencoded::from_str(&r.body).unwrap();
            let ok = form.contains(&("grant_type".into(), "client_credentials".into()))
                && form.contains(&("client_id".into(), "console".into()))
                && form.contains(&("client_secret".into(), "client-s3cret".into()));
            return if ok {
                Reply::ok(r#"{"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}"#)
            } else {
                Reply::Status {
                    status: 401,
                    headers: Vec::new(),
                    body: r#"{"error": "invalid_client"}"#.into(),
                    delay: Duration::ZERO,
                }
            };
        }
        if r.header("authorization") != Some("Bearer tok-1") {
            return Reply::status(401);
        }
        let body: serde_json::Value = serde_json::from_str(&r.body).expect("the payload is JSON");
        let to = body["to"].as_str().unwrap().to_owned();
        let id: i64 = to[to.len() - 7..].parse().unwrap();
        match (id % 10, before) {
            (1, _) => Reply::Status {
                status: 400,
                headers: Vec::new(),
                body: r#"{"error": {"code": "INVALID_NUMBER", "message": "not an RCS number"}}"#.into(),
                delay: Duration::ZERO,
            },
            (2, 0) => Reply::status(503),
            _ => Reply::Status {
                status: 202,
                headers: Vec::new(),
                body: json!({ "data": { "messageId": format!("rcs-{id}") } }).to_string(),
                delay: Duration::ZERO,
            },
        }
    })
}

fn rcs_credential(console: &Console, fake: &MockHttp) -> i64 {
    let base = fake.url.trim_end_matches("/messages");
    let s = settings(
        ProviderKind::CustomSms,
        json!({
            "provider_name": "Acme RCS", "url": fake.url, "auth": "oauth2", "username": "console",
            "token_url": format!("{base}/oauth/token"), "from": "AcmeTravel", "payload": RICH_CARD,
            "message_id_pointer": "/data/messageId", "error_pointer": "/error/code",
            "headers": { "X-Tenant": "travel" }, "retry_backoff_seconds": 0.2,
        }),
    );
    console.add_credential(Channel::Sms, "Acme RCS", s, Some("client-s3cret")).unwrap().id
}

#[test]
fn a_custom_rcs_credential_sends_a_rich_card_rendered_for_each_recipient() {
    let (dir, console) = workspace(20);
    let fake = fake_rcs();
    rcs_credential(&console, &fake);
    let summary = texts(&console, "Acme RCS");
    let d = &summary.deliveries[0];
    use campaign_console::model::delivery::status;
    assert_eq!((d.count(status::SENT), d.count(status::FAILED)), (18, 2), "{d:?}");
    let db = sqlite(dir.path());
    assert_eq!(
        one(
            &db,
            "SELECT COUNT(*) FROM cc_ledger WHERE status = 'failed' AND error_code = 'INVALID_NUMBER' AND attempts = 1"
        ),
        2,
        "the error code is read where the form says, and a 400 is final"
    );
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_ledger WHERE status = 'sent' AND attempts = 2"), 2, "a 503 passes");
    let id: String =
        db.query_row("SELECT provider_message_id FROM cc_ledger WHERE recipient_key = '5'", [], |r| r.get(0)).unwrap();
    assert_eq!(id, "rcs-5", "the message id is read where the form says");

    let received = fake.received.lock().unwrap().clone();
    assert_eq!(received.iter().filter(|r| r.path == "/oauth/token").count(), 1, "one token, kept while it is good");
    let first_names: std::collections::HashMap<i64, String> = db
        .prepare("SELECT id, first_name FROM profiles")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for r in received.iter().filter(|r| r.path == "/messages") {
        assert_eq!(r.header("x-tenant"), Some("travel"));
        assert!(!r.key().is_empty(), "an idempotency key");
        let card: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let to = card["to"].as_str().unwrap();
        let id: i64 = to[to.len() - 7..].parse().unwrap();
        assert_eq!(card["sender"], "AcmeTravel");
        assert_eq!(card["rcs"]["card"]["title"], format!("Summer deals for {}", first_names[&id]));
        let text = format!("Hi {}, \"20%\" off.\nReply STOP to opt out.", first_names[&id]);
        assert_eq!(card["rcs"]["card"]["description"], text.as_str(), "quotes and line breaks stay text");
        assert_eq!(card["fallback_sms"], text.as_str());
        assert_eq!(
            card["rcs"]["card"]["suggestions"][1]["action"]["url"],
            format!("https://example.com/offers?c={id}")
        );
        assert_eq!(card["rcs"]["card"]["suggestions"][0]["reply"]["text"], "Book now");
        assert!(
            card["reference"].as_str().unwrap().contains(&format!(":{id}:")),
            "{{message_id}} is the idempotency key"
        );
    }
}

#[test]
fn each_authentication_kind_signs_the_request_as_its_provider_expects() {
    for (auth, extra, expected) in [
        ("basic", json!({ "username": "acme" }), "Basic YWNtZTpzM2NyZXQ="),
        ("bearer", json!({}), "Bearer s3cret"),
        ("header", json!({ "auth_header": "X-Api-Key" }), "s3cret"),
    ] {
        let (_dir, console) = workspace(1);
        let fake = MockHttp::start(|_, _| Reply::ok(r#"{"id": "m-1"}"#));
        let mut s = json!({ "provider_name": "P", "url": fake.url, "auth": auth, "payload": "{\"to\": {{to}}, \"text\": {{body}}}" });
        s.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        console.add_credential(Channel::Sms, "P", settings(ProviderKind::CustomSms, s), Some("s3cret")).unwrap();
        texts(&console, "P");
        let received = fake.received.lock().unwrap().clone();
        assert_eq!(received.len(), 1, "{auth}");
        let header = if auth == "header" { "x-api-key" } else { "authorization" };
        assert_eq!(received[0].header(header), Some(expected), "{auth}");
    }
}

/// Posts JSON to the server at `path`; (status, body).
fn post_json(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    body: serde_json::Value,
    token: Option<&str>,
) -> (u16, String) {
    runtime.block_on(async {
        let mut r = reqwest::Client::new().post(url).json(&body);
        if let Some(t) = token {
            r = r.header("X-Webhook-Token", t);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

#[test]
fn its_inbound_and_feedback_webhooks_take_the_credentials_token_only() {
    let (dir, console) = workspace(3);
    let fake = fake_rcs();
    let id = rcs_credential(&console, &fake);
    texts(&console, "Acme RCS");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = campaign_console::server::Server::new(Arc::clone(&console), url.clone());
    runtime.spawn(campaign_console::server::serve(server, listener, std::future::pending()));
    let (inbound, feedback) = console.sms_webhook_urls(id, &url).unwrap();
    let token = inbound.split("token=").nth(1).unwrap().to_owned();
    assert!(token.len() >= 32 && feedback.ends_with(&token), "{inbound} {feedback}");
    let db = sqlite(dir.path());

    // Feedback: refused without the token, counted once with it.
    let delivered = json!({ "message_id": "rcs-3", "status": "DELIVERED" });
    let bare = format!("{url}/webhooks/sms/{id}/feedback");
    assert_eq!(post_json(&runtime, &bare, delivered.clone(), None).0, 403);
    assert_eq!(post_json(&runtime, &bare, delivered.clone(), Some("wrong")).0, 403);
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'delivered'"), 0);
    assert_eq!(post_json(&runtime, &feedback, delivered.clone(), None).0, 200, "the token in the URL");
    assert_eq!(post_json(&runtime, &bare, delivered, Some(&token)).0, 200, "or in the header");
    assert_eq!(one(&db, "SELECT COUNT(*) FROM cc_interactions WHERE kind = 'delivered'"), 1, "once");

    // Inbound STOP: the profile opts out, and the reply goes back through the provider.
    let stop = json!({ "id": "in-1", "from": "+33610000003", "text": " STOP " });
    let (status, body) = post_json(&runtime, &inbound, stop, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(one(&db, "SELECT sms_opt_in FROM profiles WHERE id = 3"), 0);
    let replies: Vec<serde_json::Value> = fake
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/messages")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .filter(|b: &serde_json::Value| {
            b["fallback_sms"].as_str().is_some_and(|t| t.starts_with("You are unsubscribed"))
        })
        .collect();
    assert_eq!(replies.len(), 1, "the opt-out reply, once");
    assert_eq!(replies[0]["to"], "+33610000003");
    let other = format!("{url}/webhooks/sms/{}/inbound", id + 100);
    assert_eq!(post_json(&runtime, &other, json!({ "from": "+1" }), Some(&token)).0, 403, "another credential's URL");
    assert_eq!(post_json(&runtime, &inbound, json!({ "text": "hi" }), None).0, 400, "no sender");
}
