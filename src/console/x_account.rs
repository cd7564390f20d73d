//! An X service's page: its account as X describes it (`GET /2/users/me`: name, handle,
//! avatar, followers, verified), which confirms the delegation works; the avatar downloaded off
//! the UI thread, decoded, and kept in the workspace (`avatars/`) so that it shows offline; and
//! a post on the account now, kept as a delivery of its own with X's id for it.

use std::path::PathBuf;
use std::time::Duration;

use super::routes::CredentialChoice;
use super::{Console, ConsoleError, Event, Refresh, UserError, XAccountCommand};
use crate::channels::x;
use crate::model::{Channel, Credential};
use crate::store::{self, StoreError};

/// An avatar's largest side, in pixels (X's are 48; a larger one is made smaller).
const AVATAR_SIDE: u32 = 96;
/// The most an avatar's file may weigh.
const AVATAR_BYTES: usize = 2 * 1024 * 1024;

/// Why an avatar cannot be shown, in words.
#[derive(Debug, thiserror::Error)]
enum AvatarError {
    #[error("the picture could not be downloaded ({0}): offline?")]
    Offline(String),
    #[error("X's server answered {0} for the picture")]
    Status(reqwest::StatusCode),
    #[error("the picture is larger than 2 MB")]
    TooLarge,
    #[error("the picture cannot be read ({0})")]
    Unreadable(#[from] image::ImageError),
    #[error(transparent)]
    Channel(#[from] crate::channels::ChannelError),
}

/// A picture, decoded: `width × height` pixels, 4 bytes each (RGBA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Avatar {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

/// An X service's account as X describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XAccountPage {
    /// The service's label.
    pub label: String,
    pub user: x::User,
    /// The Sandbox X account (made up, no account at X).
    pub sandbox: bool,
    pub avatar: Option<Avatar>,
    /// Why there is no avatar, when there is none.
    pub avatar_note: Option<String>,
}

impl Console {
    /// The account of X service `service` (a credential's id) as X describes it now, with its
    /// avatar.
    pub fn describe_x_account(&self, service: i64) -> Result<XAccountPage, ConsoleError> {
        let credential = self.x_service(service)?;
        let about = x::service(&credential).ok_or_else(|| not_a_service(&credential.name))?;
        let account = self.x_account(&credential, &about)?;
        let user = self
            .runtime
            .block_on(account.me())
            .map_err(|e| ConsoleError::CannotRun(format!("X did not describe @{}: {}", about.handle, e.message())))?;
        let (avatar, avatar_note) = match self.avatar(&user.profile_image_url) {
            Ok(Some(a)) => (Some(a), None),
            Ok(None) => (None, Some("X gives no picture for this account".to_owned())),
            Err(why) => (None, Some(why.to_string())),
        };
        Ok(XAccountPage {
            label: credential.name,
            user,
            sandbox: about.sandbox_followers.is_some(),
            avatar,
            avatar_note,
        })
    }

    /// Posts `text` on the account of X service `service` now; returns X's id for the post.
    /// The post is kept as a delivery of its own (no campaign), with its outcome.
    pub fn post_now(&self, service: i64, text: &str) -> Result<String, ConsoleError> {
        use store::deliveries as ledger;
        let text = text.trim();
        if text.is_empty() {
            return Err(ConsoleError::Invalid("type the post first".into()));
        }
        let length = crate::personalize::x_length(text);
        if length > crate::personalize::X_MAX_LENGTH {
            return Err(ConsoleError::Invalid(format!(
                "the post is {length} characters long as X counts them: at most {} can be posted",
                crate::personalize::X_MAX_LENGTH
            )));
        }
        let credential = self.x_service(service)?;
        let about = x::service(&credential).ok_or_else(|| not_a_service(&credential.name))?;
        let (provider, _, _) = self.provider_for(Channel::X, CredentialChoice::Id(credential.id), None)?;
        let message = crate::model::Message { text: text.to_owned(), ..Default::default() };
        let message_json =
            serde_json::to_string(&message).map_err(|source| ConsoleError::Json { what: "the post", source })?;
        let mut conn = self.workspace.connect()?;
        let now = self.now();
        let delivery = {
            let tx = conn.transaction().map_err(StoreError::from)?;
            let id = ledger::create(&tx, None, "composer", Channel::X.as_str(), &message_json, now)?;
            ledger::set_route(&tx, id, &ledger::Route { credential: Some(credential.id), ..Default::default() })?;
            ledger::single_post(&tx, id, &format!("@{}", about.handle), now)?;
            tx.commit().map_err(StoreError::from)?;
            id
        };
        let message = |row: &ledger::Claimed| crate::channels::Outgoing {
            idempotency_key: row.idempotency_key.clone(),
            channel: Channel::X,
            address: row.address.clone(),
            text: text.to_owned(),
            ..Default::default()
        };
        let answers = self.send_at_once(&mut conn, (None, delivery), 1, provider.as_ref(), &message, None)?;
        match answers.into_iter().next() {
            Some(Ok(id)) => Ok(id),
            Some(Err(e)) => Err(ConsoleError::CannotRun(format!("X did not take the post: {}", e.message()))),
            None => Err(ConsoleError::CannotRun("the post was already sent".into())),
        }
    }

