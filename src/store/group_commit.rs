//! Group commit: small writes that arrive together share one transaction on the shared
//! connection. Each piece of work runs in its own savepoint (a failing one leaves no trace and
//! does not spoil the others), and its answer is given only once the transaction holding it is
//! committed: an answer never reports a write that could still be lost.
//!
//! One thread per workspace does the writing; callers wait on a oneshot answer, from a thread
//! (`blocking_recv`) or a task (`.await`), without holding a thread of the runtime.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::{StoreError, Workspace, in_savepoint};

/// The most pieces of work one transaction takes.
const MOST_PER_TRANSACTION: usize = 2_000;

/// The most pieces of background work one transaction takes.
const BACKGROUND_PER_TRANSACTION: usize = 64;

/// How long work someone waits for must have been quiet before background work runs…
const QUIET: Duration = Duration::from_millis(2);

/// …unless background work has waited this long.
const MOST_BACKGROUND_WAIT: Duration = Duration::from_millis(20);

/// A piece of work, run inside the group's transaction; what is left to do once it is
/// committed (or not).
trait Job: Send {
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Finish>;
    /// The transaction could not even begin: the work was not run.
    fn refuse(self: Box<Self>, why: StoreError);
}

trait Finish: Send {
    fn done(self: Box<Self>, committed: Result<(), &rusqlite::Error>);
}

struct Work<F, T, E> {
    work: F,
    answer: tokio::sync::oneshot::Sender<Result<T, E>>,
}

struct Finished<T, E> {
    result: Result<T, E>,
    answer: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Work<F, T, E>
where
    F: FnOnce(&Connection) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Finish> {
        let Self { work, answer } = *self;
        // The work's own error comes out of the savepoint as it was.
        let mut own = None;
        let kept = in_savepoint(conn, "group_work", || match work(conn) {
            Ok(v) => Ok(v),
            Err(e) => {
                own = Some(e);
                Err(StoreError::Invalid(String::new()))
            }
        });
        let result = match (kept, own) {
            (Ok(v), _) => Ok(v),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(E::from(e)),
        };
        Box::new(Finished { result, answer })
    }

    fn refuse(self: Box<Self>, why: StoreError) {
        let _ = self.answer.send(Err(E::from(why)));
    }
}

impl<T: Send, E: From<StoreError> + Send> Finish for Finished<T, E> {
    fn done(self: Box<Self>, committed: Result<(), &rusqlite::Error>) {
        let result = match committed {
            Ok(()) => self.result,
            // Written in a transaction that was not kept: as if never done.
            Err(e) => Err(E::from(StoreError::from(same_error(e)))),
        };
        // A caller that stopped waiting is no error.
        let _ = self.answer.send(result);
    }
}

/// Another copy of a SQLite error (each waiting caller gets one).
fn same_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => rusqlite::Error::SqliteFailure(*code, message.clone()),
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Work waiting for its transaction: answers someone waits for now first; background work
/// (sends following an accepted call) when none waits, or now and then when some always does.
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Box<dyn Job>>,
    background: VecDeque<Box<dyn Job>>,
    /// When work someone waits for last arrived, and background work last ran.
    last_arrival: Option<Instant>,
    last_background: Option<Instant>,
    closed: bool,
}

impl Queue {
    /// The next transaction's work: all that is waited for (up to the most), and background
    /// work when the waited-for has been quiet a moment or background work waited too long.
    fn next_batch(&mut self, now: Instant) -> Vec<Box<dyn Job>> {
        let n = self.jobs.len().min(MOST_PER_TRANSACTION);
        let mut batch: Vec<Box<dyn Job>> = self.jobs.drain(..n).collect();
        let quiet = self.last_arrival.is_none_or(|t| now.duration_since(t) >= QUIET);
        let overdue = self.last_background.is_none_or(|t| now.duration_since(t) >= MOST_BACKGROUND_WAIT);
        if !self.background.is_empty() && ((batch.is_empty() && quiet) || overdue) {
            let m = self.background.len().min(BACKGROUND_PER_TRANSACTION);
            batch.extend(self.background.drain(..m));
            self.last_background = Some(now);
        }
        batch
    }

    /// How long until background work may run, when only it waits.
    fn background_wait(&self, now: Instant) -> Option<Duration> {
        if self.background.is_empty() {
            return None;
        }
        let quiet = self.last_arrival.map_or(Duration::ZERO, |t| QUIET.saturating_sub(now.duration_since(t)));
        let overdue =
            self.last_background.map_or(Duration::ZERO, |t| MOST_BACKGROUND_WAIT.saturating_sub(now.duration_since(t)));
        Some(quiet.min(overdue))
    }
}

