//! The profile browser (Data → an entity → Browse rows): every row of an entity in a table
//! that loads only the pages in view (keyset pages, read off the UI thread), a search over its
//! text columns, a sort by any column (click its title), a filter built with the canvas's rule
//! builder, a detail pane for the row clicked, and the matching rows exported to CSV.

mod avatar;
mod detail;

use std::collections::{BTreeMap, HashMap};

use egui_extras::{Column, TableBuilder};

use super::canvas::fields::{Choices, FormContext};
use super::{Commands, theme};
use crate::console::{BROWSE_PAGE, BrowseCommand, CanvasCommand, CanvasEvent, DataEvent, Event, RequestId};
use crate::model::browse::{BrowseQuery, BrowseRow, Cursor, PageStart, RowDetail, Sort};
use crate::model::{DataModel, Entity, Rule};

/// Pages kept on either side of the rows in view; farther ones are read again when needed.
const KEPT_PAGES: u64 = 20;

/// Page requests in flight at once (a fast scroll asks for the pages it stops on).
const MAX_PENDING: usize = 3;

/// What the browser asks of the screen around it.
pub enum Outcome {
    Stay,
    Close,
}

pub struct BrowseView {
    model: DataModel,
    entity: Entity,
    /// The query the table shows.
    query: BrowseQuery,
    /// The search as typed (applied with Enter).
    search: String,
    filter_open: bool,
    /// Loaded pages by number.
    pages: BTreeMap<u64, Vec<BrowseRow>>,
    /// Where the page after page `n` starts (`None`: page `n` is the last).
    ends: HashMap<u64, Option<Cursor>>,
    /// Pages asked for and not yet here, by the start they were asked from.
    pending: HashMap<u64, PageStart>,
    /// How many rows match, once counted.
    total: Option<u64>,
    /// Why the rows cannot be shown (a filter that does not fit, a damaged table).
    problem: Option<String>,
    selected: Option<i64>,
    /// The position of the row the keyboard is on (the selected one, or the one it selects
    /// once its page is here).
    cursor: Option<u64>,
    detail: Option<RowDetail>,
    /// The row whose detail was asked for last.
    detail_asked: Option<(String, i64)>,
    export_path: Option<String>,
    choices: Choices,
    /// The screen the back button goes to.
    back: &'static str,
    /// Visitors' avatars, at the top of their detail.
    avatars: avatar::Avatars,
}

impl BrowseView {
    /// The browser of `entity` (of `model`), showing every row by key.
    pub fn new(model: DataModel, entity: Entity, commands: &mut Commands) -> Self {
        let query = BrowseQuery::new(&entity.name);
        let mut view = Self {
            model,
            entity,
            query,
            search: String::new(),
            filter_open: false,
            pages: BTreeMap::new(),
            ends: HashMap::new(),
            pending: HashMap::new(),
            total: None,
            problem: None,
            selected: None,
            cursor: None,
            detail: None,
            detail_asked: None,
            export_path: None,
            choices: Choices::new(),
            back: "Data",
            avatars: avatar::Avatars::default(),
        };
        view.requery(commands);
        view
    }

    /// The browser, whose back button goes to `screen` (it is opened from there).
    #[must_use]
    pub fn back_to(mut self, screen: &'static str) -> Self {
        self.back = screen;
        self
    }

    /// The browser whose search looks for `columns` starting with what is typed, through their
    /// index, as it is typed (the visitors on a million rows).
    #[must_use]
    pub fn search_by_prefix(mut self, columns: &[&str], commands: &mut Commands) -> Self {
        self.query.search_by_prefix = columns.iter().map(|c| (*c).to_owned()).collect();
        self.requery(commands);
        self
    }

    /// The entity browsed (tests).
    pub fn entity(&self) -> &str {
        &self.entity.name
    }

    /// How many rows match, once counted (tests).
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The rows loaded, in order (tests).
    pub fn loaded_rows(&self) -> impl Iterator<Item = &BrowseRow> {
        self.pages.values().flatten()
    }

    /// The detail shown (tests).
    pub fn detail(&self) -> Option<&RowDetail> {
        self.detail.as_ref()
    }

    /// Forgets every row and asks again: the first page and the count.
    fn requery(&mut self, commands: &mut Commands) {
        self.pages.clear();
        self.ends.clear();
        self.pending.clear();
        self.total = None;
        self.problem = None;
        self.cursor = None;
        commands.push(BrowseCommand::Count { query: self.query.clone() });
        self.ask(0, commands);
    }

    /// Asks for page `n`: after the page before when its end is known, else from its offset.
    fn ask(&mut self, n: u64, commands: &mut Commands) {
        let start = match n.checked_sub(1).and_then(|p| self.ends.get(&p)) {
            Some(Some(cursor)) => PageStart::After(cursor.clone()),
            _ => PageStart::Offset(n * BROWSE_PAGE),
        };
        self.pending.insert(n, start.clone());
        commands.push(BrowseCommand::Page { query: self.query.clone(), start });
    }

