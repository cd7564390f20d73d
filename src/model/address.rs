//! Addresses messages go to: which shape each channel's addresses must have, and whether one
//! can be sent to. The same check runs on counts (a channel activity counts the recipients it
//! can reach) and on the ledger (an address that fails it is excluded with the reason).

/// The shape an address must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// `local@domain.tld`, no spaces, one `@`.
    Email,
    /// E.164: `+`, a country code not starting with 0, 7 to 15 digits in all.
    Phone,
}

impl AddressKind {
    /// The shape a channel's addresses must have, for channels that have addresses.
    pub fn of(channel: super::Channel) -> Option<Self> {
        match channel {
            super::Channel::Email => Some(Self::Email),
            super::Channel::Sms => Some(Self::Phone),
            _ => None,
        }
    }
}

impl AddressKind {
    /// Its name in SQL calls of [`VALID_ADDRESS_FUNCTION`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
        }
    }

    /// The kind named by [`Self::as_str`] (email for anything else).
    pub fn parse(s: &str) -> Self {
        if s == "phone" { Self::Phone } else { Self::Email }
    }
}

/// Whether `address` is one `kind` can be sent to: a phone number in E.164 form that is valid
/// in its country's numbering plan (libphonenumber's metadata, via `phonenumber`), or an email
/// address that lettre's parser accepts, with a dot in its domain.
pub fn valid_address(kind: AddressKind, address: &str) -> bool {
    let a = address.trim();
    match kind {
        AddressKind::Phone => {
            a.len() <= 16
                && a.strip_prefix('+')
                    .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                && phonenumber::parse(None, a).is_ok_and(|n| phonenumber::is_valid(&n))
        }
        AddressKind::Email => a.parse::<lettre::Address>().is_ok_and(|e| {
            let domain = e.domain();
            domain.find('.').is_some_and(|i| i > 0) && !domain.ends_with('.')
        }),
    }
}

/// The SQL name under which the store (ledger) and the audience engine (counts) make
/// [`valid_address`] callable: `cc_valid_address('email' | 'phone', address)`.
pub const VALID_ADDRESS_FUNCTION: &str = "cc_valid_address";

/// Whose checks of addresses the workspace keeps (`cc_address_checks`): the phone number
/// parser and numbering plans this app is built with (its version in Cargo.lock, which a test
/// holds this to). Checks kept by another are dropped, and every number is checked again.
pub const ADDRESS_CHECKER: &str = "phonenumber 0.3.10+9.0.33";

#[cfg(test)]
mod tests {
    /// The checks kept are named after the parser the app is built with: a new version of it
    /// (new numbering plans) must name them anew, so that every number is checked again.
    #[test]
    fn the_kept_checks_name_the_phone_parser_built_in() {
        let lock = include_str!("../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"phonenumber\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .and_then(|v| v.strip_suffix('"'))
            .unwrap();
        assert_eq!(super::ADDRESS_CHECKER, format!("phonenumber {version}"));
    }
}
