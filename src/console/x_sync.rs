//! The follower synchronization of X services (a technical workflow): each service with
//! Synchronize subscriptions on has its followers paged through and kept as visitors, page by
//! page with the run's progress, so that a crash, a Cancel or a stop carries on where it
//! stopped and no page is fetched twice; 429 waits until X's reset, 401 stops with the keys
//! marked refused, other failures are tried again a few times, then leave the run to carry on.

use std::time::{Duration, Instant};

use std::sync::Arc;

use super::{Console, ConsoleError, Event, JobEvent, UserError, XCommand, jobs};
use crate::channels::SendError;
use crate::channels::x;
use crate::model::workflow::TechnicalWorkflow;
use crate::model::{Credential, ProviderSettings, Verification};
use crate::store;
use crate::store::visitors::{Destination, Follower, SyncRun};

/// Where a synchronization is, for a progress bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncProgress {
    pub service: String,
    pub pages: u64,
    pub visitors: u64,
    /// The followers X counts for the account (0 until it said).
    pub expected: u64,
    /// Waiting for X's rate limit until then.
    pub waiting_until: Option<jiff::Timestamp>,
}

/// What the Visitors screen shows: the X services, the last runs, the visitors' counts.
#[derive(Clone, Debug, PartialEq)]
pub struct XOverview {
    /// (id, label, handle, folder, synchronized).
    pub services: Vec<(i64, String, String, String, bool)>,
    /// The newest first.
    pub runs: Vec<SyncRun>,
    pub visitors: u64,
    pub following: u64,
    /// The data model and its Visitors entity, to browse them (once a synchronization made it).
    pub browse: Option<(crate::model::DataModel, crate::model::Entity)>,
    /// The technical workflow that synchronizes them on a schedule.
    pub workflow: TechnicalWorkflow,
    /// Its next launch, while it is started (what is wrong with its schedule otherwise).
    pub next_launch: Result<Option<jiff::Timestamp>, crate::schedule::InvalidSchedule>,
}

/// What a search of the visitors looks at: these columns, by prefix (see
/// [`BrowseQuery::search_by_prefix`](crate::model::browse::BrowseQuery::search_by_prefix)).
pub const VISITOR_SEARCH: [&str; 2] = store::visitors::SEARCHED;

/// The runs the Visitors screen lists.
const RUNS_SHOWN: usize = 20;

/// From this many followers, a synchronization writes the visitors without their search and
/// sort indexes and makes them again at its end.
const BULK_FOLLOWERS: u64 = 100_000;

/// A page of followers asked for ahead, on the Console's runtime.
type Ahead = tokio::task::JoinHandle<Result<x::FollowerPage, SendError>>;

/// Transient failures in a row before a run is left to carry on later.
const ATTEMPTS: u32 = 5;

