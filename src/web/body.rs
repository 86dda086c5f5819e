//! Reading a request's body off the wire: within a deadline, capped in
//! size, an oversized one drained rather than cut off.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use warp::http::HeaderMap;
use warp::Buf;

/// A body under the limit did not finish arriving before the deadline.
pub struct BodyTimedOut;

/// Reads the body until it ends or passes `limit`; `Ok(None)` past the
/// limit, or when `Content-Length` already says it will be. An oversized
/// body is still read to its end (up to `DRAIN_LIMIT`, and until
/// `deadline`) and thrown away, so the client is not cut off mid-upload and
/// sees the 413; nothing past the limit is kept. A body that breaks off
/// mid-way is treated as what arrived, which then fails JSON parsing with a
/// clear message.
pub async fn read_limited<S, B>(
    body: S,
    headers: &HeaderMap,
    limit: usize,
    deadline: tokio::time::Instant,
) -> Result<Option<Bytes>, BodyTimedOut>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let mut too_large = headers
        .get("content-length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64);
    let waits_for_continue = headers
        .get("expect")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if too_large && waits_for_continue {
        // The client sends the body only after `100 Continue`, which hyper
        // sends when the body is first read: not reading it spares the
        // upload, and the connection stays clean for the 413.
        return Ok(None);
    }
    let mut body = std::pin::pin!(body);
    let mut collected = BytesMut::new();
    let mut seen = 0usize;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            // Past the limit the answer is 413 whatever else arrives.
            Err(_) if too_large => break,
            Err(_) => return Err(BodyTimedOut),
        };
        let Ok(mut chunk) = chunk else { break };
        seen = seen.saturating_add(chunk.remaining());
        too_large |= seen > limit;
        if too_large {
            if seen > DRAIN_LIMIT {
                break;
            }
            continue;
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let read = piece.len();
            chunk.advance(read);
        }
    }
    Ok((!too_large).then(|| collected.freeze()))
}
