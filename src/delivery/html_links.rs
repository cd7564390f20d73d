//! The links of an HTML email body: each `<a href="http(s)://…">`, where its `href` value
//! sits, the link it leads to (character references decoded), and its alias: the anchor's
//! `data-alias`, else its text. Enough of HTML to find anchors in what a marketer writes and a
//! template renders; not a validating parser.

use std::ops::Range;

/// The longest alias kept, in characters (a long link text is cut with "…").
pub const ALIAS_MAX: usize = 80;

/// One link of an HTML body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// Where the `href` attribute's value is in the body (inside its quotes).
    pub href: Range<usize>,
    /// The link, with `&amp;` and the other references decoded.
    pub url: String,
    /// `data-alias`, else the link's text; `None` when both are empty.
    pub alias: Option<String>,
}

/// The `http://` and `https://` anchors of `html`, in order.
pub fn anchors(html: &str) -> Vec<Anchor> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<a") {
        let start = at + found;
        at = start + 2;
        if !lower[at..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue; // <abbr>, <area>, <a>: no attributes.
        }
        let Some((attributes, end)) = attributes(html, at) else { break };
        at = end;
        let Some(href) = attributes.iter().find(|a| a.name == "href").and_then(|a| a.value.clone()) else { continue };
        let url = decode(html[href.clone()].trim());
        let scheme = url.to_ascii_lowercase();
        if !(scheme.starts_with("https://") || scheme.starts_with("http://")) {
            continue; // mailto:, tel:, #anchors and relative links are not tracked.
        }
        let close = lower[end..].find("</a").map_or(html.len(), |i| end + i);
        let given =
            attributes.iter().find(|a| a.name == "data-alias").and_then(|a| a.value.clone()).map(|r| decode(&html[r]));
        let alias = given
            .map(|a| squeeze(&a))
            .filter(|a| !a.is_empty())
            .or_else(|| Some(squeeze(&decode(&text_of(&html[end..close])))).filter(|a| !a.is_empty()))
            .map(|a| cut(&a));
        out.push(Anchor { href, url, alias });
    }
    out
}

/// `html` with the `href` value of each anchor replaced by `new(anchor)` (kept on `None`).
pub fn rewrite(html: &str, anchors: &[Anchor], mut new: impl FnMut(&Anchor) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len() + anchors.len() * 120);
    let mut from = 0;
    for a in anchors {
        if let Some(replacement) = new(a) {
            out.push_str(&html[from..a.href.start]);
            out.push_str(&replacement);
            from = a.href.end;
        }
    }
    out.push_str(&html[from..]);
    out
}

/// `html` with `element` just before its `</body>`, or at its end when it has none.
pub fn before_body_end(html: &str, element: &str) -> String {
    let at = html.to_ascii_lowercase().rfind("</body").unwrap_or(html.len());
    let mut out = String::with_capacity(html.len() + element.len());
    out.push_str(&html[..at]);
    out.push_str(element);
    out.push_str(&html[at..]);
    out
}

struct Attribute {
    name: String,
    /// Where its value is (inside its quotes); `None` for a bare attribute.
    value: Option<Range<usize>>,
}

/// The attributes of a tag whose name ends at `at`, and where the tag ends (after its `>`);
/// `None` when it never ends.
fn attributes(html: &str, mut at: usize) -> Option<(Vec<Attribute>, usize)> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if *bytes.get(at)? == b'>' {
            return Some((out, at + 1));
        }
        let name_start = at;
        while at < bytes.len() && !matches!(bytes[at], b'=' | b'>' | b'/') && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let name = html[name_start..at].to_ascii_lowercase();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes.get(at) != Some(&b'=') {
            out.push(Attribute { name, value: None });
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let value = match bytes.get(at)? {
            quote @ (b'"' | b'\'') => {
                let start = at + 1;
                let end = start + html[start..].find(char::from(*quote))?;
                at = end + 1;
                start..end
            }
            _ => {
                let start = at;
                while at < bytes.len() && bytes[at] != b'>' && !bytes[at].is_ascii_whitespace() {
                    at += 1;
                }
                start..at
            }
        };
        out.push(Attribute { name, value: Some(value) });
    }
}

/// The text of an HTML fragment: its tags left out.
fn text_of(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len());
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Runs of white space as one space, none at the ends.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most [`ALIAS_MAX`] characters.
fn cut(text: &str) -> String {
    if text.chars().count() <= ALIAS_MAX {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(ALIAS_MAX - 1).collect();
    out.push('\u{2026}');
    out
}

/// `text` with its character references decoded (`&amp;`, `&#38;`, `&#x26;`, `&nbsp;`, …); an
/// unknown one is kept as it is.
pub fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &tail[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_give_their_link_and_alias_and_where_the_href_is() {
        let html = r#"<p>Hi <A class="b" HREF='https://ex.com/a?x=1&amp;y=2'>Book <b>now</b></a>,
            <a href="https://ex.com/b" data-alias="Footer offer">see</a>
            <a href=https://ex.com/c><img src="x.png"></a>
            <a href="mailto:me@ex.com">mail</a> <a name="top"></a> <abbr>x</abbr> <a href="/rel">r</a></p>"#;
        let found = anchors(html);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].url, "https://ex.com/a?x=1&y=2");
        assert_eq!(found[0].alias.as_deref(), Some("Book now"));
        assert_eq!(&html[found[0].href.clone()], "https://ex.com/a?x=1&amp;y=2");
        assert_eq!(found[1].alias.as_deref(), Some("Footer offer"));
        assert_eq!(found[2].url, "https://ex.com/c");
        assert_eq!(found[2].alias, None, "an image link has no text");
        let out = rewrite(html, &found, |a| (a.url != "https://ex.com/b").then(|| "T".to_owned()));
        assert!(out.contains("HREF='T'") && out.contains("href=T>") && out.contains("href=\"https://ex.com/b\""));
    }

    #[test]
    fn broken_html_ends_the_search_without_a_panic() {
        assert!(anchors("<a href=\"https://ex.com").is_empty());
        assert!(anchors("<a href=").is_empty());
        assert_eq!(anchors("<a href=\"https://ex.com/é\">Été</a").len(), 1);
        assert_eq!(before_body_end("<html><BODY>x</Body></html>", "<i>"), "<html><BODY>x<i></Body></html>");
        assert_eq!(before_body_end("x", "<i>"), "x<i>");
    }

    #[test]
    fn references_are_decoded_and_long_texts_cut() {
        assert_eq!(decode("a&amp;b &#38; &#x26; &lt;&gt; &bogus; & x"), "a&b & & <> &bogus; & x");
        let long = format!(r#"<a href="https://e.x">{}</a>"#, "word ".repeat(40));
        let alias = anchors(&long)[0].alias.clone().unwrap();
        assert_eq!(alias.chars().count(), ALIAS_MAX);
        assert!(alias.ends_with('\u{2026}'));
    }
}
