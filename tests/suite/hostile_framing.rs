//! Broken framing over raw TCP (issue #5, item 4): hyper refuses a request
//! it cannot parse with 400, 414 or 431 before mockcrm sees it (rewritten to
//! the JSON shape on the way out), or the connection closes. Never a 5xx,
//! never a hang, always the JSON error shape, and the server still answers
//! `/health` afterwards. `PROPTEST_CASES` sets the number of cases.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::raw_tcp::{
    cases, check_error_shape, exchange, health, valid_activity, Crm, Reply, POST_HEAD,
    SHORT_READ_TIMEOUT,
};

#[derive(Debug, Clone)]
struct Broken {
    bytes: Vec<u8>,
    half_close: bool,
}

fn broken(bytes: impl Into<Vec<u8>>, half_close: bool) -> Broken {
    Broken {
        bytes: bytes.into(),
        half_close,
    }
}

fn broken_request() -> BoxedStrategy<Broken> {
    let activity = valid_activity().to_string();
    let truncated = {
        let activity = activity.clone();
        (any::<prop::sample::Index>(), any::<bool>()).prop_map(move |(cut, half_close)| {
            // Content-Length promises more than is sent.
            let at = cut.index(activity.len());
            let mut bytes =
                format!("{POST_HEAD}Content-Length: {}\r\n\r\n", activity.len()).into_bytes();
            bytes.extend_from_slice(&activity.as_bytes()[..at]);
            broken(bytes, half_close)
        })
    };
    let chunked_truncated = {
        let activity = activity.clone();
        any::<bool>().prop_map(move |half_close| {
            let mut bytes = format!(
                "{POST_HEAD}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                activity.len()
            )
            .into_bytes();
            bytes.extend_from_slice(&activity.as_bytes()[..activity.len() / 2]);
            broken(bytes, half_close)
        })
    };
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 1..300).prop_map(|mut bytes| {
            bytes.extend_from_slice(b"\r\n\r\n");
            broken(bytes, false)
        }),
        2 => (prop::collection::vec(0x80u8..=0xff, 1..10), any::<bool>()).prop_map(|(raw, half)| {
            let mut bytes = b"GET /activity/".to_vec();
            bytes.extend_from_slice(&raw);
            bytes.extend_from_slice(b" HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer mockcrm-dev-key\r\n\r\n");
            broken(bytes, half)
        }),
        1 => (prop::collection::vec(prop_oneof![0u8..0x20, Just(0x7f), Just(b'('), Just(b'@')], 1..4), any::<bool>())
            .prop_map(|(raw, half)| {
                let mut bytes = b"G".to_vec();
                bytes.extend_from_slice(&raw);
                bytes.extend_from_slice(b"T /health HTTP/1.1\r\nHost: m\r\n\r\n");
                broken(bytes, half)
            }),
        1 => prop::sample::select(vec![
            "GET /health HTTP/9.9\r\nHost: m\r\n\r\n",
            "GET /health\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost m\r\n\r\n",
            "GET /health HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "GET /health HTTP/1.1\r\nX: a\0b\r\n\r\n",
            "GET /health HTTP/1.1\r\nX: a\rb\r\n\r\n",
            "GET /health HTTP/1.1\r\n folded: header\r\n\r\n",
            "GET /health HTTP/1.1\nHost: m\n\n",
            "GET  /health  HTTP/1.1\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            "GET /health HTTP/1.0\r\n\r\n",
            "\r\n\r\n\r\nGET /health HTTP/1.1\r\nHost: m\r\n\r\n",
        ])
        .prop_map(|text| broken(text, false)),
        2 => prop::sample::select(vec![
            "Content-Length: 5\r\nContent-Length: 6\r\n\r\n{\"a\":1}",
            "Content-Length: -1\r\n\r\n{}",
            "Content-Length: abc\r\n\r\n{}",
            "Content-Length: 99999999999999999999999999\r\n\r\n{}",
            "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: gzip\r\n\r\n{}",
            "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
            "Transfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        ])
        .prop_map(|tail| broken(format!("{POST_HEAD}{tail}"), false)),
        2 => truncated,
        1 => chunked_truncated,
        1 => (0usize..400).prop_map(|cut| {
            // Headers that never end.
            let text = format!("{POST_HEAD}Content-Length: 2\r\n\r\n{{}}");
            let at = cut.min(text.len() - 5);
            broken(text[..at].to_owned(), true)
        }),
        1 => (150usize..400).prop_map(|count| {
            let mut text = "GET /health HTTP/1.1\r\nHost: m\r\n".to_owned();
            for n in 0..count {
                text.push_str(&format!("X-{n}: {n}\r\n"));
            }
            text.push_str("\r\n");
            broken(text, false)
        }),
        1 => (100_000usize..600_000).prop_map(|size| {
            broken(format!("GET /health HTTP/1.1\r\nHost: m\r\nX-Big: {}\r\n\r\n", "x".repeat(size)), false)
        }),
        1 => (70_000usize..200_000).prop_map(|size| {
            broken(format!("GET /activity/{} HTTP/1.1\r\nHost: m\r\n\r\n", "a".repeat(size)), false)
        }),
    ]
    .boxed()
}

fn check_broken(crm: &Crm, request: &Broken) -> Result<(), String> {
    let response = match exchange(crm, &request.bytes, request.half_close, false)? {
        Reply::Answered(response) => response,
        Reply::Closed => return Ok(()),
    };
    if response.status >= 500 {
        return Err(format!(
            "{} for a client error: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    if !(200..300).contains(&response.status) {
        check_error_shape(&response)?;
    }
    Ok(())
}

#[test]
fn broken_framing_never_gets_a_5xx_or_a_hang() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let config = ProptestConfig::with_cases(cases(128));
    proptest!(config, |(request in broken_request())| {
        check_broken(&crm, &request).map_err(|why| {
            let shown: String = String::from_utf8_lossy(&request.bytes).chars().take(300).collect();
            TestCaseError::fail(format!("{why}\nrequest: {shown:?}"))
        })?;
        health(&crm).map_err(TestCaseError::fail)?;
    });
    crm.stop().expect("clean shutdown");
}
