//! The canvas of the demo's orchestrated campaign.

use crate::model::{Canvas, Channel, CombineMode};

/// The canvas of the demo's orchestrated campaign: opted-in profiles who stayed with us in the
/// last year, enriched with what they spent, one per email, split into three segments; the
/// first two get an email, a sample of the rest an SMS, and the others are saved as an
/// audience for later. It starts every Monday at 09:00.
#[allow(clippy::too_many_lines, reason = "a declaration of the sample canvas, one activity after another")]
pub fn summer_canvas() -> Canvas {
    use crate::model::{
        Activity, ActivityKind as K, Aggregate, DedupMethod, EnrichColumn, EnrichSource, Limit, LinkedCondition,
        Message, Op, Operand, PeriodUnit, Pick, Recipient, Rule, Subset, Transition,
    };
    let column = |c: &str, op: Op, value: Operand| Rule::Column { column: c.into(), op, value };
    let text = |s: &str| Operand::Text(s.into());
    let last_year = Operand::Period { amount: 12, unit: PeriodUnit::Months };
    let activity = |id: &str, label: &str, x: f32, y: f32, kind: K| Activity {
        id: id.into(),
        label: label.into(),
        kind,
        position: [x, y],
    };
    let wire = |id: &str, from: &str, output: &str, to: &str| Transition {
        id: id.into(),
        from: from.into(),
        output: output.into(),
        to: to.into(),
        input: "in".into(),
    };
    Canvas {
        version: crate::model::CANVAS_VERSION,
        activities: vec![
            activity(
                "start",
                "Every Monday morning",
                0.0,
                0.0,
                K::Scheduler {
                    schedule: crate::model::Schedule::Weekly { days: vec!["mon".into()], time: "09:00".into() },
                    valid_from: None,
                    valid_until: None,
                    timezone: None,
                },
            ),
            activity(
                "audience",
                "Opted-in travellers",
                0.0,
                110.0,
                K::BuildAudience {
                    dimension: "profiles".into(),
                    rule: Rule::All {
                        rules: vec![
                            column("email_opt_in", Op::IsTrue, Operand::None),
                            Rule::Linked {
                                entity: "bookings".into(),
                                condition: LinkedCondition::Exists {
                                    rule: Box::new(Rule::All {
                                        rules: vec![
                                            column("status", Op::Eq, text("completed")),
                                            column("check_in_date", Op::InLast, last_year.clone()),
                                        ],
                                    }),
                                },
                            },
                        ],
                    },
                    emit_when_empty: false,
                },
            ),
            activity(
                "enrich",
                "Spend and last stay",
                210.0,
                110.0,
                K::Enrichment {
                    columns: vec![
                        EnrichColumn {
                            alias: "total_spent".into(),
                            source: EnrichSource::Aggregate {
                                entity: "bookings".into(),
                                function: Aggregate::Sum,
                                column: Some("amount".into()),
                                filter: column("status", Op::Eq, text("completed")),
                            },
                        },
                        EnrichColumn {
                            alias: "stays".into(),
                            source: EnrichSource::Aggregate {
                                entity: "bookings".into(),
                                function: Aggregate::Count,
                                column: None,
                                filter: column("status", Op::Eq, text("completed")),
                            },
                        },
                        EnrichColumn {
                            alias: "last_check_in".into(),
                            source: EnrichSource::MostRecent {
                                entity: "bookings".into(),
                                order_by: "check_in_date".into(),
                                column: "check_in_date".into(),
                                rank: 1,
                            },
                        },
                    ],
                },
            ),
            activity(
                "dedup",
                "One per email",
                420.0,
                110.0,
                K::Deduplication {
                    columns: vec!["email".into()],
                    keep: 1,
                    method: DedupMethod::KeepBy { column: "created_at".into(), largest: true },
                    output_removed: false,
                },
            ),
            activity(
                "split",
                "Segments",
                630.0,
                110.0,
                K::Split {
                    subsets: vec![
                        Subset {
                            label: "Gold and platinum".into(),
                            filter: column("loyalty_tier", Op::In, Operand::List(vec![text("gold"), text("platinum")])),
                            limit: None,
                            pick: Pick::default(),
                        },
                        Subset {
                            label: "Joined this year".into(),
                            filter: column("created_at", Op::InLast, last_year),
                            limit: None,
                            pick: Pick::default(),
                        },
                        Subset {
                            label: "Sample of the rest".into(),
                            filter: Rule::everyone(),
                            limit: Some(Limit::Percent(20.0)),
                            pick: Pick::Random { seed: 7 },
                        },
                    ],
                    complement: true,
                    skip_empty: false,
                    allow_overlap: false,
                },
            ),
            activity(
                "vip_and_new",
                "VIP and new",
                860.0,
                20.0,
                K::Combine { mode: CombineMode::Union, primary: None, complement: false },
            ),
            activity(
                "email",
                "Summer offer email",
                1080.0,
                20.0,
                K::Channel {
                    channel: Channel::Email,
                    credential: None,
                    configuration: None,
                    per: Recipient::Profile,
                    message: Message {
                        subject: "{{ profile.first_name }}, your summer getaway is waiting".into(),
                        text: "Hello {{ profile.first_name }},\n\n\
                               Thank you for travelling with us. This summer, \
                               enjoy 20 % off any hotel until 31 August: \
                               https://example.com/summer\n\n\
                               See you soon!"
                            .into(),
                        html: "<p>Hello {{ profile.first_name }},</p>\n\
                               <p>Thank you for travelling with us. This summer, \
                               enjoy <strong>20 % off</strong> any hotel until 31 August.</p>\n\
                               <p><a href=\"https://example.com/summer\" data-alias=\"Book now\">Book your stay</a></p>\n\
                               <p>See you soon!</p>"
                            .into(),
                        ..Message::default()
                    },
                },
            ),
            activity(
                "sms",
                "Summer offer SMS",
                860.0,
                150.0,
                K::Channel {
                    channel: Channel::Sms,
                    credential: None,
                    configuration: Some(super::SMS_CONFIGURATION.into()),
                    per: Recipient::Profile,
                    message: Message {
                        text: "{{ profile.first_name }}, thanks for your {{ enrichment.stays }} \
                               stay{% if enrichment.stays != 1 %}s{% endif %} with us! \
                               20% off the next one until 31/08. Reply STOP to opt out."
                            .into(),
                        ..Message::default()
                    },
                },
            ),
            activity(
                "save_rest",
                "Keep the rest for autumn",
                860.0,
                260.0,
                K::SaveAudience { audience: "Summer: not targeted".into() },
            ),
            activity("rest", "Not targeted", 1100.0, 260.0, K::End),
        ],
        transitions: vec![
            Transition {
                id: "t_start".into(),
                from: "start".into(),
                output: "out".into(),
                to: "audience".into(),
                input: "start".into(),
            },
            wire("t_audience", "audience", "out", "enrich"),
            wire("t_enriched", "enrich", "out", "dedup"),
            wire("t_unique", "dedup", "out", "split"),
            wire("t_vip", "split", "subset_1", "vip_and_new"),
            wire("t_new", "split", "subset_2", "vip_and_new"),
            wire("t_sample", "split", "subset_3", "sms"),
            wire("t_rest", "split", "complement", "save_rest"),
            wire("t_rest_saved", "save_rest", "out", "rest"),
            wire("t_email", "vip_and_new", "out", "email"),
        ],
    }
}
