//! The plain-text forms the admin commands print: a violation per line,
//! the journal and the faults as tables whose columns line up.

use std::fmt::Write as _;

use crate::harness::{Fault, JournalView};
use crate::store::Violation;

/// One violation as one line: kind, where, and which activities.
pub(super) fn violation_line(violation: &Violation) -> String {
    match violation {
        Violation::DuplicateSession {
            organisation,
            org,
            session_id,
            activity_ids,
        } => format!(
            "duplicate_session organisation={organisation} session_id={session_id} activities={} org={org}",
            activity_ids.join(",")
        ),
        Violation::EmptyBody {
            organisation,
            org,
            activity_id,
            session_id,
        } => format!(
            "empty_body organisation={organisation} activity_id={activity_id} session_id={} org={org}",
            session_id.as_deref().unwrap_or("-")
        ),
        Violation::DuplicateMessage {
            organisation,
            org,
            message_id,
            activity_ids,
        } => format!(
            "duplicate_message organisation={organisation} message_id={message_id} activities={} org={org}",
            activity_ids.join(",")
        ),
        Violation::SplitConversation {
            organisation,
            org,
            conversation_log_id,
            activity_ids,
        } => format!(
            "split_conversation organisation={organisation} conversation_log_id={conversation_log_id} activities={} org={org}",
            activity_ids.join(",")
        ),
        Violation::UnknownFields {
            organisation,
            org,
            activity_id,
            fields,
        } => format!(
            "unknown_fields organisation={organisation} activity_id={activity_id} fields={} org={org}",
            fields.join(",")
        ),
    }
}

/// The journal as a table, newest first. The path column is as wide as
/// the longest path, so the columns after it line up on every row.
pub(super) fn requests_table(entries: &[JournalView]) -> String {
    let paths: Vec<String> = entries
        .iter()
        .map(|entry| {
            if entry.query.is_empty() {
                entry.path.clone()
            } else {
                format!("{}?{}", entry.path, entry.query)
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
            entry.id,
            entry.at,
            entry.method,
            path,
            entry.status,
            entry.duration_ms,
            entry.fault_id.as_deref().unwrap_or("-"),
        );
    }
    table
}

/// The faults as a table, one row each: what they match, what they do,
/// and how often they have fired.
pub(super) fn faults_table(faults: &[Fault]) -> String {
    fn or_dash<T: ToString>(value: Option<T>) -> String {
        value.map_or_else(|| "-".to_owned(), |value| value.to_string())
    }
    let rows: Vec<[String; 12]> = faults
        .iter()
        .map(|fault| {
            let spec = &fault.spec;
            [
                fault.id.clone(),
                or_dash(spec.method.as_deref()),
                spec.path.clone(),
                spec.kind.to_string(),
                or_dash(spec.status),
                or_dash(spec.retry_after),
                spec.delay_ms.to_string(),
                or_dash(spec.times),
                format!("{:?}", spec.probability),
                if spec.after_commit { "yes" } else { "no" }.to_owned(),
                or_dash(spec.org.as_deref()),
                fault.fired.to_string(),
            ]
        })
        .collect();
    let header = [
        "ID",
        "METHOD",
        "PATH",
        "KIND",
        "STATUS",
        "RETRY_AFTER",
        "DELAY_MS",
        "TIMES",
        "PROBABILITY",
        "AFTER_COMMIT",
        "ORG",
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
    use crate::harness::{FaultKind, FaultSpec};
    use serde_json::Value;

    fn entry(id: u64, method: &str, path: &str, query: &str, status: u16) -> JournalView {
        JournalView {
            id,
            at: "2024-01-01T00:00:00.000Z".into(),
            method: method.into(),
            path: path.into(),
            query: query.into(),
            status,
            duration_ms: 1.25,
            request_body: Value::Null,
            response_body: Value::Null,
            fault_id: None,
            org: None,
        }
    }

    #[test]
    fn violations_read_as_one_line_each() {
        let line = violation_line(&Violation::DuplicateSession {
            organisation: "Acme".into(),
            org: "org_1".into(),
            session_id: "42".into(),
            activity_ids: vec!["act_a".into(), "act_b".into()],
        });
        assert_eq!(
            line,
            "duplicate_session organisation=Acme session_id=42 activities=act_a,act_b org=org_1"
        );
    }

    #[test]
    fn the_table_has_a_header_and_a_row_per_entry() {
        let mut faulted = entry(3, "POST", "/activity", "", 503);
        faulted.fault_id = Some("flt_1".into());
        let table = requests_table(&[faulted]);
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
        let long = "/activity/act_01a213df97767679b786c8be5c3e8b58";
        let table = requests_table(&[
            entry(2, "GET", long, "", 200),
            entry(1, "GET", "/activity", "session_id=4503991004&limit=50", 200),
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
            Fault {
                id: "flt_1".into(),
                spec: FaultSpec {
                    method: None,
                    path: "/activity".into(),
                    kind: FaultKind::Status,
                    org: None,
                    status: Some(503),
                    retry_after: Some(2),
                    delay_ms: 0,
                    times: Some(3),
                    probability: 1.0,
                    after_commit: true,
                },
                fired: 1,
            },
            Fault {
                id: "flt_22".into(),
                spec: FaultSpec {
                    method: Some("GET".into()),
                    path: "/activity/*".into(),
                    kind: FaultKind::Dribble,
                    org: Some("org_9".into()),
                    status: None,
                    retry_after: None,
                    delay_ms: 250,
                    times: None,
                    probability: 0.5,
                    after_commit: false,
                },
                fired: 0,
            },
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
                "status",
                "503",
                "2",
                "0",
                "3",
                "1.0",
                "yes",
                "-",
                "1"
            ]
        );
        assert_eq!(
            words[2],
            [
                "flt_22",
                "GET",
                "/activity/*",
                "dribble",
                "-",
                "-",
                "250",
                "-",
                "0.5",
                "no",
                "org_9",
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
