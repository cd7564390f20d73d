//! The background-job runner (core, used by every capability): a job has an id, a label in
//! the status bar, progress, a cancel flag, and an outcome in one line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Console, ConsoleError, JobEvent, JobId, UserError};

/// The running jobs, each with its cancel flag.
pub(super) struct Jobs {
    running: Arc<Mutex<HashMap<JobId, Arc<AtomicBool>>>>,
    next: AtomicU64,
}

impl Default for Jobs {
    fn default() -> Self {
        Self { running: Arc::default(), next: AtomicU64::new(1) }
    }
}

/// A job just registered: its id and what tells it to stop.
pub(super) struct JobHandle {
    pub id: JobId,
    cancel: Arc<AtomicBool>,
    running: Arc<Mutex<HashMap<JobId, Arc<AtomicBool>>>>,
}

impl JobHandle {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}

impl Jobs {
    /// Registers a new job; it is forgotten when the handle is dropped.
    pub fn start(&self) -> JobHandle {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let cancel = Arc::new(AtomicBool::new(false));
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Arc::clone(&cancel));
        JobHandle { id, cancel, running: Arc::clone(&self.running) }
    }

    /// Asks a running job to stop.
    pub fn cancel(&self, id: JobId) {
        if let Some(flag) = self.running.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

/// Hands a job's progress to the UI, at most once per percent (and the end).
pub(super) fn progress_to(outbox: super::Outbox, id: JobId) -> impl FnMut(f32) {
    let mut rows = progress_rows_to(outbox, id);
    move |fraction| rows(fraction, None)
}

/// Hands a job's progress and the rows it has handled to the UI, at most once per percent.
pub(super) fn progress_rows_to(outbox: super::Outbox, id: JobId) -> impl FnMut(f32, Option<u64>) {
    let mut last = -1.0f32;
    move |fraction, rows| {
        if fraction - last >= 0.01 || fraction >= 1.0 {
            last = fraction;
            outbox.offer(JobEvent::Progress { id, fraction, rows });
        }
    }
}

impl Console {
    /// Runs `work` as a cancellable job writing to `path`: the status bar shows it, and its
    /// end says how many rows of `what` were written (or why not).
    pub(super) fn start_file_job(
        self: &Arc<Self>,
        path: PathBuf,
        what: &'static str,
        work: impl FnOnce(&Console, &Path, &dyn Fn() -> bool) -> Result<u64, ConsoleError> + Send + 'static,
    ) {
        let job = self.jobs.start();
        self.spawn(move |console| {
            let id = job.id;
            console.outbox.offer(JobEvent::Started { id, label: format!("Exporting to {}", path.display()) });
            let outcome = work(console, &path, &|| job.cancelled())
                .map(|n| format!("Exported {n} {what} to {}", path.display()))
                .map_err(|e| UserError::new(&format!("The {what} were not exported"), &e));
            drop(job);
            vec![JobEvent::Finished { id, outcome }.into()]
        });
    }
}

/// Writes a file through a temporary one in the same folder, renamed over `path` at the end:
/// a failed or cancelled write leaves no half-written file. `write` returns how many rows.
pub(super) fn write_atomically(
    path: &Path,
    write: impl FnOnce(std::io::BufWriter<&std::fs::File>) -> Result<u64, ConsoleError>,
) -> Result<u64, ConsoleError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_error = |source: std::io::Error| ConsoleError::File { path: path.to_owned(), source };
    if !dir.is_dir() {
        return Err(ConsoleError::Invalid(format!(
            "the folder {} does not exist: choose another place for the file",
            dir.display()
        )));
    }
    // The temporary file's own name means nothing to the user: only what went wrong.
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| file_error(std::io::Error::from(e.kind())))?;
    let n = write(std::io::BufWriter::new(tmp.as_file()))?;
    tmp.persist(path).map_err(|e| file_error(e.error))?;
    Ok(n)
}
