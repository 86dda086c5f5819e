//! `/Users/Me` (App Connect's sign-in check, and the user name its message
//! logs are written with) and `/Users` (its user list for assigning
//! logs): the caller's organisation's users as Insightly shows them.

use super::errors::Answer;
use super::wire::{me_json, user_json};
use crate::store::Caller;
use crate::web::{ApiResponse, AppState};

pub fn me(caller: &Caller) -> Answer {
    Ok(ApiResponse::ok(me_json(caller)))
}

pub async fn list(state: &AppState, caller: &Caller) -> Answer {
    let org = caller.organisation_id;
    let users = state.store.read(move |store| store.users(org)).await?;
    let answer = users.iter().map(user_json).collect::<Vec<_>>();
    Ok(ApiResponse::ok(serde_json::Value::Array(answer)))
}