/// The writer of a workspace's grouped work, shared by its clones. Dropping the last lets the
/// thread finish what was handed to it, then stop.
#[derive(Clone)]
pub struct GroupCommit {
    shared: Arc<Shared>,
}

/// The queue and its signal; closed when the last handle goes.
struct Shared(Arc<(Mutex<Queue>, Condvar)>);

impl GroupCommit {
    /// Starts the writer of `workspace`.
    pub fn start(workspace: Arc<Workspace>) -> std::io::Result<Self> {
        let shared = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("cc-group-commit".into())
            .spawn(move || write_until_closed(&workspace, &theirs))?;
        Ok(Self { shared: Arc::new(Shared(shared)) })
    }

    /// Runs `work` in the next group transaction; its answer comes once that is committed.
    /// The work gets the shared connection inside a transaction: it must not take the
    /// workspace's connection itself.
    pub fn submit<F, T, E>(&self, work: F) -> tokio::sync::oneshot::Receiver<Result<T, E>>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.hand_over(work, false)
    }

    /// As [`GroupCommit::submit`], for work nobody is waiting on now: it gives way to work
    /// someone waits for (it runs when that is quiet, or after 20 ms at most).
    pub fn submit_background<F, T, E>(&self, work: F) -> tokio::sync::oneshot::Receiver<Result<T, E>>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.hand_over(work, true)
    }

    fn hand_over<F, T, E>(&self, work: F, background: bool) -> tokio::sync::oneshot::Receiver<Result<T, E>>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let (queue, wake) = &*self.shared.0;
        let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
        let job = Box::new(Work { work, answer });
        if background {
            q.background.push_back(job);
        } else {
            q.jobs.push_back(job);
            q.last_arrival = Some(Instant::now());
        }
        drop(q);
        wake.notify_one();
        answered
    }

    /// Pieces of work waiting for their transaction.
    pub fn waiting(&self) -> usize {
        let q = self.shared.0.0.lock().unwrap_or_else(|p| p.into_inner());
        q.jobs.len() + q.background.len()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let (queue, wake) = &*self.0;
        queue.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        wake.notify_one();
    }
}

fn write_until_closed(workspace: &Workspace, shared: &(Mutex<Queue>, Condvar)) {
    let (queue, wake) = shared;
    loop {
        let batch: Vec<Box<dyn Job>> = {
            let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                let now = Instant::now();
                let batch = q.next_batch(now);
                if !batch.is_empty() {
                    break batch;
                }
                match q.background_wait(now) {
                    None if q.closed => return,
                    // On close, background work runs without waiting its turn.
                    Some(_) if q.closed => q.last_arrival = None,
                    None => q = wake.wait(q).unwrap_or_else(|p| p.into_inner()),
                    Some(wait) => q = wake.wait_timeout(q, wait).unwrap_or_else(|p| p.into_inner()).0,
                }
            }
        };
        write(workspace, batch);
    }
}

