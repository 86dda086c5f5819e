//! `mockcrm checks --junit FILE`: the contract checks as a JUnit XML
//! report, which CI systems (GitLab, Jenkins, GitHub test reporters,
//! Azure) show as test results.
//!
//! One test case per check (`duplicate_session`, `empty_body`, …), not per
//! violation: the set of test cases is then the same in every run, so a CI
//! system's test history follows each check from run to run, and a clean
//! run shows every check passing instead of an empty report (which some
//! systems treat as an error). A failing check's `<failure>` lists every
//! violation, one per line, as `mockcrm checks` prints them.

use super::admin_client::ChecksReport;
use super::tables::violation_line;

/// The report as XML: one suite, one test case per check the server ran
/// (and per kind of violation it found that it did not name).
pub(super) fn checks_report(report: &ChecksReport, org: Option<&str>) -> String {
    let mut kinds: Vec<&str> = report.checks.iter().map(String::as_str).collect();
    for violation in &report.violations {
        if !kinds.contains(&violation.kind()) {
            kinds.push(violation.kind());
        }
    }
    let suite = match org {
        Some(org) => format!("mockcrm checks ({org})"),
        None => "mockcrm checks".to_owned(),
    };
    let failures = kinds
        .iter()
        .filter(|kind| report.violations.iter().any(|v| v.kind() == **kind))
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n\
         \x20 <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        name = escape(&suite),
        tests = kinds.len(),
    ));
    for kind in kinds {
        let found: Vec<String> = report
            .violations
            .iter()
            .filter(|violation| violation.kind() == kind)
            .map(violation_line)
            .collect();
        let case = format!(
            "    <testcase classname=\"mockcrm.checks\" name=\"{}\"",
            escape(kind)
        );
        if found.is_empty() {
            xml.push_str(&case);
            xml.push_str("/>\n");
            continue;
        }
        xml.push_str(&format!(
            "{case}>\n      <failure type=\"{kind}\" message=\"{count} violation(s) of {kind}\">{lines}</failure>\n    </testcase>\n",
            kind = escape(kind),
            count = found.len(),
            lines = escape(&found.join("\n")),
        ));
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Text as XML 1.0 character data or an attribute value: the five markup
/// characters escaped, and characters XML 1.0 cannot hold at all (control
/// characters but tab, newline and carriage return; U+FFFE and U+FFFF)
/// replaced by U+FFFD, since session ids and organisation names come from
/// clients.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Kept as references, so an attribute keeps its line breaks.
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            '\t' => escaped.push('\t'),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                escaped.push('\u{FFFD}')
            }
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Violation;

    #[test]
    fn markup_and_characters_xml_cannot_hold_are_escaped() {
        assert_eq!(
            escape("a<b>&\"c\"'d'\u{0}\u{1b}\u{FFFF}\t"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\u{FFFD}\u{FFFD}\u{FFFD}\t"
        );
        assert_eq!(escape("l1\nl2\r"), "l1&#10;l2&#13;");
    }

    #[test]
    fn every_check_is_a_test_case_and_only_failing_ones_carry_a_failure() {
        let report = ChecksReport {
            checks: vec!["duplicate_session".into(), "empty_body".into()],
            violations: vec![Violation::EmptyBody {
                organisation: "O'Brien & <Sons>".into(),
                org: "org_1".into(),
                activity_id: "act_1".into(),
                session_id: Some("s\u{0}1".into()),
            }],
        };
        let xml = checks_report(&report, Some("org_1"));
        assert!(xml.contains(r#"<testsuite name="mockcrm checks (org_1)" tests="2" failures="1""#));
        assert!(xml.contains(r#"<testcase classname="mockcrm.checks" name="duplicate_session"/>"#));
        assert!(xml.contains(r#"message="1 violation(s) of empty_body""#));
        assert!(
            xml.contains("organisation=O&apos;Brien &amp; &lt;Sons&gt;"),
            "{xml}"
        );
        assert!(xml.contains("session_id=s\u{FFFD}1"), "{xml}");
    }
}
