//! Insightly's contacts and leads over the store's one kind of contact (a
//! lead is a contact of type `Lead`): searching them by one field as
//! `/Contacts/Search` and `/Leads/Search` do, reading one, and creating
//! one. App Connect's connector finds a caller with four phone searches
//! (`PHONE` and the mobile field, of contacts and of leads), sent as the
//! national number, which is matched on the stored number's digits; the
//! store keeps one number per contact, shown as `PHONE`, so a mobile
//! search finds no one (else each caller would be found twice).

use serde_json::{Map, Value};

use super::errors::{Answer, InsightlyError};
use super::wire::{join_name, optional_text, path_id, person_json, split_name, Kind};
use crate::store::{Caller, Contact, ContactFilter, NewContact, Store, StoreError};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// Insightly's default page size, and the most it answers at once.
pub(super) const DEFAULT_TOP: usize = 100;
pub(super) const MAX_TOP: usize = 500;
/// Past this a search would skip everyone any organisation has.
pub(super) const MAX_SKIP: usize = 1_000_000;

/// What a search looks for.
#[derive(Debug, Clone, PartialEq)]
enum Search {
    /// Everyone (no `field_name`).
    All,
    /// A phone number, matched on its digits.
    Phone(String),
    /// A field mockcrm keeps nothing in (the mobile number): no one.
    Nothing,
    FirstName(String),
    LastName(String),
    Email(String),
}

impl Search {
    /// The search `field_name` and `field_value` ask for, for `kind`.
    fn asked(kind: Kind, name: Option<String>, value: Option<String>) -> Result<Search, String> {
        // A value with no field is ignored, and a field with no value
        // looks for an empty one, which no one has.
        let Some(name) = name else {
            return Ok(Search::All);
        };
        let value = value.unwrap_or_default();
        let name = name.trim().to_ascii_uppercase();
        Ok(match name.as_str() {
            "PHONE" => Search::Phone(value),
            "FIRST_NAME" => Search::FirstName(value),
            "LAST_NAME" => Search::LastName(value),
            _ if name == kind.mobile_field() => Search::Nothing,
            _ if name == kind.email_field() => Search::Email(value),
            _ => {
                return Err(format!(
                    "Invalid field name {name:?} for {object}s; mockcrm searches {object}s by \
                     PHONE, {mobile}, FIRST_NAME, LAST_NAME and {email}",
                    object = kind.object_name(),
                    mobile = kind.mobile_field(),
                    email = kind.email_field(),
                ))
            }
        })
    }

    /// The contacts (of either kind) it finds, oldest first.
    fn run(&self, store: &Store, org: i64) -> Result<Vec<Contact>, StoreError> {
        let everyone = |name: Option<String>| -> Result<Vec<Contact>, StoreError> {
            let filter = ContactFilter {
                name,
                before_seq: None,
                limit: u32::MAX,
            };
            let mut page = store.list_contacts(org, &filter)?.items;
            page.reverse();
            Ok(page)
        };
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        Ok(match self {
            Search::All => everyone(None)?,
            Search::Phone(number) => store.contacts_with_phone_ending(org, number)?,
            Search::Nothing => Vec::new(),
            Search::FirstName(first) => everyone(Some(first.trim().to_owned()))?
                .into_iter()
                .filter(|contact| same(&split_name(&contact.name).0, first))
                .collect(),
            Search::LastName(last) => everyone(Some(last.trim().to_owned()))?
                .into_iter()
                .filter(|contact| {
                    split_name(&contact.name)
                        .1
                        .is_some_and(|found| same(&found, last))
                })
                .collect(),
            Search::Email(email) => everyone(None)?
                .into_iter()
                .filter(|contact| contact.email.as_deref().is_some_and(|e| same(e, email)))
                .collect(),
        })
    }
}

/// `GET /Contacts/Search` and `GET /Leads/Search`: by one field (or all),
/// `skip` and `top` paging, `brief` leaving out the child collections.
pub async fn search(state: &AppState, caller: &Caller, request: &ApiRequest, kind: Kind) -> Answer {
    let search = Search::asked(
        kind,
        request.query_param("field_name"),
        request.query_param("field_value"),
    )
    .map_err(InsightlyError::BadRequest)?;
    let brief = flag(request, "brief")?;
    let skip = count(request, "skip")?.unwrap_or(0);
    if skip > MAX_SKIP {
        return Err(InsightlyError::field(
            "skip",
            format!("must be at most {MAX_SKIP}"),
        ));
    }
    let top = count(request, "top")?.unwrap_or(DEFAULT_TOP);
    if top > MAX_TOP {
        return Err(InsightlyError::field(
            "top",
            format!("must be at most {MAX_TOP}; page with skip"),
        ));
    }
    let org = caller.organisation_id;
    let found = state
        .store
        .read(move |store| search.run(store, org))
        .await?;
    let answer = found
        .iter()
        .filter(|contact| Kind::of(contact) == kind)
        .skip(skip)
        .take(top)
        .map(|contact| person_json(contact, caller.user_number, brief))
        .collect();
    Ok(ApiResponse::ok(Value::Array(answer)))
}

