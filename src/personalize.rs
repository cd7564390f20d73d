//! Message personalization (minijinja): `{{profile.first_name}}`, `{{bookings.hotel_name}}` for
//! multi-level sends, `{{enrichment.total_spent}}`, `{{context.reset_url}}` for API-triggered
//! sends, with the filters `default`, `upper`, `lower` and `date`.
//!
//! Templates are strict: a variable that the message's recipients do not have is an error when
//! the message is checked, naming the variable, not an empty gap in a sent message. HTML bodies of
//! emails are escaped; text, SMS and push are not. [`sms_size`] counts characters and segments.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

/// The name of the reserved context attribute (API-triggered sends may not set it).
pub const RESERVED_CONTEXT: &str = "system";

/// How much work one message may take (minijinja "fuel"): a runaway loop stops with an error.
const FUEL: u64 = 50_000;

/// Whether rendered values are escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// Email HTML bodies: `<`, `>`, `&` and quotes in values become entities.
    Html,
    /// Text, SMS, push, subjects: values as they are.
    None,
    /// Webhook bodies: each value is written as JSON (a string quoted and escaped, a number
    /// as a number), so `{"name": {{ profile.first_name }}}` stays valid JSON whatever the name.
    Json,
}

/// What a message's template may refer to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scope {
    /// The profile's columns (`profile.<column>`).
    pub profile: Vec<String>,
    /// For multi-level sends: the secondary entity and its columns (`bookings.<column>`).
    pub secondary: Option<(String, Vec<String>)>,
    /// Enrichment aliases (`enrichment.<alias>`).
    pub enrichment: Vec<String>,
    /// Whether `context.<attr>` may be used (API-triggered campaigns).
    pub context: bool,
    /// Whether `trigger.<field>` may be used (action-triggered campaigns: what triggered it).
    pub trigger: bool,
    /// The recipient is a visitor (an X direct message): its columns are `visitor.<column>`,
    /// and [`Self::profile`] holds them.
    pub visitor: bool,
}

/// The name a recipient's row goes by in a message: `visitor` for a visitor (an X direct
/// message), else `profile`.
pub fn recipient_root(visitor: bool) -> &'static str {
    if visitor { "visitor" } else { "profile" }
}

/// A template that does not fit its scope, in words for the marketer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateProblem {
    /// The variable as written (`profile.frist_name`), when the problem is about one.
    pub variable: Option<String>,
    pub message: String,
}

impl std::fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.variable {
            Some(v) => write!(f, "{{{{{v}}}}}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn environment(escape: Escape) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(move |_| match escape {
        Escape::Html => AutoEscape::Html,
        Escape::None => AutoEscape::None,
        Escape::Json => AutoEscape::Json,
    });
    env.add_filter("date", date_filter);
    env
}

/// `{{ profile.birth_date | date("%d %B") }}`: a date or an RFC 3339 instant, formatted with
/// strftime directives (default `%Y-%m-%d`); an empty value stays empty.
fn date_filter(value: Value, format: Option<String>) -> Result<String, minijinja::Error> {
    let format = format.unwrap_or_else(|| "%Y-%m-%d".to_owned());
    if value.is_none() || value.is_undefined() {
        return Ok(String::new());
    }
    let text = value.to_string();
    if text.is_empty() {
        return Ok(text);
    }
    let bad = |what: &str| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("\u{201c}{text}\u{201d} is not {what}"))
    };
    let formatted = if let Ok(t) = text.parse::<jiff::Timestamp>() {
        t.to_zoned(jiff::tz::TimeZone::UTC).strftime(&format).to_string()
    } else if let Ok(d) = text.parse::<jiff::civil::Date>() {
        d.strftime(&format).to_string()
    } else {
        return Err(bad("a date"));
    };
    Ok(formatted)
}

/// Names minijinja provides itself (its global functions).
const GLOBALS: [&str; 4] = ["range", "dict", "namespace", "debug"];

