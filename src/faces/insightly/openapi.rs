//! The Insightly face's part of `GET /openapi.json`.

use serde_json::{json, Value};

pub fn document() -> Value {
    json!({})
}
