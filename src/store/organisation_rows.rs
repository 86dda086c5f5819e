//! An organisation's rows across every table: found by sweeping every table
//! that has an `organisation_id` column, so a table a later migration adds
//! is emptied too without being named here; `api_keys`, which reaches its
//! organisation through `users`, is the one table named on purpose. Used by
//! deleting or resetting one organisation (`tenants.rs`) and resetting the
//! whole store (`seed.rs`); it inserts nothing.

use rusqlite::{params, Connection};

use super::StoreError;

/// What a deletion of an organisation's data leaves in place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    Nothing,
    UsersAndKeys,
}

/// The tables besides `organisations` itself that hold rows of an
/// organisation, each after every table that references it (so that a
/// child's rows go before its parent's, whatever a later migration adds).
pub(super) fn organisation_tables(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT m.name FROM sqlite_master m
         WHERE m.type = 'table' AND m.name <> 'organisations'
           AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c
                       WHERE c.name = 'organisation_id')
         ORDER BY m.name",
    )?;
    let mut remaining: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut references =
        conn.prepare_cached("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")?;
    let mut parents: Vec<(String, Vec<String>)> = Vec::new();
    for table in &remaining {
        let referenced: Vec<String> = references
            .query_map(params![table], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        parents.push((table.clone(), referenced));
    }
    let mut ordered = Vec::new();
    while !remaining.is_empty() {
        // A table no remaining table references; with a cycle, any one.
        let next = remaining
            .iter()
            .position(|table| {
                !parents.iter().any(|(child, referenced)| {
                    child != table && remaining.contains(child) && referenced.contains(table)
                })
            })
            .unwrap_or(0);
        ordered.push(remaining.remove(next));
    }
    Ok(ordered)
}

/// Deletes an organisation's rows from every table that holds them.
pub(super) fn delete_data(tx: &Connection, key: i64, keep: Keep) -> Result<(), StoreError> {
    if keep == Keep::Nothing {
        tx.execute(
            "DELETE FROM api_keys WHERE user_id IN
                 (SELECT id FROM users WHERE organisation_id = ?1)",
            params![key],
        )?;
    }
    for table in organisation_tables(tx)? {
        if keep == Keep::UsersAndKeys && table == "users" {
            continue;
        }
        // The name comes from sqlite_master; quoted, it is only ever a name.
        let quoted = table.replace('"', "\"\"");
        tx.execute(
            &format!("DELETE FROM \"{quoted}\" WHERE organisation_id = ?1"),
            params![key],
        )?;
    }
    Ok(())
}

/// Every organisation's rows, for a reset of the whole store.
pub(super) fn delete_everything(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("DELETE FROM api_keys")?;
    for table in organisation_tables(conn)? {
        let quoted = table.replace('"', "\"\"");
        conn.execute_batch(&format!("DELETE FROM \"{quoted}\""))?;
    }
    conn.execute_batch("DELETE FROM organisations")?;
    Ok(())
}
