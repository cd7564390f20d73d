//! Email tracking: the links of a tracked email lead to this app's server (`/t/c/<token>`),
//! an invisible image (`/t/o/<token>`) tells when it is opened, and its List-Unsubscribe link
//! is the server's (`/u/<token>`). A token carries what it stands for (the message, the link
//! and its alias) and an HMAC-SHA256 signature with the workspace's key, kept in the keychain:
//! the server reads it without the database, so a click is redirected at once, and a token
//! nobody signed is refused.

use std::sync::Arc;

use base64::Engine as _;

use super::html_links;
use crate::channels::Outgoing;
pub use crate::model::tracking::Tracked;

/// Where a click token starts in its URL's path.
pub const CLICK_PATH: &str = "/t/c/";
/// Where an open token starts.
pub const OPEN_PATH: &str = "/t/o/";
/// Where an unsubscribe token starts.
pub const UNSUBSCRIBE_PATH: &str = "/u/";

/// The bytes of the signature a token carries (128 bits of HMAC-SHA256).
const SIGNATURE_BYTES: usize = 16;

/// The bytes of a new workspace key.
const KEY_BYTES: usize = 32;

/// The workspace's signing key.
pub struct TrackingKey(aws_lc_rs::hmac::Key);

impl std::fmt::Debug for TrackingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrackingKey(***)")
    }
}

impl TrackingKey {
    /// A new key at random, as the text the keychain keeps.
    pub fn random_secret() -> Option<String> {
        let mut bytes = [0u8; KEY_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).ok()?;
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The key a secret from [`TrackingKey::random_secret`] (or a deployment's variable) gives;
    /// `None` for a text too short to be one (under 16 bytes).
    pub fn from_secret(secret: &str) -> Option<Self> {
        let secret = secret.trim();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(secret)
            .unwrap_or_else(|_| secret.as_bytes().to_vec());
        (bytes.len() >= 16).then(|| Self(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &bytes)))
    }

    /// The token of `what`: its JSON and its signature, both base64url.
    pub fn token(&self, what: &Tracked) -> String {
        let json = serde_json::to_vec(what).unwrap_or_default();
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = engine.encode(&json);
        let signature = aws_lc_rs::hmac::sign(&self.0, payload.as_bytes());
        format!("{payload}.{}", engine.encode(&signature.as_ref()[..SIGNATURE_BYTES]))
    }

    /// What `token` stands for, when this key signed it; `None` for a forged, altered or
    /// damaged one.
    pub fn read(&self, token: &str) -> Option<Tracked> {
        let (payload, signature) = token.split_once('.')?;
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let given = engine.decode(signature).ok()?;
        let expected = aws_lc_rs::hmac::sign(&self.0, payload.as_bytes());
        aws_lc_rs::constant_time::verify_slices_are_equal(&expected.as_ref()[..SIGNATURE_BYTES], &given).ok()?;
        serde_json::from_slice(&engine.decode(payload).ok()?).ok()
    }
}

/// How a delivery's emails are tracked: the server's public URL their links lead to, and the
/// key their tokens are signed with.
#[derive(Clone, Debug)]
pub struct Tracking {
    /// "https://hooks.example.com", without a trailing slash.
    pub base: String,
    pub key: Arc<TrackingKey>,
}

impl Tracking {
    pub fn new(base: &str, key: Arc<TrackingKey>) -> Self {
        Self { base: base.trim().trim_end_matches('/').to_owned(), key }
    }

    /// The URL of `what` on the server.
    pub fn url(&self, what: &Tracked) -> String {
        let path = match what {
            Tracked::Click { .. } => CLICK_PATH,
            Tracked::Open { .. } => OPEN_PATH,
            Tracked::Unsubscribe { .. } => UNSUBSCRIBE_PATH,
        };
        format!("{}{path}{}", self.base, self.key.token(what))
    }

    /// Tracks an email: its HTML links and text links lead through the server (a link of the
    /// text has the alias of the same link in the HTML), its HTML gets the open image, and it
    /// gets the server's unsubscribe link. The same message always gets the same URLs.
    pub fn apply(&self, o: &mut Outgoing) {
        let message = o.idempotency_key.clone();
        let ours = |url: &str| url.starts_with(&self.base);
        let click = |url: &str, alias: Option<String>| {
            self.url(&Tracked::Click { message: message.clone(), url: url.to_owned(), alias })
        };
        let anchors = html_links::anchors(&o.html);
        if !o.html.trim().is_empty() {
            let html =
                html_links::rewrite(&o.html, &anchors, |a| (!ours(&a.url)).then(|| click(&a.url, a.alias.clone())));
            let pixel = format!(
                "<img src=\"{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">",
                self.url(&Tracked::Open { message: message.clone() })
            );
            o.html = html_links::before_body_end(&html, &pixel);
        }
        o.text = super::links::replace_links(&o.text, |url| {
            let alias = anchors.iter().find(|a| a.url == url).and_then(|a| a.alias.clone());
            (!ours(url)).then(|| click(url, alias))
        });
        o.unsubscribe = self.url(&Tracked::Unsubscribe { message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Arc<TrackingKey> {
        Arc::new(TrackingKey::from_secret(&TrackingKey::random_secret().unwrap()).unwrap())
    }

    #[test]
    fn a_token_reads_back_with_its_key_only_and_not_once_altered() {
        let k = key();
        let what = Tracked::Click { message: "d1:r2".into(), url: "https://ex.com/?a=1&b=é".into(), alias: None };
        let token = k.token(&what);
        assert_eq!(k.read(&token), Some(what.clone()));
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
        assert_eq!(key().read(&token), None, "another workspace's key");
        let (payload, signature) = token.split_once('.').unwrap();
        let other = k.token(&Tracked::Open { message: "d1:r2".into() });
        assert_eq!(k.read(&format!("{}.{signature}", other.split_once('.').unwrap().0)), None, "swapped payload");
        assert_eq!(k.read(payload), None);
        assert_eq!(k.read(&format!("{payload}.")), None);
        assert_eq!(k.read("not a token"), None);
        assert!(TrackingKey::from_secret("short").is_none());
    }

    #[test]
    fn an_email_is_tracked_the_same_way_each_time() {
        let tracking = Tracking::new("http://127.0.0.1:8080/", key());
        let mut o = Outgoing {
            idempotency_key: "d7:r1".into(),
            html: "<html><body><a href=\"https://ex.com/book?x=1&amp;y=2\">Book now</a>\
                   <a href=\"mailto:help@ex.com\">help</a></body></html>"
                .into(),
            text: "Book now: https://ex.com/book?x=1&y=2.".into(),
            ..Outgoing::default()
        };
        let mut again = o.clone();
        tracking.apply(&mut o);
        tracking.apply(&mut again);
        assert_eq!(o, again);
        let found = html_links::anchors(&o.html);
        assert_eq!(found.len(), 1, "mailto: is left alone");
        let token = found[0].url.strip_prefix("http://127.0.0.1:8080/t/c/").expect("a click link");
        assert_eq!(
            tracking.key.read(token),
            Some(Tracked::Click {
                message: "d7:r1".into(),
                url: "https://ex.com/book?x=1&y=2".into(),
                alias: Some("Book now".into())
            })
        );
        assert!(o.html.contains("/t/o/") && o.html.ends_with("</body></html>"));
        assert!(o.text.starts_with("Book now: http://127.0.0.1:8080/t/c/") && o.text.ends_with('.'));
        assert!(o.unsubscribe.starts_with("http://127.0.0.1:8080/u/"));
    }
}
