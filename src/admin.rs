//! A client for the `/__admin/` API, as the `checks`, `requests`, `fault`, `faults`
//! and `reset` commands use it, and the plain-text renderings they print.
//! It knows the admin routes' JSON, not how the server keeps its state.

use std::fmt::Write as _;

use serde_json::Value;

use crate::harness::FaultSpec;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("could not reach mockcrm at {url}: {reason}; is `mockcrm serve` running there?")]
    Unreachable { url: String, reason: String },
    #[error("mockcrm refused the admin request ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("mockcrm answered something unexpected: {0}")]
    BadResponse(String),
}

pub struct AdminClient {
    http: reqwest::Client,
    base_url: String,
    admin_key: String,
}

impl AdminClient {
    pub fn new(base_url: &str, admin_key: &str) -> AdminClient {
        AdminClient {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            admin_key: admin_key.to_owned(),
        }
    }

    /// The `violations` list of `GET /__admin/checks`.
    pub async fn checks(&self) -> Result<Vec<Value>, AdminError> {
        list(
            self.send(self.http.get(self.url("/checks"))).await?,
            "violations",
        )
    }

    /// The newest `limit` journal entries, only those with `method` and
    /// `path` when given.
    pub async fn requests(
        &self,
        limit: usize,
        method: Option<&str>,
        path: Option<&str>,
    ) -> Result<Vec<Value>, AdminError> {
        let mut url = self.parsed_url("/requests")?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("limit", &limit.to_string());
            if let Some(method) = method {
                query.append_pair("method", method);
            }
            if let Some(path) = path {
                query.append_pair("path", path);
            }
        }
        list(self.send(self.http.get(url)).await?, "items")
    }

    /// Empties the journal.
    pub async fn clear_requests(&self) -> Result<(), AdminError> {
        self.send(self.http.delete(self.url("/requests")))
            .await
            .map(drop)
    }

    /// Registers a fault; the fault as the server stored it.
    pub async fn add_fault(&self, spec: &FaultSpec) -> Result<Value, AdminError> {
        self.send(self.http.post(self.url("/faults")).json(spec))
            .await
    }

    /// Every fault added and not deleted, each with how often it has fired.
    pub async fn faults(&self) -> Result<Vec<Value>, AdminError> {
        list(
            self.send(self.http.get(self.url("/faults"))).await?,
            "items",
        )
    }

    /// Removes one fault.
    pub async fn delete_fault(&self, id: &str) -> Result<(), AdminError> {
        let mut url = self.parsed_url("/faults")?;
        // Pushed as a path segment, so any id is escaped, never a new path.
        url.path_segments_mut()
            .map_err(|()| self.not_a_base_url())?
            .push(id);
        self.send(self.http.delete(url)).await.map(drop)
    }

    /// Removes every fault.
    pub async fn clear_faults(&self) -> Result<(), AdminError> {
        self.send(self.http.delete(self.url("/faults")))
            .await
            .map(drop)
    }

    /// Back to the seed, or empty.
    pub async fn reset(&self, empty: bool) -> Result<(), AdminError> {
        let path = if empty { "/reset?empty=true" } else { "/reset" };
        self.send(self.http.post(self.url(path))).await.map(drop)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/__admin{path}", self.base_url)
    }

    fn parsed_url(&self, path: &str) -> Result<reqwest::Url, AdminError> {
        reqwest::Url::parse(&self.url(path)).map_err(|_| self.not_a_base_url())
    }

    fn not_a_base_url(&self) -> AdminError {
        AdminError::Unreachable {
            url: self.base_url.clone(),
            reason: "not an http:// URL".into(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, AdminError> {
        let unreachable = |error: reqwest::Error| AdminError::Unreachable {
            url: self.base_url.clone(),
            reason: error.to_string(),
        };
        let response = request
            .bearer_auth(&self.admin_key)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(unreachable)?;
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| AdminError::BadResponse(text.clone()))?
        };
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let field = |name: &str| {
            body["error"][name]
                .as_str()
                .unwrap_or("(no message)")
                .to_owned()
        };
        Err(AdminError::Refused {
            status,
            code: field("code"),
            message: field("message"),
        })
    }
}

/// The list an admin answer carries in `field` (`items`, `violations`).
fn list(mut answer: Value, field: &str) -> Result<Vec<Value>, AdminError> {
    match answer.get_mut(field).map(Value::take) {
        Some(Value::Array(list)) => Ok(list),
        _ => Err(AdminError::BadResponse(format!("no {field} list"))),
    }
}

/// One violation as one line: kind, where, and which activities.
pub fn violation_line(violation: &Value) -> String {
    let text = |name: &str| violation[name].as_str().unwrap_or("-").to_owned();
    let kind = text("kind");
    match kind.as_str() {
        "duplicate_session" => {
            let ids: Vec<&str> = violation["activity_ids"]
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "duplicate_session organisation={} session_id={} activities={}",
                text("organisation"),
                text("session_id"),
                ids.join(",")
            )
        }
        "empty_body" => format!(
            "empty_body organisation={} activity_id={} session_id={}",
            text("organisation"),
            text("activity_id"),
            text("session_id")
        ),
        _ => format!("{kind} {violation}"),
    }
}

