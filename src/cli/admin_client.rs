//! A typed client for the server's `/__admin/` API, as the command line's
//! admin commands and `mockcrm contract` use it: the answers are read into
//! the same types the server writes them from (`Violation`, `JournalView`,
//! `Fault`, `Organisation`), so a change of shape on one side breaks the
//! build, not a CI job. Sending and reading is `crate::http`'s; this file
//! knows the admin routes, and the few CRM reads with a user's API key that
//! `contract` checks its properties against (an organisation's own
//! records). A client `scoped` to an organisation sends `?org=` with every
//! admin request.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::harness::{Fault, FaultSpec, JournalView};
use crate::http::{Answer, JsonClient, TransportError};
use crate::store::{Organisation, Violation};

#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    #[error("{}", transport_message(.0))]
    Transport(#[from] TransportError),
    #[error("mockcrm refused the admin request ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("mockcrm answered something unexpected: {0}")]
    BadResponse(String),
}

fn transport_message(error: &TransportError) -> String {
    if error.is_refused() {
        format!("{error}; is `mockcrm serve` running there?")
    } else {
        error.to_string()
    }
}

/// The query parameter that marks a read as the contract runner's own, so
/// that it can be told apart from the connector's requests in the journal
/// (the API ignores parameters it does not know).
pub(crate) const OWN_READ: (&str, &str) = ("mockcrm_contract", "check");

/// Which journal entries to list.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestsQuery<'a> {
    pub limit: usize,
    pub method: Option<&'a str>,
    pub path: Option<&'a str>,
}

/// What `GET /__admin/checks` answers: the checks the server ran, and
/// what they found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ChecksReport {
    /// Absent from servers older than the field: then the kinds this
    /// build knows.
    #[serde(default = "known_checks")]
    pub checks: Vec<String>,
    pub violations: Vec<Violation>,
}

fn known_checks() -> Vec<String> {
    Violation::KINDS
        .iter()
        .map(|kind| (*kind).to_owned())
        .collect()
}

/// A tenant just created, with the key its jobs use.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub(crate) struct NewTenant {
    pub id: String,
    pub name: String,
    pub api_key: String,
}

#[derive(Clone)]
pub(crate) struct AdminClient {
    http: JsonClient,
    admin_key: String,
    /// The organisation every request is scoped to (`?org=`).
    org: Option<String>,
}

impl AdminClient {
    pub(crate) fn new(base_url: &str, admin_key: &str) -> Result<AdminClient, AdminError> {
        Ok(AdminClient {
            http: JsonClient::new(base_url)?,
            admin_key: admin_key.to_owned(),
            org: None,
        })
    }

    /// The same client, scoped to one organisation when `org` is given.
    pub(crate) fn scoped(mut self, org: Option<&str>) -> AdminClient {
        self.org = org.map(str::to_owned);
        self
    }

    /// The admin URL for `path`, with `?org=` when scoped.
    fn url(&self, path: &str) -> Result<reqwest::Url, AdminError> {
        let mut url = self.http.url(path)?;
        if let Some(org) = &self.org {
            url.query_pairs_mut().append_pair("org", org);
        }
        Ok(url)
    }

    fn request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, AdminError> {
        Ok(self.http.request_url(method, self.url(path)?))
    }

    /// `GET /__admin/checks`.
    pub(crate) async fn checks(&self) -> Result<ChecksReport, AdminError> {
        let answer = self
            .send(self.request(Method::GET, "/__admin/checks")?)
            .await?;
        let snippet = answer.snippet();
        let body = answer
            .json
            .ok_or_else(|| AdminError::BadResponse(format!("not JSON: {snippet}")))?;
        serde_json::from_value(body).map_err(|error| AdminError::BadResponse(error.to_string()))
    }

