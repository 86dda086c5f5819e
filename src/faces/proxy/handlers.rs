//! The operations of a served proxy config, one handler each: read what the
//! matched templates bound, call the store, answer through the config's
//! response mapping run backwards. No SQL here.
//!
//! A log is an activity like any other: its body is `composedLogDetails`
//! in `meta.logFormat`, its subject, contact, time, session, direction and
//! duration come from the values the request carried, and the fields of
//! the request body are kept as they were sent (as the activity's extra
//! fields), so a later read answers with them. A request that misses a
//! value the activity's meaning rests on (the body, the log it names, the
//! message it logs) is refused with a 400 naming where the config sends it;
//! anything else that does not fit is stored as it came, as a CRM would.

use serde_json::{json, Map, Value};
use warp::http::StatusCode;

use super::auth;
use crate::compose;
use crate::interface::LogFormat;
use crate::proxy::answer::{self, AnswerValues, ContactView, LicenseView, Meaning, UserView};
use crate::proxy::config::ProxyConfig;
use crate::proxy::needs::{self, Need};
use crate::proxy::route::{Matched, Route};
use crate::proxy::template::Bindings;
use crate::proxy::{js, Operation};
use crate::store::{
    Activity, ActivityPatch, Caller, Contact, ContactFilter, IdempotentOutcome, NewActivity,
    NewContact, Origin, UserRecord,
};
use crate::web::ApiRequest;
use crate::web::ApiResponse;
use crate::web::AppState;
use crate::web::{idempotency_key, request_hash, ApiError};

/// The activity type of a call log and of a message log written through a
/// proxy config.
const CALL_TYPE: &str = "PhoneCommunication";
const MESSAGE_TYPE: &str = "Message";

/// Most contacts one name search answers with.
const NAME_SEARCH_LIMIT: u32 = 100;

/// Answers one request that `matched` routed to an operation of `config`.
pub async fn serve(
    state: &AppState,
    config: &ProxyConfig,
    request: &ApiRequest,
    matched: &Matched<'_>,
    body: Option<&Value>,
) -> Result<ApiResponse, ApiError> {
    let op = matched.operation();
    if matches!(op, Operation::GetLicenseStatus | Operation::UnAuthorize) {
        return unaccountable(state, config, op, request).await;
    }
    let caller = authenticate(state, config, op, request).await?;
    if request.body.is_none() {
        return Err(ApiError::PayloadTooLarge {
            limit: crate::web::BODY_LIMIT,
        });
    }
    require(config, matched)?;
    let meaning = answer::meaning(op, &matched.bindings);
    let served = Served {
        state,
        config,
        caller: &caller,
        request,
    };
    match op {
        Operation::CreateCallLog | Operation::CreateMessageLog => {
            served.create_log(op, &meaning, body).await
        }
        Operation::GetCallLog => served.get_log(op, &meaning).await,
        Operation::UpdateCallLog
        | Operation::UpdateMessageLog
        | Operation::UpsertCallDisposition => served.update_log(op, &meaning, body).await,
        Operation::FindContact | Operation::FindContactWithName => {
            served.find_contacts(op, &matched.bindings).await
        }
        Operation::CreateContact => served.create_contact(&matched.bindings).await,
        Operation::GetUserInfo => served.answer(
            StatusCode::OK,
            op,
            AnswerValues {
                user: Some(user_view(&caller)),
                ..AnswerValues::default()
            },
        ),
        Operation::GetUserList => served.user_list().await,
        Operation::GetLicenseStatus | Operation::UnAuthorize => {
            unaccountable(state, config, op, request).await
        }
    }
}

