//! The reference connector speaking an App Connect proxy-connector config:
//! each connector function runs as App Connect's proxy connector runs it
//! (`connector/proxy/index.ts` and `engine.ts`): the operation's variables
//! from the function's arguments (`proxy::context`), the request rendered
//! (`proxy::render`: `joinUrl`, headers with the auth header, query and
//! body), sent over HTTP exactly as rendered, and the answer read through
//! the config's response mapping (`proxy::mapping`, with `String(logId)`).
//!
//! Like App Connect's proxy connector it sends one request per call, with
//! no retries and no idempotency key. Unlike it, every failure (an error
//! status, no answer, arguments App Connect would throw on, an answer with
//! no id where the mapping looks) comes back as a warning `returnMessage`
//! with no `logId`, never a panic. `log` and `update` also play App
//! Connect's core around the connector: composing the body, and reading the
//! log back to compose an update on top of it.
//!
//! It reaches the CRM only over HTTP.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::compose::{self, ComposeOptions, HostZone, UpdateStyle};
use crate::http::{ExactRequest, JsonClient, TransportError};
use crate::interface::{
    CallLogInfo, ComposeRequest, CreateCallLogInput, CreateCallLogOutput, CreateMessageLogOutput,
    GetCallLogOutput, MessageType, ReturnMessage, UpdateCallLogOutput, UpdateMessageLogOutput,
};
use crate::proxy::context::{self, ContextError};
use crate::proxy::mapping::{self, MappingError};
use crate::proxy::render::{self, RenderError};
use crate::proxy::{js, Operation, ProxyConfig};

