//! Makes hyper's own answers to requests it cannot parse speak JSON.
//!
//! hyper answers a request it cannot read as HTTP/1.1 by itself, before
//! mockcrm sees anything: a bad request line, header or framing gets 400, a
//! target or header block over its limits 414 or 431, each with an empty
//! body and then a closed connection. README.md ("HTTP API") promises the JSON error shape
//! on every non-2xx answer, so `JsonParseErrors`, wrapped around the
//! socket, recognises those answers as hyper writes them and writes the
//! same status with the `ApiError` body instead.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use warp::http::StatusCode;

use crate::web::ApiError;

pub struct JsonParseErrors<T> {
    inner: T,
    rewrite: Option<Rewrite>,
}

/// A rewritten answer on its way out.
struct Rewrite {
    bytes: Vec<u8>,
    written: usize,
    /// How many of hyper's bytes it replaces: what hyper is told was written.
    replaces: usize,
}

impl<T> JsonParseErrors<T> {
    pub fn new(inner: T) -> JsonParseErrors<T> {
        JsonParseErrors {
            inner,
            rewrite: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> JsonParseErrors<T> {
    /// Writes what is left of a rewrite, if any.
    fn poll_rewrite(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(rewrite) = &mut self.rewrite {
            if rewrite.written == rewrite.bytes.len() {
                break;
            }
            let written = ready!(
                Pin::new(&mut self.inner).poll_write(cx, &rewrite.bytes[rewrite.written..])
            )?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            rewrite.written += written;
        }
        Poll::Ready(Ok(()))
    }

    /// Finishes the rewrite started for hyper's `buf` and reports all of
    /// `buf` written.
    fn poll_finish_rewrite(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(self.poll_rewrite(cx))?;
        let replaced = self.rewrite.take().map_or(0, |rewrite| rewrite.replaces);
        Poll::Ready(Ok(replaced))
    }

    fn start_rewrite(&mut self, buf: &[u8]) {
        if self.rewrite.is_none() {
            self.rewrite = rewrite(buf).map(|bytes| Rewrite {
                bytes,
                written: 0,
                replaces: buf.len(),
            });
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonParseErrors<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.start_rewrite(buf);
        if this.rewrite.is_some() {
            return this.poll_finish_rewrite(cx);
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // hyper's own answer is a head alone, so a single buffer.
        if let [only] = bufs {
            this.start_rewrite(only);
        }
        if this.rewrite.is_some() {
            return this.poll_finish_rewrite(cx);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_rewrite(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_rewrite(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The JSON answer for `buf` if `buf` is hyper's answer to an unreadable
/// request: a whole head, no body, status 400, 414 or 431, an empty body
/// and no content type. mockcrm's own answers always carry a JSON body and
/// its content type, so they never match.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let status = match buf.get(..13)? {
        b"HTTP/1.1 400 " => StatusCode::BAD_REQUEST,
        b"HTTP/1.1 414 " => StatusCode::URI_TOO_LONG,
        b"HTTP/1.1 431 " => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?;
    let mut date = None;
    let mut empty = false;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => empty = value.trim() == "0",
            "content-type" => return None,
            "date" => date = Some(value.trim()),
            _ => {}
        }
    }
    if !empty {
        return None;
    }
    let body = ApiError::Unreadable(status).into_response().body_bytes();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        body.len()
    );
    if let Some(date) = date {
        answer.push_str(&format!("date: {date}\r\n"));
    }
    answer.push_str("\r\n");
    let mut answer = answer.into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 25 Nov 2026 15:30:52 GMT\r\n\r\n";

    fn split(answer: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(answer.to_vec()).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        (
            head.to_owned(),
            serde_json::from_str(body).expect("JSON body"),
        )
    }

    #[test]
    fn hyper_parse_errors_become_json_with_the_same_status() {
        let (head, body) = split(&rewrite(HYPER_400).expect("rewritten"));
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        assert!(
            head.contains("date: Wed, 25 Nov 2026 15:30:52 GMT"),
            "{head}"
        );
        assert_eq!(body["error"]["code"], "bad_request");
        for (hyper, code) in [
            (
                &b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"[..],
                "uri_too_long",
            ),
            (
                &b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n"[..],
                "headers_too_large",
            ),
        ] {
            let (_, body) = split(&rewrite(hyper).expect("rewritten"));
            assert_eq!(body["error"]["code"], code);
        }
    }

    #[test]
    fn mockcrm_answers_pass_untouched() {
        for answer in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 0\r\n\r\n"[..],
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n"[..],
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}"[..],
            &b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"[..],
            &b"HTTP/1.1 400 Bad Req"[..],
        ] {
            assert_eq!(rewrite(answer), None, "{}", String::from_utf8_lossy(answer));
        }
    }

    #[tokio::test]
    async fn a_rewrite_reports_hyper_s_bytes_as_written() {
        use tokio::io::AsyncWriteExt;
        let mut out = JsonParseErrors::new(Vec::new());
        let written = out.write(HYPER_400).await.expect("write");
        assert_eq!(written, HYPER_400.len());
        out.write_all(b"next").await.expect("write");
        let (head, rest) = {
            let text = String::from_utf8(out.inner).expect("utf-8");
            let (head, rest) = text.split_once("\r\n\r\n").expect("head");
            (head.to_owned(), rest.to_owned())
        };
        assert!(head.contains("application/json"));
        assert!(rest.ends_with("}next"), "{rest}");
    }
}
