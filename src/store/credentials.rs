//! The sign-in secrets CRM faces hand out and check, per user and CRM: a
//! Redtail password and the user key its sign-in returns, and (for the
//! OAuth CRMs) client credentials, authorization codes, access and refresh
//! tokens. A secret names its user, so a request carrying one is that
//! user's, in that user's organisation, like an API key. Secrets are made
//! by whoever issues them (random, long enough not to be guessed) and only
//! kept here; what each kind means to a CRM is its face's business.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Caller, Store, StoreError};

/// The columns `caller_from_row` reads, for a query joining `users u` and
/// `organisations o`.
const CALLER_COLUMNS: &str =
    "o.id, o.public_id, o.name, u.id, u.name, u.email, u.timezone_offset, u.seq";

fn caller_from_row(row: &rusqlite::Row) -> rusqlite::Result<Caller> {
    Ok(Caller {
        organisation_id: row.get(0)?,
        org: row.get::<_, String>(1)?.into(),
        organisation: row.get(2)?,
        user_id: row.get(3)?,
        user_name: row.get(4)?,
        email: row.get(5)?,
        timezone_offset: row.get(6)?,
        user_number: row.get(7)?,
    })
}

/// A secret of one kind for one user and CRM.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmSecret<'a> {
    pub crm: &'a str,
    pub kind: &'a str,
}

