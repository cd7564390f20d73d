//! `campaign-console visitors`: the visitors the follower synchronization keeps: how many,
//! those whose username or full name starts with a text, and all of them (or a service's, a
//! folder's) to a CSV file.

use std::path::PathBuf;

use campaign_console::console::{Console, VISITOR_SEARCH};
use campaign_console::model::browse::{BrowseQuery, PageStart};
use campaign_console::model::{Op, Operand, Rule, VISITORS};
use clap::Subcommand;

/// The most rows `visitors search` lists.
const MAX_LIMIT: u64 = 100_000;

#[derive(Subcommand)]
pub enum VisitorsCmd {
    /// How many visitors (of a service, in a folder), and how many still follow.
    Count {
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        folder: Option<String>,
    },
    /// The visitors whose username or full name starts with TEXT (any case), by id.
    Search {
        text: String,
        /// At most this many (1 to 100000).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=MAX_LIMIT))]
        limit: u64,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        folder: Option<String>,
    },
    /// Writes the visitors (of a service, in a folder) to FILE as CSV, every column, by id.
    Export {
        file: PathBuf,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        folder: Option<String>,
    },
}

pub fn run(console: &Console, action: VisitorsCmd) -> anyhow::Result<()> {
    match action {
        VisitorsCmd::Count { service, folder } => {
            let (all, following) = console.visitor_count(service.as_deref(), folder.as_deref())?;
            say!("{all} visitors, {following} still following");
            Ok(())
        }
        VisitorsCmd::Search { text, limit, service, folder } => {
            let mut query = query(console, service.as_deref(), folder.as_deref())?;
            query.search = text.trim().to_owned();
            if query.search.is_empty() {
                anyhow::bail!("type the start of a username or full name to look for");
            }
            search(console, &query, limit)
        }
        VisitorsCmd::Export { file, service, folder } => {
            columns(console)?;
            let query = query(console, service.as_deref(), folder.as_deref())?;
            let n = console.export_rows(&query, &file, &|| false)?;
            say!("{n} visitors written to {}", file.display());
            Ok(())
        }
    }
}

/// Every visitor (of `service`, in `folder`: named in any case, as `visitors count` takes
/// them), by id.
fn query(console: &Console, service: Option<&str>, folder: Option<&str>) -> anyhow::Result<BrowseQuery> {
    let mut query = BrowseQuery::new(VISITORS);
    query.search_by_prefix = VISITOR_SEARCH.iter().map(|c| (*c).to_owned()).collect();
    let folders = console.visitor_folders()?;
    let service = match service {
        None => None,
        Some(s) => Some(
            folders
                .iter()
                .flat_map(|f| f.services.iter())
                .find(|name| name.eq_ignore_ascii_case(s.trim()))
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!("there is no X service called \u{201c}{s}\u{201d} (`x list` lists them)")
                })?,
        ),
    };
    let folder = match folder {
        None => None,
        Some(f) => Some(
            folders
                .iter()
                .find(|known| known.name.eq_ignore_ascii_case(f.trim()))
                .map(|known| known.name.clone())
                .ok_or_else(|| anyhow::anyhow!("there is no visitor folder called \u{201c}{f}\u{201d}"))?,
        ),
    };
    let rules: Vec<Rule> = [("service", service), ("folder", folder)]
        .into_iter()
        .filter_map(|(column, value)| {
            value.map(|v| Rule::Column { column: column.into(), op: Op::Eq, value: Operand::Text(v) })
        })
        .collect();
    query.filter = Rule::All { rules };
    Ok(query)
}

fn search(console: &Console, query: &BrowseQuery, limit: u64) -> anyhow::Result<()> {
    let columns = columns(console)?;
    let total = console.browse_count(query)?;
    if total == 0 {
        say!("No visitor's username or full name starts with \u{201c}{}\u{201d}.", query.search);
        return Ok(());
    }
    let shown = ["id", "username", "full_name", "followers", "verified", "service", "folder", "following"];
    let at: Vec<Option<usize>> = shown.iter().map(|name| columns.iter().position(|c| c.name == *name)).collect();
    say!(
        "{:>9}  {:<16} {:<28} {:>10} {:<8} {:<14} {:<12} {}",
        "id",
        "username",
        "full name",
        "followers",
        "verified",
        "service",
        "folder",
        "following"
    );
    let mut start = PageStart::Offset(0);
    let mut listed = 0u64;
    while listed < limit {
        let page = console.browse_page(query, &start)?;
        for row in page.rows.iter().take(usize::try_from(limit - listed).unwrap_or(usize::MAX)) {
            let cell = |i: usize| at[i].and_then(|j| row.cells.get(j)).map_or("", String::as_str);
            say!(
                "{:>9}  {:<16} {:<28} {:>10} {:<8} {:<14} {:<12} {}",
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                cell(4),
                cell(5),
                cell(6),
                cell(7)
            );
            listed += 1;
        }
        match page.next {
            Some(cursor) if listed < limit => start = PageStart::After(cursor),
            _ => break,
        }
    }
    say!("{listed} of {total} visitors whose username or full name starts with \u{201c}{}\u{201d}", query.search);
    Ok(())
}

/// The visitors' columns, or what to do when there are no visitors yet.
fn columns(console: &Console) -> anyhow::Result<Vec<campaign_console::model::Column>> {
    console
        .data_overview()?
        .entities
        .into_iter()
        .find(|e| e.entity.name == VISITORS)
        .map(|e| e.entity.columns)
        .ok_or_else(|| anyhow::anyhow!("there are no visitors yet: `campaign-console x sync` brings them in"))
}
