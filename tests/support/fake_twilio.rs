//! A fake of Twilio's Messages API on loopback (on [`MockHttp`]): it checks HTTP Basic with
//! its account and token, keeps the messages it accepts, lists them back as Twilio does
//! (`To`, `DateSent>`), answers the account resource, and refuses messages as a test's rule
//! says (by recipient and attempt).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use super::mock_http::{MockHttp, Received, Reply};

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "fake-auth-token-5f1d";
pub const SERVICE: &str = "MG0123456789abcdef0123456789abcdef";

/// A message the fake accepted.
#[derive(Clone, Debug)]
pub struct Stored {
    pub sid: String,
    pub to: String,
    pub form: Vec<(String, String)>,
    pub date_sent: String,
}

impl Stored {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What the rule answers for a message to `to`, tried for the `attempt`-th time (0 first):
/// `None` accepts it.
pub type Refusal = dyn Fn(&str, usize) -> Option<Reply> + Send + Sync;

pub struct FakeTwilio {
    pub mock: MockHttp,
    /// `http://127.0.0.1:port`: the credential's API base URL.
    pub base: String,
    pub stored: Arc<Mutex<Vec<Stored>>>,
}

/// A Twilio error answer.
pub fn error(status: u16, code: i64, message: &str) -> Reply {
    Reply::Status {
        status,
        headers: Vec::new(),
        body: serde_json::json!({ "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status }).to_string(),
        delay: Duration::ZERO,
    }
}

impl FakeTwilio {
    pub fn start(refuse: impl Fn(&str, usize) -> Option<Reply> + Send + Sync + 'static) -> Self {
        let stored: Arc<Mutex<Vec<Stored>>> = Arc::default();
        let attempts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (kept, refuse) = (Arc::clone(&stored), Arc::new(refuse) as Arc<Refusal>);
        let mock = MockHttp::start(move |request, _| answer(request, &kept, &attempts, &*refuse));
        let base = mock.url.trim_end_matches("/messages").to_owned();
        Self { mock, base, stored }
    }

    /// The Create Message requests received, as forms.
    pub fn created(&self) -> Vec<Vec<(String, String)>> {
        self.mock
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == "POST")
            .map(|r| serde_urlencoded::from_str(&r.body).unwrap())
            .collect()
    }

    /// Forgets the message sent to `to` (as if the provider never got it).
    pub fn forget(&self, to: &str) {
        self.stored.lock().unwrap().retain(|m| m.to != to);
    }
}

fn answer(
    request: &Received,
    stored: &Mutex<Vec<Stored>>,
    attempts: &Mutex<HashMap<String, usize>>,
    refuse: &Refusal,
) -> Reply {
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}")));
    if request.header("authorization") != Some(basic.as_str()) {
        return error(401, 20003, "Authenticate");
    }
    let (path, query) = request.path.split_once('?').unwrap_or((request.path.as_str(), ""));
    let messages = format!("/2010-04-01/Accounts/{SID}/Messages.json");
    if request.method == "GET" && path == format!("/2010-04-01/Accounts/{SID}.json") {
        return Reply::ok(&serde_json::json!({ "sid": SID, "status": "active" }).to_string());
    }
    if path != messages {
        return error(404, 20404, "The requested resource was not found");
    }
    if request.method == "GET" {
        let q: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        let to = q.iter().find(|(k, _)| k == "To").map(|(_, v)| v.clone()).unwrap_or_default();
        assert!(q.iter().any(|(k, _)| k == "DateSent>"), "the lookup asks for messages sent since a day: {query}");
        let list: Vec<serde_json::Value> =
            stored.lock().unwrap().iter().filter(|m| m.to == to).rev().map(resource).collect();
        let page = serde_json::json!({
            "messages": list, "end": list.len(), "page": 0, "page_size": 100, "start": 0,
            "first_page_uri": messages, "next_page_uri": null, "previous_page_uri": null, "uri": messages,
        });
        return Reply::ok(&page.to_string());
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&request.body).unwrap();
    let to = form.iter().find(|(k, _)| k == "To").map(|(_, v)| v.clone()).unwrap_or_default();
    let attempt = {
        let mut a = attempts.lock().unwrap();
        let n = a.entry(to.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    if let Some(reply) = refuse(&to, attempt) {
        return reply;
    }
    let mut kept = stored.lock().unwrap();
    let m = Stored {
        sid: format!("SM{:032x}", kept.len() + 1),
        to,
        form,
        date_sent: jiff::fmt::rfc2822::to_string(&campaign_console::clock::wall().to_zoned(jiff::tz::TimeZone::UTC))
            .unwrap(),
    };
    let body = resource(&m).to_string();
    kept.push(m);
    Reply::Status { status: 201, headers: Vec::new(), body, delay: Duration::ZERO }
}

/// A Message resource as Twilio writes it.
fn resource(m: &Stored) -> serde_json::Value {
    serde_json::json!({
        "account_sid": SID, "api_version": "2010-04-01", "body": m.field("Body"), "date_created": m.date_sent,
        "date_sent": m.date_sent, "date_updated": m.date_sent, "direction": "outbound-api", "error_code": null,
        "error_message": null, "from": m.field("From"), "messaging_service_sid": m.field("MessagingServiceSid"),
        "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD", "sid": m.sid, "status": "queued",
        "to": m.to, "uri": format!("/2010-04-01/Accounts/{SID}/Messages/{}.json", m.sid),
    })
}
