use serde_json::{json, Value};
pub fn document() -> Value { json!({}) }
