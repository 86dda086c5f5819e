//! The connector under test, whichever kind it is: a JavaScript module run
//! by the Node.js bridge (restarted after it hangs or dies), or an App
//! Connect proxy-connector config run in-process by mockcrm's own proxy
//! engine (`connector::ProxyConnector`), no Node.js needed. Both answer a
//! call by name with the arguments core passes, as the bridge protocol
//! describes its answers, so the runner plays them alike.
//!
//! It runs connector functions; it must not judge what they answer.

use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value};
use tokio::runtime::Runtime;

use super::bridge::{Bridge, Launcher, Ready, Settled, StartError, Thrown, Unanswered, Uncaught};
use crate::connector::ProxyConnector;

/// The message functions the proxy engine's connector adds for a config
/// with a `createMessageLog` operation.
const MESSAGE_FUNCTIONS: [&str; 2] = ["createMessageLog", "updateMessageLog"];

/// What the proxy engine's connector exports, as App Connect's own proxy
/// connector (`connector/proxy/index.ts`) does for the calls core makes.
const PROXY_FUNCTIONS: [&str; 6] = [
    "createCallLog",
    "getAuthType",
    "getBasicAuth",
    "getCallLog",
    "getLogFormatType",
    "updateCallLog",
];

pub enum Subject {
    Node {
        launcher: Launcher,
        bridge: Option<Bridge>,
        ready: Ready,
    },
    Proxy {
        connector: ProxyConnector,
        /// The config as written, for `getLogFormatType` and `getAuthType`.
        config: Value,
        ready: Ready,
    },
}

impl Subject {
    /// Starts the bridge and loads the module (a start-up error is the
    /// user's to fix).
    pub fn node(launcher: Launcher) -> Result<Subject, StartError> {
        let bridge = launcher.start()?;
        let ready = bridge.ready.clone();
        Ok(Subject::Node {
            launcher,
            bridge: Some(bridge),
            ready,
        })
    }

    /// A proxy config, already loaded and pointed at the CRM; `config` is
    /// its JSON as written and `path` the file it came from. It logs
    /// messages when the config has a `createMessageLog` operation.
    pub fn proxy(connector: ProxyConnector, config: Value, path: &str) -> Subject {
        let mut functions: Vec<String> = PROXY_FUNCTIONS.iter().map(|f| (*f).to_owned()).collect();
        if config.pointer("/operations/createMessageLog").is_some() {
            functions.extend(MESSAGE_FUNCTIONS.iter().map(|f| (*f).to_owned()));
        }
        let ready = Ready {
            module: "proxy config".into(),
            path: path.to_owned(),
            functions,
            node: String::new(),
            core: None,
        };
        Subject::Proxy {
            connector,
            config,
            ready,
        }
    }

    pub fn ready(&self) -> &Ready {
        match self {
            Subject::Node { ready, .. } | Subject::Proxy { ready, .. } => ready,
        }
    }

    pub fn exports(&self, function: &str) -> bool {
        self.ready().exports(function)
    }

    /// The config App Connect core hands a proxy connector's functions as
    /// `proxyConfig`; `None` for a JavaScript connector.
    pub fn proxy_config(&self) -> Option<&Value> {
        match self {
            Subject::Node { .. } => None,
            Subject::Proxy { config, .. } => Some(config),
        }
    }

    /// Calls `function` and waits up to `timeout` for it to settle. A
    /// bridge that hung or died is replaced before the next call.
    /// `extras` are the request's `user` and `env` (PROTOCOL.md), for a
    /// module only.
    pub fn call(
        &mut self,
        rt: &Runtime,
        function: &str,
        args: Vec<Value>,
        extras: Option<&Map<String, Value>>,
        timeout: Duration,
    ) -> Result<Result<Settled, Unanswered>, StartError> {
        match self {
            Subject::Node {
                launcher, bridge, ..
            } => {
                if bridge.as_mut().is_some_and(|bridge| !bridge.is_alive()) {
                    *bridge = None;
                }
                let running = match bridge {
                    Some(running) => running,
                    None => bridge.insert(launcher.start()?),
                };
                let answer = running.call(function, args, extras, timeout);
                match &answer {
                    // The call may still hold state: never reuse the bridge.
                    Err(Unanswered::TimedOut) => {
                        if let Some(hung) = bridge.take() {
                            hung.kill();
                        }
                    }
                    Err(Unanswered::Died(_)) => *bridge = None,
                    Ok(_) => {}
                }
                Ok(answer)
            }
            Subject::Proxy {
                connector, config, ..
            } => Ok(proxy_call(rt, connector, config, function, args, timeout)),
        }
    }

