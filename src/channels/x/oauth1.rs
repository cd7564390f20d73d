//! OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as the X API takes it for user-context
//! calls: RFC 3986 percent-encoding, the parameters of the query and of a form body with the
//! `oauth_*` ones (a JSON body is never signed), the signature base string, the key
//! `enc(consumer_secret)&enc(token_secret)`, and the `Authorization: OAuth …` header.

use base64::Engine as _;

/// The four keys of an X app and the account that authorised it.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
}

impl std::fmt::Debug for Keys {
    /// Only the public halves: secrets never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("consumer_key", &self.consumer_key)
            .field("access_token", &self.access_token)
            .finish_non_exhaustive()
    }
}

/// RFC 3986 percent-encoding: letters, digits and `-._~` are kept, every other byte of the
/// UTF-8 text is `%XX` in upper case.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL as signed: scheme and host in lower case, the port only when it is not the
/// scheme's, the path; no query, no fragment.
fn base_url(url: &reqwest::Url) -> String {
    let scheme = url.scheme().to_ascii_lowercase();
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = match (url.port(), scheme.as_str()) {
        (Some(80), "http") | (Some(443), "https") | (None, _) => String::new(),
        (Some(p), _) => format!(":{p}"),
    };
    format!("{scheme}://{host}{port}{}", url.path())
}

/// The signature base string of a request: `METHOD&enc(base URL)&enc(parameters)`, the
/// parameters (the URL's query, `form`, `oauth`) encoded, sorted by name then value, joined.
pub fn base_string(method: &str, url: &reqwest::Url, form: &[(String, String)], oauth: &[(String, String)]) -> String {
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .chain(form.iter().chain(oauth).map(|(k, v)| (encode(k), encode(v))))
        .collect();
    params.sort();
    let joined: Vec<String> = params.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}&{}&{}", method.to_ascii_uppercase(), encode(&base_url(url)), encode(&joined.join("&")))
}

/// HMAC-SHA1 of the base string with `enc(consumer_secret)&enc(token_secret)`, in base64.
pub fn signature(
    keys: &Keys,
    method: &str,
    url: &reqwest::Url,
    form: &[(String, String)],
    oauth: &[(String, String)],
) -> String {
    use aws_lc_rs::hmac;
    let key = format!("{}&{}", encode(&keys.consumer_secret), encode(&keys.access_token_secret));
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes());
    let signed = hmac::sign(&key, base_string(method, url, form, oauth).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(signed.as_ref())
}

/// The `oauth_*` parameters of a request (without its signature).
pub fn oauth_params(keys: &Keys, nonce: &str, timestamp: i64) -> Vec<(String, String)> {
    [
        ("oauth_consumer_key", keys.consumer_key.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", &timestamp.to_string()),
        ("oauth_token", keys.access_token.as_str()),
        ("oauth_version", "1.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The `Authorization` header of a request to `url` with the form body `form` (empty for a
/// JSON body or none), signed at `timestamp` (seconds, from the Clock) with `nonce`.
pub fn authorization(
    keys: &Keys,
    method: &str,
    url: &reqwest::Url,
    form: &[(String, String)],
    nonce: &str,
    timestamp: i64,
) -> String {
    let mut oauth = oauth_params(keys, nonce, timestamp);
    let signed = signature(keys, method, url, form, &oauth);
    oauth.push(("oauth_signature".to_owned(), signed));
    oauth.sort();
    let fields: Vec<String> = oauth.iter().map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v))).collect();
    format!("OAuth {}", fields.join(", "))
}

/// A fresh nonce: 32 random letters and digits.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The parameters of an `Authorization: OAuth …` header, decoded (a server checking a
/// signature reads them; `None` when it is not one).
pub fn parse_authorization(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim().strip_prefix("OAuth ")?;
    let decode = |s: &str| percent_decode(s.trim());
    rest.split(',')
        .map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// `%XX` sequences decoded (a bad one: `None`).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `header` is a valid signature of the request with `keys` (a server's check, used by
/// the local fakes): same consumer key and token, and the signature recomputed from its own
/// `oauth_*` parameters matches.
pub fn verify(keys: &Keys, header: &str, method: &str, url: &reqwest::Url, form: &[(String, String)]) -> bool {
    let Some(mut params) = parse_authorization(header) else { return false };
    let Some(at) = params.iter().position(|(k, _)| k == "oauth_signature") else { return false };
    let given = params.remove(at).1;
    let has = |k: &str, v: &str| params.iter().any(|(pk, pv)| pk == k && pv == v);
    has("oauth_consumer_key", &keys.consumer_key)
        && has("oauth_token", &keys.access_token)
        && signature(keys, method, url, form, &params) == given
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// X's "Creating a signature" page, by value (its request, keys, nonce and timestamp).
    #[test]
    fn the_worked_example_of_x_signs_as_x_documents_it() {
        let keys = Keys {
            consumer_key: "xvz1evFS4wEEPTGEFPHBog".into(),
            consumer_secret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw".into(),
            access_token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb".into(),
            access_token_secret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE".into(),
        };
        let u = url("https://api.x.com/1.1/statuses/update.json?include_entities=true");
        let form = pairs(&[("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]);
        let oauth = oauth_params(&keys, "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", 1_318_622_958);
        let base = base_string("post", &u, &form, &oauth);
        assert!(base.starts_with("POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26"), "{base}");
        assert!(
            base.ends_with(
                "%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
            ),
            "{base}"
        );
        assert_eq!(signature(&keys, "POST", &u, &form, &oauth), "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
        // The same request to api.twitter.com, as the page was first written.
        let old = url("https://api.twitter.com/1.1/statuses/update.json?include_entities=true");
        assert_eq!(signature(&keys, "POST", &old, &form, &oauth), "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
        let header =
            authorization(&keys, "POST", &u, &form, "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", 1_318_622_958);
        assert!(header.starts_with("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", oauth_nonce=\""), "{header}");
        assert!(header.contains("oauth_signature=\"Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D\""), "{header}");
        assert!(verify(&keys, &header, "POST", &u, &form));
        let tampered = pairs(&[("status", "Hello Ladies + Gentlemen, a signed OAuth request?")]);
        assert!(!verify(&keys, &header, "POST", &u, &tampered), "a changed body no longer verifies");
    }

    /// RFC 5849, section 1.2 (no `oauth_version`, a plain-HTTP URL with a query).
    #[test]
    fn the_example_of_rfc_5849_signs_as_the_rfc_says() {
        let keys = Keys {
            consumer_key: "dpf43f3p2l4k3l03".into(),
            consumer_secret: "kd94hf93k423kf44".into(),
            access_token: "nnch734d00sl2jdk".into(),
            access_token_secret: "pfkkdhi9sl3r4s00".into(),
        };
        let u = url("http://photos.example.net/photos?file=vacation.jpg&size=original");
        let oauth = pairs(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ]);
        assert_eq!(signature(&keys, "GET", &u, &[], &oauth), "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
        assert_eq!(encode("An encoded string!"), "An%20encoded%20string%21");
        assert_eq!(encode("Dogs, Cats & Mice"), "Dogs%2C%20Cats%20%26%20Mice");
        assert_eq!(encode("☃"), "%E2%98%83");
        assert_eq!(encode("a-b._~"), "a-b._~");
        assert_eq!(base_url(&url("HTTPS://API.X.com:443/2/users/me?x=1")), "https://api.x.com/2/users/me");
        assert_eq!(base_url(&url("http://127.0.0.1:8099/2/tweets")), "http://127.0.0.1:8099/2/tweets");
        assert!(parse_authorization("Bearer abc").is_none());
    }
}
