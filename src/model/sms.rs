//! SMS beyond sending: the keywords people reply with (opt-out, opt-in, help) and the replies
//! they get, and the messages people send back (inbound).

use serde::{Deserialize, Serialize};

/// What a reply's keyword asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordKind {
    /// Stop sending me messages.
    OptOut,
    /// Send me messages again.
    OptIn,
    Help,
}

impl KeywordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptOut => "opt_out",
            Self::OptIn => "opt_in",
            Self::Help => "help",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::OptOut, Self::OptIn, Self::Help].into_iter().find(|k| k.as_str() == s)
    }

    /// As people read it in the Inbound list.
    pub fn label(self) -> &'static str {
        match self {
            Self::OptOut => "opted out",
            Self::OptIn => "opted in",
            Self::Help => "asked for help",
        }
    }
}

/// The keywords an SMS sender answers, and its replies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keywords {
    pub opt_out: Vec<String>,
    pub opt_out_reply: String,
    pub opt_in: Vec<String>,
    pub opt_in_reply: String,
    pub help: Vec<String>,
    pub help_reply: String,
}

impl Default for Keywords {
    /// The keywords carriers and Twilio recognise, with plain replies.
    fn default() -> Self {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect();
        Self {
            opt_out: words(&["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]),
            opt_out_reply:
                "You are unsubscribed and will get no more messages from us. Reply START to subscribe again.".into(),
            opt_in: words(&["START", "YES", "UNSTOP"]),
            opt_in_reply: "You are subscribed again. Reply STOP to unsubscribe.".into(),
            help: words(&["HELP", "INFO"]),
            help_reply: "Reply STOP to unsubscribe, START to subscribe again.".into(),
        }
    }
}

impl Keywords {
    /// What a message asks for, when its whole text is one of the keywords (case and the
    /// spaces around it ignored).
    pub fn of(&self, body: &str) -> Option<KeywordKind> {
        let word = body.trim();
        let is = |list: &[String]| list.iter().any(|k| k.trim().eq_ignore_ascii_case(word));
        if word.is_empty() {
            None
        } else if is(&self.opt_out) {
            Some(KeywordKind::OptOut)
        } else if is(&self.opt_in) {
            Some(KeywordKind::OptIn)
        } else if is(&self.help) {
            Some(KeywordKind::Help)
        } else {
            None
        }
    }

    /// The reply to a keyword (`None`: no reply configured).
    pub fn reply(&self, kind: KeywordKind) -> Option<&str> {
        let reply = match kind {
            KeywordKind::OptOut => &self.opt_out_reply,
            KeywordKind::OptIn => &self.opt_in_reply,
            KeywordKind::Help => &self.help_reply,
        };
        Some(reply.trim()).filter(|r| !r.is_empty())
    }
}

/// What an SMS activity or an API-triggered campaign picks (AJO's "channel surface"): an API
/// credential, the sender it sends as, the keywords its number answers and whether its links
/// go through this app's tracking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsConfiguration {
    pub id: i64,
    pub name: String,
    /// The SMS credential it sends through.
    pub credential_id: i64,
    /// A phone number (E.164) or a Twilio Messaging Service SID (`MG…`); empty: the
    /// credential's own sender.
    pub sender: String,
    pub keywords: Keywords,
    /// Links in the message are replaced by short links on this app's server, which count
    /// the clicks and send the reader on.
    pub shorten_links: bool,
    pub created_at: jiff::Timestamp,
}

/// The longest keyword reply: one SMS segment of GSM-7 text.
pub const REPLY_MAX_CHARACTERS: usize = 160;

impl SmsConfiguration {
    /// The sender as it is typed, trimmed (empty: the credential's own).
    pub fn sender(&self) -> Option<&str> {
        Some(self.sender.trim()).filter(|s| !s.is_empty())
    }