/// A template checked and ready to render many times.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Parses `source` and checks every variable against `scope`.
    pub fn new(source: &str, escape: Escape, scope: &Scope) -> Result<Self, Vec<TemplateProblem>> {
        let mut env = environment(escape);
        env.add_template_owned("message", source.to_owned()).map_err(|e| vec![syntax_problem(&e)])?;
        let problems = {
            let template = env.get_template("message").map_err(|e| vec![syntax_problem(&e)])?;
            let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
            used.sort();
            used.iter()
                .filter(|v| !GLOBALS.contains(&v.split('.').next().unwrap_or(v)))
                .filter_map(|v| unknown(v, scope))
                .collect::<Vec<_>>()
        };
        if problems.is_empty() { Ok(Self { env }) } else { Err(problems) }
    }

    /// The message for one recipient.
    pub fn render(&self, values: &Values) -> Result<String, RenderError> {
        let template = self.env.get_template("message").map_err(|e| RenderError::of(&e))?;
        template.render(values.to_value()).map_err(|e| RenderError::of(&e))
    }
}

/// The context attributes (`context.<name>`) that `sources` use, each once, by name. A
/// template that does not parse uses none (its syntax is reported where it is checked).
pub fn context_names(sources: &[&str]) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for source in sources.iter().filter(|s| !s.trim().is_empty()) {
        let mut env = environment(Escape::None);
        if env.add_template_owned("message", (*source).to_owned()).is_err() {
            continue;
        }
        let Ok(template) = env.get_template("message") else { continue };
        for v in template.undeclared_variables(true) {
            if let Some(("context", rest)) = v.split_once('.') {
                names.insert(rest.split('.').next().unwrap_or(rest).to_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// Checks `source` against `scope` without keeping it.
pub fn check(source: &str, scope: &Scope) -> Result<(), Vec<TemplateProblem>> {
    Renderer::new(source, Escape::None, scope).map(drop)
}

/// One recipient's values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values {
    pub profile: BTreeMap<String, Value>,
    /// The secondary entity's name and row (multi-level sends).
    pub secondary: Option<(String, BTreeMap<String, Value>)>,
    pub enrichment: BTreeMap<String, Value>,
    pub context: BTreeMap<String, String>,
    /// What triggered an action-triggered message (`trigger.campaign`, …).
    pub trigger: BTreeMap<String, String>,
    /// The recipient is a visitor: [`Self::profile`] is its row, as `visitor`.
    pub visitor: bool,
}

impl Values {
    fn to_value(&self) -> Value {
        let mut root: BTreeMap<String, Value> = BTreeMap::new();
        root.insert(recipient_root(self.visitor).into(), Value::from(self.profile.clone()));
        root.insert("enrichment".into(), Value::from(self.enrichment.clone()));
        root.insert("context".into(), Value::from(self.context.clone()));
        root.insert("trigger".into(), Value::from(self.trigger.clone()));
        if let Some((entity, row)) = &self.secondary {
            root.insert(entity.clone(), Value::from(row.clone()));
        }
        Value::from(root)
    }
}

/// What is wrong with the variable `name` (as `a.b`), if anything.
fn unknown(name: &str, scope: &Scope) -> Option<TemplateProblem> {
    let problem = |message: String| Some(TemplateProblem { variable: Some(name.to_owned()), message });
    let (head, rest) = match name.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (name, None),
    };
    let attr = rest.map(|r| r.split('.').next().unwrap_or(r));
    let check_in = |what: &str, list: &[String]| match attr {
        None => problem(format!("name one of the {what}, as {head}.<name>")),
        Some(a) if list.iter().any(|c| c == a) => None,
        Some(a) if list.is_empty() => problem(format!("{head} has no {a}: no {what} reach this message")),
        Some(a) => problem(format!("{head} has no {a}; it has {}", list.join(", "))),
    };
    match head {
        "visitor" if scope.visitor => check_in("visitor's columns", &scope.profile),
        "profile" if scope.visitor => {
            problem("a direct message goes to a visitor: use visitor.<column> (visitor.username)".into())
        }
        "visitor" => problem("visitor.<column> is for X direct messages, which go to visitors".into()),
        "profile" => check_in("profile's columns", &scope.profile),
        "enrichment" => check_in("enrichment columns", &scope.enrichment),
        "trigger" if !scope.trigger => problem("trigger values exist only in action-triggered campaigns".into()),
        "trigger" => check_in(
            "trigger's values",
            &crate::model::connector::TRIGGER_FIELDS.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>(),
        ),
        "context" if !scope.context => problem("context values exist only in API-triggered campaigns".into()),
        "context" => match attr {
            None => problem("name the context value, as context.<name>".into()),
            Some(RESERVED_CONTEXT) => problem(format!("context.{RESERVED_CONTEXT} is reserved")),
            Some(_) => None,
        },
        other => match &scope.secondary {
            Some((entity, columns)) if entity == other => check_in(&format!("{entity} columns"), columns),
            Some((entity, _)) => problem(format!(
                "unknown variable; use profile.<column>, {entity}.<column>, enrichment.<name>{}",
                if scope.context { " or context.<name>" } else { "" }
            )),
            None => problem(format!(
                "unknown variable; use profile.<column>, enrichment.<name>{}",
                if scope.context { " or context.<name>" } else { "" }
            )),
        },
    }
}

fn syntax_problem(e: &minijinja::Error) -> TemplateProblem {
    let at = e.line().map(|l| format!("line {l}: ")).unwrap_or_default();
    let detail = e.detail().map_or_else(|| e.kind().to_string(), str::to_owned);
    TemplateProblem { variable: None, message: format!("{at}{detail}") }
}

/// Why a message could not be made for one recipient (a value a filter cannot take, a
/// missing variable in strict mode): where in the template, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{detail}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct RenderError {
    pub line: Option<usize>,
    pub detail: String,
}

impl RenderError {
    fn of(e: &minijinja::Error) -> Self {
        Self { line: e.line(), detail: e.detail().map_or_else(|| e.kind().to_string(), str::to_owned) }
    }
}

/// How an SMS is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 03.38 alphabet: 160 characters in one SMS, 153 per part when split.
    Gsm7,
    /// Anything else (accents outside GSM, emoji, …): 70 in one SMS, 67 per part.
    Ucs2,
}