    /// Rows the table has room for: the count once known, else the rows loaded (and one more
    /// while there are more).
    fn row_count(&self) -> u64 {
        if let Some(n) = self.total {
            return n;
        }
        let loaded: u64 = self.pages.values().map(|p| p.len() as u64).sum();
        let more = self.pages.keys().next_back().is_some_and(|last| matches!(self.ends.get(last), Some(Some(_))));
        loaded + u64::from(more || self.pending.contains_key(&0))
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Commands, today: jiff::civil::Date) -> Outcome {
        let mut outcome = Outcome::Stay;
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button(format!("\u{2b05} {}", self.back)).on_hover_text(format!("Back to {}", self.back)).clicked() {
                outcome = Outcome::Close;
            }
            ui.heading(format!("Browse {}", self.entity.label));
            ui.label(egui::RichText::new(self.matching()).color(theme::muted(ui)));
        });
        ui.add_space(6.0);
        self.toolbar(ui, commands);
        if self.filter_open {
            self.filter_editor(ui, commands, today);
        }
        if let Some(p) = &self.problem {
            ui.colored_label(theme::warning(ui), p);
        }
        ui.add_space(4.0);
        egui::Panel::right("browse_detail").resizable(true).default_size(360.0).size_range(220.0..=640.0).show(
            ui,
            |ui| {
                if let Some(d) = self.detail.as_ref().filter(|d| d.entity == crate::model::VISITORS) {
                    let at = self
                        .model
                        .entity(&d.entity)
                        .and_then(|e| e.columns.iter().position(|c| c.name == "avatar_url"));
                    self.avatars.ui(ui, d, at, commands);
                }
                if let Some((entity, key)) = detail::pane(ui, &self.model, self.detail.as_ref(), self.selected) {
                    self.show_detail(entity, key, commands);
                }
            },
        );
        egui::CentralPanel::default().show(ui, |ui| self.table(ui, commands));
        outcome
    }

    /// "12 345 of 1 000 000 rows", "counting…".
    fn matching(&self) -> String {
        match self.total {
            None => "counting\u{2026}".to_owned(),
            Some(n) if self.is_narrowed() => format!("{} matching", theme::count(n)),
            Some(n) => format!("{} in all", theme::count(n)),
        }
    }

    fn is_narrowed(&self) -> bool {
        !self.query.search.trim().is_empty() || self.query.filter != Rule::everyone()
    }

    /// Search, filter, export.
    fn toolbar(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        ui.horizontal(|ui| {
            let label = ui.label("Search").id;
            let by_prefix = !self.query.search_by_prefix.is_empty();
            let hint = if by_prefix {
                let labels: Vec<&str> = (self.query.search_by_prefix.iter())
                    .filter_map(|c| self.entity.column(c).map(|c| c.label.as_str()))
                    .collect();
                format!("{} starting with…, or a key", labels.join(" or "))
            } else {
                "words in any text column, or a key".to_owned()
            };
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.search).hint_text(hint).desired_width(260.0))
                .labelled_by(label);
            if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F)) {
                r.request_focus();
            }
            let entered = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            // A search by prefix is read off an index: it follows the typing.
            let typed = by_prefix && r.changed();
            if (entered || typed || ui.button("Search").clicked()) && self.search.trim() != self.query.search {
                self.query.search = self.search.trim().to_owned();
                self.requery(commands);
            }
            if !self.query.search.is_empty() && ui.button("Clear search").clicked() {
                self.search.clear();
                self.query.search.clear();
                self.requery(commands);
            }
            ui.separator();
            let conditions = condition_count(&self.query.filter);
            let title = match conditions {
                0 => "Filter\u{2026}".to_owned(),
                n => format!("Filter ({n})\u{2026}"),
            };
            if ui
                .selectable_label(self.filter_open, title)
                .on_hover_text("Only the rows that match conditions, as in Build audience")
                .clicked()
            {
                self.filter_open = !self.filter_open;
            }
            ui.separator();
            if let Some(path) = super::path_field::export_controls(
                ui,
                egui::Id::new("browse_export_path"),
                &mut self.export_path,
                &format!("{}.csv", self.entity.name),
                "The rows that match, in this order, as CSV",
            ) {
                commands.push(BrowseCommand::Export { query: self.query.clone(), path });
            }
        });
    }

    /// The rule builder, applied as it changes.
    fn filter_editor(&mut self, ui: &mut egui::Ui, commands: &mut Commands, today: jiff::civil::Date) {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("browse_filter").max_height(220.0).show(ui, |ui| {
                let mut cx = FormContext { model: &self.model, choices: &self.choices, wanted: Vec::new(), today };
                let mut rule = self.query.filter.clone();
                let changed = super::canvas::rule::rule_editor(
                    ui,
                    &mut cx,
                    egui::Id::new("browse_rule"),
                    &self.entity,
                    &mut rule,
                    0,
                );
                for (entity, column) in std::mem::take(&mut cx.wanted) {
                    commands.push(CanvasCommand::DistinctValues { entity, column });
                }
                let mut clear = false;
                if rule != Rule::everyone() {
                    clear = ui.button("Clear filter").clicked();
                }
                if clear {
                    rule = Rule::everyone();
                }
                if changed || clear {
                    self.query.filter = rule;
                    self.requery(commands);
                }
            });
        });
    }

    /// The rows: only those in view are laid out; the pages they need are asked for.
    fn table(&mut self, ui: &mut egui::Ui, commands: &mut Commands) {
        let rows = usize::try_from(self.row_count()).unwrap_or(usize::MAX);
        if rows == 0 && self.pending.is_empty() && self.problem.is_none() {
            ui.label(egui::RichText::new("No row matches.").color(theme::muted(ui)));
            return;
        }
        let mut wanted: Vec<u64> = Vec::new();
        let mut clicked = None;
        let mut sort_by = None;
        let columns = self.entity.columns.clone();
        let scroll_to = self.keyboard(ui, rows as u64);
        egui::ScrollArea::horizontal().id_salt("browse_table_h").show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt("browse_table")
                .striped(true)
                .sense(egui::Sense::click())
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
            if let Some(i) = scroll_to {
                // A jump of a million rows is not animated: the rows are there at once.
                table = table
                    .scroll_to_row(usize::try_from(i).unwrap_or(usize::MAX), Some(egui::Align::Center))
                    .animate_scrolling(false);
            }
            for _ in &columns {
                table = table.column(Column::initial(140.0).at_least(60.0).clip(true).resizable(true));
            }
            table
                .header(theme::ROW_HEIGHT, |mut h| {
                    for c in &columns {
                        h.col(|ui| {
                            let arrow = match &self.query.sort {
                                Some(s) if s.column == c.name && s.descending => " \u{23f7}",
                                Some(s) if s.column == c.name => " \u{23f6}",
                                None if c.name == self.entity.primary_key => " \u{23f6}",
                                _ => "",
                            };
                            ui.strong(format!("{}{arrow}", c.label));
                            // The whole title cell sorts, not just its words.
                            let r = ui
                                .interact(ui.max_rect(), ui.id().with(("sort", &c.name)), egui::Sense::click())
                                .on_hover_cursor(egui::CursorIcon::PointingHand)
                                .on_hover_text(format!("{} ({}): click to sort", c.name, c.column_type.as_str()));
                            if r.clicked() {
                                sort_by = Some(c.name.clone());
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(theme::ROW_HEIGHT, rows, |mut row| {
                        let i = row.index() as u64;
                        let (page, at) = (i / BROWSE_PAGE, (i % BROWSE_PAGE) as usize);
                        match self.pages.get(&page).and_then(|p| p.get(at)) {
                            Some(r) => {
                                row.set_selected(self.selected == Some(r.key));
                                for c in &r.cells {
                                    row.col(|ui| {
                                        ui.add(egui::Label::new(c).selectable(false).truncate());
                                    });
                                }
                                if row.response().clicked() {
                                    clicked = Some((i, r.key));
                                } else if self.cursor == Some(i) && self.selected != Some(r.key) {
                                    // The row the keyboard went to, now that its page is here.
                                    clicked = Some((i, r.key));
                                }
                            }
                            None => {
                                if wanted.last() != Some(&page) {
                                    wanted.push(page);
                                }
                                for _ in &columns {
                                    row.col(|ui| {
                                        ui.label(egui::RichText::new("\u{2026}").color(theme::muted(ui)));
                                    });
                                }
                            }
                        }
                    });
                });
        });
        if let Some(column) = sort_by {
            self.query.sort = next_sort(self.query.sort.take(), &column, &self.entity.primary_key);
            self.requery(commands);
            return;
        }
        if let Some((i, key)) = clicked {
            self.cursor = Some(i);
            self.show_detail(self.entity.name.clone(), key, commands);
        }
        self.load(&wanted, commands);
    }

    /// Arrows, Page Up / Down, Home / End move the selection (when no field has the keyboard);
    /// returns the row to scroll to.
    fn keyboard(&mut self, ui: &egui::Ui, rows: u64) -> Option<u64> {
        if rows == 0 || ui.memory(|m| m.focused().is_some()) {
            return None;
        }
        let page = ((ui.available_height() / theme::ROW_HEIGHT) as u64).saturating_sub(2).max(1);
        let at = self.cursor.unwrap_or(0).min(rows - 1);
        let to = ui.input_mut(|i| {
            let mut key = |k| i.consume_key(egui::Modifiers::NONE, k);
            if key(egui::Key::ArrowDown) {
                Some(if self.cursor.is_none() { 0 } else { at + 1 })
            } else if key(egui::Key::ArrowUp) {
                Some(at.saturating_sub(1))
            } else if key(egui::Key::PageDown) {
                Some(at + page)
            } else if key(egui::Key::PageUp) {
                Some(at.saturating_sub(page))
            } else if key(egui::Key::Home) {
                Some(0)
            } else if key(egui::Key::End) {
                Some(rows - 1)
            } else {
                None
            }
        })?;
        let to = to.min(rows - 1);
        self.cursor = Some(to);
        Some(to)
    }

    /// Asks for the pages in view that are neither here nor asked for, and forgets pages far
    /// from them.
    fn load(&mut self, wanted: &[u64], commands: &mut Commands) {
        // A page that could not be read is not asked for again and again: the problem shows.
        if self.problem.is_some() {
            return;
        }
        for &page in wanted {
            if self.pending.len() >= MAX_PENDING {
                break;
            }
            if !self.pending.contains_key(&page) && !self.pages.contains_key(&page) {
                self.ask(page, commands);
            }
        }
        if let (Some(first), Some(last)) = (wanted.first(), wanted.last()) {
            let (low, high) = (first.saturating_sub(KEPT_PAGES), last + KEPT_PAGES);
            self.pages.retain(|p, _| (low..=high).contains(p));
        }
    }

    fn show_detail(&mut self, entity: String, key: i64, commands: &mut Commands) {
        if entity == self.entity.name {
            self.selected = Some(key);
        }
        self.detail_asked = Some((entity.clone(), key));
        commands.push(BrowseCommand::Detail { entity, key });
    }

    pub fn on_event(&mut self, event: &Event, _request: Option<RequestId>) {
        match event {
            Event::Data(DataEvent::BrowsePage { query, start, page }) if *query == self.query => {
                let Some(n) = self.pending.iter().find(|(_, s)| *s == start).map(|(n, _)| *n) else { return };
                self.pending.remove(&n);
                match page {
                    Ok(p) => {
                        self.ends.insert(n, p.next.clone());
                        if p.next.is_none() {
                            // The last page: the count is known whatever the counter says.
                            self.total = Some(n * BROWSE_PAGE + p.rows.len() as u64);
                        }
                        self.pages.insert(n, p.rows.clone());
                    }
                    Err(e) => self.problem = Some(e.message.clone()),
                }
            }
            Event::Data(DataEvent::BrowseCount { query, count }) if *query == self.query => match count {
                Ok(n) => self.total = Some(*n),
                Err(e) => self.problem = Some(e.message.clone()),
            },
            Event::Data(DataEvent::RowDetail(d))
                if self.detail_asked.as_ref().is_some_and(|(e, k)| *e == d.entity && *k == d.key) =>
            {
                self.detail = Some((**d).clone());
            }
            Event::Avatar { url, avatar, note } => self.avatars.arrived(url, avatar.as_ref(), note.as_deref()),
            Event::Canvas(CanvasEvent::DistinctValues { entity, column, values }) => {
                self.choices.insert((entity.clone(), column.clone()), values.clone());
            }
            _ => {}
        }
    }
}

/// A click on a column's title: by it ascending, then descending, then by key again.
fn next_sort(current: Option<Sort>, column: &str, key: &str) -> Option<Sort> {
    match current {
        Some(s) if s.column == column && !s.descending => Some(Sort { column: column.to_owned(), descending: true }),
        Some(s) if s.column == column => None,
        None if column == key => Some(Sort { column: column.to_owned(), descending: true }),
        _ => Some(Sort { column: column.to_owned(), descending: false }),
    }
}

/// The conditions of a rule (groups are not conditions).
fn condition_count(rule: &Rule) -> usize {
    match rule {
        Rule::All { rules } | Rule::Any { rules } => rules.iter().map(condition_count).sum(),
        Rule::Not { rule } => condition_count(rule),
        Rule::Column { .. } | Rule::Linked { .. } => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_clicked_sorts_up_then_down_then_by_key() {
        let up = next_sort(None, "city", "id");
        assert_eq!(up, Some(Sort { column: "city".into(), descending: false }));
        let down = next_sort(up, "city", "id");
        assert_eq!(down, Some(Sort { column: "city".into(), descending: true }));
        assert_eq!(next_sort(down, "city", "id"), None);
        assert_eq!(next_sort(None, "id", "id"), Some(Sort { column: "id".into(), descending: true }));
    }
}
