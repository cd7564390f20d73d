//! `campaign-console import-data`: loads a CSV or TSV file into an entity, for scripted
//! nightly loads. The mapping is guessed from the file and the data model (or a saved one is
//! used), then changed by the options; progress goes to stderr, refused rows to a file.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use campaign_console::console::Console;
use campaign_console::import::{self, DateFormat, Key, Mapping, Mode};
use campaign_console::model::ColumnType;

#[derive(clap::Args)]
pub struct Args {
    /// The CSV or TSV file.
    file: PathBuf,
    /// The entity to fill: an existing one, or a new one by this name.
    #[arg(long)]
    entity: String,
    /// Use the mapping saved under this name (the options below change it).
    #[arg(long, value_name = "NAME")]
    mapping: Option<String>,
    /// The file column holding each row's key (whole numbers, one per row).
    #[arg(long, value_name = "COLUMN", conflicts_with = "number_rows")]
    key: Option<String>,
    /// Number the rows instead (after the largest key already there).
    #[arg(long)]
    number_rows: bool,
    /// A column that points to another entity's key: COLUMN=ENTITY (repeatable).
    #[arg(long, value_name = "COLUMN=ENTITY")]
    link: Vec<String>,
    /// A column holding an identity: COLUMN=email|phone|crm_id|x_handle (repeatable).
    #[arg(long, value_name = "COLUMN=NAMESPACE")]
    namespace: Vec<String>,
    /// A column's type: COLUMN=text|integer|decimal|boolean|date|timestamp, with the date
    /// format after a colon for dates (iso, dd/mm/yyyy, mm/dd/yyyy, epoch) (repeatable).
    #[arg(long = "type", value_name = "COLUMN=TYPE[:FORMAT]")]
    types: Vec<String>,
    /// A file column not to import (repeatable).
    #[arg(long, value_name = "COLUMN")]
    skip: Vec<String>,
    /// insert (new rows; a key already there is refused), upsert (new rows and changes by
    /// key) or replace (the file's rows replace the entity's).
    #[arg(long)]
    mode: Option<String>,
    /// With upsert: an empty cell clears the value (else it keeps what is there).
    #[arg(long)]
    clear_empty: bool,
    /// The country of phone numbers written without + (FR, US, GB…).
    #[arg(long, value_name = "CODE")]
    country: Option<String>,
    /// The delimiter, when the guess is wrong: , ; tab or |.
    #[arg(long)]
    delimiter: Option<String>,
    /// The first line holds data, not column names (they become column_1, column_2, …).
    #[arg(long)]
    no_header: bool,
    /// Write every refused cell to this CSV file (line, column, value, reason).
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Read and check every row, write nothing.
    #[arg(long)]
    check: bool,
    /// Save the mapping used under this name.
    #[arg(long, value_name = "NAME")]
    save_mapping: Option<String>,
}

/// The file column `name` names (its header, any case, or its target column).
fn column<'m>(mapping: &'m mut Mapping, name: &str) -> anyhow::Result<&'m mut import::ColumnMapping> {
    let names: Vec<String> = mapping.columns.iter().map(|c| c.source.clone()).collect();
    mapping
        .columns
        .iter_mut()
        .find(|c| c.source.eq_ignore_ascii_case(name.trim()) || c.target.as_deref() == Some(name.trim()))
        .with_context(|| format!("the file has no column \u{201c}{name}\u{201d} (it has: {})", names.join(", ")))
}

