//! The contact operations' variables: findContact (with the parsed phone
//! number App Connect adds), findContactWithName, createContact.

use serde_json::{Map, Value};

use super::{arg, call, copy, Args, ContextError, OperationCall};
use crate::proxy::Operation;

/// `findContact({user, authHeader, phoneNumber, overridingFormat,
/// isExtension})`. App Connect adds `parsedPhoneNumber` from the
/// awesome-phonenumber library; a `parsedPhoneNumber` argument is used as
/// given, else the fields this module can work out are filled
/// (see `parsed_phone_number`).
pub fn find_contact(args: &Args) -> Result<OperationCall, ContextError> {
    let phone = match arg(args, "phoneNumber") {
        Some(Value::String(phone)) => phone,
        None | Some(Value::Null) => {
            return Err(ContextError::Missing {
                operation: Operation::FindContact,
                field: "phoneNumber",
            })
        }
        Some(_) => {
            return Err(ContextError::WrongType {
                operation: Operation::FindContact,
                field: "phoneNumber",
                expected: "a string",
            })
        }
    };
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["phoneNumber"]);
    let parsed = match arg(args, "parsedPhoneNumber") {
        Some(given) => given.clone(),
        // A `+` arrives as a space in a query string; App Connect puts the
        // first one back before parsing.
        None => parsed_phone_number(&phone.replacen(' ', "+", 1)),
    };
    inputs.insert("parsedPhoneNumber".into(), parsed);
    copy(&mut inputs, args, &["overridingFormat", "isExtension"]);
    Ok(call(Operation::FindContact, inputs, args, true))
}

/// The part of awesome-phonenumber's `parsePhoneNumber` result this module
/// can work out without its metadata: `number.input` always; `number.e164`
/// for `+` and 8 to 15 digits; and for North American numbers (`+1` and ten
/// digits) also `valid`, `countryCode`, `number.international`,
/// `number.national`, `number.rfc3966` and `number.significant`.
pub fn parsed_phone_number(text: &str) -> Value {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let mut number = Map::new();
    number.insert("input".into(), Value::from(text));
    let mut parsed = Map::new();
    if plain && text.trim_start().starts_with('+') && (8..=15).contains(&digits.len()) {
        number.insert("e164".into(), Value::from(format!("+{digits}")));
        if digits.len() == 11 && digits.starts_with('1') {
            let (area, exchange, line) = (&digits[1..4], &digits[4..7], &digits[7..]);
            number.insert(
                "international".into(),
                Value::from(format!("+1 {area}-{exchange}-{line}")),
            );
            number.insert(
                "national".into(),
                Value::from(format!("({area}) {exchange}-{line}")),
            );
            number.insert(
                "rfc3966".into(),
                Value::from(format!("tel:+1-{area}-{exchange}-{line}")),
            );
            number.insert("significant".into(), Value::from(&digits[1..]));
            parsed.insert("valid".into(), Value::Bool(true));
            parsed.insert("countryCode".into(), Value::from(1));
        }
    }
    parsed.insert("number".into(), Value::Object(number));
    Value::Object(parsed)
}

/// `createContact({user, authHeader, phoneNumber, newContactName,
/// newContactType, additionalSubmission})`.
pub fn create_contact(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(
        &mut inputs,
        args,
        &[
            "phoneNumber",
            "newContactName",
            "newContactType",
            "additionalSubmission",
        ],
    );
    call(Operation::CreateContact, inputs, args, true)
}

/// `findContactWithName({user, authHeader, name})`.
pub fn find_contact_with_name(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["name"]);
    call(Operation::FindContactWithName, inputs, args, true)
}
