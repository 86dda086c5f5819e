//! Activities across organisations, for the admin API and the review page:
//! the organisations there are, and a newest-first listing narrowed by
//! organisation, contact, session and text. These are admin reads: they
//! cross organisations unless one is named, and when one is named every
//! row comes from it alone.

use rusqlite::params;

use super::activity_rows::{
    RawActivity, ACTIVITY_COLUMNS, ACTIVITY_COLUMN_COUNT, LOG_COLUMNS, LOG_COLUMN_COUNT,
};
use super::{
    AdminActivity, AdminActivityFilter, AdminActivityPage, Organisation, Store, StoreError,
};

impl Store {
    /// Newest first, at most `filter.limit` items.
    pub fn admin_activities(
        &self,
        filter: &AdminActivityFilter,
    ) -> Result<AdminActivityPage, StoreError> {
        let pattern = filter.text.as_deref().map(like_pattern);
        let fetch = i64::from(filter.limit) + 1;
        let columns: Vec<String> = ACTIVITY_COLUMNS
            .split(", ")
            .chain(LOG_COLUMNS.split(", "))
            .map(|column| format!("a.{column}"))
            .collect();
        // Only the conditions in use are written, so SQLite picks the
        // organisation's index when there is one to pick (see `list_query`).
        let mut sql = format!(
            "SELECT {}, a.seq, o.public_id, o.name, o.tenant, o.created_at,
                a.revision
             FROM activities a JOIN organisations o ON o.id = a.organisation_id WHERE 1",
            columns.join(", ")
        );
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::new();
        if let Some(org) = &filter.organisation_id {
            sql.push_str(" AND a.organisation_id = ?");
            values.push(org);
        }
        if let Some(session_id) = &filter.session_id {
            sql.push_str(" AND a.session_id = ?");
            values.push(session_id);
        }
        if let Some(contact_id) = &filter.contact_id {
            sql.push_str(" AND a.contact_id = ?");
            values.push(contact_id);
        }
        if let Some(pattern) = &pattern {
            sql.push_str(r" AND (a.subject LIKE ? ESCAPE '\' OR a.body LIKE ? ESCAPE '\')");
            values.push(pattern);
            values.push(pattern);
        }
        if let Some(before_seq) = &filter.before_seq {
            sql.push_str(" AND a.seq < ?");
            values.push(before_seq);
        }
        sql.push_str(" ORDER BY a.seq DESC LIMIT ?");
        values.push(&fetch);
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(values.as_slice())?;
        let mut items = Vec::new();
        let mut last_seq = None;
        let mut more = false;
        while let Some(row) = rows.next()? {
            if items.len() == filter.limit as usize {
                more = true;
                break;
            }
            let raw = RawActivity::from_row(row)?.with_log_fields(row, ACTIVITY_COLUMN_COUNT)?;
            let at = ACTIVITY_COLUMN_COUNT + LOG_COLUMN_COUNT;
            let seq: i64 = row.get(at)?;
            let organisation = Organisation {
                id: row.get(at + 1)?,
                name: row.get(at + 2)?,
                seeded: !row.get::<_, bool>(at + 3)?,
                created_at: row.get(at + 4)?,
            };
            let revisions: i64 = row.get(at + 5)?;
            items.push(AdminActivity {
                organisation,
                activity: raw.into_activity()?,
                revisions: u32::try_from(revisions).unwrap_or(u32::MAX),
            });
            last_seq = Some(seq);
        }
        Ok(AdminActivityPage {
            items,
            next_seq: if more { last_seq } else { None },
        })
    }

    /// One activity wherever it is (in `org`, when one is named), with its
    /// organisation and revision count.
    pub fn admin_activity(
        &self,
        org: Option<i64>,
        id: &str,
    ) -> Result<Option<AdminActivity>, StoreError> {
        let Some(found) = self.organisation_of_activity(org, id)? else {
            return Ok(None);
        };
        let Some(activity) = self.activity(found.key, id)? else {
            return Ok(None);
        };
        // Numbered from 1 with none skipped, the latest being the row.
        let revisions: i64 = self
            .conn
            .prepare_cached(
                "SELECT revision FROM activities WHERE organisation_id = ?1 AND id = ?2",
            )?
            .query_row(params![found.key, id], |row| row.get(0))?;
        Ok(Some(AdminActivity {
            organisation: found.organisation,
            activity,
            revisions: u32::try_from(revisions).unwrap_or(u32::MAX),
        }))
    }
}

/// `text` anywhere, as a LIKE pattern: its own `%`, `_` and `\` match
/// themselves. LIKE ignores the case of ASCII letters, as a reviewer
/// searching for "jane" expects.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{acme, memory, new_activity};
    use crate::store::{Origin, Seed, SeedOrganisation};

    #[test]
    fn lists_across_organisations_and_narrows_by_each_filter() {
        let mut store = memory();
        let acme = acme(&store);
        store
            .apply_seed(&Seed {
                organisations: vec![SeedOrganisation {
                    name: "Globex".into(),
                    users: vec![],
                    contacts: vec![],
                }],
            })
            .expect("second organisation");
        let globex_id = store
            .organisations()
            .expect("organisations")
            .into_iter()
            .find(|o| o.name == "Globex")
            .expect("globex")
            .id;
        let globex = store
            .organisation(&globex_id)
            .expect("query")
            .expect("globex")
            .key;
        let mut first = new_activity("s1");
        first.body = "100% sure_thing".into();
        let a = store
            .create_activity(acme, &first, Origin::default())
            .expect("a");
        let b = store
            .create_activity(globex, &new_activity("s1"), Origin::default())
            .expect("b");
        let ids = |filter: AdminActivityFilter| -> Vec<String> {
            store
                .admin_activities(&AdminActivityFilter {
                    limit: 10,
                    ..filter
                })
                .expect("list")
                .items
                .into_iter()
                .map(|item| item.activity.id)
                .collect()
        };
        assert_eq!(
            ids(AdminActivityFilter::default()),
            [b.id.clone(), a.id.clone()]
        );
        let in_globex = AdminActivityFilter {
            organisation_id: Some(globex),
            ..AdminActivityFilter::default()
        };
        assert_eq!(ids(in_globex), vec![b.id.clone()]);
        for (text, expected) in [
            ("100%", vec![a.id.clone()]),
            ("E_T", vec![a.id.clone()]),
            ("1_0", vec![]),
        ] {
            let filter = AdminActivityFilter {
                text: Some(text.into()),
                ..AdminActivityFilter::default()
            };
            assert_eq!(ids(filter), expected, "{text}");
        }
        let page = store
            .admin_activities(&AdminActivityFilter {
                session_id: Some("s1".into()),
                limit: 1,
                ..AdminActivityFilter::default()
            })
            .expect("page");
        assert_eq!(page.items[0].organisation.name, "Globex");
        assert_eq!(page.items[0].revisions, 1);
        assert!(page.next_seq.is_some());
        assert_eq!(
            store.admin_activity(Some(acme), &b.id).expect("read"),
            None,
            "named organisation holds to it"
        );
    }
}