/// Why a connector function could not do its work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProxyCallError {
    #[error("{0}")]
    Arguments(#[from] ContextError),
    #[error("the request cannot be built: {0}")]
    Render(#[from] RenderError),
    #[error("could not reach the CRM at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the connection to the CRM at {url} broke off {stage}: {reason}")]
    Interrupted {
        url: String,
        stage: &'static str,
        reason: String,
    },
    #[error("{url} is not a URL the request can go to: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("the CRM answered {method} {url} with {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("the CRM's answer does not fit the config: {0}")]
    Mapping(#[from] MappingError),
    #[error("the CRM answered {status} but {path} (responseMapping.idPath) holds no id; App Connect would report the call as logged with no logId")]
    NoLogId { status: u16, path: String },
    #[error("the input is not a createCallLog input: {0}")]
    Input(String),
    #[error("cannot compose the body: {0}")]
    Compose(String),
}

impl From<TransportError> for ProxyCallError {
    fn from(error: TransportError) -> ProxyCallError {
        match error {
            TransportError::InvalidUrl { url, reason } => {
                ProxyCallError::InvalidUrl { url, reason }
            }
            TransportError::Unreachable { url, reason } => {
                ProxyCallError::Unreachable { url, reason }
            }
            TransportError::Interrupted { url, stage, reason } => {
                ProxyCallError::Interrupted { url, stage, reason }
            }
        }
    }
}

/// One connector function's request and answer, for a caller that wants
/// to see them (a test, `mockcrm contract`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub request: ExactRequest,
    pub status: u16,
    /// The answer as axios hands it over: JSON, or the text as a string.
    pub response: Value,
}

/// A connector for one proxy config.
#[derive(Debug, Clone)]
pub struct ProxyConnector {
    config: ProxyConfig,
    http: JsonClient,
}

impl ProxyConnector {
    /// Sends to the URLs the config names.
    pub fn new(config: ProxyConfig) -> Result<ProxyConnector, ProxyCallError> {
        Ok(ProxyConnector {
            config,
            http: JsonClient::without_base()?,
        })
    }

    /// Sends to `server` instead (`--server`): the scheme, host and port of
    /// `requestDefaults.baseUrl` replaced, its path kept.
    pub fn pointed_at(
        config: &ProxyConfig,
        server: &str,
    ) -> Result<ProxyConnector, ProxyCallError> {
        ProxyConnector::new(render::point_at(config, server)?)
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Renders and sends `op` for `args` (the arguments App Connect's core
    /// passes the connector function); the request and the answer, which
    /// must be a 2xx.
    pub async fn exchange(
        &self,
        op: Operation,
        args: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Exchange, ProxyCallError> {
        let call = context::for_operation(op, args, now)?;
        let rendered = render::render(&self.config, &call)?;
        let request = ExactRequest {
            method: rendered.method.clone(),
            url: rendered.full_url(),
            headers: rendered.wire_headers(),
            body: rendered.body_text.clone(),
            timeout: rendered.timeout,
        };
        let answer = self.http.send_exact(&request).await?;
        if !answer.is_success() {
            return Err(ProxyCallError::Status {
                method: request.method,
                url: request.url,
                status: answer.status,
                body: answer.snippet(),
            });
        }
        let response = answer.json.unwrap_or(Value::String(answer.text));
        Ok(Exchange {
            request,
            status: answer.status,
            response,
        })
    }

    /// The connector function `op` as App Connect's proxy connector
    /// returns it (`mapping::result`), once the request succeeded.
    pub async fn call(
        &self,
        op: Operation,
        args: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Value, ProxyCallError> {
        let exchange = self.exchange(op, args, now).await?;
        Ok(mapping::result(&self.config, op, &exchange.response, args)?)
    }

    /// `createCallLog(args)`: a `logId` (App Connect's `String(id)`) or a
    /// warning.
    pub async fn create_call_log(&self, args: &Map<String, Value>) -> CreateCallLogOutput {
        match self.logged(args).await {
            Ok(log_id) => CreateCallLogOutput {
                log_id: Some(log_id),
                return_message: Some(success("Call logged", 2000)),
                extra_data_tracking: None,
            },
            Err(error) => CreateCallLogOutput {
                log_id: None,
                return_message: Some(warning(&error)),
                extra_data_tracking: None,
            },
        }
    }

    async fn logged(&self, args: &Map<String, Value>) -> Result<String, ProxyCallError> {
        let op = Operation::CreateCallLog;
        let exchange = self.exchange(op, args, Utc::now()).await?;
        mapping::create_call_log_id(&self.config, &exchange.response).ok_or_else(|| {
            ProxyCallError::NoLogId {
                status: exchange.status,
                path: self
                    .config
                    .operation(op)
                    .and_then(|o| o.response_mapping.as_ref())
                    .map_or("body.id", |m| m.path_or("idPath", "body.id"))
                    .to_owned(),
            }
        })
    }

    /// `getCallLog(args)`: the subject, note and full body where the
    /// mapping reads them (empty where it finds nothing), or a warning.
    pub async fn get_call_log(&self, args: &Map<String, Value>) -> GetCallLogOutput {
        let op = Operation::GetCallLog;
        match self.exchange(op, args, Utc::now()).await {
            Ok(exchange) => {
                let info = mapping::get_call_log(&self.config, &exchange.response);
                let text = |value: Option<&Value>| match value {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => js::to_string(other),
                };
                GetCallLogOutput {
                    call_log_info: Some(CallLogInfo {
                        subject: text(info.subject.as_ref()),
                        note: text(info.note.as_ref()),
                        full_body: text(info.full_body.as_ref()),
                        full_log_response: info.full_log_response,
                    }),
                    return_message: Some(success("Call log fetched.", 3000)),
                }
            }
            Err(error) => GetCallLogOutput {
                call_log_info: None,
                return_message: Some(warning(&error)),
            },
        }
    }

    /// `updateCallLog(args)`: App Connect reads nothing of the answer, so
    /// `updatedNote` is null, as App Connect's proxy connector returns it.
    pub async fn update_call_log(&self, args: &Map<String, Value>) -> UpdateCallLogOutput {
        match self
            .exchange(Operation::UpdateCallLog, args, Utc::now())
            .await
        {
            Ok(_) => UpdateCallLogOutput {
                updated_note: None,
                return_message: Some(success("Call log updated.", 3000)),
            },
            Err(error) => UpdateCallLogOutput {
                updated_note: None,
                return_message: Some(warning(&error)),
            },
        }
    }

    /// `createMessageLog(args)`: a `logId` where the config's
    /// `responseMapping.idPath` finds one, or a warning (also when the
    /// config has no `createMessageLog` operation: App Connect's proxy
    /// connector answers "Not supported"). `Err` for arguments App
    /// Connect's proxy connector throws on (no `message`, as with a
    /// shared-SMS thread, whose content it never reads).
    pub async fn create_message_log(
        &self,
        args: &Map<String, Value>,
    ) -> Result<CreateMessageLogOutput, ProxyCallError> {
        let op = Operation::CreateMessageLog;
        if self.config.operation(op).is_none() {
            return Ok(CreateMessageLogOutput {
                log_id: None,
                return_message: Some(not_supported()),
            });
        }
        // Checked before any request, as App Connect reads them first.
        context::for_operation(op, args, Utc::now())?;
        let result = match self.exchange(op, args, Utc::now()).await {
            Ok(exchange) => mapping::result(&self.config, op, &exchange.response, args),
            Err(error) => {
                return Ok(CreateMessageLogOutput {
                    log_id: None,
                    return_message: Some(warning(&error)),
                })
            }
        };
        let log_id = result.ok().and_then(|value| {
            value
                .get("logId")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        Ok(match log_id {
            Some(log_id) => CreateMessageLogOutput {
                log_id: Some(log_id),
                return_message: Some(success("Message logged", 1000)),
            },
            None => CreateMessageLogOutput {
                log_id: None,
                return_message: Some(warning(&ProxyCallError::NoLogId {
                    status: 200,
                    path: self
                        .config
                        .operation(op)
                        .and_then(|o| o.response_mapping.as_ref())
                        .map_or("body.id", |m| m.path_or("idPath", "body.id"))
                        .to_owned(),
                })),
            },
        })
    }

    /// `updateMessageLog(args)`: a success, or `Err` when the request
    /// failed. App Connect's proxy connector throws then, and App Connect's
    /// core records a message as logged after any update that did not
    /// throw, so a warning here would lose the message for good.
    pub async fn update_message_log(
        &self,
        args: &Map<String, Value>,
    ) -> Result<UpdateMessageLogOutput, ProxyCallError> {
        let op = Operation::UpdateMessageLog;
        if self.config.operation(op).is_none() {
            return Ok(UpdateMessageLogOutput {
                return_message: Some(not_supported()),
            });
        }
        self.exchange(op, args, Utc::now()).await?;
        Ok(UpdateMessageLogOutput {
            return_message: Some(success("Message log updated", 3000)),
        })
    }

    /// App Connect's core logging a call through this connector: the body
    /// composed in the config's `meta.logFormat` when `composedLogDetails`
    /// is empty (none when the config names no format App Connect
    /// composes), then `createCallLog`.
    pub async fn log(
        &self,
        input: &Map<String, Value>,
        host_zone: HostZone,
    ) -> CreateCallLogOutput {
        let mut args = input.clone();
        if let Err(error) = self.compose_into(&mut args, None, UpdateStyle::default(), host_zone) {
            return CreateCallLogOutput {
                log_id: None,
                return_message: Some(warning(&error)),
                extra_data_tracking: None,
            };
        }
        self.create_call_log(&args).await
    }

    /// App Connect's core updating a log through this connector: read it
    /// back (`getCallLog`), compose the new values on top of its full body
    /// (unless `composedLogDetails` is given), then `updateCallLog` with
    /// the arguments core passes. `input` is createCallLog-shaped, holding
    /// the values that arrived after the call.
    pub async fn update(
        &self,
        log_id: &str,
        input: &Map<String, Value>,
        update_style: UpdateStyle,
        host_zone: HostZone,
    ) -> UpdateCallLogOutput {
        let failed = |error: ProxyCallError| UpdateCallLogOutput {
            updated_note: None,
            return_message: Some(warning(&error)),
        };
        let get_args = context::get_call_log_args(
            input.get("user"),
            log_id,
            input.get("contactInfo").and_then(|c| c.get("id")),
            input.get("authHeader").and_then(Value::as_str),
        );
        let existing = match self
            .exchange(Operation::GetCallLog, &get_args, Utc::now())
            .await
        {
            Ok(exchange) => mapping::get_call_log(&self.config, &exchange.response),
            Err(error) => return failed(error),
        };
        let existing_body = match &existing.full_body {
            Some(Value::String(body)) => body.clone(),
            Some(other) if !other.is_null() => js::to_string(other),
            _ => String::new(),
        };
        let mut input = input.clone();
        if let Err(error) =
            self.compose_into(&mut input, Some(existing_body), update_style, host_zone)
        {
            return failed(error);
        }
        let args = context::update_call_log_args(&input, log_id, Some(&existing.to_value()));
        self.update_call_log(&args).await
    }

    /// Sets `composedLogDetails` in `args` when it is empty, as core
    /// composes it (on top of `existing_body` for an update).
    fn compose_into(
        &self,
        args: &mut Map<String, Value>,
        existing_body: Option<String>,
        update_style: UpdateStyle,
        host_zone: HostZone,
    ) -> Result<(), ProxyCallError> {
        let given = args
            .get("composedLogDetails")
            .and_then(Value::as_str)
            .is_some_and(|body| !body.is_empty());
        let Some(format) = self.config.log_format() else {
            return Ok(());
        };
        if given {
            return Ok(());
        }
        let input: CreateCallLogInput = serde_json::from_value(Value::Object(args.clone()))
            .map_err(|e| ProxyCallError::Input(e.to_string()))?;
        let mut request = ComposeRequest::from(&input);
        request.existing_body = existing_body;
        let options = ComposeOptions::new(format)
            .with_update_style(update_style)
            .with_host_zone(host_zone);
        let body = compose::compose(&request, &options)
            .map_err(|e| ProxyCallError::Compose(e.to_string()))?;
        args.insert("composedLogDetails".into(), Value::from(body));
        Ok(())
    }
}

/// What App Connect's proxy connector answers for an operation its config
/// does not have.
fn not_supported() -> ReturnMessage {
    ReturnMessage {
        message: "Not supported".into(),
        message_type: MessageType::Warning,
        ttl: 2000,
    }
}

fn success(message: &str, ttl: u64) -> ReturnMessage {
    ReturnMessage {
        message: message.into(),
        message_type: MessageType::Success,
        ttl,
    }
}

fn warning(error: &ProxyCallError) -> ReturnMessage {
    let text = error.to_string();
    let mut chars = text.chars();
    let message = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    ReturnMessage {
        message,
        message_type: MessageType::Warning,
        ttl: 5000,
    }
}