    /// The same connector for another job: a JavaScript module gets a
    /// bridge of its own, started at its first call, so that a hang, a
    /// crash or an unhandled error is its job's case's alone.
    pub fn for_job(&self) -> Subject {
        match self {
            Subject::Node {
                launcher, ready, ..
            } => Subject::Node {
                launcher: launcher.for_job(),
                bridge: None,
                ready: ready.clone(),
            },
            Subject::Proxy {
                connector,
                config,
                ready,
            } => Subject::Proxy {
                connector: connector.clone(),
                config: config.clone(),
                ready: ready.clone(),
            },
        }
    }

    /// Tags the connector's output from now on with the case being played
    /// (`None`: no tag, as when one job plays every case).
    pub fn tag_logs(&self, case: Option<u32>) {
        if let Subject::Node { launcher, .. } = self {
            launcher.tag_logs(case);
        }
    }

    /// The user record the connector persisted (`save()`, `update()`)
    /// during its last call, if it did.
    pub fn take_saved_user(&mut self) -> Option<Value> {
        match self {
            Subject::Node {
                bridge: Some(bridge),
                ..
            } => bridge.take_saved_user(),
            _ => None,
        }
    }

    /// Unhandled errors from the connector's background work since the
    /// last time this was asked (a proxy config has none).
    pub fn take_uncaught(&mut self) -> Vec<Uncaught> {
        match self {
            Subject::Node {
                bridge: Some(bridge),
                ..
            } => bridge.take_uncaught(),
            _ => Vec::new(),
        }
    }
}

/// One function of App Connect's proxy connector, run by mockcrm's engine.
fn proxy_call(
    rt: &Runtime,
    connector: &ProxyConnector,
    config: &Value,
    function: &str,
    args: Vec<Value>,
    timeout: Duration,
) -> Result<Settled, Unanswered> {
    let argument = args.into_iter().next().unwrap_or(Value::Null);
    let returned = |value: Value, is_async: bool| {
        Ok(Settled::Returned {
            value: Some(value),
            is_async,
        })
    };
    match function {
        // `proxyConfig ? proxyConfig.meta?.logFormat : 'custom'`: not async.
        "getLogFormatType" => Ok(Settled::Returned {
            value: config.pointer("/meta/logFormat").cloned(),
            is_async: false,
        }),
        "getAuthType" => {
            let kind = config
                .pointer("/auth/type")
                .filter(|kind| crate::js::truthy(Some(kind)))
                .cloned()
                .unwrap_or_else(|| Value::from("apiKey"));
            returned(kind, true)
        }
        "getBasicAuth" => {
            let key = crate::js::to_string_or_undefined(argument.get("apiKey"));
            returned(
                Value::from(base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))),
                false,
            )
        }
        "createCallLog" | "getCallLog" | "updateCallLog" => {
            let Value::Object(args) = argument else {
                return Ok(Settled::Threw(Thrown {
                    kind: "threw".into(),
                    name: "TypeError".into(),
                    message: format!("{function} needs one object argument"),
                    stack: None,
                    status: None,
                }));
            };
            let answer = rt.block_on(async {
                tokio::time::timeout(timeout, async {
                    let value = match function {
                        "createCallLog" => {
                            serde_json::to_value(connector.create_call_log(&args).await)
                        }
                        "getCallLog" => serde_json::to_value(connector.get_call_log(&args).await),
                        _ => serde_json::to_value(connector.update_call_log(&args).await),
                    };
                    value.unwrap_or(Value::Null)
                })
                .await
            });
            match answer {
                Ok(value) => returned(value, true),
                Err(_) => Err(Unanswered::TimedOut),
            }
        }
        "createMessageLog" | "updateMessageLog" => {
            let Value::Object(args) = argument else {
                return Ok(Settled::Threw(Thrown {
                    kind: "threw".into(),
                    name: "TypeError".into(),
                    message: format!("{function} needs one object argument"),
                    stack: None,
                    status: None,
                }));
            };
            let answer = rt.block_on(async {
                tokio::time::timeout(timeout, async {
                    if function == "createMessageLog" {
                        connector
                            .create_message_log(&args)
                            .await
                            .map(|output| serde_json::to_value(output).unwrap_or(Value::Null))
                    } else {
                        connector
                            .update_message_log(&args)
                            .await
                            .map(|output| serde_json::to_value(output).unwrap_or(Value::Null))
                    }
                })
                .await
            });
            match answer {
                Ok(Ok(value)) => returned(value, true),
                // App Connect's proxy connector rejects: core catches it.
                Ok(Err(error)) => Ok(Settled::Threw(Thrown {
                    kind: "rejected".into(),
                    name: "Error".into(),
                    message: error.to_string(),
                    stack: None,
                    status: None,
                })),
                Err(_) => Err(Unanswered::TimedOut),
            }
        }
        other => Ok(Settled::Threw(Thrown {
            kind: "no_function".into(),
            name: "BridgeError".into(),
            message: format!("the proxy connector exports no function {other}"),
            stack: None,
            status: None,
        })),
    }
}
