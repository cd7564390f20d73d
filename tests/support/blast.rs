//! The smallest sending canvas (everyone → one channel activity) and the SQL helpers the
//! delivery and provider tests share.

use campaign_console::model::{Activity, ActivityKind, Canvas, Channel, Message, Recipient, Rule, Transition};

/// Everyone → one channel activity sending `message`, with `credential` (the channel's default
/// when `None`).
pub fn blast(channel: Channel, credential: Option<&str>, message: Message) -> Canvas {
    blast_over("profiles", channel, credential, message)
}

/// Every row of `dimension` → one channel activity sending `message`.
pub fn blast_over(dimension: &str, channel: Channel, credential: Option<&str>, message: Message) -> Canvas {
    let a = |id: &str, kind| Activity { id: id.into(), label: id.into(), kind, position: [0.0, 0.0] };
    Canvas {
        version: campaign_console::model::CANVAS_VERSION,
        activities: vec![
            a(
                "everyone",
                ActivityKind::BuildAudience {
                    dimension: dimension.into(),
                    rule: Rule::everyone(),
                    emit_when_empty: false,
                },
            ),
            a(
                "send",
                ActivityKind::Channel {
                    channel,
                    credential: credential.map(str::to_owned),
                    configuration: None,
                    per: Recipient::Profile,
                    message,
                },
            ),
        ],
        transitions: vec![Transition {
            id: "t".into(),
            from: "everyone".into(),
            output: "out".into(),
            to: "send".into(),
            input: "in".into(),
        }],
    }
}

/// The workspace database of a test console.
pub fn sqlite(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("workspace.sqlite")).unwrap()
}

/// One number from a query.
pub fn one(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Runs `campaign-console <args> --ephemeral-secrets --workspace <dir>` as a child and SIGKILLs
/// it at pseudo-random moments (`first_ms` plus up to 700 ms; a fixed sequence from `seed`, so a
/// failure can be replayed) up to 12 times, then lets it finish. Returns how many kills there
/// were; at most `limit` may pass in all.
pub fn kill_again_and_again(
    dir: &std::path::Path,
    args: &[&str],
    seed: u64,
    first_ms: u64,
    limit: std::time::Duration,
) -> i64 {
    use std::time::{Duration, Instant};
    let home = dir.join("home");
    let child = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_campaign-console"));
        cmd.args(args)
            .args(["--ephemeral-secrets", "--workspace"])
            .arg(dir)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("CAMPAIGN_CONSOLE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn().unwrap()
    };
    let mut kills = 0;
    let mut seed = seed;
    let deadline = Instant::now() + limit;
    loop {
        let mut p = child();
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_millis(first_ms + (seed >> 33) % 700));
        if p.try_wait().unwrap().is_some() {
            return kills; // It finished before the blow.
        }
        p.kill().unwrap(); // SIGKILL
        p.wait().unwrap();
        kills += 1;
        assert!(Instant::now() < deadline, "the run did not finish in time");
        if kills >= 12 {
            // Enough blows: let it finish.
            assert!(child().wait().unwrap().success());
            return kills;
        }
    }
}