/// The size of an SMS text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsSize {
    pub encoding: SmsEncoding,
    /// Characters as the user counts them.
    pub characters: usize,
    /// Septets (GSM-7, the extension characters `^{}\[~]|€` take two) or UTF-16 units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// The longest SMS providers take (Twilio's limit, in characters, after personalization).
pub const SMS_MAX_CHARACTERS: usize = 1_600;

/// Characters, encoding and number of segments of an SMS text. A two-unit character (a GSM
/// extension character, a UTF-16 surrogate pair) is never split across segments.
pub fn sms_size(text: &str) -> SmsSize {
    let characters = text.chars().count();
    let gsm = text.chars().all(|c| GSM_BASIC.contains(c) || GSM_EXTENSION.contains(c));
    let (encoding, single, part) = if gsm { (SmsEncoding::Gsm7, 160, 153) } else { (SmsEncoding::Ucs2, 70, 67) };
    let width = |c: char| match encoding {
        SmsEncoding::Gsm7 => {
            if GSM_EXTENSION.contains(c) {
                2
            } else {
                1
            }
        }
        SmsEncoding::Ucs2 => c.len_utf16(),
    };
    let units: usize = text.chars().map(width).sum();
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        // Pack the parts as a phone does.
        let (mut segments, mut used) = (1, 0);
        for c in text.chars() {
            let w = width(c);
            if used + w > part {
                segments += 1;
                used = 0;
            }
            used += w;
        }
        segments
    };
    SmsSize { encoding, characters, units, segments }
}

/// The longest X post, as X counts it ([`x_length`]).
pub const X_MAX_LENGTH: usize = 280;
/// The characters an X direct message can have.
pub const X_DM_MAX_LENGTH: usize = 10_000;

/// What a link counts for in a post, whatever its length (X shortens it).
const X_URL_LENGTH: usize = 23;

/// A post's length as X counts it (twitter-text's weighted length): a link (`http://…`,
/// `https://…`, `www.…`) is 23, whatever its length; a character of Latin, Greek, Cyrillic,
/// Hebrew, Arabic or the general punctuation is 1; any other character (CJK, for one) is 2, and
/// so is an emoji, a whole emoji sequence (a family, a flag, a skin tone) counting once.
pub fn x_length(text: &str) -> usize {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            if is_link(bare) { X_URL_LENGTH + weighted(&word[bare.len()..]) } else { weighted(word) }
        })
        .sum()
}

/// Characters of weight 1 or 2, emoji sequences of weight 2.
fn weighted(text: &str) -> usize {
    use unicode_segmentation::UnicodeSegmentation as _;
    let light = |c: char| matches!(u32::from(c), 0..=4351 | 8192..=8205 | 8208..=8223 | 8242..=8247);
    let emoji = |c: char| matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F);
    text.graphemes(true)
        .map(|g| if g.chars().any(emoji) { 2 } else { g.chars().map(|c| if light(c) { 1 } else { 2 }).sum() })
        .sum()
}

