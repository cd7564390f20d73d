//! The smallest sending canvas (everyone → one channel activity) and the SQL helpers the
//! delivery and provider tests share.

#![allow(dead_code, clippy::unwrap_used)]

use campaign_console::model::{Activity, ActivityKind, Canvas, Channel, Message, Recipient, Rule, Transition};

/// Everyone → one channel activity sending `message`, with `credential` (the channel's default
/// when `None`).
pub fn blast(channel: Channel, credential: Option<&str>, message: Message) -> Canvas {
    let a = |id: &str, kind| Activity { id: id.into(), label: id.into(), kind, position: [0.0, 0.0] };
    Canvas {
        version: campaign_console::model::CANVAS_VERSION,
        activities: vec![
            a(
                "everyone",
                ActivityKind::BuildAudience {
                    dimension: "profiles".into(),
                    rule: Rule::everyone(),
                    emit_when_empty: false,
                },
            ),
            a(
                "send",
                ActivityKind::Channel {
                    channel,
                    credential: credential.map(str::to_owned),
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
