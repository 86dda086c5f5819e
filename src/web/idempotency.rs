//! `Idempotency-Key`, as every face honours it on the writes that create:
//! reading the header, and the hash a repeated request is recognised by.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::request::ApiRequest;

const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The request's `Idempotency-Key`, if it has one, or 400 for one that is
/// not 1 to 255 visible ASCII characters.
pub fn idempotency_key(request: &ApiRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        // `to_str` lets tabs through; the key is printable ASCII only, as
        // openapi.json says, so it reads the same in logs and errors.
        .filter(|key| {
            !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY
                && key.bytes().all(|byte| (b' '..=b'~').contains(&byte))
        })
        .ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                format!(
                    "header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters \
                     (spaces allowed inside)"
                ),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// SHA-256 of the body's canonical JSON, in hex. The JSON is written
/// straight into the hasher: no copy of a 1-4 KiB body just to hash it.
pub fn request_hash(body: &Value) -> Result<String, ApiError> {
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, body)
        .map_err(|error| ApiError::Internal(format!("cannot hash the request: {error}")))?;
    // By table rather than `write!`: formatting 32 bytes one by one was a
    // visible share of a create's CPU.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in hasher.finalize() {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    Ok(hex)
}