fn pair<'a>(arg: &'a str, what: &str) -> anyhow::Result<(&'a str, &'a str)> {
    arg.split_once('=')
        .map(|(a, b)| (a.trim(), b.trim()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .with_context(|| format!("\u{201c}{arg}\u{201d} is not {what}"))
}

fn apply(args: &Args, mapping: &mut Mapping) -> anyhow::Result<()> {
    for name in &args.skip {
        column(mapping, name)?.target = None;
    }
    for arg in &args.types {
        let (name, spec) = pair(arg, "COLUMN=TYPE[:FORMAT]")?;
        let (ty, format) = spec.split_once(':').map_or((spec, None), |(t, f)| (t, Some(f)));
        let ty = ColumnType::parse(&ty.to_ascii_lowercase())
            .with_context(|| format!("{ty} is not a type (text, integer, decimal, boolean, date, timestamp)"))?;
        let c = column(mapping, name)?;
        c.column_type = ty;
        if let Some(f) = format {
            c.date_format = DateFormat::parse(f)
                .with_context(|| format!("{f} is not a date format (iso, dd/mm/yyyy, mm/dd/yyyy, epoch)"))?;
        }
    }
    for arg in &args.link {
        let (name, entity) = pair(arg, "COLUMN=ENTITY")?;
        column(mapping, name)?.link = Some(entity.to_owned());
    }
    for arg in &args.namespace {
        let (name, ns) = pair(arg, "COLUMN=NAMESPACE")?;
        let c = column(mapping, name)?;
        c.namespace = Some(ns.to_ascii_lowercase());
        c.column_type = if ns == "crm_id" { c.column_type } else { ColumnType::Text };
    }
    if let Some(k) = &args.key {
        let c = column(mapping, k)?;
        let target = c.target.clone().with_context(|| format!("the key {k} is skipped"))?;
        c.link = None;
        c.column_type = ColumnType::Integer;
        mapping.key = Key::Column(target);
    }
    if args.number_rows {
        let name = match &mapping.key {
            Key::Numbered(n) => n.clone(),
            Key::Column(_) => "id".to_owned(),
        };
        mapping.key = Key::Numbered(name);
    }
    if let Some(m) = &args.mode {
        mapping.mode = Mode::parse(m).with_context(|| format!("{m} is not a mode (insert, upsert or replace)"))?;
    }
    if args.clear_empty {
        mapping.clear_empty = true;
    }
    if let Some(c) = &args.country {
        mapping.default_country = c.trim().to_ascii_uppercase();
    }
    Ok(())
}

/// The saved mapping named, or the one the file and the data model suggest.
fn mapping_for(console: &Console, args: &Args, sample: &import::Sample) -> anyhow::Result<Mapping> {
    Ok(match &args.mapping {
        Some(name) => {
            let saved = console.saved_mappings()?;
            let (_, m) = saved
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .with_context(|| format!("there is no saved mapping called \u{201c}{name}\u{201d}"))?;
            let sources: Vec<&str> = m.columns.iter().map(|c| c.source.as_str()).collect();
            if sources != sample.columns.iter().map(String::as_str).collect::<Vec<_>>() {
                bail!(
                    "the mapping {name} is for the columns {}, the file has {}",
                    sources.join(", "),
                    sample.columns.join(", ")
                );
            }
            Mapping { entity: import::mapping::identifier(&args.entity), ..m }
        }
        None => console.guess_mapping(sample, &args.entity)?,
    })
}

/// The mapping, column by column, on stderr.
fn describe(args: &Args, format: &import::Format, mapping: &Mapping) {
    eprintln!(
        "{} ({}, {}{}) → {} ({}):",
        args.file.display(),
        format.encoding.label(),
        import::source::delimiter_label(format.delimiter),
        if format.header { "" } else { ", no header" },
        mapping.entity,
        mapping.mode.label()
    );
    for c in &mapping.columns {
        match &c.target {
            None => eprintln!("  {:<24} skipped", c.source),
            Some(t) => {
                let mut extra = String::new();
                if matches!(c.column_type, ColumnType::Date | ColumnType::Timestamp) {
                    extra.push_str(&format!(" ({})", c.date_format.as_str()));
                }
                if mapping.key.column() == t {
                    extra.push_str(", key");
                }
                if let Some(l) = &c.link {
                    extra.push_str(&format!(", links to {l}"));
                }
                if let Some(n) = &c.namespace {
                    extra.push_str(&format!(", {n}"));
                }
                eprintln!("  {:<24} → {t}: {}{extra}", c.source, c.column_type.as_str());
            }
        }
    }
    if let Key::Numbered(k) = &mapping.key {
        eprintln!("  rows numbered in {k}");
    }
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let mut sample = console.import_sample(&args.file, None)?;
    let mut format = sample.format.clone();
    if let Some(d) = &args.delimiter {
        format.delimiter = match d.as_str() {
            "," | "comma" => b',',
            ";" | "semicolon" => b';',
            "\\t" | "\t" | "tab" => b'\t',
            "|" | "bar" => b'|',
            other => bail!("{other} is not a delimiter (, ; tab or |)"),
        };
    }
    if args.no_header {
        format.header = false;
    }
    if format != sample.format {
        sample = console.import_sample(&args.file, Some(&format))?;
    }
    let mut mapping = mapping_for(console, &args, &sample)?;
    apply(&args, &mut mapping)?;
    for w in &sample.warnings {
        eprintln!("note: {w}");
    }
    describe(&args, &format, &mapping);
    let mut last = -1;
    let started = std::time::Instant::now();
    let mut progress = |f: f32, rows: u64| {
        let pct = (f * 100.0) as i32;
        if pct != last {
            last = pct;
            let pace = campaign_console::model::pace(started.elapsed().as_secs_f64(), f, Some(rows));
            eprint!("\r{}: {pct:3}%{pace}   ", if args.check { "checking" } else { "importing" });
            let _ = std::io::stderr().flush();
        }
    };
    let report = console.import_file(
        &args.file,
        &format,
        &mapping,
        !args.check,
        args.rejects.as_deref(),
        &mut progress,
        &|| false,
    );
    eprintln!();
    let report = report.context(if args.check { "the file was not checked" } else { "the file was not imported" })?;
    for r in report.rejects.iter().take(20) {
        let column = if r.column.is_empty() { String::new() } else { format!(", {}", r.column) };
        let value = if r.value.is_empty() { String::new() } else { format!(" \u{201c}{}\u{201d}", r.value) };
        eprintln!("  line {}{column}:{value} {}", r.line, r.reason);
    }
    if report.rejects.len() > 20 {
        let to = args
            .rejects
            .as_ref()
            .map_or_else(|| " (--rejects FILE lists them all)".to_owned(), |p| format!(" (all in {})", p.display()));
        eprintln!("  … and more{to}");
    }
    if let Some(name) = &args.save_mapping {
        console.save_mapping(name, &mapping)?;
        eprintln!("Mapping saved as \u{201c}{}\u{201d}.", name.trim());
    }
    say!("{}", report.summary());
    for s in report.dangling_sentences() {
        say!("  {s}");
    }
    Ok(())
}