/// The journal as a table, newest first. The path column is as wide as
/// the longest path, so the columns after it line up on every row.
pub fn requests_table(entries: &[Value]) -> String {
    let paths: Vec<String> = entries
        .iter()
        .map(|entry| {
            let path = entry["path"].as_str().unwrap_or("");
            match entry["query"].as_str() {
                Some(query) if !query.is_empty() => format!("{path}?{query}"),
                _ => path.to_owned(),
            }
        })
        .collect();
    let width = paths
        .iter()
        .map(|path| path.chars().count())
        .max()
        .unwrap_or(0)
        .max("PATH".len());
    let mut table = format!(
        "{:>6}  {:<24}  {:<6}  {:<width$}  {:>6}  {:>8}  {}\n",
        "ID", "AT", "METHOD", "PATH", "STATUS", "MS", "FAULT"
    );
    for (entry, path) in entries.iter().zip(&paths) {
        // Writing to a String cannot fail.
        let _ = writeln!(
            table,
            "{:>6}  {:<24}  {:<6}  {:<width$}  {:>6}  {:>8.1}  {}",
            entry["id"].to_string(),
            entry["at"].as_str().unwrap_or(""),
            entry["method"].as_str().unwrap_or(""),
            path,
            entry["status"].to_string(),
            entry["duration_ms"].as_f64().unwrap_or(0.0),
            entry["fault_id"].as_str().unwrap_or("-"),
        );
    }
    table
}

/// The faults as a table, one row each: what they match, what
/// they do, and how often they have fired.
pub fn faults_table(faults: &[Value]) -> String {
    let text = |fault: &Value, name: &str| match &fault[name] {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let rows: Vec<[String; 10]> = faults
        .iter()
        .map(|fault| {
            [
                text(fault, "id"),
                text(fault, "method"),
                text(fault, "path"),
                text(fault, "status"),
                text(fault, "retry_after"),
                text(fault, "delay_ms"),
                text(fault, "times"),
                text(fault, "probability"),
                if fault["after_commit"] == Value::Bool(true) {
                    "yes".to_owned()
                } else {
                    "no".to_owned()
                },
                text(fault, "fired"),
            ]
        })
        .collect();
    let header = [
        "ID",
        "METHOD",
        "PATH",
        "STATUS",
        "RETRY_AFTER",
        "DELAY_MS",
        "TIMES",
        "PROBABILITY",
        "AFTER_COMMIT",
        "FIRED",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    let header_row = header.map(str::to_owned);
    for row in std::iter::once(&header_row).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        table.push_str(cells.join("  ").trim_end());
        table.push('\n');
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_read_as_one_line_each() {
        let line = violation_line(&json!({
            "kind": "duplicate_session", "organisation": "Acme",
            "session_id": "42", "activity_ids": ["act_a", "act_b"],
        }));
        assert_eq!(
            line,
            "duplicate_session organisation=Acme session_id=42 activities=act_a,act_b"
        );
    }

    #[test]
    fn the_table_has_a_header_and_a_row_per_entry() {
        let table = requests_table(&[json!({
            "id": 3, "at": "2024-01-01T00:00:00.000Z", "method": "POST", "path": "/activity",
            "query": "", "status": 503, "duration_ms": 1.25, "fault_id": "flt_1",
        })]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("    ID"));
        assert!(
            lines[1].contains("/activity")
                && lines[1].contains("503")
                && lines[1].ends_with("flt_1")
        );
    }

    #[test]
    fn columns_line_up_whatever_the_path_length() {
        let entry = |id: u32, path: &str, query: &str| {
            json!({
                "id": id, "at": "2024-01-01T00:00:00.000Z", "method": "GET", "path": path,
                "query": query, "status": 200, "duration_ms": 0.5, "fault_id": null,
            })
        };
        let long = "/activity/act_01a213df97767679b786c8be5c3e8b58";
        let table = requests_table(&[
            entry(2, long, ""),
            entry(1, "/activity", "session_id=4503991004&limit=50"),
        ]);
        let status_column: Vec<usize> = table
            .lines()
            .map(|line| {
                line.find("200")
                    .or_else(|| line.find("STATUS"))
                    .unwrap_or(0)
            })
            .collect();
        assert!(table.contains(long), "{table}");
        assert!(
            table.contains("/activity?session_id=4503991004&limit=50"),
            "{table}"
        );
        let header_end = table
            .lines()
            .next()
            .map_or(0, |h| h.find("STATUS").unwrap_or(0) + 6);
        assert!(
            status_column[1..].iter().all(|&at| at + 3 == header_end),
            "{table}"
        );
    }

    #[test]
    fn the_faults_table_shows_what_each_fault_does_and_how_often_it_fired() {
        let table = faults_table(&[
            json!({"id": "flt_1", "method": null, "path": "/activity", "status": 503,
                   "retry_after": 2, "delay_ms": 0, "times": 3, "probability": 1.0,
                   "after_commit": true, "fired": 1}),
            json!({"id": "flt_22", "method": "GET", "path": "/activity/*", "status": null,
                   "retry_after": null, "delay_ms": 250, "times": null, "probability": 0.5,
                   "after_commit": false, "fired": 0}),
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        let words: Vec<Vec<&str>> = lines
            .iter()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            words[1],
            [
                "flt_1",
                "-",
                "/activity",
                "503",
                "2",
                "0",
                "3",
                "1.0",
                "yes",
                "1"
            ]
        );
        assert_eq!(
            words[2],
            [
                "flt_22",
                "GET",
                "/activity/*",
                "-",
                "-",
                "250",
                "-",
                "0.5",
                "no",
                "0"
            ]
        );
        // Every row's last cell starts under the FIRED header.
        let fired_at = lines[0].rfind(' ').map(|space| space + 1);
        assert_eq!(lines[0].get(fired_at.unwrap_or(0)..), Some("FIRED"));
        for line in &lines[1..] {
            assert_eq!(line.rfind(' ').map(|space| space + 1), fired_at, "{table}");
        }
    }
}
