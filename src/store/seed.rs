//! Seeding and resetting: loading organisations, users, API keys and
//! contacts from a seed, and putting a database back to one. Applying a
//! seed is idempotent, so a seed can be loaded into a database that holds it.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::contacts::phone_digits;
use super::organisation_rows::delete_everything;
use super::savepoint::Savepoint;
use super::{new_id, now_rfc3339, Store, StoreError};

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

/// API keys that mockcrm publishes (the built-in seed, and the seeds in
/// its README and fixtures): anyone can use them where they are active.
pub const WELL_KNOWN_KEYS: [&str; 2] = ["mockcrm-dev-key", "globex-key"];

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

impl Seed {
    /// Each organisation's contacts with their ids filled in: a contact
    /// without one is `contact-N`, numbered across the whole seed in order.
    pub fn resolved_contacts(&self) -> Vec<Vec<SeedContact>> {
        let mut number = 0;
        self.organisations
            .iter()
            .map(|organisation| {
                organisation
                    .contacts
                    .iter()
                    .map(|contact| {
                        number += 1;
                        SeedContact {
                            id: Some(
                                contact
                                    .id
                                    .clone()
                                    .unwrap_or_else(|| format!("contact-{number}")),
                            ),
                            ..contact.clone()
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// What a new tenant starts with: the first organisation's contacts
    /// (ids as the seed gives them, so fixtures that name `contact-1` work
    /// in every tenant), and its first user's name, email and offset.
    pub fn tenant_template(&self) -> (SeedUser, Vec<SeedContact>) {
        let first = self.organisations.first();
        let user = first.and_then(|organisation| organisation.users.first());
        let template = SeedUser {
            id: String::new(),
            name: user.map_or_else(|| "Test User".to_owned(), |user| user.name.clone()),
            email: user.and_then(|user| user.email.clone()),
            api_key: String::new(),
            timezone_offset: user.and_then(|user| user.timezone_offset.clone()),
        };
        let contacts = self
            .resolved_contacts()
            .into_iter()
            .next()
            .unwrap_or_default();
        (template, contacts)
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
    /// id within their organisation (unnamed seed contacts are numbered, see
    /// `Seed::resolved_contacts`). Each organisation remembers its contacts
    /// as what a reset of it alone goes back to.
    pub fn apply_seed(&mut self, seed: &Seed) -> Result<(), StoreError> {
        validate_seed(seed)?;
        let now = now_rfc3339();
        let tx = Savepoint::begin(&self.conn)?;
        for (organisation, contacts) in seed.organisations.iter().zip(seed.resolved_contacts()) {
            tx.execute(
                "INSERT INTO organisations (public_id, name, seed_contacts, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET seed_contacts = excluded.seed_contacts
                     WHERE tenant = 0",
                params![
                    new_id("org"),
                    organisation.name,
                    serde_json::to_string(&contacts)?,
                    now
                ],
            )?;
            let organisation_id: i64 = tx.query_row(
                "SELECT id FROM organisations WHERE name = ?1",
                params![organisation.name],
                |row| row.get(0),
            )?;
            for user in &organisation.users {
                insert_user(&tx, organisation_id, user)?;
            }
            insert_contacts(&tx, organisation_id, &contacts, &now)?;
        }
        tx.commit()?;
        self.callers.clear();
        Ok(())
    }

    /// Deletes every organisation and everything in it, tenants and
    /// idempotency keys included, then loads `seed` (pass an empty seed for
    /// an empty store). One savepoint around both, so a seed that fails to
    /// load leaves the data as it was rather than empty.
    pub fn reset(&mut self, seed: &Seed) -> Result<(), StoreError> {
        self.conn.execute_batch("SAVEPOINT reset")?;
        let outcome = delete_everything(&self.conn).and_then(|()| self.apply_seed(seed));
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

/// Adds `user` and their API key to `organisation_id`, or updates the user
/// if they are already there; refuses a user or key another holds.
pub(super) fn insert_user(
    tx: &Connection,
    organisation_id: i64,
    user: &SeedUser,
) -> Result<(), StoreError> {
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
        Some(owner) if owner != user.id => Err(StoreError::InvalidSeed(format!(
            "api_key of user {:?} is already used by user {owner:?}",
            user.id
        ))),
        Some(_) => Ok(()),
        None => {
            tx.execute(
                "INSERT INTO api_keys (key, user_id) VALUES (?1, ?2)",
                params![user.api_key, user.id],
            )?;
            Ok(())
        }
    }
}

/// Adds the contacts (ids resolved) that `organisation_id` does not hold yet.
pub(super) fn insert_contacts(
    tx: &Connection,
    organisation_id: i64,
    contacts: &[SeedContact],
    now: &str,
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO contacts
            (id, organisation_id, name, phone_number, phone_digits, email, type, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(organisation_id, id) DO NOTHING",
    )?;
    for contact in contacts {
        let id = contact.id.clone().unwrap_or_else(|| new_id("con"));
        insert.execute(params![
            id,
            organisation_id,
            contact.name,
            contact.phone_number,
            phone_digits(&contact.phone_number),
            contact.email,
            contact.contact_type,
            now
        ])?;
    }
    Ok(())
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