    /// `POST /__admin/tenants`.
    pub(crate) async fn create_tenant(&self, name: Option<&str>) -> Result<NewTenant, AdminError> {
        let body = match name {
            Some(name) => serde_json::json!({ "name": name }),
            None => serde_json::json!({}),
        };
        let answer = self
            .send(
                self.http
                    .request(Method::POST, "/__admin/tenants")
                    .json(&body),
            )
            .await?;
        let snippet = answer.snippet();
        answer
            .json
            .and_then(|body| serde_json::from_value(body).ok())
            .ok_or_else(|| AdminError::BadResponse(format!("not a tenant: {snippet}")))
    }

    /// `GET /__admin/crms`: how to reach each CRM face the server serves,
    /// as the scoped organisation's user (the seed's first without one).
    pub(crate) async fn crms(&self) -> Result<Value, AdminError> {
        let answer = self
            .send(self.request(Method::GET, "/__admin/crms")?)
            .await?;
        let snippet = answer.snippet();
        answer
            .json
            .filter(|body| body.get("crms").is_some_and(Value::is_array))
            .ok_or_else(|| AdminError::BadResponse(format!("not a list of CRMs: {snippet}")))
    }

    /// Every organisation (or the one the client is scoped to).
    pub(crate) async fn tenants(&self) -> Result<Vec<Organisation>, AdminError> {
        let answer = self
            .send(self.request(Method::GET, "/__admin/tenants")?)
            .await?;
        list(answer, "items")
    }

    /// Deletes a tenant with all its data.
    pub(crate) async fn delete_tenant(&self, id: &str) -> Result<(), AdminError> {
        let mut url = self.http.url("/__admin/tenants")?;
        // Pushed as a path segment, so any id is escaped, never a new path.
        url.path_segments_mut()
            .map_err(|()| AdminError::BadResponse("the server URL cannot hold a path".into()))?
            .push(id);
        self.send(self.http.request_url(Method::DELETE, url))
            .await
            .map(drop)
    }

    /// Every revision of one activity, oldest first, each the activity as
    /// it stood after that write (`GET /__admin/activities/{id}/revisions`).
    pub(crate) async fn revisions(&self, id: &str) -> Result<Vec<Value>, AdminError> {
        let mut url = self.url("/__admin/activities")?;
        url.path_segments_mut()
            .map_err(|()| AdminError::BadResponse("the server URL cannot hold a path".into()))?
            .push(id)
            .push("revisions");
        let answer = self.send(self.http.request_url(Method::GET, url)).await?;
        let items: Vec<Value> = list(answer, "items")?;
        Ok(items
            .into_iter()
            .filter_map(|mut item| item.get_mut("activity").map(Value::take))
            .collect())
    }

