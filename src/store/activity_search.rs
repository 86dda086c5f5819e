//! Finding activities by the value of one field, as a CRM's search does
//! (Insightly's `GET /Events/Search?field_name=…&field_value=…`): the
//! subject, or a field the activity keeps among its extras (an event's
//! `LOCATION`). Matching is whole-value, after trimming, in any ASCII
//! case, as the faces' contact searches match. It reads, never writes,
//! and knows nothing of which face asks.

use super::activity_rows::{RawActivity, ACTIVITY_COLUMNS, ACTIVITY_COLUMN_COUNT, LOG_COLUMNS};
use super::{Activity, Store, StoreError};

/// The field a search looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityField {
    Subject,
    /// An extra, by its name as stored (`LOCATION`).
    Extra(String),
}

impl Store {
    /// The activities of `org` whose `field` is `value`, oldest first, at
    /// most `limit`. The search reads every activity of the organisation
    /// (no index holds extras): fine for a connector looking up its own
    /// recent write, not for bulk queries.
    pub fn activities_by_field(
        &self,
        org: i64,
        field: &ActivityField,
        value: &str,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        let (column, path) = match field {
            ActivityField::Subject => ("subject", None),
            // The name goes in as a bound JSON path, quoted, so no name
            // can reach the SQL text.
            ActivityField::Extra(name) => (
                "json_extract(extra, ?4)",
                Some(format!("$.\"{}\"", name.replace('"', ""))),
            ),
        };
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS}, {LOG_COLUMNS} FROM activities \
             WHERE organisation_id = ?1 AND lower(trim({column})) = lower(trim(?2)) \
             ORDER BY seq LIMIT ?3"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let limit = i64::from(limit);
        let read = |row: &rusqlite::Row| {
            RawActivity::from_row(row)?.with_log_fields(row, ACTIVITY_COLUMN_COUNT)
        };
        let rows = match &path {
            Some(path) => statement
                .query_map(rusqlite::params![org, value, limit, path], read)?
                .collect::<Result<Vec<_>, _>>()?,
            None => statement
                .query_map(rusqlite::params![org, value, limit], read)?
                .collect::<Result<Vec<_>, _>>()?,
        };
        rows.into_iter().map(RawActivity::into_activity).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::*;
    use crate::store::testing::{acme, memory};
    use crate::store::{NewActivity, Origin, Seed, SeedOrganisation};

    fn activity(subject: &str, location: Option<&str>) -> NewActivity {
        let mut extra = Map::new();
        if let Some(location) = location {
            extra.insert("LOCATION".into(), json!(location));
        }
        NewActivity {
            subject: subject.into(),
            body: "b".into(),
            body_format: "text/plain".into(),
            activity_type: "PhoneCommunication".into(),
            extra,
            ..NewActivity::default()
        }
    }

    #[test]
    fn a_search_matches_the_whole_value_in_any_case_within_the_organisation() {
        let mut store = memory();
        let org = acme(&store);
        store
            .apply_seed(&Seed {
                organisations: vec![SeedOrganisation {
                    name: "Globex".into(),
                    users: vec![],
                    contacts: vec![],
                }],
            })
            .expect("second organisation");
        let other = store
            .organisations()
            .expect("organisations")
            .into_iter()
            .find(|o| o.name == "Globex")
            .expect("globex")
            .id;
        let other = store
            .organisation(&other)
            .expect("query")
            .expect("globex")
            .key;
        let first = store
            .create_activity(org, &activity("Call A", Some("rc:1")), Origin::default())
            .expect("create");
        store
            .create_activity(org, &activity("Call B", Some("rc:12")), Origin::default())
            .expect("create");
        store
            .create_activity(other, &activity("Call A", Some("rc:1")), Origin::default())
            .expect("create");
        let location = ActivityField::Extra("LOCATION".into());
        let found = store
            .activities_by_field(org, &location, " RC:1 ", 10)
            .expect("search");
        assert_eq!(found.iter().map(|a| &a.id).collect::<Vec<_>>(), [&first.id]);
        let by_subject = store
            .activities_by_field(org, &ActivityField::Subject, "call a", 10)
            .expect("search");
        assert_eq!(by_subject.len(), 1);
        let odd = ActivityField::Extra("LOC\"ATION') OR 1=1 --".into());
        assert!(store
            .activities_by_field(org, &odd, "rc:1", 10)
            .expect("search")
            .is_empty());
        assert!(store
            .activities_by_field(org, &location, "rc:1", 0)
            .expect("search")
            .is_empty());
    }
}
