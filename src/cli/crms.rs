//! `mockcrm crms`: how to reach each CRM face a running server serves
//! (`GET /__admin/crms`), printed as `export NAME=VALUE` lines a shell can
//! `eval` before starting App Connect or a connector's tests, or as the
//! endpoint's JSON with `--json`.
//!
//! It only reads the admin API and prints; it must not start a server nor
//! invent connection details the server did not give.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use serde_json::Value;

use super::admin::ServerArgs;
use super::{print_json, runtime, write_stdout, CliError};

#[derive(Debug, Args)]
#[command(after_help = "\
Start a server with CRM faces, then point a shell (or App Connect) at them:

  mockcrm serve --db :memory: --crm redtail,insightly &
  eval \"$(mockcrm crms)\"
  echo \"$REDTAIL_API_SERVER $MOCKCRM_REDTAIL_USERNAME\"

Per CRM it prints the environment variables its App Connect connector reads
(REDTAIL_API_SERVER, INSIGHTLY_API_VERSION, ...), MOCKCRM_<CRM>_BASE_URL,
what the user types into App Connect's sign-in as MOCKCRM_<CRM>_<FIELD>
(MOCKCRM_REDTAIL_USERNAME, MOCKCRM_INSIGHTLY_API_KEY, ...), the user record
App Connect keeps as MOCKCRM_<CRM>_USER (JSON), and, with --tls, the CA file
as NODE_EXTRA_CA_CERTS. `mockcrm contract --crm NAME` uses the same.")]
pub(super) struct CrmsArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Credentials of this organisation's user (its id, org_…, from
    /// `mockcrm tenant new`); the seed's first organisation when absent.
    #[arg(long, env = "MOCKCRM_ORG", value_name = "ID")]
    org: Option<String>,
    /// Print GET /__admin/crms as JSON instead of export lines.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CrmsError {
    #[error("the server at {url} serves no CRM face; start it with `mockcrm serve --crm NAME` (redtail, insightly, or all) and see `mockcrm serve --help`")]
    NoneServed { url: String },
    #[error("GET /__admin/crms answered a CRM without a name: {0}")]
    Unnamed(String),
}

pub(super) fn crms(args: CrmsArgs) -> Result<ExitCode, CliError> {
    let client = args.server.client()?.scoped(args.org.as_deref());
    let answer = runtime()?.block_on(client.crms())?;
    let served = answer
        .get("crms")
        .and_then(Value::as_array)
        .is_some_and(|crms| !crms.is_empty());
    if !served {
        return Err(CliError::Crms(CrmsError::NoneServed {
            url: args.server.url().to_owned(),
        }));
    }
    if args.json {
        print_json(&answer)?;
    } else {
        write_stdout(&export_lines(&answer)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The answer of `GET /__admin/crms` as shell lines, one `export` per
/// variable, every value quoted so that `eval` takes it as one word.
pub(super) fn export_lines(answer: &Value) -> Result<String, CrmsError> {
    let mut out = String::new();
    let mut ca_files = Vec::new();
    for crm in answer
        .get("crms")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = crm
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| CrmsError::Unnamed(crm.to_string()))?;
        let prefix = format!("MOCKCRM_{}", env_word(name));
        out.push_str(&format!("# {name}\n"));
        // Sorted, so the output is the same from run to run.
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in crm
            .get("env")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            vars.insert(key.clone(), text_of(value));
        }
        for line in vars.iter() {
            out.push_str(&export(line.0, line.1));
        }
        if let Some(base_url) = crm.get("base_url").and_then(Value::as_str) {
            out.push_str(&export(&format!("{prefix}_BASE_URL"), base_url));
        }
        let mut credentials: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in crm
            .get("credentials")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            credentials.insert(format!("{prefix}_{}", env_word(key)), text_of(value));
        }
        for (key, value) in &credentials {
            out.push_str(&export(key, value));
        }
        if let Some(user) = crm.get("user").filter(|user| user.is_object()) {
            out.push_str(&export(&format!("{prefix}_USER"), &user.to_string()));
        }
        if let Some(hosts) = crm.get("hosts").and_then(Value::as_array) {
            let hosts: Vec<&str> = hosts.iter().filter_map(Value::as_str).collect();
            if !hosts.is_empty() {
                out.push_str(&export(&format!("{prefix}_HOSTS"), &hosts.join(",")));
            }
        }
        if let Some(ca) = crm.get("ca_file").and_then(Value::as_str) {
            if !ca_files.contains(&ca) {
                ca_files.push(ca);
            }
        }
    }
    if let Some(tls) = answer.get("tls").and_then(Value::as_str) {
        out.push_str(&export("MOCKCRM_TLS_URL", tls));
    }
    if let Some(proxy) = answer.get("proxy").and_then(Value::as_str) {
        out.push_str(&export("MOCKCRM_PROXY_URL", proxy));
        out.push_str(&format!(
            "# for a connector that calls its CRM's real hosts: export HTTPS_PROXY={}\n",
            shell_quote(proxy)
        ));
    }
    // One CA signs every face's certificate; Node.js takes one file.
    if let Some(ca) = ca_files.first() {
        out.push_str(&export("NODE_EXTRA_CA_CERTS", ca));
    }
    Ok(out)
}

