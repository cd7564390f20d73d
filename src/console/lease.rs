//! Leases in the workspace: one process at a time sends a campaign or synchronizes the X
//! followers. A lease is renewed while held, given up when dropped, and taken over from a
//! process that died.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Console, ConsoleError};
use crate::store;

impl Console {
    /// Takes the lease `name` for this process: while one process (or window) holds it,
    /// another is refused with `busy`'s words. It is renewed in the background while held and
    /// given up when dropped; one left by a process that died is taken over at once on Linux,
    /// elsewhere a minute later.
    pub(super) fn hold_lease(&self, name: &str, busy: impl FnOnce() -> String) -> Result<Lease, ConsoleError> {
        let name = name.to_owned();
        let holder = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let now = crate::clock::wall();
        let until = now.checked_add(LEASE).unwrap_or(now);
        let conn = self.workspace.conn();
        let mut held = store::launches::acquire_lease(&conn, &name, &holder, now, until)?;
        if !held
            && let Some(other) = store::launches::lease_holder(&conn, &name)?
            && holder_is_gone(&other)
        {
            // The process that held it died (a crash, a kill): its run is carried on here.
            held = store::launches::take_lease(&conn, &name, &other, &holder, until)?;
        }
        drop(conn);
        if !held {
            return Err(ConsoleError::CannotRun(busy()));
        }
        let conn = self.workspace.connect()?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let renewer = {
            let (stop, name, holder) = (Arc::clone(&stop), name.clone(), holder.clone());
            std::thread::Builder::new()
                .name("cc-lease".into())
                .spawn(move || {
                    let mut last = Instant::now();
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(100));
                        if last.elapsed() < RENEWAL {
                            continue;
                        }
                        last = Instant::now();
                        let now = crate::clock::wall();
                        let until = now.checked_add(LEASE).unwrap_or(now);
                        if let Err(e) = store::launches::acquire_lease(&conn, &name, &holder, now, until) {
                            tracing::warn!("the lease {name} could not be renewed: {e}");
                        }
                    }
                    if let Err(e) = store::launches::release_lease(&conn, &name, &holder) {
                        tracing::warn!("the lease {name} could not be given up (it ends by itself): {e}");
                    }
                })
                .map_err(|e| ConsoleError::CannotRun(format!("the lease could not be kept: {e}")))?
        };
        Ok(Lease { stop, renewer: Some(renewer) })
    }
}

impl Console {
    /// Takes the lease `name` for `holder` (until `until`) from a process that died holding it
    /// (a scheduler killed mid-pass): whether it was taken.
    pub(super) fn take_dead_lease(
        &self,
        name: &str,
        holder: &str,
        until: jiff::Timestamp,
    ) -> Result<bool, ConsoleError> {
        let conn = self.workspace.conn();
        match store::launches::lease_holder(&conn, name)? {
            Some(other) if other != holder && holder_is_gone(&other) => {
                Ok(store::launches::take_lease(&conn, name, &other, holder, until)?)
            }
            _ => Ok(false),
        }
    }
}

/// Whether the process that holds a lease (`<pid>-<id>`, or `<what>-<pid>-<id>`) is known to be gone: on Linux, when
/// this machine has no such live process. Elsewhere nobody is known gone, and the lease ends
/// when it is no longer renewed. (A workspace is on this machine: its processes are too.)
fn holder_is_gone(holder: &str) -> bool {
    let Some(pid) = holder.split('-').take(2).find_map(|p| p.parse::<u32>().ok()) else { return false };
    if pid == std::process::id() || !cfg!(target_os = "linux") {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3, after the command in parentheses: Z is a process that has ended.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// How long a lease lasts unless renewed, and how often it is renewed.
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
const RENEWAL: Duration = Duration::from_secs(15);

/// A lease held by this process (see [`Console::hold_lease`]); given up when dropped.
pub(super) struct Lease {
    stop: Arc<std::sync::atomic::AtomicBool>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(renewer) = self.renewer.take()
            && renewer.join().is_err()
        {
            tracing::warn!("a lease's renewer stopped abnormally");
        }
    }
}