impl Store {
    /// The user's secret of this kind for this CRM, made with `make` and
    /// kept when the user has none yet (or only expired ones): the same
    /// secret every time it is asked for, until it expires.
    pub fn crm_secret(
        &mut self,
        org: i64,
        user_id: &str,
        which: &CrmSecret<'_>,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let now = now_rfc3339();
        let found: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT secret FROM crm_credentials
                 WHERE organisation_id = ?1 AND user_id = ?2 AND crm = ?3 AND kind = ?4
                   AND (expires_at IS NULL OR expires_at > ?5)
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![org, user_id, which.crm, which.kind, now], |row| {
                row.get(0)
            })
            .optional()?;
        if let Some(secret) = found {
            return Ok(secret);
        }
        let secret = make();
        self.issue_crm_secret(org, user_id, which, &secret, None)?;
        Ok(secret)
    }

    /// Keeps a new secret for the user, valid until `expires_at` (RFC 3339,
    /// UTC) or for good.
    pub fn issue_crm_secret(
        &mut self,
        org: i64,
        user_id: &str,
        which: &CrmSecret<'_>,
        secret: &str,
        expires_at: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO crm_credentials
                    (organisation_id, user_id, crm, kind, secret, expires_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                org,
                user_id,
                which.crm,
                which.kind,
                secret,
                expires_at,
                now_rfc3339()
            ])
            .map_err(super::gone_if_orphaned)?;
        Ok(())
    }

    /// Makes a secret unusable (a spent authorization code, a replaced
    /// refresh token); `false` when there was no such secret.
    pub fn revoke_crm_secret(
        &mut self,
        which: &CrmSecret<'_>,
        secret: &str,
    ) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "DELETE FROM crm_credentials WHERE crm = ?1 AND kind = ?2 AND secret = ?3",
            )?
            .execute(params![which.crm, which.kind, secret])?;
        Ok(changed > 0)
    }

    /// Makes every live secret of `kinds` that the organisation's users
    /// hold expire now (an expiry of now, not a deletion: a face still
    /// tells an expired secret from an unknown one); how many did. What
    /// was already past its time, or issued for good, is counted when it
    /// is changed: for good becomes now too.
    pub fn expire_crm_secrets(&mut self, org: i64, kinds: &[&str]) -> Result<usize, StoreError> {
        let now = now_rfc3339();
        let mut expired = 0;
        let mut statement = self.conn.prepare_cached(
            "UPDATE crm_credentials SET expires_at = ?1
             WHERE organisation_id = ?2 AND kind = ?3
               AND (expires_at IS NULL OR expires_at > ?1)",
        )?;
        for kind in kinds {
            expired += statement.execute(params![now, org, kind])?;
        }
        Ok(expired)
    }

    /// Whose this secret is, if it exists; with when it expires, so that a
    /// face can answer an expired one as its CRM does.
    pub fn caller_for_secret(
        &self,
        which: &CrmSecret<'_>,
        secret: &str,
    ) -> Result<Option<(Caller, Option<String>)>, StoreError> {
        let found = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CALLER_COLUMNS}, c.expires_at
                 FROM crm_credentials c JOIN users u ON u.id = c.user_id
                 JOIN organisations o ON o.id = u.organisation_id
                 WHERE c.crm = ?1 AND c.kind = ?2 AND c.secret = ?3
                   AND c.organisation_id = u.organisation_id"
            ))?
            .query_row(params![which.crm, which.kind, secret], |row| {
                Ok((caller_from_row(row)?, row.get::<_, Option<String>>(8)?))
            })
            .optional()?;
        Ok(found)
    }

    /// The oldest organisation, seeded ones first: whose users a tool
    /// signs in as when it names none.
    pub fn first_organisation(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM organisations ORDER BY tenant, id LIMIT 1")?
            .query_row([], |row| row.get(0))
            .optional()?)
    }

    /// One API key of the user (the oldest), which a CRM face that signs in
    /// with API keys hands out.
    pub fn api_key_of(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT key FROM api_keys WHERE user_id = ?1 ORDER BY rowid LIMIT 1")?
            .query_row(params![user_id], |row| row.get(0))
            .optional()?)
    }

    /// The first user of the organisation: the one a CRM's sign-in is for
    /// when a face hands out one set of credentials per organisation.
    pub fn first_user(&self, org: i64) -> Result<Option<Caller>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {CALLER_COLUMNS}
                 FROM users u JOIN organisations o ON o.id = u.organisation_id
                 WHERE o.id = ?1 ORDER BY u.seq LIMIT 1"
            ))?
            .query_row(params![org], caller_from_row)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{acme, memory};

    const PASSWORD: CrmSecret<'static> = CrmSecret {
        crm: "redtail",
        kind: "password",
    };

    #[test]
    fn a_secret_is_made_once_and_names_its_user() {
        let mut store = memory();
        let org = acme(&store);
        let first = store
            .crm_secret(org, "crm-user-1", &PASSWORD, || "s3cret".into())
            .expect("made");
        let again = store
            .crm_secret(org, "crm-user-1", &PASSWORD, || "other".into())
            .expect("kept");
        assert_eq!((first.as_str(), again.as_str()), ("s3cret", "s3cret"));
        let (caller, expires) = store
            .caller_for_secret(&PASSWORD, "s3cret")
            .expect("read")
            .expect("found");
        assert_eq!(caller.user_id, "crm-user-1");
        assert_eq!(caller.organisation_id, org);
        assert!(caller.user_number > 0);
        assert_eq!(expires, None);
        let other_kind = CrmSecret {
            crm: "redtail",
            kind: "user_key",
        };
        assert_eq!(
            store
                .caller_for_secret(&other_kind, "s3cret")
                .expect("read"),
            None
        );
    }

    #[test]
    fn an_expired_secret_is_replaced_and_still_told_apart() {
        let mut store = memory();
        let org = acme(&store);
        let token = CrmSecret {
            crm: "pipedrive",
            kind: "access_token",
        };
        store
            .issue_crm_secret(
                org,
                "crm-user-1",
                &token,
                "old",
                Some("2000-01-01T00:00:00Z"),
            )
            .expect("issued");
        let (_, expires) = store
            .caller_for_secret(&token, "old")
            .expect("read")
            .expect("still known");
        assert_eq!(expires.as_deref(), Some("2000-01-01T00:00:00Z"));
        let fresh = store
            .crm_secret(org, "crm-user-1", &token, || "new".into())
            .expect("made");
        assert_eq!(fresh, "new");
        assert_eq!(
            store.first_user(org).expect("read").map(|c| c.user_id),
            Some("crm-user-1".to_owned())
        );
    }

    #[test]
    fn expiring_an_organisations_tokens_touches_only_its_live_ones_of_those_kinds() {
        let mut store = memory();
        let org = acme(&store);
        let token = CrmSecret {
            crm: "pipedrive",
            kind: "access_token",
        };
        let refresh = CrmSecret {
            crm: "pipedrive",
            kind: "refresh_token",
        };
        store
            .issue_crm_secret(
                org,
                "crm-user-1",
                &token,
                "live",
                Some("2999-01-01T00:00:00Z"),
            )
            .expect("issued");
        store
            .issue_crm_secret(org, "crm-user-1", &token, "ready", None)
            .expect("issued");
        store
            .issue_crm_secret(
                org,
                "crm-user-1",
                &token,
                "old",
                Some("2000-01-01T00:00:00Z"),
            )
            .expect("issued");
        store
            .issue_crm_secret(org, "crm-user-1", &refresh, "rt", None)
            .expect("issued");
        let expired = store
            .expire_crm_secrets(org, &["access_token", "bh_rest_token"])
            .expect("expired");
        assert_eq!(expired, 2, "the live and the ready token, not the old one");
        for secret in ["live", "ready"] {
            let (_, expires) = store
                .caller_for_secret(&token, secret)
                .expect("read")
                .expect("still known");
            let expires = expires.expect("now has an expiry");
            assert!(
                expires.as_str() <= now_rfc3339().as_str(),
                "{secret}: {expires}"
            );
        }
        let (_, kept) = store
            .caller_for_secret(&refresh, "rt")
            .expect("read")
            .expect("kept");
        assert_eq!(kept, None, "a refresh token is not an access token");
        assert_eq!(
            store
                .expire_crm_secrets(org + 1000, &["access_token"])
                .expect("none"),
            0
        );
    }
}
