//! A fake of the X API v2 on loopback (on [`MockHttp`]): every request's OAuth 1.0a signature
//! is checked with the account's keys (401 otherwise, as X answers); `GET /2/users/me` tells
//! whose keys they are; `POST /2/tweets` keeps the post.

use std::sync::{Arc, Mutex};

use campaign_console::channels::x::oauth1::{self, Keys};

use super::mock_http::{MockHttp, Received, Reply};

/// The account the fake's keys belong to.
pub const HANDLE: &str = "TravelBrand";

pub fn keys() -> Keys {
    Keys {
        consumer_key: "ck-fake-3f9a".into(),
        consumer_secret: "cs-fake-Ladies+Gentlemen&co".into(),
        access_token: "1234-at-fake".into(),
        access_token_secret: "ats-fake-7c1e".into(),
    }
}

/// The keys as a service's form or `x add` takes them, by slot.
pub fn slots(k: &Keys) -> std::collections::BTreeMap<String, String> {
    use campaign_console::channels::x::{ACCESS_TOKEN, ACCESS_TOKEN_SECRET, CONSUMER_KEY, CONSUMER_SECRET};
    [
        (CONSUMER_KEY, &k.consumer_key),
        (CONSUMER_SECRET, &k.consumer_secret),
        (ACCESS_TOKEN, &k.access_token),
        (ACCESS_TOKEN_SECRET, &k.access_token_secret),
    ]
    .into_iter()
    .map(|(slot, v)| (slot.to_owned(), v.clone()))
    .collect()
}

pub struct FakeX {
    pub mock: MockHttp,
    /// `http://127.0.0.1:port`: the service's API base URL.
    pub base: String,
    /// The texts posted, in order.
    pub posts: Arc<Mutex<Vec<String>>>,
}

fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply::Status {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
        delay: std::time::Duration::ZERO,
    }
}

impl FakeX {
    pub fn start() -> Self {
        let posts: Arc<Mutex<Vec<String>>> = Arc::default();
        let kept = Arc::clone(&posts);
        let base = Arc::new(Mutex::new(String::new()));
        let at = Arc::clone(&base);
        let mock = MockHttp::start(move |r, _| answer(r, &at.lock().unwrap(), &kept));
        let url = mock.url.trim_end_matches("/messages").to_owned();
        *base.lock().unwrap() = url.clone();
        Self { mock, base: url, posts }
    }

    /// How many requests came with a signature that did not verify.
    pub fn unsigned(&self) -> usize {
        let base = self.base.clone();
        self.mock.received.lock().unwrap().iter().filter(|r| !signed(r, &base)).count()
    }
}

fn signed(r: &Received, base: &str) -> bool {
    let url = reqwest::Url::parse(&format!("{base}{}", r.path)).unwrap();
    r.header("authorization").is_some_and(|h| oauth1::verify(&keys(), h, &r.method, &url, &[]))
}

fn answer(r: &Received, base: &str, posts: &Mutex<Vec<String>>) -> Reply {
    if !signed(r, base) {
        return json(
            401,
            serde_json::json!({ "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized" }),
        );
    }
    let path = r.path.split('?').next().unwrap_or_default();
    match (r.method.as_str(), path) {
        ("GET", "/2/users/me") => json(
            200,
            serde_json::json!({ "data": {
                "id": "2244994945", "username": HANDLE, "name": "Travel Brand", "verified": true,
                "public_metrics": { "followers_count": 5210, "following_count": 12, "tweet_count": 830, "listed_count": 3 },
                "profile_image_url": "https://pbs.twimg.com/profile_images/1/travel_normal.jpg"
            }}),
        ),
        ("POST", "/2/tweets") => {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            let mut kept = posts.lock().unwrap();
            kept.push(text.clone());
            json(201, serde_json::json!({ "data": { "id": format!("17{:017}", kept.len()), "text": text } }))
        }
        _ => json(404, serde_json::json!({ "title": "Not Found Error", "status": 404, "detail": "no such route" })),
    }
}
