//! Who is calling: an API key resolved to its user and organisation, the
//! cache that lets most requests authenticate without a trip to the store
//! thread, and the users of an organisation.

use std::collections::HashMap;
use std::sync::RwLock;

use rusqlite::{params, OptionalExtension};

use super::{Caller, Store, StoreError, UserRecord};

/// API key to caller, for keys the store has resolved. Filled only by
/// `Store::caller_for_key` outside any transaction, and emptied by every
/// change to users or keys (`apply_seed`, `reset`, `delete_tenant`); both happen on the
/// store thread, in order, so an entry is never older than the last change.
/// Only keys that exist are kept, so it is as big as the `api_keys` table.
#[derive(Default)]
pub(crate) struct CallerCache {
    callers: RwLock<HashMap<String, Caller>>,
}

impl CallerCache {
    pub(crate) fn get(&self, key: &str) -> Option<Caller> {
        // A poisoned lock means a panic mid-insert or mid-clear, each of
        // which leaves the map whole.
        let callers = self
            .callers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        callers.get(key).cloned()
    }

    fn insert(&self, key: &str, caller: &Caller) {
        let mut callers = self
            .callers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        callers.insert(key.to_owned(), caller.clone());
    }

    pub(super) fn clear(&self) {
        self.callers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }
}

impl Store {
    /// Resolves an API key to its user and organisation.
    pub fn caller_for_key(&self, key: &str) -> Result<Option<Caller>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT o.id, o.public_id, o.name, u.id, u.name, u.email, u.timezone_offset, u.seq
             FROM api_keys k JOIN users u ON u.id = k.user_id
             JOIN organisations o ON o.id = u.organisation_id
             WHERE k.key = ?1",
        )?;
        let caller = statement
            .query_row(params![key], |row| {
                Ok(Caller {
                    organisation_id: row.get(0)?,
                    org: row.get::<_, String>(1)?.into(),
                    organisation: row.get(2)?,
                    user_id: row.get(3)?,
                    user_number: row.get(7)?,
                    user_name: row.get(4)?,
                    email: row.get(5)?,
                    timezone_offset: row.get(6)?,
                })
            })
            .optional()?;
        // Inside a transaction the answer might still be rolled back.
        if let (Some(caller), true) = (&caller, self.conn.is_autocommit()) {
            self.callers.insert(key, caller);
        }
        Ok(caller)
    }

    /// The users of an organisation, in the order they were added.
    pub fn users(&self, org: i64) -> Result<Vec<UserRecord>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, email, timezone_offset, seq FROM users
             WHERE organisation_id = ?1 ORDER BY seq",
        )?;
        let rows = statement.query_map(params![org], |row| {
            Ok(UserRecord {
                id: row.get(0)?,
                number: row.get(4)?,
                name: row.get(1)?,
                email: row.get(2)?,
                timezone_offset: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
