//! TEMPORARY placeholder until the real composer lands (same API).
use crate::interface::{ComposeRequest, LogFormat};

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{0}")]
    Invalid(String),
}

pub fn compose(request: &ComposeRequest, format: LogFormat) -> Result<String, ComposeError> {
    let _ = format;
    if let Some(start) = &request.call_log.start_time {
        start.to_utc().map_err(ComposeError::Invalid)?;
    }
    Ok(format!(
        "- Note: {}\n",
        request.note.clone().unwrap_or_default()
    ))
}

pub fn parse_note(body: &str, format: LogFormat) -> Option<String> {
    let _ = format;
    body.strip_prefix("- Note: ")
        .map(|rest| rest.trim_end().to_owned())
}
