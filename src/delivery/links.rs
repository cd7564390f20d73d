//! Link shortening for SMS: each `http(s)://` link of a message becomes `<base>/s/<code>`, a
//! code of the message and the link, so that the same message always gets the same short
//! links (a retry, a resumed run, a provider's lookup by text all see one text).

use base64::Engine as _;
use rusqlite::Connection;

use crate::channels::Outgoing;

/// Where a short link's code starts in its URL path.
pub const PATH: &str = "/s/";

/// `text` with its links shortened on `base` (the server's public URL), and each code with
/// the link it stands for. Punctuation that ends a sentence is not taken as part of a link.
pub fn shorten(text: &str, base: &str, message_key: &str) -> (String, Vec<(String, String)>) {
    let short = format!("{}{PATH}", base.trim().trim_end_matches('/'));
    let mut links = Vec::new();
    let out = replace_links(text, |url| {
        if url.starts_with(&short) {
            return None;
        }
        let code = code(message_key, links.len(), url);
        links.push((code.clone(), url.to_owned()));
        Some(format!("{short}{code}"))
    });
    (out, links)
}

/// `text` with each `http://` or `https://` link replaced by what `replace` gives for it (kept
/// as it is on `None`). Punctuation that ends a sentence is not taken as part of a link, nor
/// is a scheme with nothing after it.
pub fn replace_links(text: &str, mut replace: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = next_link(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"', '>']);
        let bare = url.len() <= "https://".len();
        match (!bare).then(|| replace(url)).flatten() {
            Some(new) => out.push_str(&new),
            None => out.push_str(url),
        }
        // A bare scheme is passed over whole, so that the search goes on after it.
        rest = &tail[url.len().max(1)..];
    }
    out.push_str(rest);
    out
}

/// A message made again to look it up at the provider: its links shortened as when it was
/// sent (the codes are the message's), when they were.
pub(super) fn made_again(mut o: Outgoing, short_links: Option<&str>) -> Outgoing {
    if let Some(base) = short_links {
        o.text = shorten(&o.text, base, &o.idempotency_key).0;
    }
    o
}

/// The links of messages about to be sent: their SMS links shortened on `short_links` (each
/// code kept before anything is sent: a click can come as soon as the message arrives), their
/// email links tracked through the server when `tracking` says so.
pub fn prepare<'a>(
    conn: &Connection,
    short_links: Option<&str>,
    tracking: Option<&super::tracking::Tracking>,
    messages: impl IntoIterator<Item = &'a mut Outgoing>,
) -> Result<(), super::DeliveryError> {
    let now = crate::clock::wall();
    // A savepoint: its own transaction, or a part of the caller's.
    crate::store::in_savepoint(conn, "prepare_links", || {
        for o in messages {
            if let Some(base) = short_links {
                let (text, found) = shorten(&o.text, base, &o.idempotency_key);
                if !found.is_empty() {
                    crate::store::short_links::keep(conn, &o.idempotency_key, &found, now)?;
                    o.text = text;
                }
            }
            if let Some(t) = tracking {
                t.apply(o);
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Where the next `http://` or `https://` link starts.
fn next_link(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("https://"), lower.find("http://")].into_iter().flatten().min()
}

/// Twelve URL-safe characters from SHA-256 of the message, the link's place and the link.
fn code(message_key: &str, index: usize, url: &str) -> String {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{message_key}\n{index}\n{url}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_become_short_links_of_the_message_and_the_rest_is_kept() {
        let text = "Hi Ana, book now: https://example.com/offer?id=7&x=1. Or see HTTP://example.org/a) Reply STOP";
        let (out, links) = shorten(text, "https://hooks.example.com/", "m-1");
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].1, "https://example.com/offer?id=7&x=1");
        assert_eq!(links[1].1, "HTTP://example.org/a");
        assert_eq!(
            out,
            format!(
                "Hi Ana, book now: https://hooks.example.com/s/{}. Or see https://hooks.example.com/s/{}) Reply STOP",
                links[0].0, links[1].0
            )
        );
        assert!(
            links
                .iter()
                .all(|(c, _)| c.len() == 12 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        );
        // The same message gets the same codes; another message, others.
        assert_eq!(shorten(text, "https://hooks.example.com", "m-1"), (out.clone(), links.clone()));
        assert_ne!(shorten(text, "https://hooks.example.com", "m-2").1[0].0, links[0].0);
    }

    #[test]
    fn text_without_links_and_links_already_short_are_left_alone() {
        assert_eq!(
            shorten("No link here. https:// alone", "https://h.example", "k"),
            ("No link here. https:// alone".to_owned(), vec![])
        );
        let short = "See https://h.example/s/abcdefghijkl now";
        assert_eq!(shorten(short, "https://h.example", "k"), (short.to_owned(), vec![]));
        let (out, links) = shorten("Été: https://ex.fr/é", "https://h.example", "k");
        assert_eq!(links[0].1, "https://ex.fr/é");
        assert!(out.starts_with("Été: https://h.example/s/"));
    }
}