/// Whether a word is a link X shortens.
fn is_link(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    ["https://", "http://", "www."]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .is_some_and(|rest| rest.split('.').filter(|part| !part.is_empty()).count() >= 2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is the failure report")]

    use super::*;

    fn scope() -> Scope {
        Scope {
            profile: vec!["first_name".into(), "birth_date".into()],
            secondary: Some(("bookings".into(), vec!["hotel_name".into()])),
            enrichment: vec!["total_spent".into()],
            context: false,
            visitor: false,
            trigger: false,
        }
    }

    #[test]
    fn trigger_values_only_in_action_triggered_messages() {
        let connector = Scope { trigger: true, ..scope() };
        assert!(check("{{ trigger.campaign }} {{ trigger.at[:10] }}", &connector).is_ok());
        let e = check("{{ trigger.when }}", &connector).unwrap_err();
        assert!(e[0].message.contains("it has campaign, interaction, alias, at"), "{e:?}");
        let e = check("{{ trigger.campaign }}", &scope()).unwrap_err();
        assert!(e[0].message.contains("only in action-triggered"), "{e:?}");
        let mut v = values();
        v.trigger.insert("campaign".into(), "Summer".into());
        let r = Renderer::new("From {{ trigger.campaign }}", Escape::None, &connector).unwrap();
        assert_eq!(r.render(&v).unwrap(), "From Summer");
    }

    fn values() -> Values {
        let mut v = Values::default();
        v.profile.insert("first_name".into(), Value::from("Zoë <b>&"));
        v.profile.insert("birth_date".into(), Value::from("1990-04-07"));
        v.secondary = Some(("bookings".into(), BTreeMap::from([("hotel_name".into(), Value::from("Le Grand"))])));
        v.enrichment.insert("total_spent".into(), Value::from(1234.5));
        v
    }

    #[test]
    fn renders_every_kind_of_variable_and_the_filters() {
        let source = "Hi {{ profile.first_name | upper }}, {{ bookings.hotel_name }}: {{ enrichment.total_spent }} \
                      ({{ profile.birth_date | date(\"%d/%m\") }}) {{ profile.first_name | lower | default(\"x\") }}";
        let r = Renderer::new(source, Escape::None, &scope()).unwrap();
        assert_eq!(r.render(&values()).unwrap(), "Hi ZOË <B>&, Le Grand: 1234.5 (07/04) zoë <b>&");
    }

    #[test]
    fn html_bodies_escape_values_and_text_does_not() {
        let source = "<p>{{ profile.first_name }}</p>";
        let html = Renderer::new(source, Escape::Html, &scope()).unwrap().render(&values()).unwrap();
        assert_eq!(html, "<p>Zoë &lt;b&gt;&amp;</p>");
        let text = Renderer::new(source, Escape::None, &scope()).unwrap().render(&values()).unwrap();
        assert_eq!(text, "<p>Zoë <b>&</p>");
    }

    #[test]
    fn unknown_variables_are_named_at_check_time() {
        let problems =
            check("{{ profile.frist_name }} {{ booking.hotel_name }} {{ context.x }}", &scope()).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("{{booking.hotel_name}}: unknown variable")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("{{context.x}}: context values exist only in API-triggered")));
        assert!(
            text.iter()
                .any(|t| t == "{{profile.frist_name}}: profile has no frist_name; it has first_name, birth_date")
        );
        // Multi-level variables need the secondary entity.
        let profiles_only = Scope { secondary: None, ..scope() };
        assert!(check("{{ bookings.hotel_name }}", &profiles_only).is_err());
        assert_eq!(
            context_names(&[
                "Reset: {{ context.reset_url }} {{ context.code | upper }}",
                "",
                "{{ context.code }} {{ profile.x }}"
            ]),
            vec!["code".to_owned(), "reset_url".to_owned()]
        );
        assert!(context_names(&["{{ broken"]).is_empty());
        // The reserved context attribute.
        let api = Scope { context: true, ..scope() };
        assert!(check("{{ context.reset_url }}", &api).is_ok());
        let e = check("{{ context.system }}", &api).unwrap_err();
        assert!(e[0].message.contains("reserved"));
        // Syntax errors say where.
        let e = check("Hello {{ profile.first_name", &scope()).unwrap_err();
        assert!(e[0].message.starts_with("line 1:"), "{:?}", e[0]);
    }

    #[test]
    fn a_missing_value_at_render_time_is_an_error_not_a_gap() {
        let r = Renderer::new("{{ enrichment.total_spent }}", Escape::None, &scope()).unwrap();
        let mut v = values();
        v.enrichment.clear();
        assert!(r.render(&v).is_err());
        // …unless the template gives a default.
        let r = Renderer::new("{{ enrichment.total_spent | default(0) }}", Escape::None, &scope()).unwrap();
        assert_eq!(r.render(&v).unwrap(), "0");
    }

    #[test]
    fn a_runaway_template_stops() {
        let source = "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}";
        let r = Renderer::new(source, Escape::None, &scope()).unwrap();
        assert!(r.render(&values()).is_err());
    }

    #[test]
    fn sms_segments_follow_gsm7_and_ucs2() {
        let s = sms_size("");
        assert_eq!((s.encoding, s.segments), (SmsEncoding::Gsm7, 0));
        assert_eq!(sms_size(&"a".repeat(160)).segments, 1);
        assert_eq!(sms_size(&"a".repeat(161)).segments, 2);
        assert_eq!(sms_size(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_size(&"a".repeat(307)).segments, 3);
        // Extension characters take two septets.
        let s = sms_size(&"€".repeat(80));
        assert_eq!((s.encoding, s.characters, s.units, s.segments), (SmsEncoding::Gsm7, 80, 160, 1));
        assert_eq!(sms_size(&"€".repeat(81)).segments, 2);
        // 152 'a' then '€': the euro does not fit in the first part's last septet.
        let s = sms_size(&format!("{}€{}", "a".repeat(152), "a".repeat(152)));
        assert_eq!((s.units, s.segments), (306, 3));
        // One character outside GSM switches the whole text to UCS-2.
        let s = sms_size(&format!("{}ł", "a".repeat(69)));
        assert_eq!((s.encoding, s.characters, s.segments), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(sms_size(&"ł".repeat(71)).segments, 2);
        assert_eq!(sms_size(&"ł".repeat(134)).segments, 2);
        assert_eq!(sms_size(&"ł".repeat(135)).segments, 3);
        // An emoji is two UTF-16 units and is not split.
        let s = sms_size(&"😀".repeat(35));
        assert_eq!((s.characters, s.units, s.segments), (35, 70, 1));
        let s = sms_size(&format!("{}😀", "ł".repeat(66)));
        assert_eq!((s.units, s.segments), (68, 1));
        let s = sms_size(&format!("{}😀", "ł".repeat(69)));
        assert_eq!((s.units, s.segments), (71, 2));
    }

    #[test]
    fn webhook_bodies_write_values_as_json() {
        let r = Renderer::new(
            "{\"name\": {{ profile.first_name }}, \"n\": {{ enrichment.total_spent }}}",
            Escape::Json,
            &scope(),
        )
        .unwrap();
        let mut v = values();
        v.profile.insert("first_name".into(), Value::from("Ann \"Bo\" <x>"));
        let body = r.render(&v).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["name"], "Ann \"Bo\" <x>");
    }

    #[test]
    fn a_post_is_counted_as_x_counts_it() {
        assert_eq!(x_length("Hello world"), 11);
        // A link is 23 whatever its length.
        assert_eq!(x_length("See https://example.com/a/very/long/path?with=query"), 4 + 23);
        assert_eq!(x_length("www.example.com"), 23);
        assert_eq!(x_length("http://"), 7, "no host: not a link");
        // CJK is 2, accents 1.
        assert_eq!(x_length("こんにちは"), 10);
        assert_eq!(x_length("Léa"), 3);
        // An emoji is 2, a sequence (family, flag, skin tone) counts once.
        assert_eq!(x_length("🙂"), 2);
        assert_eq!(x_length("👨‍👩‍👧"), 2);
        assert_eq!(x_length("🇫🇷"), 2);
        assert_eq!(x_length("👍🏽"), 2);
        assert_eq!(x_length(&"a".repeat(280)), X_MAX_LENGTH);
    }
}
