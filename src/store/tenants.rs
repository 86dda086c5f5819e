//! Organisations as the admin API sees them: tenants created at run time
//! (an organisation with one user, a fresh API key and the seed's
//! contacts), looking one up by its public id, listing them, deleting one
//! with everything it holds, and resetting one alone to its own seed.
//!
//! An organisation's data is found and deleted by `organisation_rows.rs`.

use rusqlite::{params, OptionalExtension, Row};

use super::organisation_rows::{delete_data, Keep};
use super::savepoint::Savepoint;
use super::seed::{insert_contacts, insert_user};
use super::{
    new_id, now_rfc3339, OrgRef, Organisation, Seed, SeedContact, SeedUser, Store, StoreError,
};

/// What `Store::delete_tenant` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantDeletion {
    Deleted,
    NotFound,
    /// The organisation comes from the seed: only tenants are deleted.
    Seeded {
        name: String,
    },
}

/// A tenant to create: `user.id` and `user.api_key` are filled in here.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    /// The public id is used when absent.
    pub name: Option<String>,
    pub user: SeedUser,
    /// With their ids resolved (`Seed::tenant_template`).
    pub contacts: Vec<SeedContact>,
}

/// A created tenant and the key its user authenticates with.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedTenant {
    pub organisation: Organisation,
    pub api_key: String,
}

const ORGANISATION_COLUMNS: &str = "id, public_id, name, tenant, created_at";

/// A fresh API key: 122 bits from the operating system's random source
/// (UUIDv4), so that one tenant's key cannot be guessed from another's.
fn new_api_key() -> String {
    format!("mk_{}", uuid::Uuid::new_v4().simple())
}