/// getLicenseStatus and unAuthorize, which App Connect calls without the
/// user's `authHeader`: unless the config's auth builds a header from the
/// user's token, they arrive with no credentials, so none are required
/// (credentials that are sent must be good). Every user is licensed, and
/// logging out changes nothing mockcrm keeps: API keys stay valid.
async fn unaccountable(
    state: &AppState,
    config: &ProxyConfig,
    op: Operation,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let auth = config.operation(op).and_then(|o| auth::auth_for(config, o));
    if request.headers.contains_key(auth::header_name(auth)) {
        authenticate(state, config, op, request).await?;
    }
    let values = match op {
        Operation::GetLicenseStatus => AnswerValues {
            license: Some(LicenseView {
                valid: Value::Bool(true),
                status: Some(Value::from("Active")),
                description: Some(Value::from("mockcrm treats every user as licensed")),
            }),
            ..AnswerValues::default()
        },
        _ => AnswerValues::default(),
    };
    let body = answer::answer(config, op, &values).map_err(|error| unanswerable(config, &error))?;
    Ok(ApiResponse::json(StatusCode::OK, body))
}

/// A mapping no answer can satisfy: never for a config `ProxyServing`
/// serves (it refuses requests to one that fails
/// `answer::check_servable`, and whether an answer can be built depends on
/// the mapping alone), but a 2xx that misses a mapped path is never sent
/// instead.
fn unanswerable(config: &ProxyConfig, error: &answer::AnswerError) -> ApiError {
    ApiError::Internal(format!(
        "{} cannot be answered as its responseMapping reads ({error})",
        config.file
    ))
}

/// The caller behind the credentials, read as the operation's auth builds
/// them, or 401.
async fn authenticate(
    state: &AppState,
    config: &ProxyConfig,
    op: Operation,
    request: &ApiRequest,
) -> Result<Caller, ApiError> {
    let auth = config
        .operation(op)
        .and_then(|o| auth::auth_for(config, o))
        .or(config.auth.as_ref());
    let refused = || {
        ApiError::ProxyUnauthorized(format!(
            "{} sends {op} with {}; the API key in it must be a mockcrm user's key (mockcrm-dev-key in the default seed)",
            config.file,
            auth::expected(auth)
        ))
    };
    let key = auth::api_key(config, auth, &request.headers).ok_or_else(refused)?;
    state.store.caller_for_key(key).await?.ok_or_else(refused)
}

fn missing(config: &ProxyConfig, route: &Route, need: &Need<'_>, found_null: bool) -> ApiError {
    let expr = need.expr;
    let at = route
        .location_of(expr)
        .unwrap_or_else(|| format!("{{{{{expr}}}}}"));
    let said = if found_null { "is null" } else { "is missing" };
    ApiError::field(
        at,
        format!(
            "{said}: {} sends {{{{{expr}}}}} there, {}; send it as the config renders it",
            config.file, need.what
        ),
    )
}

/// Refuses a request that misses a value its activity's meaning rests on.
fn require(config: &ProxyConfig, matched: &Matched<'_>) -> Result<(), ApiError> {
    let route = matched.route;
    for need in needs::needs(matched.operation(), &route.expressions()) {
        if !needs::met(&need, &matched.bindings) {
            let found_null = matched.bindings.get(need.expr).is_some();
            return Err(missing(config, route, &need, found_null));
        }
    }
    Ok(())
}

/// A bound value as text, the way JavaScript prints it.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => js::to_string(other),
    }
}

/// The fields of the request body as sent (the query's, for a body that is
/// not an object), kept with the activity.
fn sent_fields(body: Option<&Value>, request: &ApiRequest) -> Map<String, Value> {
    match body {
        Some(Value::Object(fields)) => fields.clone(),
        _ => {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
                .into_owned()
                .collect();
            match crate::proxy::route::query_object(&pairs) {
                Value::Object(fields) => fields,
                _ => Map::new(),
            }
        }
    }
}

/// The subject of a log whose config sends none as `{{subject}}` (a
/// message log's "SMS {{message.id}} with {{contactInfo.name}}"): the text
/// of the field named like one.
fn subject_field(fields: &Map<String, Value>) -> Option<String> {
    ["subject", "title", "name"].iter().find_map(|wanted| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(wanted))
            .and_then(|(_, value)| value.as_str())
            .map(str::to_owned)
    })
}