    /// What is wrong with it, by field (`name`, `credential`, `sender`, `opt_out`, `opt_in`,
    /// `help`, and the replies as `<list>_reply`), in words; empty when it can be saved.
    /// `twilio` says whether its credential is Twilio's (which alone takes a Messaging Service).
    pub fn problems(&self, twilio: bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "a configuration needs a name".to_owned()));
        }
        if self.credential_id <= 0 {
            out.push(("credential", "choose the API credential it sends through".to_owned()));
        }
        if let Some(sender) = self.sender() {
            let service = sender.starts_with("MG");
            if service && !twilio {
                out.push((
                    "sender",
                    "only a Twilio credential sends through a Messaging Service (MG…): give a phone number".to_owned(),
                ));
            } else if service && !is_messaging_service(sender) {
                out.push((
                    "sender",
                    format!(
                        "\u{201c}{sender}\u{201d} is not a Messaging Service SID: MG followed by 32 hexadecimal digits"
                    ),
                ));
            } else if !service && !super::address::valid_address(super::address::AddressKind::Phone, sender) {
                out.push(("sender", format!("\u{201c}{sender}\u{201d} is not a phone number in international form (+ and the country code, e.g. +14155550100)")));
            }
        }
        let k = &self.keywords;
        let lists = [("opt_out", &k.opt_out, "opt-out"), ("opt_in", &k.opt_in, "opt-in"), ("help", &k.help, "help")];
        for (i, (key, words, what)) in lists.iter().enumerate() {
            if let Some(bad) = words.iter().find(|w| w.trim().is_empty() || w.trim().contains(char::is_whitespace)) {
                out.push((key, format!("the {what} keyword \u{201c}{}\u{201d} is not one word", bad.trim())));
            }
            for (_, other, other_what) in &lists[i + 1..] {
                if let Some(both) = words.iter().find(|w| other.iter().any(|o| o.trim().eq_ignore_ascii_case(w.trim())))
                {
                    out.push((
                        key,
                        format!(
                            "\u{201c}{}\u{201d} is in two lists ({what} and {other_what}): keep it in one",
                            both.trim()
                        ),
                    ));
                }
            }
        }
        if k.opt_out.is_empty() {
            out.push((
                "opt_out",
                "people must be able to opt out: give at least one opt-out keyword (STOP)".to_owned(),
            ));
        }
        for (key, reply) in
            [("opt_out_reply", &k.opt_out_reply), ("opt_in_reply", &k.opt_in_reply), ("help_reply", &k.help_reply)]
        {
            let n = reply.trim().chars().count();
            if n > REPLY_MAX_CHARACTERS {
                out.push((key, format!("a reply is one SMS: at most {REPLY_MAX_CHARACTERS} characters ({n} typed)")));
            }
        }
        out
    }
}

/// Whether `text` is a Twilio Messaging Service SID: `MG` and 32 hexadecimal digits.
pub fn is_messaging_service(text: &str) -> bool {
    text.len() == 34 && text.starts_with("MG") && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Keywords typed as a list ("STOP, End  quit"): upper-cased, each once, in their order.
pub fn parse_keywords(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split([',', ' ', '\n', '\t', ';']).map(str::trim).filter(|w| !w.is_empty()) {
        let w = w.to_uppercase();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// An SMS activity names a configuration the workspace does not have (deleted or renamed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("there is no SMS configuration called \u{201c}{0}\u{201d}")]
pub struct NoSuchConfiguration(pub String);

/// The configuration an SMS activity names (any case); `Ok(None)` when it names none.
pub fn configuration_for<'c>(
    configurations: &'c [SmsConfiguration],
    name: Option<&str>,
) -> Result<Option<&'c SmsConfiguration>, NoSuchConfiguration> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(name) => configurations
            .iter()
            .find(|c| c.name.trim().eq_ignore_ascii_case(name))
            .map(Some)
            .ok_or_else(|| NoSuchConfiguration(name.to_owned())),
    }
}