impl Store {
    /// Creates an organisation with one user, a fresh API key and
    /// `new.contacts`, which it also keeps as its seed for a reset.
    pub fn create_tenant(&mut self, new: &NewTenant) -> Result<CreatedTenant, StoreError> {
        let public_id = new_id("org");
        let name = new.name.clone().unwrap_or_else(|| public_id.clone());
        let api_key = new_api_key();
        let now = now_rfc3339();
        let tx = Savepoint::begin(&self.conn)?;
        let taken: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM organisations WHERE name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::NameTaken(name));
        }
        tx.execute(
            "INSERT INTO organisations (public_id, name, tenant, seed_contacts, created_at)
             VALUES (?1, ?2, 1, ?3, ?4)",
            params![public_id, name, serde_json::to_string(&new.contacts)?, now],
        )?;
        let key = tx.last_insert_rowid();
        let user = SeedUser {
            id: new_id("usr"),
            api_key: api_key.clone(),
            ..new.user.clone()
        };
        insert_user(&tx, key, &user)?;
        insert_contacts(&tx, key, &new.contacts, &now)?;
        tx.commit()?;
        Ok(CreatedTenant {
            organisation: Organisation {
                id: public_id,
                name,
                seeded: false,
                created_at: now,
            },
            api_key,
        })
    }

    /// Every organisation, tenants and seeded ones, oldest first.
    pub fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ORGANISATION_COLUMNS} FROM organisations ORDER BY id"
        ))?;
        let rows = statement.query_map([], |row| Ok(org_from_row(row)?.1))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The organisation with public id `public_id`.
    pub fn organisation(&self, public_id: &str) -> Result<Option<OrgRef>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ORGANISATION_COLUMNS} FROM organisations WHERE public_id = ?1"
        ))?;
        let found = statement
            .query_row(params![public_id], org_from_row)
            .optional()?;
        Ok(found.map(|(key, organisation)| OrgRef { key, organisation }))
    }

    /// Deletes a tenant and everything it holds (its users and their keys,
    /// contacts, activities, idempotency keys, and the rows of any other
    /// table with an `organisation_id`), in one transaction.
    pub fn delete_tenant(&mut self, public_id: &str) -> Result<TenantDeletion, StoreError> {
        let Some(found) = self.organisation(public_id)? else {
            return Ok(TenantDeletion::NotFound);
        };
        if found.organisation.seeded {
            return Ok(TenantDeletion::Seeded {
                name: found.organisation.name,
            });
        }
        let tx = Savepoint::begin(&self.conn)?;
        delete_data(&tx, found.key, Keep::Nothing)?;
        tx.execute(
            "DELETE FROM organisations WHERE id = ?1",
            params![found.key],
        )?;
        tx.commit()?;
        self.callers.clear();
        Ok(TenantDeletion::Deleted)
    }

    /// Puts one organisation back to its seed: everything it wrote goes
    /// (contacts, activities, idempotency keys, …), its seed contacts come
    /// back (none when `empty`), and its users and keys stay, so the key a
    /// job holds keeps working. `fallback` gives the contacts of an
    /// organisation that predates tenants (before schema v5) and so has none
    /// recorded: the seed's organisation of the same name, or none.
    pub fn reset_organisation(
        &mut self,
        key: i64,
        fallback: &Seed,
        empty: bool,
    ) -> Result<(), StoreError> {
        let tx = Savepoint::begin(&self.conn)?;
        let (name, recorded): (String, Option<String>) = tx.query_row(
            "SELECT name, seed_contacts FROM organisations WHERE id = ?1",
            params![key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let contacts: Vec<SeedContact> = match recorded {
            _ if empty => Vec::new(),
            Some(json) => serde_json::from_str(&json)?,
            None => fallback
                .organisations
                .iter()
                .zip(fallback.resolved_contacts())
                .find(|(organisation, _)| organisation.name == name)
                .map(|(_, contacts)| contacts)
                .unwrap_or_default(),
        };
        delete_data(&tx, key, Keep::UsersAndKeys)?;
        insert_contacts(&tx, key, &contacts, &now_rfc3339())?;
        tx.commit()?;
        Ok(())
    }
}

fn org_from_row(row: &Row) -> rusqlite::Result<(i64, Organisation)> {
    Ok((
        row.get(0)?,
        Organisation {
            id: row.get(1)?,
            name: row.get(2)?,
            seeded: !row.get::<_, bool>(3)?,
            created_at: row.get(4)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::organisation_rows::organisation_tables;
    use crate::store::testing::{memory, new_activity};
    use crate::store::{NewContact, Origin};

    fn tenant(store: &mut Store, name: Option<&str>) -> CreatedTenant {
        let (user, contacts) = Seed::default_seed().tenant_template();
        store
            .create_tenant(&NewTenant {
                name: name.map(str::to_owned),
                user,
                contacts,
            })
            .expect("tenant created")
    }

    fn org_key(store: &Store, created: &CreatedTenant) -> i64 {
        store
            .organisation(&created.organisation.id)
            .expect("query")
            .expect("exists")
            .key
    }

    /// Rows of organisation `key` in every table that has them.
    fn rows_of(store: &Store, key: i64) -> Vec<(String, i64)> {
        let mut counts = Vec::new();
        for table in organisation_tables(&store.conn).expect("tables") {
            let count: i64 = store
                .conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM \"{table}\" WHERE organisation_id = ?1"),
                    params![key],
                    |row| row.get(0),
                )
                .expect("count");
            counts.push((table, count));
        }
        counts
    }

    #[test]
    fn a_tenant_gets_a_working_key_and_the_seed_s_contacts_under_the_same_ids() {
        let mut store = memory();
        let created = tenant(&mut store, Some("CI job 1"));
        assert!(created.organisation.id.starts_with("org_"));
        assert!(created.api_key.starts_with("mk_") && created.api_key.len() == 35);
        let caller = store
            .caller_for_key(&created.api_key)
            .expect("query")
            .expect("the key works");
        assert_eq!(caller.organisation, "CI job 1");
        assert_eq!(&*caller.org, created.organisation.id.as_str());
        let contact = store
            .contact(caller.organisation_id, "contact-1")
            .expect("query")
            .expect("the seed's contact-1, in the tenant");
        assert_eq!(contact.name, "Jane Contact");
        let other = tenant(&mut store, None);
        assert_eq!(other.organisation.name, other.organisation.id);
        assert_ne!(other.api_key, created.api_key);
        assert!(matches!(
            store.create_tenant(&NewTenant {
                name: Some("CI job 1".into()),
                user: Seed::default_seed().tenant_template().0,
                contacts: Vec::new(),
            }),
            Err(StoreError::NameTaken(_))
        ));
    }

    #[test]
    fn deleting_a_tenant_leaves_no_row_of_it_in_any_table_and_no_id_is_reused() {
        let mut store = memory();
        let created = tenant(&mut store, None);
        let key = org_key(&store, &created);
        store
            .create_contact(
                key,
                &NewContact {
                    name: "Own".into(),
                    phone_number: "+12125550100".into(),
                    email: None,
                    contact_type: None,
                },
            )
            .expect("contact");
        let plain = store
            .create_activity(key, &new_activity("s"), Origin::default())
            .expect("plain");
        // Its first state becomes a revision row.
        store
            .update_activity(
                key,
                &plain.id,
                &crate::store::ActivityPatch::default(),
                Origin::default(),
            )
            .expect("update")
            .expect("exists");
        let mut keyed = crate::store::Activity::new(new_activity("k"));
        store
            .create_activity_idempotent(key, "idem", "hash", &mut keyed, Origin::default())
            .expect("keyed");
        let written = rows_of(&store, key);
        for table in [
            "activities",
            "activity_revisions",
            "contacts",
            "idempotency_keys",
            "users",
        ] {
            assert!(
                written
                    .iter()
                    .any(|(name, count)| name == table && *count > 0),
                "{table}: {written:?}"
            );
        }

        assert_eq!(
            store
                .delete_tenant(&created.organisation.id)
                .expect("delete"),
            TenantDeletion::Deleted
        );
        assert!(
            rows_of(&store, key).iter().all(|(_, count)| *count == 0),
            "{:?}",
            rows_of(&store, key)
        );
        assert_eq!(store.caller_for_key(&created.api_key).expect("query"), None);
        let keys: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM api_keys", [], |row| row.get(0))
            .expect("count");
        assert_eq!(keys, 1, "only the seed's key is left");
        assert_eq!(
            store
                .delete_tenant(&created.organisation.id)
                .expect("again"),
            TenantDeletion::NotFound
        );
        let next = tenant(&mut store, None);
        assert!(org_key(&store, &next) > key, "integer ids are not reused");
        // A write that authenticated before the delete finds no home.
        assert!(matches!(
            store.create_activity(key, &new_activity("late"), Origin::default()),
            Err(StoreError::OrganisationGone)
        ));
    }

    #[test]
    fn the_seeded_organisation_is_not_a_tenant_and_is_not_deleted() {
        let mut store = memory();
        let listed = store.organisations().expect("list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].seeded);
        assert_eq!(
            store.delete_tenant(&listed[0].id).expect("delete"),
            TenantDeletion::Seeded {
                name: "Acme".into()
            }
        );
    }

    #[test]
    fn a_reset_of_one_organisation_leaves_the_others_alone() {
        let mut store = memory();
        let a = tenant(&mut store, None);
        let b = tenant(&mut store, None);
        let (a_key, b_key) = (org_key(&store, &a), org_key(&store, &b));
        for key in [a_key, b_key] {
            store
                .create_activity(key, &new_activity("s"), Origin::default())
                .expect("write");
        }
        let before_b = rows_of(&store, b_key);
        store
            .reset_organisation(a_key, &Seed::empty(), false)
            .expect("reset");
        let after_a: Vec<(String, i64)> = rows_of(&store, a_key);
        for (table, count) in &after_a {
            let expected = match table.as_str() {
                "contacts" => 4,
                "users" => 1,
                _ => 0,
            };
            assert_eq!(*count, expected, "{table}");
        }
        assert_eq!(rows_of(&store, b_key), before_b);
        assert!(store.caller_for_key(&a.api_key).expect("query").is_some());
    }
}
