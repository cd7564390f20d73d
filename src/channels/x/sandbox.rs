//! The Sandbox X account: what the X channel's Sandbox credential answers in place of X, so
//! that the follower synchronization works with no account. Its followers are made from their
//! position alone (the same follower at the same place every time), `count` of them, served in
//! pages of [`FOLLOWERS_PER_PAGE`](super::FOLLOWERS_PER_PAGE) whose token is the position of
//! the page's first follower. Lowering the count (`demo --visitors`) makes the last ones stop
//! following.

use super::{FollowerPage, Metrics, PageMeta, User};
use crate::channels::SendError;

/// The Sandbox account's handle.
pub const HANDLE: &str = "sandbox_brand";

/// The most followers the Sandbox account can have.
pub const MAX_FOLLOWERS: u64 = 5_000_000;

/// The Sandbox account's X id.
const ACCOUNT_ID: &str = "1000000000000000001";

const FIRST: &[&str] = &[
    "Emma", "Louis", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Jules", "Camille", "Arthur", "Sofia", "Noah", "Mia",
    "Liam", "Ana", "Mateo", "Yuki", "Kenji", "Amara", "Omar", "Ines", "Paul", "Zoé", "Nina", "Tom", "Alice", "Jonas",
    "Elif", "Priya", "Diego",
];
const LAST: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Garcia",
    "Rossi",
    "Müller",
    "Smith",
    "Tanaka",
    "Nguyen",
    "Silva",
    "Kowalski",
    "Haddad",
    "Okafor",
    "Petit",
    "Moreau",
    "Laurent",
    "Fernández",
    "Jensen",
    "Costa",
    "Novak",
];
const PLACES: &[&str] =
    &["Paris", "Lyon", "Marseille", "Bordeaux", "London", "Berlin", "Madrid", "Montréal", "New York", "Tokyo", "", ""];
const BIOS: &[&str] = &[
    "Travel lover. Coffee first.",
    "Weekend hiker, weekday coder",
    "Food, films and far-away beaches",
    "Marketing @ somewhere nice",
    "",
    "Collecting hotel breakfasts since 2009",
    "",
    "Photographer. Views are my own.",
];

/// The account, as `GET /2/users/me` describes it.
pub fn me(count: u64) -> User {
    User {
        id: ACCOUNT_ID.into(),
        username: HANDLE.into(),
        name: "Sandbox brand".into(),
        verified: false,
        public_metrics: Metrics { followers_count: count, following_count: 12 },
        description: "The Sandbox X account: its followers are made up".into(),
        profile_image_url: String::new(),
        location: String::new(),
    }
}

/// The page of followers starting at `token` (the first page without one).
pub fn followers(count: u64, token: Option<&str>) -> Result<FollowerPage, SendError> {
    let start = match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t.parse::<u64>().map_err(|_| {
            SendError::permanent("bad_token", format!("\u{201c}{t}\u{201d} is not a page of the Sandbox X account"))
        })?,
    };
    let end = (start + u64::from(super::FOLLOWERS_PER_PAGE)).min(count);
    let data: Vec<User> = (start..end).map(follower).collect();
    let next_token = (end < count).then(|| end.to_string());
    Ok(FollowerPage { meta: PageMeta { result_count: data.len() as u64, next_token }, data })
}

/// The follower at position `i`.
pub fn follower(i: u64) -> User {
    let h = mix(i);
    let pick = |list: &'static [&'static str], shift: u32| list[((h >> shift) % list.len() as u64) as usize];
    let (first, last) = (pick(FIRST, 0), pick(LAST, 8));
    // Most accounts have a few hundred followers, a few have many.
    let followers = match (h >> 16) % 100 {
        0 => 10_000 + (h >> 24) % 990_000,
        1..=9 => 1_000 + (h >> 24) % 9_000,
        _ => (h >> 24) % 1_000,
    };
    let handle_first: String = first.chars().filter(char::is_ascii_alphabetic).collect();
    User {
        id: (2_000_000_000_000 + i).to_string(),
        username: format!("{}_{}", handle_first.to_ascii_lowercase(), i),
        name: format!("{first} {last}"),
        verified: (h >> 40).is_multiple_of(50),
        public_metrics: Metrics { followers_count: followers, following_count: (h >> 44) % 2_000 },
        description: pick(BIOS, 48).into(),
        profile_image_url: String::new(),
        location: pick(PLACES, 52).into(),
    }
}

/// SplitMix64: a position's own random bits.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_follower_once_and_end() {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = followers(2_500, token.as_deref()).unwrap();
            assert_eq!(page.meta.result_count, page.data.len() as u64);
            seen.extend(page.data.into_iter().map(|u| u.id));
            match page.meta.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen.len(), 2_500);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 2_500);
        assert_eq!(follower(7), follower(7));
        assert!(super::super::is_handle(&follower(123_456).username));
        assert!(followers(10, Some("x")).is_err());
        assert!(followers(0, None).unwrap().data.is_empty());
    }
}
