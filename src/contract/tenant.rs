//! The organisation one case runs in: a tenant created for it through the
//! admin API (`POST /__admin/tenants`) and deleted once it has been judged,
//! with an API key of its own. Everything the case touches is scoped to it:
//! the connector's requests carry its key, the faults are limited to it
//! (`org`), and its journal (`?org=`) and its activities are the case's
//! alone, so cases played at the same time, or other runs and CI jobs
//! sharing a `--server`, never see each other, and nothing else on the
//! server is cleared.
//!
//! It owns the tenant's life and the reads and writes scoped to it; it must
//! not call the connector nor judge what it finds.

use serde_json::Value;
use tokio::runtime::Runtime;

use super::plan::RunError;
use crate::cli::admin_client::{AdminClient, AdminError, RequestsQuery, OWN_READ};
use crate::harness::{FaultSpec, JournalView};

/// How many journal entries of a case are read: far more than one case
/// sends, and a bound on what a runaway connector makes the report show.
const JOURNAL_LIMIT: usize = 1000;

pub(super) struct CaseTenant<'a> {
    rt: &'a Runtime,
    /// The admin API scoped to the tenant (`?org=`).
    admin: AdminClient,
    /// The tenant's public id.
    pub org: String,
    pub api_key: String,
    /// The tenant's one user (`GET /me`).
    pub user_id: String,
    deleted: bool,
}

impl<'a> CaseTenant<'a> {
    /// A fresh tenant with the server's seed contacts; `server_url` names
    /// the server in errors.
    pub fn open(
        rt: &'a Runtime,
        crm: &AdminClient,
        server_url: &str,
    ) -> Result<CaseTenant<'a>, RunError> {
        let created = rt
            .block_on(crm.create_tenant(None))
            .map_err(|error| match error {
                AdminError::Refused { status: 401, .. } => RunError::Crm(format!(
                    "the CRM at {server_url} refused the admin key; pass --admin-key (or MOCKCRM_ADMIN_KEY) as it was served with"
                )),
                other => RunError::Crm(format!(
                    "cannot create the tenant a case runs in (POST /__admin/tenants): {other}"
                )),
            })?;
        let mut tenant = CaseTenant {
            rt,
            admin: crm.clone().scoped(Some(&created.id)),
            org: created.id,
            api_key: created.api_key,
            user_id: String::new(),
            deleted: false,
        };
        let me = rt.block_on(crm.me(&tenant.api_key))?;
        tenant.user_id = me
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("crm-user")
            .to_owned();
        Ok(tenant)
    }

    /// The id of the tenant's contact with this phone number, created
    /// when the seed has none, and its number (the id CRM faces show).
    pub fn contact_id(
        &self,
        name: &str,
        phone: &str,
        kind: &str,
    ) -> Result<(String, Option<i64>), AdminError> {
        self.rt
            .block_on(self.admin.contact_id(&self.api_key, name, phone, kind))
    }

    /// The tenant's access tokens (and Bullhorn sessions) expire now
    /// (`POST /__admin/tokens/expire?org=`).
    pub fn expire_tokens(&self) -> Result<u64, AdminError> {
        self.rt.block_on(self.admin.expire_tokens())
    }

    /// How to reach the CRM faces as the tenant's user (`GET /__admin/crms?org=`).
    pub fn crms(&self) -> Result<Value, AdminError> {
        self.rt.block_on(self.admin.crms())
    }

    /// Registers a fault that only the tenant's requests meet.
    pub fn add_fault(&self, spec: &FaultSpec) -> Result<(), AdminError> {
        let spec = FaultSpec {
            org: Some(self.org.clone()),
            ..spec.clone()
        };
        self.rt.block_on(self.admin.add_fault(&spec)).map(drop)
    }

    /// The tenant's faults, each with how often it fired.
    pub fn faults(&self) -> Result<Vec<crate::harness::Fault>, AdminError> {
        self.rt.block_on(self.admin.faults())
    }

    /// Removes the tenant's faults (no other's).
    pub fn clear_faults(&self) -> Result<(), AdminError> {
        self.rt.block_on(self.admin.clear_faults())
    }

    /// One of the tenant's activities; `None` when it has no such one.
    pub fn activity(&self, id: &str) -> Result<Option<Value>, AdminError> {
        self.rt.block_on(self.admin.activity(&self.api_key, id))
    }

    /// Every activity the tenant holds, oldest first.
    pub fn activities(&self) -> Result<Vec<Value>, AdminError> {
        let mut newest_first = self.rt.block_on(self.admin.activities(&self.api_key))?;
        newest_first.reverse();
        Ok(newest_first)
    }

    /// Every state one of the tenant's activities has had, oldest first.
    pub fn revisions(&self, id: &str) -> Result<Vec<Value>, AdminError> {
        self.rt.block_on(self.admin.revisions(id))
    }

    /// What the connector sent the CRM, in order: the tenant's journal
    /// without mockcrm's own reads.
    pub fn requests(&self) -> Result<Vec<JournalView>, AdminError> {
        let entries = self.rt.block_on(self.admin.requests(&RequestsQuery {
            limit: JOURNAL_LIMIT,
            method: None,
            path: None,
        }))?;
        let marker = format!("{}={}", OWN_READ.0, OWN_READ.1);
        Ok(entries
            .into_iter()
            .rev()
            .filter(|entry| !entry.query.contains(&marker))
            .collect())
    }

    /// Deletes the tenant with everything it holds, its journal entries
    /// and faults too.
    pub fn close(mut self) -> Result<(), AdminError> {
        self.deleted = true;
        self.rt.block_on(self.admin.delete_tenant(&self.org))
    }
}

impl Drop for CaseTenant<'_> {
    /// A case cut short still leaves nothing behind, as far as the CRM
    /// lets it (its error, if any, is the one already being reported).
    fn drop(&mut self) {
        if !self.deleted {
            let _ = self.rt.block_on(self.admin.delete_tenant(&self.org));
        }
    }
}
