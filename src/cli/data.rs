//! `campaign-console data`: shows the data model.

use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args {} = args;
    let overview = console.data_overview()?;
    for e in &overview.entities {
        let rows = e.row_count.map_or_else(|| "table missing".to_owned(), |n| format!("{n} rows"));
        say!(
            "{} ({rows}): {}",
            e.entity.name,
            e.entity
                .columns
                .iter()
                .map(|c| format!("{} {}", c.name, c.column_type.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (l, dangling) in overview.links.iter().zip(&overview.dangling) {
        let nowhere = match dangling {
            Some(1) => format!("  (1 row points at no {})", l.parent),
            Some(n) if *n > 0 => format!("  ({n} rows point at no {})", l.parent),
            _ => String::new(),
        };
        say!("link {}.{} → {}{nowhere}", l.child, l.foreign_key, l.parent);
    }
    for n in &overview.identity_namespaces {
        say!("identity {} = {}.{}", n.name, n.entity, n.column);
    }
    Ok(())
}