    /// The newest journal entries that `query` picks.
    pub(crate) async fn requests(
        &self,
        query: &RequestsQuery<'_>,
    ) -> Result<Vec<JournalView>, AdminError> {
        let mut url = self.url("/__admin/requests")?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("limit", &query.limit.to_string());
            if let Some(method) = query.method {
                pairs.append_pair("method", method);
            }
            if let Some(path) = query.path {
                pairs.append_pair("path", path);
            }
        }
        let answer = self.send(self.http.request_url(Method::GET, url)).await?;
        list(answer, "items")
    }

    /// Empties the journal.
    pub(crate) async fn clear_requests(&self) -> Result<(), AdminError> {
        self.send(self.request(Method::DELETE, "/__admin/requests")?)
            .await
            .map(drop)
    }

    /// Registers a fault; the fault as the server stored it.
    pub(crate) async fn add_fault(&self, spec: &FaultSpec) -> Result<Fault, AdminError> {
        let answer = self
            .send(self.request(Method::POST, "/__admin/faults")?.json(spec))
            .await?;
        fault(answer.json.unwrap_or(Value::Null))
    }

    /// `POST /__admin/tokens/expire`: the scoped organisation's access
    /// tokens (and Bullhorn sessions) expire now; how many did.
    pub(crate) async fn expire_tokens(&self) -> Result<u64, AdminError> {
        let answer = self
            .send(self.request(Method::POST, "/__admin/tokens/expire")?)
            .await?;
        answer
            .json
            .as_ref()
            .and_then(|json| json.get("expired"))
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                AdminError::BadResponse(format!(
                    "POST /__admin/tokens/expire answered {} without a count of expired tokens",
                    answer.text.chars().take(200).collect::<String>()
                ))
            })
    }

    /// Every fault added and not deleted, each with how often it fired.
    pub(crate) async fn faults(&self) -> Result<Vec<Fault>, AdminError> {
        let answer = self
            .send(self.request(Method::GET, "/__admin/faults")?)
            .await?;
        let items: Vec<Value> = list(answer, "items")?;
        items.into_iter().map(fault).collect()
    }

    /// Removes one fault.
    pub(crate) async fn delete_fault(&self, id: &str) -> Result<(), AdminError> {
        let mut url = self.url("/__admin/faults")?;
        // Pushed as a path segment, so any id is escaped, never a new path.
        url.path_segments_mut()
            .map_err(|()| AdminError::BadResponse("the server URL cannot hold a path".into()))?
            .push(id);
        self.send(self.http.request_url(Method::DELETE, url))
            .await
            .map(drop)
    }

    /// Removes every fault.
    pub(crate) async fn clear_faults(&self) -> Result<(), AdminError> {
        self.send(self.request(Method::DELETE, "/__admin/faults")?)
            .await
            .map(drop)
    }

    /// Back to the seed, or empty.
    pub(crate) async fn reset(&self, empty: bool) -> Result<(), AdminError> {
        let mut url = self.url("/__admin/reset")?;
        if empty {
            url.query_pairs_mut().append_pair("empty", "true");
        }
        self.send(self.http.request_url(Method::POST, url))
            .await
            .map(drop)
    }

    /// `GET /me` as the owner of `api_key`, marked as the runner's read.
    pub(crate) async fn me(&self, api_key: &str) -> Result<Value, AdminError> {
        let mut url = self.http.url("/me")?;
        url.query_pairs_mut().append_pair(OWN_READ.0, OWN_READ.1);
        let answer = self
            .send_as(self.http.request_url(Method::GET, url), api_key)
            .await?;
        answer
            .json
            .ok_or_else(|| AdminError::BadResponse(format!("GET /me answered {}", answer.text)))
    }

    /// Every activity of `api_key`'s organisation, newest first
    /// (`GET /activity`, every page, marked as the runner's read).
    pub(crate) async fn activities(&self, api_key: &str) -> Result<Vec<Value>, AdminError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = self.http.url("/activity")?;
            {
                let mut pairs = url.query_pairs_mut();
                pairs.append_pair("limit", "200");
                if let Some(cursor) = &cursor {
                    pairs.append_pair("cursor", cursor);
                }
                pairs.append_pair(OWN_READ.0, OWN_READ.1);
            }
            let answer = self
                .send_as(self.http.request_url(Method::GET, url), api_key)
                .await?;
            let next = answer
                .json
                .as_ref()
                .and_then(|body| body.get("next_cursor"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            all.extend(list::<Value>(answer, "items")?);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// One activity of `api_key`'s organisation, `None` when there is no
    /// such activity; marked as the runner's read.
    pub(crate) async fn activity(
        &self,
        api_key: &str,
        id: &str,
    ) -> Result<Option<Value>, AdminError> {
        let mut url = self.http.url("/activity")?;
        url.path_segments_mut()
            .map_err(|()| AdminError::BadResponse("the server URL cannot hold a path".into()))?
            .push(id);
        url.query_pairs_mut().append_pair(OWN_READ.0, OWN_READ.1);
        match self
            .send_as(self.http.request_url(Method::GET, url), api_key)
            .await
        {
            Ok(answer) => Ok(answer.json),
            Err(AdminError::Refused { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The id of the contact with this phone number in `api_key`'s
    /// organisation, created with `name` when there is none; both
    /// requests marked as the runner's.
    pub(crate) async fn contact_id(
        &self,
        api_key: &str,
        name: &str,
        phone: &str,
        contact_type: &str,
    ) -> Result<(String, Option<i64>), AdminError> {
        let mut url = self.http.url("/contact")?;
        url.query_pairs_mut()
            .append_pair("phone", phone)
            .append_pair(OWN_READ.0, OWN_READ.1);
        let found = self
            .send_as(self.http.request_url(Method::GET, url), api_key)
            .await?;
        let items: Vec<Value> = list(found, "items")?;
        let id_of = |contact: &Value| {
            let id = contact.get("id").and_then(Value::as_str)?;
            Some((id.to_owned(), contact.get("number").and_then(Value::as_i64)))
        };
        if let Some(id) = items.first().and_then(id_of) {
            return Ok(id);
        }
        let mut url = self.http.url("/contact")?;
        url.query_pairs_mut().append_pair(OWN_READ.0, OWN_READ.1);
        let created = self
            .send_as(
                self.http
                    .request_url(Method::POST, url)
                    .json(&serde_json::json!({
                        "name": name,
                        "phone_number": phone,
                        "type": contact_type,
                    })),
                api_key,
            )
            .await?;
        created.json.as_ref().and_then(id_of).ok_or_else(|| {
            AdminError::BadResponse(format!("a created contact without an id: {}", created.text))
        })
    }

    /// Sends with the admin key; a 2xx answer, or the refusal it is.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, AdminError> {
        self.answer(request.bearer_auth(&self.admin_key)).await
    }

    /// Sends as the user `api_key` belongs to, with App Connect's API-key
    /// header (`Basic base64("<key>:")`), which the native API takes and so
    /// does a served proxy config written for it (`mockcrm.proxy.json`).
    async fn send_as(
        &self,
        request: reqwest::RequestBuilder,
        api_key: &str,
    ) -> Result<Answer, AdminError> {
        self.answer(request.header("authorization", crate::web::basic_header_for_key(api_key)))
            .await
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<Answer, AdminError> {
        let answer = self.http.send(request).await?;
        if answer.is_success() {
            return Ok(answer);
        }
        let (code, message) = answer.error();
        Err(AdminError::Refused {
            status: answer.status,
            code: code.unwrap_or("unknown").to_owned(),
            message: message.map_or_else(|| answer.snippet(), str::to_owned),
        })
    }
}

/// The list an admin answer carries in `field` (`items`, `violations`).
fn list<T: DeserializeOwned>(answer: Answer, field: &str) -> Result<Vec<T>, AdminError> {
    let snippet = answer.snippet();
    let items = answer
        .json
        .and_then(|mut body| body.get_mut(field).map(Value::take))
        .ok_or_else(|| AdminError::BadResponse(format!("no {field} list in {snippet}")))?;
    serde_json::from_value(items).map_err(|error| AdminError::BadResponse(error.to_string()))
}

/// A fault as the server lists it: its id and count beside its spec's
/// fields. Read in two steps because the spec refuses fields it does not
/// know, as the server does when a fault is added.
fn fault(value: Value) -> Result<Fault, AdminError> {
    let bad = |what: &str| AdminError::BadResponse(format!("a fault without {what}: {value}"));
    let Value::Object(mut object) = value.clone() else {
        return Err(bad("fields"));
    };
    let id = match object.remove("id") {
        Some(Value::String(id)) => id,
        _ => return Err(bad("an id")),
    };
    let fired = object
        .remove("fired")
        .and_then(|fired| fired.as_u64())
        .ok_or_else(|| bad("a fired count"))?;
    // The server writes absent options as null; the spec reads them as absent.
    let spec_fields: Map<String, Value> = object
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .collect();
    let spec = serde_json::from_value(Value::Object(spec_fields))
        .map_err(|error| AdminError::BadResponse(format!("{error} in {value}")))?;
    Ok(Fault { id, spec, fired })
}
