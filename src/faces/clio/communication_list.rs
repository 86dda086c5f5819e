//! `GET /api/v4/communications.json`: a firm's communications newest
//! first, a contact's with `contact_id`, those carrying one external
//! property with `external_property_name` and `external_property_value`
//! (how a connector finds the communication a create whose answer was lost
//! already wrote, by the call session it keeps there). Paged by Clio's
//! `page_token` and `limit`. It only reads; writing is
//! `communications.rs`'s.

use serde_json::Value;

use super::communications::shown;
use super::contacts::{limit_of, next_page, record_number};
use super::errors::{Answer, ClioError};
use super::wire::{self, raw_query_param, select, EXTERNAL_PROPERTIES};
use crate::store::{Activity, ActivityFilter, Caller};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// The most stored activities one request reads looking for a page of
/// matches, so a rare external property cannot make it read the firm.
const SCAN_LIMIT: u32 = 2_000;

/// `GET /api/v4/communications.json?contact_id=&external_property_name=&external_property_value=&fields=&limit=&page_token=`.
pub async fn list(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::COMMUNICATION_FIELDS)?;
    let limit = limit_of(request)?;
    let contact = match raw_query_param(&request.query, "contact_id")? {
        Some(id) => Some(record_number(&id, "contact_id")?),
        None => None,
    };
    let property = match (
        raw_query_param(&request.query, "external_property_name")?,
        raw_query_param(&request.query, "external_property_value")?,
    ) {
        (Some(name), Some(value)) => Some((name, value)),
        (None, None) => None,
        _ => return Err(ClioError::BadRequest(
            "external_property_name and external_property_value go together: send both or neither"
                .into(),
        )),
    };
    let mut before = match raw_query_param(&request.query, "page_token")? {
        Some(token) => Some(record_number(&token, "page_token")?),
        None => None,
    };
    let org = caller.organisation_id;
    let viewer = caller.clone();
    let (found, next) = state
        .store
        .read(move |store| {
            let contact_id = match contact {
                Some(number) => match store.contact_by_number(org, number)? {
                    Some(contact) => Some(contact.id),
                    None => {
                        return Ok(Err(ClioError::NotFound(format!(
                            "Contact {number} not found"
                        ))))
                    }
                },
                None => None,
            };
            let mut matched = Vec::new();
            let mut scanned = 0u32;
            loop {
                let filter = ActivityFilter {
                    contact_id: contact_id.clone(),
                    before_seq: before,
                    limit,
                    ..ActivityFilter::default()
                };
                let page = store.list_activities(org, &filter)?;
                let read = page.items.len();
                scanned = scanned.saturating_add(u32::try_from(read).unwrap_or(u32::MAX));
                let mut left_in_page = false;
                for (at, activity) in page.items.iter().enumerate() {
                    if matched.len() == limit as usize {
                        left_in_page = at < read;
                        break;
                    }
                    // The position after which the next page starts.
                    before = Some(activity.number);
                    if property
                        .as_ref()
                        .is_none_or(|(name, value)| carries(activity, name, value))
                    {
                        matched.push(shown(store, &viewer, activity)?);
                    }
                }
                let more = left_in_page || page.next_seq.is_some();
                if matched.len() == limit as usize || !more || scanned >= SCAN_LIMIT {
                    return Ok(Ok((matched, before.filter(|_| more))));
                }
            }
        })
        .await??;
    let data = found
        .iter()
        .map(|communication| select(communication, &fields))
        .collect::<Result<Vec<Value>, _>>()?;
    let next = next.map(|seq| next_page(request, seq));
    Ok(ApiResponse::ok(wire::list(data, next)))
}

/// Whether the communication keeps external property `name` as `value`.
fn carries(activity: &Activity, name: &str, value: &str) -> bool {
    activity
        .extra
        .get(EXTERNAL_PROPERTIES)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|property| {
            property.get("name").and_then(Value::as_str) == Some(name)
                && property.get("value").and_then(Value::as_str) == Some(value)
        })
}
