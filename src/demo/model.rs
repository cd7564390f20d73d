//! The demo workspace's data model: its entities, links, identity namespaces and indexes.

use super::*;

/// The data model of the demo: six entities and their links.
#[allow(clippy::too_many_lines, reason = "a declaration of the demo data model, one entity after another")]
pub fn data_model() -> DataModel {
    fn col(name: &str, label: &str, column_type: ColumnType) -> Column {
        Column::new(name, label, column_type)
    }
    fn entity(name: &str, label: &str, columns: Vec<Column>) -> Entity {
        Entity { name: name.into(), label: label.into(), primary_key: "id".into(), columns }
    }
    use ColumnType::{Boolean as B, Date as D, Decimal as N, Integer as I, Text as T, Timestamp as Ts};
    DataModel {
        entities: vec![
            entity(
                "profiles",
                "Profiles",
                vec![
                    col("id", "Profile id", I),
                    col("email", "Email", T),
                    col("phone", "Mobile phone", T),
                    col("first_name", "First name", T),
                    col("last_name", "Last name", T),
                    col("country", "Country", T),
                    col("city", "City", T),
                    col("birth_date", "Birth date", D),
                    col("loyalty_tier", "Loyalty tier", T),
                    col("created_at", "Created", Ts),
                    col("email_opt_in", "Email opt-in", B),
                    col("sms_opt_in", "SMS opt-in", B),
                    col("push_opt_in", "Push opt-in", B),
                    col("x_handle", "X handle", T),
                    col("crm_id", "CRM id", T),
                ],
            ),
            entity(
                "addresses",
                "Addresses",
                vec![
                    col("id", "Address id", I),
                    col("profile_id", "Profile", I),
                    col("kind", "Kind", T),
                    col("line1", "Street", T),
                    col("postcode", "Postcode", T),
                    col("city", "City", T),
                    col("country", "Country", T),
                    col("is_primary", "Primary address", B),
                ],
            ),
            entity(
                "hotels",
                "Hotels",
                vec![
                    col("id", "Hotel id", I),
                    col("name", "Name", T),
                    col("brand", "Brand", T),
                    col("city", "City", T),
                    col("country", "Country", T),
                    col("stars", "Stars", I),
                ],
            ),
            entity(
                "bookings",
                "Bookings",
                vec![
                    col("id", "Booking id", I),
                    col("profile_id", "Profile", I),
                    col("hotel_id", "Hotel", I),
                    col("amount", "Amount (EUR)", N),
                    col("status", "Status", T),
                    col("booked_at", "Booked", Ts),
                    col("check_in_date", "Check-in date", D),
                    col("nights", "Nights", I),
                ],
            ),
            entity(
                "subscriptions",
                "Subscriptions",
                vec![
                    col("id", "Subscription id", I),
                    col("profile_id", "Profile", I),
                    col("plan", "Plan", T),
                    col("status", "Status", T),
                    col("started_at", "Started", Ts),
                    col("ended_at", "Ended", Ts),
                ],
            ),
            entity(
                "events",
                "Events",
                vec![
                    col("id", "Event id", I),
                    col("profile_id", "Profile", I),
                    col("kind", "Kind", T),
                    col("occurred_at", "Occurred", Ts),
                    col("value", "Value (EUR)", N),
                ],
            ),
        ],
        links: vec![
            link("profile", "addresses", "profile_id", "profiles"),
            link("profile", "bookings", "profile_id", "profiles"),
            link("hotel", "bookings", "hotel_id", "hotels"),
            link("profile", "subscriptions", "profile_id", "profiles"),
            link("profile", "events", "profile_id", "profiles"),
        ],
        identity_namespaces: vec![
            namespace("email", "email"),
            namespace("phone", "phone"),
            namespace("crm_id", "crm_id"),
            namespace("x_handle", "x_handle"),
        ],
    }
}

pub(super) fn link(name: &str, child: &str, fk: &str, parent: &str) -> Link {
    Link { name: name.into(), child: child.into(), foreign_key: fk.into(), parent: parent.into() }
}

pub(super) fn namespace(name: &str, column: &str) -> IdentityNamespace {
    IdentityNamespace { name: name.into(), entity: "profiles".into(), column: column.into() }
}

/// Indexes created after loading: every link's foreign key leads an index that also covers the
/// columns audiences filter on, so that linked conditions and aggregates read only the index.
/// (The store indexes the identity columns itself.)
pub const INDEXES: &[IndexSpec] = &[
    IndexSpec { entity: "addresses", columns: &["profile_id", "kind", "country"] },
    IndexSpec { entity: "bookings", columns: &["profile_id", "check_in_date", "status", "amount", "hotel_id"] },
    IndexSpec { entity: "bookings", columns: &["hotel_id"] },
    IndexSpec { entity: "subscriptions", columns: &["profile_id", "plan", "status"] },
    IndexSpec { entity: "events", columns: &["profile_id", "kind", "occurred_at", "value"] },
];
