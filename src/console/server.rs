//! The server's settings: where it listens and where providers reach it (kept in the
//! workspace), and whether the window runs it.

use super::{Console, ConsoleError, Event, SERVER_SETTINGS_KEY, ServerCommand, UserError};
use crate::model::server::ServerSettings;
use crate::store;

impl Console {
    /// Checks and keeps the server's settings: the address must be an IP address and a port,
    /// the public URL (when given) an http(s) address with a host.
    pub fn set_server_settings(&self, settings: &ServerSettings) -> Result<(), ConsoleError> {
        let bind = settings.bind.trim();
        if bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConsoleError::Invalid(format!(
                "\u{201c}{bind}\u{201d} is not an address to listen on: an IP address and a port, e.g. 127.0.0.1:8080"
            )));
        }
        let public = settings.public_url.trim();
        if !public.is_empty() {
            let ok = reqwest::Url::parse(public)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !ok {
                return Err(ConsoleError::Invalid(format!(
                    "\u{201c}{public}\u{201d} is not a web address: https:// and the host providers reach this server at"
                )));
            }
        }
        let kept = ServerSettings { bind: bind.to_owned(), public_url: public.to_owned(), ..settings.clone() };
        let json = serde_json::to_string(&kept)
            .map_err(|source| ConsoleError::Json { what: "the server settings", source })?;
        let conn = self.workspace.conn();
        store::customer_data::set_meta(&conn, SERVER_SETTINGS_KEY, &json)?;
        store::audit::record(&conn, self.now(), "admin", "server settings", &kept.public_base(), "")?;
        Ok(())
    }

    pub(super) fn server_command(&self, command: ServerCommand) -> Vec<Event> {
        let saved = match command {
            ServerCommand::Refresh => Ok(()),
            ServerCommand::Save(settings) => self.set_server_settings(&settings),
        };
        match saved.and_then(|()| self.server_settings()) {
            Ok(settings) => vec![Event::Server(settings)],
            Err(e) => vec![Event::Failed(UserError::new("The server settings were not saved", &e))],
        }
    }
}
