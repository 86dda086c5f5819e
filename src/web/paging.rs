//! Paged listings: `limit` and `cursor` read the same way on every list
//! route (contacts, activities, the admin activities and the review page),
//! and cursors are opaque positions only this server hands out.

use base64::Engine;

use super::{ApiError, ApiRequest};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// `limit` and `cursor`: the page size and where the page starts (the
/// sequence number the page ends before).
pub fn page_params(request: &ApiRequest) -> Result<(u32, Option<i64>), ApiError> {
    let limit = match request.query_param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}, got {text:?}"),
                )
            })?,
    };
    // An empty cursor is the first page, so a client may send
    // `cursor=${next_cursor ?? ""}` without a special case.
    let before_seq = request
        .query_param("cursor")
        .filter(|cursor| !cursor.is_empty())
        .map(|cursor| decode_cursor(&cursor))
        .transpose()?;
    Ok((limit, before_seq))
}

pub fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("before:{seq}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("before:")?.parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::field(
                "cursor",
                "is not a cursor this server gave out; pass next_cursor from the previous page unchanged",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Ok(42));
        assert!(decode_cursor("not-a-cursor").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("after:3"))
                .is_err()
        );
    }
}