/// A start time as stored: RFC 3339 UTC, from ISO text or epoch
/// milliseconds; `None` (now) for anything else.
fn received_at(value: Option<&Value>) -> Option<String> {
    let time = match value? {
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .ok()?
            .with_timezone(&chrono::Utc),
        Value::Number(n) => chrono::DateTime::from_timestamp_millis(n.as_i64()?)?,
        _ => return None,
    };
    Some(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A duration as stored: seconds, or a word such as `pending`.
fn duration(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) if !s.trim().is_empty() => Some(Value::String(s.clone())),
        _ => None,
    }
}

fn contact_view(contact: &Contact) -> ContactView {
    let fields = match json!(contact) {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    ContactView {
        id: Value::from(contact.id.as_str()),
        name: Some(Value::from(contact.name.as_str())),
        phone: Some(Value::from(contact.phone_number.as_str())),
        contact_type: contact.contact_type.as_deref().map(Value::from),
        created_date: Some(Value::from(contact.created_at.as_str())),
        fields,
        ..ContactView::default()
    }
}

fn user_fields(
    id: &str,
    name: &str,
    email: Option<&str>,
    organisation: &str,
    offset: Option<&str>,
) -> UserView {
    let mut fields = Map::new();
    fields.insert("id".into(), Value::from(id));
    fields.insert("name".into(), Value::from(name));
    fields.insert("email".into(), email.map_or(Value::Null, Value::from));
    fields.insert("organisation".into(), Value::from(organisation));
    fields.insert(
        "timezone_offset".into(),
        offset.map_or(Value::Null, Value::from),
    );
    UserView {
        id: Value::from(id),
        name: Some(Value::from(name)),
        email: email.map(Value::from),
        timezone_name: None,
        fields,
    }
}

fn user_view(caller: &Caller) -> UserView {
    user_fields(
        &caller.user_id,
        &caller.user_name,
        caller.email.as_deref(),
        &caller.organisation,
        caller.timezone_offset.as_deref(),
    )
}

fn listed_user(user: &UserRecord, organisation: &str) -> UserView {
    user_fields(
        &user.id,
        &user.name,
        user.email.as_deref(),
        organisation,
        user.timezone_offset.as_deref(),
    )
}

/// One request being served.
struct Served<'a> {
    state: &'a AppState,
    config: &'a ProxyConfig,
    caller: &'a Caller,
    request: &'a ApiRequest,
}

