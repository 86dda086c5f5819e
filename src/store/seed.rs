//! Seeding and resetting: loading organisations, users, API keys and
//! contacts from a seed, and putting a database back to one. Applying a
//! seed is idempotent, so a seed can be loaded into a database that holds it.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::contacts::phone_digits;
use super::{now_rfc3339, Store, StoreError};

/// What a database starts with: organisations, their users and API keys,
/// and their contacts. The `--seed` file has this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub organisations: Vec<SeedOrganisation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganisation {
    pub name: String,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub contacts: Vec<SeedContact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub api_key: String,
    #[serde(default)]
    pub timezone_offset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedContact {
    /// Optional; seeded contacts are numbered `contact-1`, `contact-2`, …
    /// across the whole seed when absent, so fixtures can name them.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub phone_number: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, rename = "type")]
    pub contact_type: Option<String>,
}

impl Seed {
    pub fn empty() -> Seed {
        Seed {
            organisations: Vec::new(),
        }
    }

    /// The organisation a fresh database starts with, with the
    /// contacts the files in `fixtures/create-call-log/` log calls against.
    /// `fixtures/seed.json` is the same seed as a file.
    pub fn default_seed() -> Seed {
        Seed {
            organisations: vec![SeedOrganisation {
                name: "Acme".into(),
                users: vec![SeedUser {
                    id: "crm-user-1".into(),
                    name: "Test User".into(),
                    email: Some("test@acme.example".into()),
                    api_key: "mockcrm-dev-key".into(),
                    timezone_offset: Some("-05:00".into()),
                }],
                contacts: vec![
                    seed_contact("Jane Contact", "+14155550199", Some("jane@example.com")),
                    seed_contact("Priya Raman", "+14155550142", Some("priya@example.com")),
                    seed_contact("李小龙", "+8613800138000", None),
                    seed_contact(
                        "O'Brien & Sons",
                        "+14155550177",
                        Some("office@obrien.example"),
                    ),
                ],
            }],
        }
    }
}

fn seed_contact(name: &str, phone_number: &str, email: Option<&str>) -> SeedContact {
    SeedContact {
        id: None,
        name: name.into(),
        phone_number: phone_number.into(),
        email: email.map(Into::into),
        contact_type: Some("Contact".into()),
    }
}

impl Store {
    pub(super) fn organisation_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM organisations", [], |row| row.get(0))?)
    }

    /// Loads organisations, users, keys and contacts. Applying a seed twice
    /// changes nothing: organisations match by name, users by id, contacts by
    /// id (or, for unnamed seed contacts, by organisation, name and number).
    pub fn apply_seed(&mut self, seed: &Seed) -> Result<(), StoreError> {
        validate_seed(seed)?;
        let now = now_rfc3339();
        let tx = self.conn.savepoint()?;
        let mut contact_number = 0;
        for organisation in &seed.organisations {
            tx.execute(
                "INSERT INTO organisations (name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
                params![organisation.name],
            )?;
            let organisation_id: i64 = tx.query_row(
                "SELECT id FROM organisations WHERE name = ?1",
                params![organisation.name],
                |row| row.get(0),
            )?;
            for user in &organisation.users {
                let owner: Option<i64> = tx
                    .query_row(
                        "SELECT organisation_id FROM users WHERE id = ?1",
                        params![user.id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if owner.is_some_and(|owner| owner != organisation_id) {
                    return Err(StoreError::InvalidSeed(format!(
                        "user {:?} already belongs to another organisation in this database",
                        user.id
                    )));
                }
                tx.execute(
                    "INSERT INTO users (id, organisation_id, name, email, timezone_offset)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email,
                         timezone_offset = excluded.timezone_offset",
                    params![
                        user.id,
                        organisation_id,
                        user.name,
                        user.email,
                        user.timezone_offset
                    ],
                )?;
                let key_owner: Option<String> = tx
                    .query_row(
                        "SELECT user_id FROM api_keys WHERE key = ?1",
                        params![user.api_key],
                        |row| row.get(0),
                    )
                    .optional()?;
                match key_owner {
                    Some(owner) if owner != user.id => {
                        return Err(StoreError::InvalidSeed(format!(
                            "api_key of user {:?} is already used by user {owner:?}",
                            user.id
                        )))
                    }
                    Some(_) => {}
                    None => {
                        tx.execute(
                            "INSERT INTO api_keys (key, user_id) VALUES (?1, ?2)",
                            params![user.api_key, user.id],
                        )?;
                    }
                }
            }
            for contact in &organisation.contacts {
                contact_number += 1;
                let id = contact
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("contact-{contact_number}"));
                let existing: Option<i64> = tx
                    .query_row(
                        "SELECT organisation_id FROM contacts WHERE id = ?1",
                        params![id],
                        |row| row.get(0),
                    )
                    .optional()?;
                match existing {
                    Some(owner) if owner != organisation_id => {
                        return Err(StoreError::InvalidSeed(format!(
                            "contact id {id:?} already belongs to another organisation"
                        )))
                    }
                    Some(_) => continue,
                    None => {}
                }
                tx.execute(
                    "INSERT INTO contacts
                        (id, organisation_id, name, phone_number, phone_digits, email, type, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        id,
                        organisation_id,
                        contact.name,
                        contact.phone_number,
                        phone_digits(&contact.phone_number),
                        contact.email,
                        contact.contact_type,
                        now
                    ],
                )?;
            }
        }
        tx.commit()?;
        self.callers.clear();
        Ok(())
    }

    /// Deletes every organisation and everything in it, idempotency keys
    /// included, then loads `seed` (pass an empty seed for an empty store).
    /// One savepoint around both, so a seed that fails to load leaves the
    /// data as it was rather than empty.
    pub fn reset(&mut self, seed: &Seed) -> Result<(), StoreError> {
        self.conn.execute_batch("SAVEPOINT reset")?;
        let outcome = self
            .conn
            .execute_batch(
                "DELETE FROM idempotency_keys; DELETE FROM unknown_field_writes;
                 DELETE FROM activities; DELETE FROM contacts;
                 DELETE FROM api_keys; DELETE FROM users; DELETE FROM organisations;",
            )
            .map_err(StoreError::from)
            .and_then(|()| self.apply_seed(seed));
        match outcome {
            Ok(()) => self.conn.execute_batch("RELEASE reset")?,
            Err(error) => {
                // Failing here means SQLite already rolled back on its own.
                let _ = self.conn.execute_batch("ROLLBACK TO reset; RELEASE reset");
                return Err(error);
            }
        }
        self.callers.clear();
        Ok(())
    }
}

fn validate_seed(seed: &Seed) -> Result<(), StoreError> {
    let mut keys = std::collections::HashSet::new();
    for organisation in &seed.organisations {
        if organisation.name.trim().is_empty() {
            return Err(StoreError::InvalidSeed(
                "every organisation needs a non-empty name".into(),
            ));
        }
        for user in &organisation.users {
            if user.id.is_empty() || user.api_key.is_empty() {
                return Err(StoreError::InvalidSeed(format!(
                    "user {:?} in {:?} needs a non-empty id and api_key",
                    user.name, organisation.name
                )));
            }
            if !keys.insert(user.api_key.as_str()) {
                return Err(StoreError::InvalidSeed(format!(
                    "api_key of user {:?} is used twice; every user needs their own key",
                    user.id
                )));
            }
        }
    }
    Ok(())
}