    /// The X service whose credential is `id`.
    fn x_service(&self, id: i64) -> Result<Credential, ConsoleError> {
        self.credentials()?
            .into_iter()
            .find(|c| c.id == id && x::service(c).is_some())
            .ok_or_else(|| ConsoleError::Invalid("this X service no longer exists".into()))
    }

    /// The avatar at `url`: from the workspace's copy, else downloaded (then kept); `None` when
    /// there is no picture, else why it cannot be shown, in words.
    fn avatar(&self, url: &str) -> Result<Option<Avatar>, AvatarError> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let kept = self.avatar_path(url);
        if let Ok(bytes) = std::fs::read(&kept) {
            return decode(&bytes).map(Some);
        }
        let bytes = self.download(url)?;
        let avatar = decode(&bytes)?;
        // Kept (only once it reads) whole through a temporary file: a half-written copy is
        // never read.
        if let Some(dir) = kept.parent()
            && std::fs::create_dir_all(dir).is_ok()
            && let Ok(tmp) = tempfile::NamedTempFile::new_in(dir)
            && std::fs::write(tmp.path(), &bytes).is_ok()
            && let Err(e) = tmp.persist(&kept)
        {
            tracing::warn!("the avatar could not be kept in the workspace: {e}");
        }
        Ok(Some(avatar))
    }

    /// Where the workspace keeps the avatar at `url`.
    fn avatar_path(&self, url: &str) -> PathBuf {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(url.as_bytes());
        let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.workspace.dir().join("avatars").join(name)
    }

    /// The picture at `url` (https, or http to this machine), at most [`AVATAR_BYTES`].
    fn download(&self, url: &str) -> Result<Vec<u8>, AvatarError> {
        let offline = |e: reqwest::Error| AvatarError::Offline(e.to_string());
        let url = crate::channels::web_url(url, "the picture's address")?;
        let client = crate::channels::http_client(Duration::from_secs(10), 1)?;
        self.runtime.block_on(async {
            let response = client.get(url).send().await.map_err(offline)?;
            if !response.status().is_success() {
                return Err(AvatarError::Status(response.status()));
            }
            if response.content_length().is_some_and(|n| n > AVATAR_BYTES as u64) {
                return Err(AvatarError::TooLarge);
            }
            let bytes = response.bytes().await.map_err(offline)?;
            if bytes.len() > AVATAR_BYTES {
                return Err(AvatarError::TooLarge);
            }
            Ok(bytes.to_vec())
        })
    }

    pub(super) fn x_account_command(&self, command: XAccountCommand) -> Vec<Event> {
        match command {
            XAccountCommand::Describe { service } => {
                let result = self.describe_x_account(service).map_err(|e| UserError::new("X was not asked", &e));
                vec![Event::XAccount { service, result }]
            }
            XAccountCommand::Post { service, text } => {
                let result = self.post_now(service, &text).map_err(|e| UserError::new("Not posted", &e));
                vec![Event::XPosted { service, result }, self.refreshed(Refresh::Deliveries)]
            }
            XAccountCommand::Avatar { url } => {
                let (avatar, note) = match self.avatar(&url) {
                    Ok(Some(a)) => (Some(a), None),
                    Ok(None) => (None, Some("no picture".to_owned())),
                    Err(why) => (None, Some(why.to_string())),
                };
                vec![Event::Avatar { url, avatar, note }]
            }
        }
    }
}

fn not_a_service(name: &str) -> ConsoleError {
    ConsoleError::Invalid(format!("\u{201c}{name}\u{201d} is not an X service"))
}

/// A picture's bytes (PNG or JPEG) as RGBA pixels, at most [`AVATAR_SIDE`] a side.
fn decode(bytes: &[u8]) -> Result<Avatar, AvatarError> {
    let picture = image::load_from_memory(bytes)?;
    let picture = if picture.width() > AVATAR_SIDE || picture.height() > AVATAR_SIDE {
        picture.thumbnail(AVATAR_SIDE, AVATAR_SIDE)
    } else {
        picture
    };
    let rgba = picture.to_rgba8();
    Ok(Avatar { width: rgba.width() as usize, height: rgba.height() as usize, rgba: rgba.into_raw() })
}