impl Served<'_> {
    /// How the activities this config writes name the face they came
    /// through: `proxy:` and the config's file name.
    fn face(&self) -> String {
        let file = std::path::Path::new(&self.config.file)
            .file_name()
            .map_or_else(
                || self.config.file.clone(),
                |name| name.to_string_lossy().into_owned(),
            );
        format!("proxy:{file}")
    }

    fn format(&self) -> LogFormat {
        self.config.log_format().unwrap_or(LogFormat::Plain)
    }

    /// The answer App Connect reads `values` from: every path its mapping
    /// reads holds a value.
    fn answer(
        &self,
        status: StatusCode,
        op: Operation,
        values: AnswerValues,
    ) -> Result<ApiResponse, ApiError> {
        let body = answer::answer(self.config, op, &values)
            .map_err(|error| unanswerable(self.config, &error))?;
        Ok(ApiResponse::json(status, body))
    }

    /// The record an answer about `activity` holds: the fields as sent,
    /// with the activity's id.
    fn log_values(&self, activity: &Activity) -> AnswerValues {
        let mut record = activity.extra.clone();
        record
            .entry("id".to_owned())
            .or_insert_with(|| Value::from(activity.id.as_str()));
        AnswerValues {
            id: Some(Value::from(activity.id.as_str())),
            record,
            ..AnswerValues::default()
        }
    }

    async fn create_log(
        &self,
        op: Operation,
        meaning: &Meaning,
        body: Option<&Value>,
    ) -> Result<ApiResponse, ApiError> {
        let message = meaning.is_message(op);
        let fields = sent_fields(body, self.request);
        let new = NewActivity {
            subject: meaning
                .subject
                .clone()
                .or_else(|| subject_field(&fields))
                .unwrap_or_default(),
            body: meaning.body.clone().unwrap_or_default(),
            body_format: self.format().mime().to_owned(),
            activity_type: if message { MESSAGE_TYPE } else { CALL_TYPE }.to_owned(),
            received_at: received_at(meaning.start_time.as_ref()),
            contact_id: meaning.contact_id.as_ref().map(text),
            session_id: meaning.session_id.as_ref().map(text),
            direction: meaning.direction.clone(),
            duration: duration(meaning.duration.as_ref()),
            extra: fields.clone(),
            message_ids: if message {
                meaning.message_id.as_ref().map(text).into_iter().collect()
            } else {
                Vec::new()
            },
            conversation_log_id: meaning.conversation_log_id.clone().filter(|_| message),
            note: meaning.note.clone(),
        };
        let org = self.caller.organisation_id;
        let origin = Origin::through(&self.face(), self.request.journal_id);
        let key = idempotency_key(self.request)?;
        let Some(key) = key else {
            let activity = self
                .state
                .store
                .run(move |store| {
                    let new = linked(store, org, new)?;
                    store.create_activity(org, &new, origin)
                })
                .await?;
            return self.answer(StatusCode::CREATED, op, self.log_values(&activity));
        };
        let hash = request_hash(&json!({
            "path": self.request.path,
            "query": self.request.query,
            "fields": fields,
        }))?;
        let outcome_key = key.clone();
        let (activity, outcome) = self
            .state
            .store
            .run(move |store| {
                let mut activity = Activity::new(linked(store, org, new)?);
                let outcome = store.create_activity_idempotent(
                    org,
                    &outcome_key,
                    &hash,
                    &mut activity,
                    origin,
                )?;
                Ok((activity, outcome))
            })
            .await?;
        match outcome {
            IdempotentOutcome::Created => {
                self.answer(StatusCode::CREATED, op, self.log_values(&activity))
            }
            IdempotentOutcome::Replayed(first) => Ok(self
                .answer(StatusCode::CREATED, op, self.log_values(&first))?
                .with_header("idempotent-replayed", "true")),
            IdempotentOutcome::Mismatch => Err(ApiError::IdempotencyMismatch(key)),
        }
    }

    fn log_id(meaning: &Meaning) -> String {
        meaning.log_id.as_ref().map(text).unwrap_or_default()
    }

    fn no_log(&self, op: Operation, id: &str) -> ApiError {
        let what = if op.is_message_log() {
            "message log"
        } else {
            "call log"
        };
        ApiError::NotFound(format!(
            "no {what} with id {id:?} in your organisation; use the id createCallLog or createMessageLog answered"
        ))
    }

    async fn get_log(&self, op: Operation, meaning: &Meaning) -> Result<ApiResponse, ApiError> {
        let org = self.caller.organisation_id;
        let id = Self::log_id(meaning);
        let lookup = id.clone();
        let activity = self
            .state
            .store
            .read(move |store| store.activity(org, &lookup))
            .await?
            .ok_or_else(|| self.no_log(op, &id))?;
        let format = activity
            .body_format
            .parse::<LogFormat>()
            .unwrap_or(self.format());
        // The note as a request carried it, else read back out of the body,
        // which is where App Connect's composer put it.
        let note = activity
            .note
            .clone()
            .or_else(|| compose::parse_note(&activity.body, format, None))
            .unwrap_or_default();
        let values = AnswerValues {
            subject: Some(Value::from(activity.subject.as_str())),
            note: Some(Value::from(note)),
            full_body: Some(Value::from(activity.body.as_str())),
            ..self.log_values(&activity)
        };
        self.answer(StatusCode::OK, op, values)
    }

    async fn update_log(
        &self,
        op: Operation,
        meaning: &Meaning,
        body: Option<&Value>,
    ) -> Result<ApiResponse, ApiError> {
        let org = self.caller.organisation_id;
        let id = Self::log_id(meaning);
        // A disposition says nothing about the log's text or timing.
        let disposition = op == Operation::UpsertCallDisposition;
        let patch = ActivityPatch {
            subject: meaning.subject.clone().filter(|_| !disposition),
            body: meaning.body.clone().filter(|_| !disposition),
            duration: duration(meaning.duration.as_ref())
                .filter(|_| !disposition)
                .map(Some),
            extra: sent_fields(body, self.request),
            note: meaning.note.clone().filter(|_| !disposition).map(Some),
            // An update of a message log adds the message it carries, as
            // App Connect's core adds each message of the day to its log.
            conversation_log_id: meaning
                .conversation_log_id
                .clone()
                .filter(|_| op.is_message_log())
                .map(Some),
            add_message_ids: match &meaning.message_id {
                Some(id) if op.is_message_log() => vec![text(id)],
                _ => Vec::new(),
            },
            ..ActivityPatch::default()
        };
        let lookup = id.clone();
        let origin = Origin::through(&self.face(), self.request.journal_id);
        let activity = self
            .state
            .store
            .run(move |store| store.update_activity(org, &lookup, &patch, origin))
            .await?
            .ok_or_else(|| self.no_log(op, &id))?;
        self.answer(StatusCode::OK, op, self.log_values(&activity))
    }

    async fn find_contacts(
        &self,
        op: Operation,
        bindings: &Bindings,
    ) -> Result<ApiResponse, ApiError> {
        let org = self.caller.organisation_id;
        let contacts = if op == Operation::FindContact {
            let phone = needs::PHONE_EXPRESSIONS
                .iter()
            .find_map(|expr| bindings.get(expr).filter(|v| !v.is_null()).map(|v| text(&v)))
            .ok_or_else(|| {
                ApiError::field(
                    "phoneNumber",
                    format!(
                        "{} sends no phone number in findContact that mockcrm can read ({{{{phoneNumber}}}} or {{{{parsedPhoneNumber.number.e164}}}})",
                        self.config.file
                    ),
                )
            })?;
            self.state
                .store
                .read(move |store| store.contacts_by_phone(org, &phone))
                .await?
        } else {
            let name = bindings.get("name").map(|v| text(&v)).unwrap_or_default();
            let filter = ContactFilter {
                name: Some(name),
                before_seq: None,
                limit: NAME_SEARCH_LIMIT,
            };
            self.state
                .store
                .read(move |store| store.list_contacts(org, &filter))
                .await?
                .items
        };
        let values = AnswerValues {
            contacts: contacts.iter().map(contact_view).collect(),
            ..AnswerValues::default()
        };
        self.answer(StatusCode::OK, op, values)
    }

    async fn create_contact(&self, bindings: &Bindings) -> Result<ApiResponse, ApiError> {
        let value = |expr: &str| {
            bindings
                .get(expr)
                .filter(|v| !v.is_null())
                .map(|v| text(&v))
        };
        let new = NewContact {
            name: value("newContactName").unwrap_or_default(),
            phone_number: value("phoneNumber").unwrap_or_default(),
            email: None,
            contact_type: value("newContactType").filter(|t| !t.is_empty()),
        };
        let org = self.caller.organisation_id;
        let contact = self
            .state
            .store
            .run(move |store| store.create_contact(org, &new))
            .await?;
        let values = AnswerValues {
            contact: Some(contact_view(&contact)),
            ..AnswerValues::default()
        };
        self.answer(StatusCode::CREATED, Operation::CreateContact, values)
    }

    async fn user_list(&self) -> Result<ApiResponse, ApiError> {
        let org = self.caller.organisation_id;
        let users = self.state.store.read(move |store| store.users(org)).await?;
        let organisation = &self.caller.organisation;
        let values = AnswerValues {
            users: users
                .iter()
                .map(|user| listed_user(user, organisation))
                .collect(),
            ..AnswerValues::default()
        };
        self.answer(StatusCode::OK, Operation::GetUserList, values)
    }
}

/// `new` with its contact kept only when the caller's organisation has
/// that contact: a proxy config sends the CRM's own contact ids, which an
/// activity links to only when they name a contact (the fields as sent
/// keep the id either way).
fn linked(
    store: &crate::store::Store,
    org: i64,
    mut new: NewActivity,
) -> Result<NewActivity, crate::store::StoreError> {
    if let Some(contact_id) = &new.contact_id {
        if store.contact(org, contact_id)?.is_none() {
            new.contact_id = None;
        }
    }
    Ok(new)
}
