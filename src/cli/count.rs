//! `campaign-console count`: counts a campaign's canvas (a test run).

use campaign_console::console::Console;

#[derive(clap::Args)]
pub struct Args {
    /// The campaign's name or id.
    campaign: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Then write the canvas's Save audience activities, as a campaign run does (no
    /// message is sent).
    #[arg(long)]
    save_audiences: bool,
}

pub fn run(console: &Console, args: Args) -> anyhow::Result<()> {
    let Args { campaign, json, save_audiences } = args;
    let (campaign, canvas, report, saved) = if save_audiences {
        console.count_and_save_audiences(&campaign, &|| false)?
    } else {
        let (campaign, canvas, report) = console.count_campaign(&campaign, &|| false)?;
        (campaign, canvas, report, Vec::new())
    };
    let label = |id: &str| canvas.activity(id).map_or_else(|| id.to_owned(), |a| a.label.clone());
    if json {
        let transitions: Vec<_> = canvas
            .transitions
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.id, "from": t.from, "output": t.output, "to": t.to,
                    "count": report.count_of(&t.id),
                })
            })
            .collect();
        let activities: Vec<_> = report
            .activities
            .iter()
            .map(|a| serde_json::json!({ "id": a.activity, "label": label(&a.activity), "ms": a.duration.as_secs_f64() * 1e3 }))
            .collect();
        let saved: Vec<_> = saved
            .iter()
            .map(|a| serde_json::json!({ "name": a.name, "dimension": a.dimension, "rows": a.row_count }))
            .collect();
        let out = serde_json::json!({
            "campaign": campaign.name, "total_ms": report.total.as_secs_f64() * 1e3,
            "transitions": transitions, "activities": activities, "saved_audiences": saved,
        });
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        say!("{} — exact counts ({:.1} ms)\n", campaign.name, report.total.as_secs_f64() * 1e3);
        say!("{:<14} {:<46} {:>10}", "transition", "from → to", "count");
        for t in &canvas.transitions {
            let route = format!("{} [{}] → {}", label(&t.from), t.output, label(&t.to));
            let count = report.count_of(&t.id).map_or_else(|| "—".to_owned(), |n| n.to_string());
            say!("{:<14} {:<46} {:>10}", t.id, route, count);
        }
        say!("\n{:<30} {:>10}", "activity", "time");
        for a in &report.activities {
            say!("{:<30} {:>7.1} ms", label(&a.activity), a.duration.as_secs_f64() * 1e3);
        }
        if save_audiences {
            if saved.is_empty() {
                say!("\nThe canvas has no Save audience activity: nothing was saved.");
            }
            for a in &saved {
                say!("\nsaved audience \u{201c}{}\u{201d}: {} {}", a.name, a.row_count, a.dimension);
            }
        }
    }
    Ok(())
}
