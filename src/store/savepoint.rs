//! The savepoint every store write runs in, with its statements prepared
//! once per connection. rusqlite's own `Savepoint` parses `SAVEPOINT` and
//! `RELEASE` anew each time, which was two SQL parses per create on the
//! store thread. This module only opens, releases and rolls back.

use std::ops::Deref;

use rusqlite::Connection;

use super::StoreError;

/// An open savepoint; dropped without `commit`, it rolls back. Outside a
/// transaction it is the transaction; inside a group commit's, it lets one
/// operation fail alone.
pub(super) struct Savepoint<'conn> {
    conn: &'conn Connection,
    open: bool,
}

impl<'conn> Savepoint<'conn> {
    pub(super) fn begin(conn: &'conn Connection) -> Result<Savepoint<'conn>, StoreError> {
        conn.prepare_cached("SAVEPOINT store_operation")?
            .execute([])?;
        Ok(Savepoint { conn, open: true })
    }

    pub(super) fn commit(mut self) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("RELEASE store_operation")?
            .execute([])?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Savepoint<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        // Failing here means SQLite already rolled the transaction back.
        for sql in ["ROLLBACK TO store_operation", "RELEASE store_operation"] {
            let _ = self
                .conn
                .prepare_cached(sql)
                .and_then(|mut statement| statement.execute([]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("count")
    }

    #[test]
    fn a_savepoint_keeps_what_it_committed_and_undoes_what_it_dropped() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (x)").expect("table");
        let kept = Savepoint::begin(&conn).expect("begin");
        kept.execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        kept.commit().expect("commit");
        {
            let dropped = Savepoint::begin(&conn).expect("begin");
            dropped
                .execute("INSERT INTO t VALUES (2)", [])
                .expect("insert");
        }
        assert_eq!(count(&conn), 1);
        assert!(conn.is_autocommit(), "no transaction is left open");

        // Inside a transaction, one savepoint rolls back alone.
        conn.execute_batch("BEGIN").expect("begin");
        Savepoint::begin(&conn)
            .and_then(|first| {
                first.execute("INSERT INTO t VALUES (3)", [])?;
                first.commit()
            })
            .expect("first");
        {
            let second = Savepoint::begin(&conn).expect("begin");
            second
                .execute("INSERT INTO t VALUES (4)", [])
                .expect("insert");
        }
        conn.execute_batch("COMMIT").expect("commit");
        assert_eq!(count(&conn), 2);
    }
}
