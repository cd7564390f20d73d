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
}