/// One transaction for `batch`; each job's answer after the commit.
fn write(workspace: &Workspace, batch: Vec<Box<dyn Job>>) {
    let mut conn = workspace.conn();
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            for job in batch {
                job.refuse(StoreError::from(same_error(&e)));
            }
            return;
        }
    };
    let mut finishes = Vec::with_capacity(batch.len());
    for job in batch {
        // A job that panics loses its own answer (its caller sees the writer hang up), not
        // the others'.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(&tx))) {
            Ok(finish) => finishes.push(finish),
            Err(_) => {
                tracing::error!("a grouped write panicked; its savepoint is rolled back");
                let _ = tx.execute_batch("ROLLBACK TO group_work; RELEASE group_work");
            }
        }
    }
    let committed = tx.commit();
    drop(conn);
    if let Err(e) = &committed {
        tracing::error!("a group of {} writes could not be committed: {e}", finishes.len());
    }
    for finish in finishes {
        finish.done(committed.as_ref().map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, Arc<Workspace>) {
        let dir = tempfile::tempdir().unwrap();
        let ws = Arc::new(Workspace::open(dir.path()).unwrap());
        ws.conn().execute_batch("CREATE TABLE t (v INTEGER UNIQUE)").unwrap();
        (dir, ws)
    }

    fn count(ws: &Workspace) -> i64 {
        ws.conn().query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn each_piece_is_kept_or_left_alone_by_itself() {
        let (_dir, ws) = workspace();
        let writer = GroupCommit::start(Arc::clone(&ws)).unwrap();
        let answers: Vec<_> = (0..50)
            .map(|i| {
                writer.submit(move |c: &Connection| -> Result<i64, StoreError> {
                    c.execute("INSERT INTO t (v) VALUES (?1)", [i % 40])?;
                    Ok(i)
                })
            })
            .collect();
        let results: Vec<_> = answers.into_iter().map(|a| a.blocking_recv().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 40, "the ten repeats fail on the unique value");
        assert!(results[45].is_err());
        assert_eq!(count(&ws), 40, "a failed piece left nothing and spoiled nothing");
    }

    #[test]
    fn a_piece_that_fails_half_way_leaves_nothing() {
        let (_dir, ws) = workspace();
        let writer = GroupCommit::start(Arc::clone(&ws)).unwrap();
        let done = writer
            .submit(|c: &Connection| -> Result<(), StoreError> {
                c.execute("INSERT INTO t (v) VALUES (1)", [])?;
                Err(StoreError::Invalid("changed its mind".into()))
            })
            .blocking_recv()
            .unwrap();
        assert!(matches!(done, Err(StoreError::Invalid(why)) if why == "changed its mind"), "its own error");
        let kept =
            writer.submit(|c: &Connection| c.execute("INSERT INTO t (v) VALUES (1)", []).map_err(StoreError::from));
        assert_eq!(kept.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(count(&ws), 1);
    }

    #[test]
    fn a_piece_that_panics_loses_only_its_own_answer() {
        let (_dir, ws) = workspace();
        let writer = GroupCommit::start(Arc::clone(&ws)).unwrap();
        let panicked = writer.submit(|c: &Connection| -> Result<(), StoreError> {
            c.execute("INSERT INTO t (v) VALUES (7)", [])?;
            panic!("a bug")
        });
        let fine =
            writer.submit(|c: &Connection| c.execute("INSERT INTO t (v) VALUES (8)", []).map_err(StoreError::from));
        assert!(panicked.blocking_recv().is_err(), "its caller hears the writer hang up");
        assert_eq!(fine.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(count(&ws), 1, "the panicking piece left nothing");
    }

    #[test]
    fn background_work_is_done_when_nothing_else_waits() {
        let (_dir, ws) = workspace();
        let writer = GroupCommit::start(Arc::clone(&ws)).unwrap();
        let answers: Vec<_> = (0..10)
            .map(|i| {
                writer.submit_background(move |c: &Connection| {
                    c.execute("INSERT INTO t (v) VALUES (?1)", [i]).map_err(StoreError::from)
                })
            })
            .collect();
        assert!(answers.into_iter().all(|a| a.blocking_recv().is_ok_and(|r| r.is_ok())));
        assert_eq!(count(&ws), 10);
    }

    fn job(answers: &mut Vec<tokio::sync::oneshot::Receiver<Result<(), StoreError>>>) -> Box<dyn Job> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        answers.push(answered);
        Box::new(Work { work: |_: &Connection| Ok::<(), StoreError>(()), answer })
    }

    #[test]
    fn background_work_gives_way_to_waited_for_work_but_not_for_ever() {
        let mut kept = Vec::new();
        let start = Instant::now();
        let mut q = Queue::default();
        q.background.push_back(job(&mut kept));
        q.jobs.push_back(job(&mut kept));
        q.last_arrival = Some(start);
        q.last_background = Some(start);
        assert_eq!(q.next_batch(start).len(), 1, "the waited-for work alone");
        assert_eq!(q.next_batch(start + Duration::from_millis(1)).len(), 0, "not quiet yet");
        assert_eq!(q.background_wait(start + Duration::from_millis(1)), Some(Duration::from_millis(1)));
        assert_eq!(q.next_batch(start + QUIET).len(), 1, "quiet: the background work");

        q.background.push_back(job(&mut kept));
        let busy = start + Duration::from_millis(30);
        q.jobs.push_back(job(&mut kept));
        q.last_arrival = Some(busy);
        assert_eq!(q.next_batch(busy).len(), 2, "waited 20 ms: it goes along with the waited-for work");
    }

    #[test]
    fn work_handed_over_before_the_writer_is_dropped_is_done() {
        let (_dir, ws) = workspace();
        let writer = GroupCommit::start(Arc::clone(&ws)).unwrap();
        let answers: Vec<_> = (0..100)
            .map(|i| {
                writer.submit(move |c: &Connection| {
                    c.execute("INSERT INTO t (v) VALUES (?1)", [i]).map_err(StoreError::from)
                })
            })
            .collect();
        drop(writer);
        assert!(answers.into_iter().all(|a| a.blocking_recv().is_ok_and(|r| r.is_ok())));
        assert_eq!(count(&ws), 100);
    }
}