fn export(name: &str, value: &str) -> String {
    format!("export {name}={}\n", shell_quote(value))
}

/// A JSON value as an environment variable holds it: a string as is,
/// anything else as its JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `apiKey` → `API_KEY`, `redtail` → `REDTAIL`: a name's words in capitals
/// joined by `_`, nothing but `[A-Z0-9_]`, so it is a valid variable name.
fn env_word(name: &str) -> String {
    let mut word = String::new();
    let mut previous_lower = false;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() && previous_lower {
            word.push('_');
        }
        previous_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        if ch.is_ascii_alphanumeric() {
            word.push(ch.to_ascii_uppercase());
        } else {
            word.push('_');
        }
    }
    word
}

/// `text` as one shell word, whatever it holds.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_become_variable_names() {
        assert_eq!(env_word("apiKey"), "API_KEY");
        assert_eq!(env_word("redtail"), "REDTAIL");
        assert_eq!(env_word("google-sheets"), "GOOGLE_SHEETS");
        assert_eq!(env_word("clientId2"), "CLIENT_ID2");
    }

    #[test]
    fn every_value_is_one_quoted_word() {
        let answer = json!({
            "crms": [{
                "name": "redtail",
                "base_url": "http://127.0.0.1:1/redtail/api/public/v1",
                "env": {"REDTAIL_API_KEY": "it's $HOME", "REDTAIL_API_SERVER": "http://x"},
                "user": {"hostname": "127.0.0.1:1"},
                "credentials": {"username": "u1", "password": "p'w"},
                "hosts": ["a.example", "b.example"],
                "ca_file": "/tmp/ca.pem"
            }],
            "tls": "https://127.0.0.1:2",
            "proxy": null
        });
        let lines = export_lines(&answer).expect("named");
        assert!(
            lines.contains("export REDTAIL_API_KEY='it'\\''s $HOME'\n"),
            "{lines}"
        );
        assert!(
            lines.contains("export MOCKCRM_REDTAIL_PASSWORD='p'\\''w'\n"),
            "{lines}"
        );
        assert!(
            lines.contains("export MOCKCRM_REDTAIL_USER='{\"hostname\":\"127.0.0.1:1\"}'\n"),
            "{lines}"
        );
        assert!(
            lines.contains("export MOCKCRM_REDTAIL_HOSTS='a.example,b.example'\n"),
            "{lines}"
        );
        assert!(
            lines.contains("export NODE_EXTRA_CA_CERTS='/tmp/ca.pem'\n"),
            "{lines}"
        );
        assert!(
            lines.contains("export MOCKCRM_TLS_URL='https://127.0.0.1:2'\n"),
            "{lines}"
        );
        assert!(!lines.contains("PROXY"), "{lines}");
    }

    #[test]
    fn a_crm_without_a_name_is_an_error() {
        let answer = json!({"crms": [{"base_url": "http://x"}]});
        assert!(matches!(export_lines(&answer), Err(CrmsError::Unnamed(_))));
    }
}
