//! The versioned schema. Each migration moves the database from version N-1 to
//! N inside one transaction; `PRAGMA user_version` records where a file is.

use rusqlite::Connection;

use super::StoreError;

/// Migrations in order; entry `i` takes a database from version `i` to `i + 1`.
/// Never edit a shipped migration: append a new one.
const MIGRATIONS: &[&str] = &[
    // v1: the foundation.
    r#"
    CREATE TABLE organisations (
        id    INTEGER PRIMARY KEY,
        name  TEXT NOT NULL UNIQUE
    );
    CREATE TABLE users (
        id               TEXT PRIMARY KEY,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        name             TEXT NOT NULL,
        email            TEXT,
        timezone_offset  TEXT
    );
    CREATE TABLE api_keys (
        key      TEXT PRIMARY KEY,
        user_id  TEXT NOT NULL REFERENCES users(id)
    );
    CREATE TABLE contacts (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        name             TEXT NOT NULL,
        phone_number     TEXT NOT NULL,
        phone_digits     TEXT NOT NULL,
        email            TEXT,
        type             TEXT,
        created_at       TEXT NOT NULL
    );
    CREATE INDEX contacts_by_phone ON contacts(organisation_id, phone_digits);
    CREATE TABLE activities (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        subject          TEXT NOT NULL,
        body             TEXT NOT NULL,
        body_format      TEXT NOT NULL,
        type             TEXT NOT NULL,
        received_at      TEXT NOT NULL,
        contact_id       TEXT,
        session_id       TEXT,
        direction        TEXT,
        duration         TEXT,
        extra            TEXT NOT NULL DEFAULT '{}',
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    );
    CREATE INDEX activities_by_session ON activities(organisation_id, session_id, seq);
    CREATE INDEX activities_by_contact ON activities(organisation_id, contact_id, seq);
    CREATE INDEX activities_by_org ON activities(organisation_id, seq);
    CREATE TABLE idempotency_keys (
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        key              TEXT NOT NULL,
        request_hash     TEXT NOT NULL,
        status           INTEGER NOT NULL,
        response         TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        PRIMARY KEY (organisation_id, key)
    );
    "#,
    // v2: an idempotent create no longer stores a copy of its answer (the
    // whole activity, as big as the activity row itself). `activity_id` set
    // with an empty `response` means "the answer is that activity as it was
    // created"; the first PATCH or DELETE of the activity writes the answer
    // out into `response` before changing it (see `freeze_created_activity`). The
    // activity row names its key so that PATCH and DELETE find it without
    // another index. Rows from v1 keep their stored answers.
    r#"
    ALTER TABLE idempotency_keys ADD COLUMN activity_id TEXT;
    ALTER TABLE activities ADD COLUMN idempotency_key TEXT;
    "#,
    // v3: a key keeps no HTTP answer. Its copy of the activity as created
    // (written when the activity first changes) is a record, not a response,
    // and the status every create answered (201) is the API's to know.
    r#"
    ALTER TABLE idempotency_keys RENAME COLUMN response TO created_activity;
    ALTER TABLE idempotency_keys DROP COLUMN status;
    "#,
    // v4: revisions. Every write of an activity keeps the activity as it
    // stood after it (`revisions.rs`), numbered from 1 per activity, with
    // the journal id of the request that wrote it when there was one. An
    // activity from before v4 gets its state now as revision 1: what it
    // held earlier was never kept. Revisions go with their activity.
    r#"
    CREATE TABLE activity_revisions (
        activity_id      TEXT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        number           INTEGER NOT NULL,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        request_id       INTEGER,
        subject          TEXT NOT NULL,
        body             TEXT NOT NULL,
        body_format      TEXT NOT NULL,
        type             TEXT NOT NULL,
        received_at      TEXT NOT NULL,
        contact_id       TEXT,
        session_id       TEXT,
        direction        TEXT,
        duration         TEXT,
        extra            TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        UNIQUE (activity_id, number)
    );
    INSERT INTO activity_revisions
        (activity_id, number, organisation_id, request_id, subject, body, body_format, type,
         received_at, contact_id, session_id, direction, duration, extra, created_at, updated_at)
    SELECT id, 1, organisation_id, NULL, subject, body, body_format, type,
           received_at, contact_id, session_id, direction, duration, extra, created_at, updated_at
    FROM activities ORDER BY seq;
    "#,
    // v5: what serving App Connect proxy configs needs. A message log names
    // its RingCentral message (`message_id`, indexed for the
    // duplicate_message check); a note a request carried is kept as sent
    // (`note`), since no column of the body says where it ends. A native
    // write made only of fields the API does not know is remembered for the
    // unknown_fields check. Contacts are listed page by page.
    r#"
    ALTER TABLE activities ADD COLUMN message_id TEXT;
    ALTER TABLE activities ADD COLUMN note TEXT;
    CREATE INDEX activities_by_message ON activities(organisation_id, message_id)
        WHERE message_id IS NOT NULL;
    CREATE INDEX contacts_by_org ON contacts(organisation_id, seq);
    CREATE TABLE unknown_field_writes (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        activity_id      TEXT NOT NULL,
        fields           TEXT NOT NULL,
        created_at       TEXT NOT NULL
    );
    "#,
    // v6: tenants. An organisation gets an opaque public id (what the admin
    // API's `?org=` names) that is never reused, and its integer id is
    // AUTOINCREMENT so that it is never reused either: a request that
    // authenticated just before its organisation was deleted must not
    // write into an organisation created after. `seed_contacts` is what a
    // reset of that organisation alone goes back to (NULL: it predates v6,
    // and the server's seed decides). Contact ids become unique per
    // organisation, so a tenant holds the seed's `contact-1` as its own.
    // Both tables are rebuilt, with foreign keys off (see `migrate`).
    r#"
    CREATE TABLE organisations_v6 (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        public_id      TEXT NOT NULL UNIQUE,
        name           TEXT NOT NULL UNIQUE,
        tenant         INTEGER NOT NULL DEFAULT 0,
        seed_contacts  TEXT,
        created_at     TEXT NOT NULL
    );
    INSERT INTO organisations_v6 (id, public_id, name, created_at)
        SELECT id, 'org_' || lower(hex(randomblob(16))), name,
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        FROM organisations;
    DROP TABLE organisations;
    ALTER TABLE organisations_v6 RENAME TO organisations;
    CREATE TABLE contacts_v6 (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        name             TEXT NOT NULL,
        phone_number     TEXT NOT NULL,
        phone_digits     TEXT NOT NULL,
        email            TEXT,
        type             TEXT,
        created_at       TEXT NOT NULL,
        UNIQUE (organisation_id, id)
    );
    INSERT INTO contacts_v6
        (seq, id, organisation_id, name, phone_number, phone_digits, email, type, created_at)
        SELECT seq, id, organisation_id, name, phone_number, phone_digits, email, type, created_at
        FROM contacts;
    DROP TABLE contacts;
    ALTER TABLE contacts_v6 RENAME TO contacts;
    CREATE INDEX contacts_by_phone ON contacts(organisation_id, phone_digits);
    CREATE INDEX users_by_organisation ON users(organisation_id);
    "#,
    // v7: an activity's row is its own latest revision: `revision` is its
    // number and `request_id` the journal id of the write that made it.
    // `activity_revisions` keeps only states a later write replaced, so a
    // create writes no revision row (it wrote the whole activity twice).
    // Each activity's newest kept revision that equals its row (every
    // column a revision has) is dropped, the row taking its number and
    // request id; every older one stays as it is. An activity whose newest
    // revision differs from its row (no write made one so) keeps them all,
    // the row becoming the next number, written by no known request.
    r#"
    ALTER TABLE activities ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE activities ADD COLUMN request_id INTEGER;
    CREATE TEMP TABLE v7_newest AS
        SELECT a.id AS activity_id, r.number, r.request_id,
            (r.organisation_id IS a.organisation_id AND r.subject IS a.subject
             AND r.body IS a.body AND r.body_format IS a.body_format AND r.type IS a.type
             AND r.received_at IS a.received_at AND r.contact_id IS a.contact_id
             AND r.session_id IS a.session_id AND r.direction IS a.direction
             AND r.duration IS a.duration AND r.extra IS a.extra
             AND r.created_at IS a.created_at AND r.updated_at IS a.updated_at) AS same
        FROM activities a JOIN activity_revisions r ON r.activity_id = a.id
        WHERE r.number = (SELECT max(number) FROM activity_revisions
                          WHERE activity_id = a.id);
    UPDATE activities
        SET revision = CASE WHEN n.same THEN n.number ELSE n.number + 1 END,
            request_id = CASE WHEN n.same THEN n.request_id END
        FROM v7_newest n
        WHERE n.activity_id = activities.id
          AND NOT (n.same AND n.number = 1 AND n.request_id IS NULL);
    DELETE FROM activity_revisions
        WHERE (activity_id, number) IN (SELECT activity_id, number FROM v7_newest WHERE same);
    DROP TABLE v7_newest;
    "#,
    // v8: one world with several faces. Every user gets a number, never
    // reused (AUTOINCREMENT, like contacts' and activities' `seq` and
    // organisations' `id`, which are theirs), for the CRM faces whose ids
    // are integers; an activity and each of its kept revisions name the
    // face that wrote them (`via`); and the sign-in secrets CRM faces hand
    // out (a Redtail password and user key, OAuth codes and tokens) are
    // kept per user, scoped by organisation like everything else.
    r#"
    ALTER TABLE activities ADD COLUMN via TEXT;
    ALTER TABLE activity_revisions ADD COLUMN via TEXT;
    CREATE TABLE users_v8 (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        name             TEXT NOT NULL,
        email            TEXT,
        timezone_offset  TEXT
    );
    INSERT INTO users_v8 (id, organisation_id, name, email, timezone_offset)
        SELECT id, organisation_id, name, email, timezone_offset FROM users ORDER BY rowid;
    DROP TABLE users;
    ALTER TABLE users_v8 RENAME TO users;
    CREATE INDEX users_by_organisation ON users(organisation_id);
    CREATE TABLE crm_credentials (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
        user_id          TEXT NOT NULL,
        crm              TEXT NOT NULL,
        kind             TEXT NOT NULL,
        secret           TEXT NOT NULL,
        expires_at       TEXT,
        created_at       TEXT NOT NULL,
        UNIQUE (crm, kind, secret)
    );
    CREATE INDEX crm_credentials_by_user ON crm_credentials(organisation_id, user_id, crm, kind);
    "#,
    // v9: message logs as App Connect groups them. A log names its
    // conversation (`conversation_log_id`: one per conversation and day,
    // as App Connect's core keys them) and holds the ids of every message
    // in it (`message_ids`, a JSON array in the order they were logged),
    // where v5 kept one `message_id` per activity. The row and each kept
    // revision have both, so a revision shows which messages the log held
    // then. v5's message id becomes a one-message list in the row and in
    // its activity's revisions (no write ever changed it).
    r#"
    ALTER TABLE activities ADD COLUMN conversation_log_id TEXT;
    ALTER TABLE activities ADD COLUMN message_ids TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE activity_revisions ADD COLUMN conversation_log_id TEXT;
    ALTER TABLE activity_revisions ADD COLUMN message_ids TEXT NOT NULL DEFAULT '[]';
    UPDATE activities SET message_ids = json_array(message_id) WHERE message_id IS NOT NULL;
    UPDATE activity_revisions
        SET message_ids = (SELECT a.message_ids FROM activities a
                           WHERE a.id = activity_revisions.activity_id)
        WHERE activity_id IN (SELECT id FROM activities WHERE message_id IS NOT NULL);
    DROP INDEX activities_by_message;
    ALTER TABLE activities DROP COLUMN message_id;
    CREATE INDEX activities_by_conversation ON activities(organisation_id, conversation_log_id, seq)
        WHERE conversation_log_id IS NOT NULL;
    "#,
];

/// The migrations that make version `version`, for tests that build an
/// old database.
#[cfg(test)]
pub(crate) fn migrations_up_to(version: usize) -> Vec<&'static str> {
    MIGRATIONS[..version].to_vec()
}

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to `CURRENT_VERSION`. A file from a newer mockcrm is
/// refused rather than guessed at.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    if found == CURRENT_VERSION {
        return Ok(());
    }
    // A migration that rebuilds a table others reference (v6) must not have
    // the references checked while the old table is gone and the new one
    // not yet renamed into place; the check runs once at the end of each
    // migration instead. The pragma is a no-op inside a transaction, so it
    // is switched outside them.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = run_migrations(conn, found);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated
}

fn run_migrations(conn: &mut Connection, found: i64) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let dangling: i64 =
            tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| {
                row.get(0)
            })?;
        if dangling > 0 {
            return Err(StoreError::BrokenReferences {
                version: index as i64 + 1,
                count: dangling,
            });
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