/// `GET /Contacts/{id}` and `GET /Leads/{id}`: a contact is not a lead, so
/// each is found only under its own kind.
pub async fn get(state: &AppState, caller: &Caller, kind: Kind, id: &str) -> Answer {
    let not_found = || {
        InsightlyError::NotFound(format!(
            "No {} with {} {id} was found.",
            kind.object_name(),
            kind.id_field()
        ))
    };
    let number = path_id(id).ok_or_else(not_found)?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .filter(|contact| Kind::of(contact) == kind)
        .ok_or_else(not_found)?;
    Ok(ApiResponse::ok(person_json(
        &contact,
        caller.user_number,
        false,
    )))
}

/// `POST /Contacts` and `POST /Leads`. A contact needs a first name and a
/// lead a last name, as Insightly's own forms require; the number is the
/// `PHONE` (or, failing that, the mobile field).
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest, kind: Kind) -> Answer {
    let object = request.json_object()?;
    let new = new_person(&object, kind).map_err(InsightlyError::BadRequest)?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .run(move |store| store.create_contact(org, &new))
        .await?;
    Ok(ApiResponse::ok(person_json(
        &contact,
        caller.user_number,
        false,
    )))
}

fn new_person(object: &Map<String, Value>, kind: Kind) -> Result<NewContact, String> {
    let first = optional_text(object, "FIRST_NAME")?;
    let last = optional_text(object, "LAST_NAME")?;
    let required = match kind {
        Kind::Contact => ("FIRST_NAME", first.is_none()),
        Kind::Lead => ("LAST_NAME", last.is_none()),
    };
    if required.1 {
        return Err(format!(
            "{} is required to add a {}",
            required.0,
            kind.object_name()
        ));
    }
    let phone = optional_text(object, "PHONE")?;
    let mobile = optional_text(object, kind.mobile_field())?;
    Ok(NewContact {
        name: join_name(first.as_deref(), last.as_deref()),
        phone_number: phone.or(mobile).unwrap_or_default(),
        email: optional_text(object, kind.email_field())?,
        contact_type: Some(kind.stored_type().into()),
    })
}

/// A `true`/`false` query parameter; absent is false.
fn flag(request: &ApiRequest, name: &str) -> Result<bool, InsightlyError> {
    match request.query_param(name).as_deref().map(str::trim) {
        None | Some("") => Ok(false),
        Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some(value) => Err(InsightlyError::field(
            name,
            format!("{value:?} is not true or false"),
        )),
    }
}

/// A whole-number query parameter, when present.
pub(super) fn count(request: &ApiRequest, name: &str) -> Result<Option<usize>, InsightlyError> {
    let Some(value) = request.query_param(name) else {
        return Ok(None);
    };
    value.trim().parse().map(Some).map_err(|_| {
        InsightlyError::field(name, format!("{value:?} is not a whole number of records"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn asked(kind: Kind, name: &str, value: &str) -> Result<Search, String> {
        Search::asked(kind, Some(name.into()), Some(value.into()))
    }

    #[test]
    fn each_kind_has_its_own_mobile_and_email_fields() {
        assert_eq!(
            asked(Kind::Contact, "phone_mobile", "1"),
            Ok(Search::Nothing)
        );
        assert_eq!(asked(Kind::Lead, "MOBILE", "1"), Ok(Search::Nothing));
        assert!(asked(Kind::Contact, "MOBILE", "1").is_err());
        assert_eq!(
            asked(Kind::Lead, "EMAIL", "a@b"),
            Ok(Search::Email("a@b".into()))
        );
        let refused = asked(Kind::Contact, "Phone_Extra__c", "1").expect_err("no such field");
        assert!(refused.contains("Invalid field name"), "{refused}");
        assert_eq!(
            Search::asked(Kind::Lead, Some("PHONE".into()), None),
            Ok(Search::Phone(String::new()))
        );
        assert_eq!(Search::asked(Kind::Lead, None, None), Ok(Search::All));
        assert_eq!(
            Search::asked(Kind::Lead, None, Some("x".into())),
            Ok(Search::All)
        );
    }

    #[test]
    fn a_contact_needs_a_first_name_and_a_lead_a_last_name() {
        let object = |value: Value| value.as_object().cloned().expect("object");
        let jane = new_person(
            &object(json!({"FIRST_NAME": "Jane", "PHONE_MOBILE": "+1 415 555 0100"})),
            Kind::Contact,
        )
        .expect("a contact");
        assert_eq!(jane.name, "Jane");
        assert_eq!(jane.phone_number, "+1 415 555 0100");
        assert_eq!(jane.contact_type.as_deref(), Some("Contact"));
        assert!(new_person(&object(json!({"FIRST_NAME": "Jane"})), Kind::Lead).is_err());
        assert!(new_person(&object(json!({"LAST_NAME": "Doe"})), Kind::Contact).is_err());
        let refused =
            new_person(&object(json!({"FIRST_NAME": 7})), Kind::Contact).expect_err("not text");
        assert!(refused.contains("FIRST_NAME must be text"), "{refused}");
    }
}
