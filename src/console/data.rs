//! The workspace's data and settings: the data model's overview, saved audiences, the
//! frequency cap, and the demo data.

use std::path::Path;
use std::sync::Arc;

use super::{Console, ConsoleError, DataCommand, DataEvent, Event, JobEvent, Refresh, UserError, jobs};
use crate::demo::{self, DemoOptions, DemoSummary};
use crate::model::{DataOverview, SavedAudience};
use crate::store;

impl Console {
    /// The data model with each entity's current row count.
    pub fn data_overview(&self) -> Result<DataOverview, ConsoleError> {
        let conn = self.workspace.conn();
        let model = store::data_model::load(&conn)?;
        Ok(DataOverview {
            entities: store::data_model::overview(&conn)?,
            dangling: store::data_model::dangling_links(&conn, &model)?,
            links: model.links,
            identity_namespaces: model.identity_namespaces,
            demo: demo::is_present(&conn)?,
        })
    }

    /// The saved audiences of the workspace.
    pub fn audiences(&self) -> Result<Vec<SavedAudience>, ConsoleError> {
        Ok(store::audiences::list(&self.workspace.conn())?)
    }

    /// Deletes a saved audience; false when there is none of that name.
    pub fn delete_audience(&self, name: &str) -> Result<bool, ConsoleError> {
        let conn = self.workspace.conn();
        let deleted = store::audiences::delete(&conn, name)?;
        if deleted {
            store::audit::record(&conn, self.now(), "user", "delete audience", name.trim(), "")?;
        }
        Ok(deleted)
    }

    /// The workspace's cap on marketing messages per profile in 24 hours (all channels), if any.
    pub fn frequency_cap(&self) -> Result<Option<u32>, ConsoleError> {
        Ok(store::customer_data::frequency_cap(&self.workspace.conn())?)
    }

    /// Sets (or with `None` removes) the cap on marketing messages per profile in 24 hours.
    pub fn set_frequency_cap(&self, cap: Option<u32>) -> Result<(), ConsoleError> {
        let conn = self.workspace.conn();
        store::customer_data::set_frequency_cap(&conn, cap)?;
        let detail = cap.filter(|n| *n > 0).map_or_else(|| "none".to_owned(), |n| n.to_string());
        store::audit::record(&conn, self.now(), "admin", "frequency cap", &detail, "")?;
        Ok(())
    }

    /// Whether the window should generate the first start's demo: on a new workspace, and
    /// again on one whose first generation was interrupted (it holds nothing yet).
    pub fn first_start_demo_due(&self, fresh: bool) -> Result<bool, ConsoleError> {
        let conn = self.workspace.conn();
        if fresh {
            store::customer_data::set_meta(&conn, demo::FIRST_START_PENDING, "1")?;
            return Ok(true);
        }
        let pending = store::customer_data::meta(&conn, demo::FIRST_START_PENDING)?.is_some();
        Ok(pending && store::customer_data::occupancy(&conn)?.is_none())
    }

    /// Whether the workspace holds the demo data.
    pub fn has_demo(&self) -> Result<bool, ConsoleError> {
        Ok(demo::is_present(&self.workspace.conn())?)
    }

    /// Whether the workspace holds no data at all (no data model, no campaign).
    pub fn is_empty(&self) -> Result<bool, ConsoleError> {
        Ok(store::customer_data::occupancy(&self.workspace.conn())?.is_none())
    }

    /// Writes every row of `entity` to `path` as CSV, by key (see [`Console::export_rows`]).
    pub fn export_entity(&self, entity: &str, path: &Path, cancelled: &dyn Fn() -> bool) -> Result<u64, ConsoleError> {
        self.export_rows(&crate::model::browse::BrowseQuery::new(entity), path, cancelled)
    }

    /// Writes the demo data into this workspace (blocking). See [`demo::generate`].
    pub fn generate_demo(
        &self,
        profiles: u64,
        seed: u64,
        replace: bool,
        progress: &mut dyn FnMut(f32) -> bool,
    ) -> Result<DemoSummary, ConsoleError> {
        let mut conn = self.workspace.connect()?;
        let options =
            DemoOptions { profiles, seed, today: self.now().to_zoned(jiff::tz::TimeZone::UTC).date(), replace };
        Ok(demo::generate(&mut conn, &options, self.now(), progress)?)
    }

    /// Removes the demo data: its entities with their rows, and its sample campaigns (Sandbox
    /// credentials stay). See [`demo::remove`].
    pub fn remove_demo(&self) -> Result<demo::DemoRemoval, ConsoleError> {
        let mut conn = self.workspace.connect()?;
        Ok(demo::remove(&mut conn, self.now())?)
    }

    fn start_demo_job(self: &Arc<Self>, profiles: u64, replace: bool) {
        let job = self.jobs.start();
        let id = job.id;
        let label = format!("Generating demo data ({profiles} profiles)");
        self.outbox.offer(JobEvent::Started { id, label });
        self.spawn(move |console| {
            let mut report = jobs::progress_to(console.outbox.clone(), id);
            let mut progress = |fraction: f32| {
                report(fraction);
                !job.cancelled()
            };
            let outcome = console
                .generate_demo(profiles, demo::DEFAULT_SEED, replace, &mut progress)
                .map(|s| format!("Demo ready: {} profiles, {} rows in all", s.profiles, s.total_rows()))
                .map_err(|e| UserError::new("The demo data was not generated", &e));
            drop(job);
            vec![
                JobEvent::Finished { id, outcome }.into(),
                console.refreshed(Refresh::Data),
                console.refreshed(Refresh::Campaigns),
            ]
        });
    }

    pub(super) fn overview_event(&self) -> Event {
        match self.data_overview() {
            Ok(o) => DataEvent::Overview(o).into(),
            Err(e) => Event::Failed(UserError::new("Could not read the data model", &e)),
        }
    }

    pub(super) fn data_command(self: &Arc<Self>, command: DataCommand) {
        match command {
            DataCommand::GenerateDemo { profiles, replace } => self.start_demo_job(profiles, replace),
            DataCommand::Model(edit) => self.model_edit(edit),
            DataCommand::RemoveDemo => self.spawn(|console| {
                let mut events = Vec::new();
                if let Err(e) = console.remove_demo() {
                    events.push(Event::Failed(UserError::new("The demo data was not removed", &e)));
                }
                events.push(console.refreshed(Refresh::Data));
                events.push(console.refreshed(Refresh::Campaigns));
                events
            }),
            DataCommand::ExportEntity { entity, path } => {
                self.start_file_job(path, "rows", move |c, path, cancelled| c.export_entity(&entity, path, cancelled));
            }
            DataCommand::RefreshOverview => self.spawn(|console| vec![console.refreshed(Refresh::Data)]),
            DataCommand::RefreshFrequencyCap => self.spawn(|console| {
                vec![match console.frequency_cap() {
                    Ok(cap) => DataEvent::FrequencyCap(cap).into(),
                    Err(e) => Event::Failed(UserError::new("Could not read the frequency cap", &e)),
                }]
            }),
            DataCommand::SetFrequencyCap { cap } => self.spawn(move |console| {
                vec![match console.set_frequency_cap(cap).and_then(|()| console.frequency_cap()) {
                    Ok(cap) => DataEvent::FrequencyCap(cap).into(),
                    Err(e) => Event::Failed(UserError::new("Could not set the frequency cap", &e)),
                }]
            }),
        }
    }
}
