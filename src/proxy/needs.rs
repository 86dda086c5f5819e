//! What a request must carry for mockcrm to know what it means: the values
//! an operation's meaning rests on (a call log's body and subject, the log
//! an update names, the number a search looks for, …), by the expression a
//! config sends each as. The route table prefers an operation whose needs a
//! request meets, the handlers refuse one that meets none with a 400 naming
//! where the config sends the value, and the OpenAPI description marks
//! those places required.
//!
//! Pure: operations and expressions in, needs out.

use serde_json::Value;

use super::template::Bindings;
use super::Operation;

/// One value a request must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need<'e> {
    /// The expression the config sends it as (`composedLogDetails`).
    pub expr: &'e str,
    /// What it is, for messages.
    pub what: &'static str,
    /// `null` will not do either (a log id, a number to look up).
    pub not_null: bool,
}

/// The expressions that name the log an update or read is about, in the
/// order they are looked for.
pub const LOG_ID_EXPRESSIONS: [&str; 3] = [
    "thirdPartyLogId",
    "existingCallLog.thirdPartyLogId",
    "existingMessageLog.thirdPartyLogId",
];

/// The expressions findContact can take the number from, in the order
/// they are looked for.
pub const PHONE_EXPRESSIONS: [&str; 6] = [
    "phoneNumber",
    "parsedPhoneNumber.number.e164",
    "parsedPhoneNumber.number.international",
    "parsedPhoneNumber.number.national",
    "parsedPhoneNumber.number.significant",
    "parsedPhoneNumber.number.input",
];

/// Values an operation's meaning rests on, present when its config sends
/// them (a config that sends no subject still logs calls).
fn wanted(op: Operation) -> &'static [(&'static str, &'static str)] {
    match op {
        Operation::CreateCallLog => &[
            ("composedLogDetails", "the body of the call log"),
            ("subject", "the subject of the call log"),
        ],
        Operation::CreateMessageLog => &[("message.id", "the message this log records")],
        Operation::FindContactWithName => &[("name", "the name to look up")],
        Operation::CreateContact => &[
            ("newContactName", "the new contact's name"),
            ("phoneNumber", "the new contact's number"),
        ],
        _ => &[],
    }
}

/// Whether `op` names an existing log, which it cannot do without its id.
pub fn names_a_log(op: Operation) -> bool {
    matches!(
        op,
        Operation::GetCallLog
            | Operation::UpdateCallLog
            | Operation::UpdateMessageLog
            | Operation::UpsertCallDisposition
    )
}

/// The needs of `op` served on a route whose templates hold `expressions`.
/// The log id of a read or update, and the number of a search, are needed
/// whatever the config sends: a route that carries neither can answer
/// nothing but 400.
pub fn needs<'e>(op: Operation, expressions: &[&'e str]) -> Vec<Need<'e>> {
    let carried = |expr: &str| expressions.iter().copied().find(|e| *e == expr);
    let mut out: Vec<Need<'e>> = wanted(op)
        .iter()
        .filter_map(|(expr, what)| {
            carried(expr).map(|expr| Need {
                expr,
                what,
                not_null: false,
            })
        })
        .collect();
    let first_of = |list: &[&'static str]| {
        list.iter()
            .find_map(|e| carried(e))
            .unwrap_or_else(|| list.first().copied().unwrap_or_default())
    };
    if names_a_log(op) {
        out.push(Need {
            expr: first_of(&LOG_ID_EXPRESSIONS),
            what: "the id of the log",
            not_null: true,
        });
    }
    if op == Operation::FindContact {
        out.push(Need {
            expr: first_of(&PHONE_EXPRESSIONS),
            what: "the number to look up",
            not_null: true,
        });
    }
    out
}

/// Whether `bindings` carry what `need` asks for.
pub fn met(need: &Need<'_>, bindings: &Bindings) -> bool {
    match bindings.get(need.expr) {
        None => false,
        Some(value) => !(need.not_null && *value == Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn needs_follow_what_the_route_carries() {
        let create = needs(
            Operation::CreateCallLog,
            &["subject", "composedLogDetails", "startTime"],
        );
        let exprs: Vec<&str> = create.iter().map(|n| n.expr).collect();
        assert_eq!(exprs, ["composedLogDetails", "subject"]);
        assert!(needs(Operation::CreateCallLog, &["startTime"]).is_empty());

        let update = needs(
            Operation::UpdateMessageLog,
            &["existingMessageLog.thirdPartyLogId", "message.subject"],
        );
        assert_eq!(
            update,
            [Need {
                expr: "existingMessageLog.thirdPartyLogId",
                what: "the id of the log",
                not_null: true
            }]
        );
        // A route that carries no id still needs one.
        assert_eq!(needs(Operation::GetCallLog, &[])[0].expr, "thirdPartyLogId");
        let find = needs(Operation::FindContact, &["parsedPhoneNumber.number.e164"]);
        assert_eq!(find[0].expr, "parsedPhoneNumber.number.e164");

        let mut bindings = Bindings::default();
        bindings.insert("thirdPartyLogId", Value::Null, true);
        assert!(!met(&needs(Operation::GetCallLog, &[])[0], &bindings));
        bindings.insert("subject", Value::Null, true);
        let subject = Need {
            expr: "subject",
            what: "",
            not_null: false,
        };
        assert!(
            met(&subject, &bindings),
            "a null subject is still a subject"
        );
        bindings.insert("phoneNumber", json!("+1 415"), false);
        assert!(met(
            &needs(Operation::FindContact, &["phoneNumber"])[0],
            &bindings
        ));
    }
}
