//! A fake of the X API v2 on loopback (on [`MockHttp`]): every request's OAuth 1.0a signature
//! is checked with the account's keys (401 otherwise, as X answers); `GET /2/users/me` tells
//! whose keys they are; `POST /2/tweets` keeps the post; `POST /2/dm_conversations/with/{id}/messages`
//! keeps the direct message (to an id of a follower only, as X refuses others).

use std::sync::{Arc, Mutex};

use campaign_console::channels::x::oauth1::{self, Keys};

use super::mock_http::{MockHttp, Received, Reply};

/// The account the fake's keys belong to.
pub const HANDLE: &str = "TravelBrand";
/// Its id at X.
pub const ACCOUNT_ID: &str = "2244994945";

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
    /// The direct messages sent: (the recipient's id, the text), in order.
    pub dms: Arc<Mutex<Vec<(String, String)>>>,
    pub followers: Arc<Mutex<Followers>>,
}

/// The account's followers as the fake serves them, a page of `per_page` at a time.
#[derive(Default)]
pub struct Followers {
    /// (id, username), in the order X lists them.
    pub list: Vec<(String, String)>,
    pub per_page: usize,
    /// The page (0 first) answered once with a 429, its reset a second away.
    pub limit_at: Option<usize>,
    /// The pages asked for (0 first), in order, each time it was asked (429 included).
    pub asked: Vec<usize>,
    /// The followers are answered 401 (the keys revoked since).
    pub revoked: bool,
}

impl Followers {
    /// `n` followers named `fan0`, `fan1`…
    pub fn fans(n: usize, per_page: usize) -> Self {
        Self {
            list: (0..n).map(|i| (format!("{}", 9000 + i), format!("fan{i}"))).collect(),
            per_page,
            ..Self::default()
        }
    }
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
        let dms: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let followers: Arc<Mutex<Followers>> = Arc::new(Mutex::new(Followers::fans(0, 1000)));
        let kept = Kept { posts: Arc::clone(&posts), dms: Arc::clone(&dms), followers: Arc::clone(&followers) };
        let base = Arc::new(Mutex::new(String::new()));
        let at = Arc::clone(&base);
        let mock = MockHttp::start(move |r, _| answer(r, &at.lock().unwrap(), &kept));
        let url = mock.url.trim_end_matches("/messages").to_owned();
        *base.lock().unwrap() = url.clone();
        Self { mock, base: url, posts, dms, followers }
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

/// What the fake keeps and serves.
struct Kept {
    posts: Arc<Mutex<Vec<String>>>,
    dms: Arc<Mutex<Vec<(String, String)>>>,
    followers: Arc<Mutex<Followers>>,
}

/// The account's picture: 48 × 48, a blue square (a PNG, as X serves them).
pub fn avatar_png() -> Vec<u8> {
    let picture = image::RgbaImage::from_pixel(48, 48, image::Rgba([29, 155, 240, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn answer(r: &Received, base: &str, kept: &Kept) -> Reply {
    let (posts, followers) = (&kept.posts, &kept.followers);
    // The picture is served as X's image server does: no signature.
    if r.method == "GET" && r.path == "/avatar.png" {
        return Reply::Bytes { content_type: "image/png".into(), body: avatar_png() };
    }
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
                "public_metrics": { "followers_count": followers.lock().unwrap().list.len().max(5210), "following_count": 12, "tweet_count": 830, "listed_count": 3 },
                "profile_image_url": format!("{base}/avatar.png")
            }}),
        ),
        ("POST", "/2/tweets") => {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            let mut kept = posts.lock().unwrap();
            kept.push(text.clone());
            json(201, serde_json::json!({ "data": { "id": format!("17{:017}", kept.len()), "text": text } }))
        }
        ("POST", p) if p.starts_with("/2/dm_conversations/with/") && p.ends_with("/messages") => {
            let to = p.trim_start_matches("/2/dm_conversations/with/").trim_end_matches("/messages").to_owned();
            // To a follower, or to the account itself (a proof to a test account).
            if to != ACCOUNT_ID && !followers.lock().unwrap().list.iter().any(|(id, _)| *id == to) {
                return json(
                    403,
                    serde_json::json!({ "title": "Forbidden", "status": 403, "detail": "You cannot send messages to this user." }),
                );
            }
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            let mut dms = kept.dms.lock().unwrap();
            dms.push((to, text));
            json(
                201,
                serde_json::json!({ "data": { "dm_conversation_id": "1-2244994945", "dm_event_id": format!("18{:017}", dms.len()) } }),
            )
        }
        ("GET", "/2/users/2244994945/followers") => {
            let token = r.path.split("pagination_token=").nth(1).map(|t| t.split('&').next().unwrap_or_default());
            let page: usize = token.and_then(|t| t.strip_prefix('p')).and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut f = followers.lock().unwrap();
            f.asked.push(page);
            if f.revoked {
                return json(
                    401,
                    serde_json::json!({ "title": "Unauthorized", "status": 401, "detail": "Unauthorized" }),
                );
            }
            if f.limit_at == Some(page) {
                f.limit_at = None;
                let reset = campaign_console::clock::wall().as_second() + 1;
                return Reply::Status {
                    status: 429,
                    headers: vec![
                        ("x-rate-limit-limit".into(), "15".into()),
                        ("x-rate-limit-remaining".into(), "0".into()),
                        ("x-rate-limit-reset".into(), reset.to_string()),
                    ],
                    body: serde_json::json!({ "title": "Too Many Requests", "status": 429, "detail": "Too Many Requests" }).to_string(),
                    delay: std::time::Duration::ZERO,
                };
            }
            let per = f.per_page.max(1);
            let users: Vec<serde_json::Value> = f
                .list
                .iter()
                .skip(page * per)
                .take(per)
                .map(|(id, name)| serde_json::json!({ "id": id, "username": name, "name": format!("Fan {name}"), "public_metrics": { "followers_count": 3 }, "profile_image_url": format!("{base}/avatar.png") }))
                .collect();
            let mut meta = serde_json::json!({ "result_count": users.len() });
            if (page + 1) * per < f.list.len() {
                meta["next_token"] = format!("p{}", page + 1).into();
            }
            let mut body = serde_json::json!({ "meta": meta });
            if !users.is_empty() {
                body["data"] = users.into();
            }
            json(200, body)
        }
        _ => json(404, serde_json::json!({ "title": "Not Found Error", "status": 404, "detail": "no such route" })),
    }
}