impl Console {
    /// Synchronizes the followers of every X service with Synchronize subscriptions on (or
    /// only the one labelled `only`, whatever its setting): the runs as they ended.
    pub fn sync_followers(
        &self,
        only: Option<&str>,
        progress: &mut dyn FnMut(&SyncProgress),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<SyncRun>, ConsoleError> {
        let services: Vec<Credential> = self
            .credentials()?
            .into_iter()
            .filter(|c| match (only, x::service(c)) {
                (_, None) => false,
                (Some(label), Some(_)) => c.name.eq_ignore_ascii_case(label.trim()),
                (None, Some(s)) => s.synchronized,
            })
            .collect();
        if let (Some(label), true) = (only, services.is_empty()) {
            return Err(ConsoleError::Invalid(format!("there is no X service called \u{201c}{label}\u{201d}")));
        }
        // One synchronization at a time in a workspace: two would fetch the same pages.
        let _lease = self.hold_lease("x_sync", || {
            "the X followers are being synchronized by another window or process now: it carries on there, nothing was started here".to_owned()
        })?;
        store::visitors::ensure_entity(&self.workspace.conn())?;
        let mut out = Vec::new();
        let mut failed = None;
        for service in services {
            match self.sync_service(&service, progress, cancelled) {
                Ok(run) => out.push(run),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            if cancelled() {
                break;
            }
        }
        // The indexes a large synchronization set aside, made again whatever happened.
        store::visitors::ensure_entity(&self.workspace.conn())?;
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// How many visitors there are (of a service, in a folder), and how many still follow.
    pub fn visitor_count(&self, service: Option<&str>, folder: Option<&str>) -> Result<(u64, u64), ConsoleError> {
        let conn = self.workspace.conn();
        let all = store::visitors::count(&conn, service, folder, None)?;
        Ok((all, store::visitors::count(&conn, service, folder, Some(true))?))
    }

    /// The X services, the newest runs and the visitors' counts.
    pub fn x_overview(&self) -> Result<XOverview, ConsoleError> {
        let services = self
            .credentials()?
            .into_iter()
            .filter_map(|c| x::service(&c).map(|s| (c.id, c.name.clone(), s.handle, s.folder, s.synchronized)))
            .collect();
        let (visitors, following) = self.visitor_count(None, None)?;
        let model = store::data_model::load(&self.workspace.conn())?;
        let browse = model.entity(store::visitors::ENTITY).cloned().map(|e| (model.clone(), e));
        let workflow = self.x_sync_workflow()?;
        let next_launch = super::workflow_plan(&workflow)
            .map(|plan| plan.next_launches(self.now(), 1).first().map(jiff::Zoned::timestamp));
        Ok(XOverview {
            services,
            runs: self.sync_runs(RUNS_SHOWN)?,
            visitors,
            following,
            browse,
            workflow,
            next_launch,
        })
    }

    pub(super) fn x_command(self: &Arc<Self>, command: XCommand) {
        let overview = |console: &Console| -> Event {
            Event::X(console.x_overview().map_err(|e| UserError::new("Could not read the X services", &e)))
        };
        match command {
            XCommand::Overview => self.spawn(move |console| vec![overview(console)]),
            XCommand::Sync { service } => {
                let job = self.jobs.start();
                self.outbox.offer(JobEvent::Started { id: job.id, label: "Synchronizing the X followers".into() });
                self.spawn(move |console| {
                    let id = job.id;
                    let outcome = console.sync_as_job(job, service.as_deref());
                    vec![JobEvent::Finished { id, outcome }.into(), overview(console)]
                });
            }
            XCommand::Workflow(change) => self.spawn(move |console| {
                let changed = console.change_x_sync_workflow(change);
                let mut events = vec![overview(console)];
                if let Err(e) = changed {
                    events.push(Event::Failed(UserError::new("Could not change the technical workflow", &e)));
                }
                events
            }),
        }
    }

    /// Synchronizes the followers (of every service, or only `service`) as the job `job`: its
    /// progress and waits go to the status bar. Returns what came of it (the job's end, for the
    /// caller to tell).
    pub(super) fn sync_as_job(&self, job: jobs::JobHandle, service: Option<&str>) -> Result<String, UserError> {
        let id = job.id;
        let mut report = jobs::progress_rows_to(self.outbox.clone(), id);
        let mut waiting = false;
        let mut progress = |p: &SyncProgress| {
            let label = match p.waiting_until {
                Some(until) => format!(
                    "{}: waiting for the X rate limit until {}",
                    p.service,
                    until.to_zoned(jiff::tz::TimeZone::system()).strftime("%H:%M")
                ),
                None => format!("Synchronizing the followers of {}", p.service),
            };
            if waiting != p.waiting_until.is_some() || p.pages == 0 {
                waiting = p.waiting_until.is_some();
                self.outbox.offer(JobEvent::Started { id, label });
            }
            let fraction = if p.expected == 0 { 0.0 } else { p.visitors as f32 / p.expected as f32 };
            report(fraction.min(0.99), Some(p.visitors));
        };
        let outcome = self
            .sync_followers(service, &mut progress, &|| job.cancelled())
            .map(|runs| match runs.as_slice() {
                [] => "No X service synchronizes its followers".to_owned(),
                runs => runs.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>().join("; "),
            })
            .map_err(|e| UserError::new("The followers were not synchronized", &e));
        drop(job);
        outcome
    }

    /// Gives the Sandbox X account (the X channel's Sandbox credential) `followers` followers:
    /// the next synchronization brings them in as visitors, and marks those beyond as no longer
    /// following. Returns the service's label.
    pub fn set_sandbox_followers(&self, followers: u64) -> Result<String, ConsoleError> {
        if followers > x::sandbox::MAX_FOLLOWERS {
            return Err(ConsoleError::Invalid(format!(
                "the Sandbox X account can have at most {} followers",
                x::sandbox::MAX_FOLLOWERS
            )));
        }
        let conn = self.workspace.conn();
        let sandbox = store::credentials::list(&conn)?
            .into_iter()
            .find(|c| c.channel == crate::model::Channel::X && c.provider() == crate::model::ProviderKind::Sandbox);
        let Some(mut credential) = sandbox else {
            return Err(ConsoleError::Invalid(
                "this workspace has no Sandbox X service: generate the demo data first (campaign-console demo)".into(),
            ));
        };
        if let ProviderSettings::Sandbox(s) = &mut credential.settings {
            s.x_followers = Some(followers as f64);
        }
        store::credentials::update(&conn, &credential)?;
        Ok(credential.name)
    }

    /// The newest runs of the synchronization (of all services), at most `limit`.
    pub fn sync_runs(&self, limit: usize) -> Result<Vec<SyncRun>, ConsoleError> {
        Ok(store::visitors::runs(&self.workspace.conn(), None, limit)?)
    }

    fn sync_service(
        &self,
        service: &Credential,
        progress: &mut dyn FnMut(&SyncProgress),
        cancelled: &dyn Fn() -> bool,
    ) -> Result<SyncRun, ConsoleError> {
        let Some(about) = x::service(service) else {
            return Err(ConsoleError::Invalid(format!("\u{201c}{}\u{201d} is not an X service", service.name)));
        };
        let api = std::sync::Arc::new(self.x_account(service, &about)?);
        let conn = self.workspace.connect()?;
        let mut run = store::visitors::open_run(&conn, service.id, self.now())?;
        let mut shown = SyncProgress {
            service: service.name.clone(),
            pages: run.pages,
            visitors: run.visitors,
            expected: 0,
            waiting_until: None,
        };
        progress(&shown);
        let me = match self.x_call(&mut shown, progress, cancelled, || self.runtime.block_on(api.me())) {
            Ok(me) => me,
            Err(stop) => return self.stopped(&conn, service, run, stop),
        };
        shown.expected = me.public_metrics.followers_count;
        if shown.expected >= BULK_FOLLOWERS {
            // Rows written in X's order land all over the search and sort indexes: each page
            // would rewrite most of their pages. They are made again, in one pass, at the end.
            store::visitors::drop_search_indexes(&conn)?;
            // Fewer, larger checkpoints while the pages pour in.
            store::visitors::bulk_writes(&conn)?;
        }
        let to = Destination { service_id: service.id, service: &service.name, folder: &about.folder };
        let mut prefetched: Option<(Option<String>, Ahead)> = None;
        // An empty token: the last page was kept, only the end is left.
        while run.next_token.as_deref() != Some("") {
            if cancelled() {
                // A page asked for ahead is kept, so that carrying on never asks for it again.
                if let Some((_, h)) = prefetched.take()
                    && let Ok(Ok(page)) = self.runtime.block_on(h)
                {
                    let followers: Vec<Follower> = page.data.into_iter().map(follower).collect();
                    let next = page.meta.next_token.unwrap_or_default();
                    store::visitors::keep_page(&conn, run.id, to, &followers, Some(&next), self.now())?;
                    run.next_token = Some(next);
                    run.pages += 1;
                    run.visitors += followers.len() as u64;
                }
                return self.stopped(&conn, service, run, Stop::Cancelled);
            }
            let token = run.next_token.clone();
            // The page asked for while the one before was written, if it was; else asked now
            // (and again, on a failure).
            let ahead = std::cell::RefCell::new(prefetched.take().filter(|(t, _)| *t == token).map(|(_, h)| h));
            let page = match self.x_call(&mut shown, progress, cancelled, || match ahead.borrow_mut().take() {
                Some(h) => {
                    self.runtime.block_on(h).unwrap_or_else(|e| Err(SendError::transient("prefetch", e.to_string())))
                }
                None => self.runtime.block_on(api.followers(&me.id, token.as_deref())),
            }) {
                Ok(page) => page,
                Err(stop) => return self.stopped(&conn, service, run, stop),
            };
            let followers: Vec<Follower> = page.data.into_iter().map(follower).collect();
            let next = page.meta.next_token.unwrap_or_default();
            // The next page is asked for while this one is written.
            if !next.is_empty() {
                let (api, id, t) = (std::sync::Arc::clone(&api), me.id.clone(), next.clone());
                let h = self.runtime.spawn(async move { api.followers(&id, Some(&t)).await });
                prefetched = Some((Some(next.clone()), h));
            }
            store::visitors::keep_page(&conn, run.id, to, &followers, Some(&next), self.now())?;
            run.next_token = Some(next);
            run.pages += 1;
            run.visitors += followers.len() as u64;
            shown.pages += 1;
            shown.visitors += followers.len() as u64;
            progress(&shown);
        }
        let unfollowed = store::visitors::mark_unfollowed(&conn, service.id, run.id)?;
        let linked = store::visitors::link_profiles(&conn)?;
        let mut outcome =
            format!("{} visitors in {} pages; {unfollowed} no longer follow", shown.visitors, shown.pages);
        if linked > 0 {
            outcome.push_str(&format!("; {linked} are profiles (by X handle)"));
        }
        store::visitors::end_run(&conn, run.id, "done", unfollowed, &outcome, self.now())?;
        store::customer_data::bump_data_version(&conn)?;
        Ok(store::visitors::runs(&conn, Some(service.id), 1)?.remove(0))
    }

    /// One call to X, waiting out its rate limit and trying a passing failure again a few
    /// times; what stops the run otherwise.
    fn x_call<T>(
        &self,
        shown: &mut SyncProgress,
        progress: &mut dyn FnMut(&SyncProgress),
        cancelled: &dyn Fn() -> bool,
        call: impl Fn() -> Result<T, SendError>,
    ) -> Result<T, Stop> {
        let mut failures = 0;
        loop {
            let err = match call() {
                Ok(v) => return Ok(v),
                Err(e @ SendError::Permanent { .. }) => return Err(Stop::Refused(e)),
                Err(e) => e,
            };
            // X's rate limit says until when; anything else passing is tried again, waiting
            // longer each time.
            let limit = match &err {
                SendError::Transient { code, retry_after, .. } if code == "http_429" => {
                    Some(retry_after.unwrap_or(Duration::from_secs(60)))
                }
                _ => None,
            };
            let wait = match limit {
                Some(wait) => wait,
                None => {
                    failures += 1;
                    if failures >= ATTEMPTS {
                        return Err(Stop::Unanswered(err));
                    }
                    Duration::from_millis(500 * 2u64.pow(failures))
                }
            };
            shown.waiting_until = limit.map(|wait| crate::clock::wall() + wait);
            progress(shown);
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if cancelled() {
                    return Err(Stop::Cancelled);
                }
                std::thread::sleep((until - Instant::now()).min(Duration::from_millis(100)));
            }
            shown.waiting_until = None;
            progress(shown);
        }
    }

    /// Ends a run that could not go on: cancelled and unanswered ones carry on at the next
    /// synchronization; refused keys fail it and are noted on the service.
    fn stopped(
        &self,
        conn: &rusqlite::Connection,
        service: &Credential,
        run: SyncRun,
        stop: Stop,
    ) -> Result<SyncRun, ConsoleError> {
        let (status, outcome) = match &stop {
            Stop::Cancelled => (
                "cancelled",
                format!("stopped after {} pages: the next synchronization carries on from there", run.pages),
            ),
            Stop::Unanswered(e) => (
                "cancelled",
                format!(
                    "X did not answer ({}): the next synchronization carries on from page {}",
                    e.message(),
                    run.pages + 1
                ),
            ),
            Stop::Refused(e) => ("failed", e.message().to_owned()),
        };
        if let Stop::Refused(SendError::Permanent { code, message }) = &stop {
            let note = Verification {
                at: self.now(),
                ok: false,
                code: code.clone(),
                summary: message.clone(),
                detail: message.clone(),
            };
            store::credentials::set_verified(conn, service.id, &note)?;
        }
        store::visitors::end_run(conn, run.id, status, 0, &outcome, self.now())?;
        Ok(store::visitors::runs(conn, Some(service.id), 1)?.remove(0))
    }
}

/// Why a run stopped before its end.
enum Stop {
    Cancelled,
    /// A passing failure, too many times in a row.
    Unanswered(SendError),
    /// Final: the keys refused, the account not allowed.
    Refused(SendError),
}

fn follower(u: x::User) -> Follower {
    Follower {
        external_id: u.id,
        username: u.username,
        full_name: u.name,
        followers: u.public_metrics.followers_count,
        verified: u.verified,
        description: u.description,
        avatar_url: u.profile_image_url,
        location: u.location,
    }
}