/// Why a channel activity has nothing to send with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoRoute {
    #[error(transparent)]
    Configuration(#[from] NoSuchConfiguration),
    #[error(transparent)]
    Credential(#[from] super::NoSuchCredential),
    #[error("the credential of the SMS configuration \u{201c}{0}\u{201d} is gone")]
    CredentialGone(String),
}

/// What a channel activity sends with, as a run chooses: the SMS configuration an SMS
/// activity names and that configuration's credential, else the credential it names (its
/// channel's default when it names none; `None`: the built-in Sandbox). The error says what
/// is missing.
pub fn send_with<'c>(
    credentials: &'c [super::Credential],
    configurations: &'c [SmsConfiguration],
    channel: super::Channel,
    credential: Option<&str>,
    configuration: Option<&str>,
) -> Result<(Option<&'c SmsConfiguration>, Option<&'c super::Credential>), NoRoute> {
    let configuration = configuration.filter(|_| channel == super::Channel::Sms);
    match configuration_for(configurations, configuration)? {
        Some(c) => match credentials.iter().find(|k| k.id == c.credential_id) {
            Some(k) => Ok((Some(c), Some(k))),
            None => Err(NoRoute::CredentialGone(c.name.clone())),
        },
        None => Ok((None, super::credential_for(credentials, channel, credential)?)),
    }
}

/// A message someone sent to one of the workspace's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub id: i64,
    /// The credential whose number it came to (its name), if it still exists.
    pub credential: Option<String>,
    pub provider_message_id: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub keyword: Option<KeywordKind>,
    /// The profile whose phone number sent it, when one has it.
    pub profile_key: Option<String>,
    pub received_at: jiff::Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_ignore_case_and_surrounding_spaces_but_not_other_words() {
        let k = Keywords::default();
        assert_eq!(k.of("  stop \n"), Some(KeywordKind::OptOut));
        assert_eq!(k.of("Unstop"), Some(KeywordKind::OptIn));
        assert_eq!(k.of("help"), Some(KeywordKind::Help));
        assert_eq!(k.of("please stop"), None, "only the whole message is a keyword");
        assert_eq!(k.of(""), None);
        assert!(k.reply(KeywordKind::OptOut).is_some_and(|r| r.contains("START")));
    }

    fn configuration(sender: &str) -> SmsConfiguration {
        SmsConfiguration {
            id: 0,
            name: "US marketing".into(),
            credential_id: 1,
            sender: sender.into(),
            keywords: Keywords::default(),
            shorten_links: false,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_configuration_says_what_is_wrong_with_it_by_field() {
        assert!(configuration("").problems(false).is_empty());
        assert!(configuration("+14155550100").problems(false).is_empty());
        let service = format!("MG{}", "a".repeat(32));
        assert!(configuration(&service).problems(true).is_empty());
        let p = configuration(&service).problems(false);
        assert_eq!(p[0].0, "sender");
        assert!(p[0].1.contains("only a Twilio credential"), "{p:?}");
        assert!(configuration("MG12").problems(true)[0].1.contains("32 hexadecimal"));
        assert!(configuration("0612345678").problems(false)[0].1.contains("international form"));
        let mut c = configuration("");
        c.keywords.opt_in.push("stop".into());
        c.keywords.help_reply = "x".repeat(161);
        let p = c.problems(false);
        assert!(p.iter().any(|(k, m)| *k == "opt_out" && m.contains("(opt-out and opt-in)")), "{p:?}");
        assert!(p.iter().any(|(k, m)| *k == "help_reply" && m.contains("161 typed")), "{p:?}");
        c.keywords.opt_out.clear();
        assert!(c.problems(false).iter().any(|(k, _)| *k == "opt_out"));
    }

    #[test]
    fn keywords_typed_as_a_list_are_upper_cased_once_each() {
        assert_eq!(parse_keywords(" stop, End;quit  STOP\n"), ["STOP", "END", "QUIT"]);
        assert!(parse_keywords(" , ").is_empty());
    }

    #[test]
    fn an_activity_finds_its_configuration_in_any_case_or_says_it_is_gone() {
        let list = [configuration("")];
        assert_eq!(configuration_for(&list, None).unwrap(), None);
        assert_eq!(configuration_for(&list, Some("  ")).unwrap(), None);
        assert_eq!(configuration_for(&list, Some("us MARKETING")).unwrap().map(|c| c.id), Some(0));
        let e = configuration_for(&list, Some("EU")).unwrap_err();
        assert_eq!(e.to_string(), "there is no SMS configuration called \u{201c}EU\u{201d}");
    }
}
