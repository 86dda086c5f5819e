//! The server's limits against hostile clients over raw TCP (issue #5,
//! item 4): a body over the 1 MiB cap gets 413 with the JSON shape (sent,
//! awaiting `100 Continue`, or declared and never sent); slow and idle
//! clients are cut off by the read timeouts (a stalled body with 408); and
//! neither a stalled client nor one that never reads holds up shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::raw_tcp::{
    check_error_shape, exchange, fill, find, health, read_response, valid_activity, Crm, Reply,
    Response, DEV_AUTH, POST_HEAD, SHORT_READ_TIMEOUT,
};

// ---------------------------------------------------------------------------
// Oversized bodies.

const TEN_MB: usize = 10 * 1024 * 1024;

/// Sends a 10 MB body from another thread while this one reads the answer,
/// so neither side can block the other.
fn send_big(crm: &Crm, head: String, chunked: bool) -> Response {
    let mut stream = crm.connect();
    let mut writer = stream.try_clone().expect("clone");
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        writer.write_all(head.as_bytes())?;
        let piece = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < TEN_MB {
            if chunked {
                writer.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
            }
            writer.write_all(&piece)?;
            if chunked {
                writer.write_all(b"\r\n")?;
            }
            sent += piece.len();
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n")?;
        }
        Ok(())
    });
    let reply = read_response(&mut stream, false).expect("an answer, not a hang");
    // The server reads the whole upload before it answers, so the sender
    // has finished (successfully) by now.
    sender
        .join()
        .expect("sender thread")
        .expect("the whole body was accepted for reading");
    match reply {
        Reply::Answered(response) => response,
        Reply::Closed => panic!("closed without a 413"),
    }
}

#[test]
fn a_10_mb_body_gets_413_with_the_json_shape() {
    let crm = Crm::start(Duration::from_secs(30));
    for chunked in [false, true] {
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_owned()
        } else {
            format!("Content-Length: {TEN_MB}")
        };
        let head = format!("{POST_HEAD}{framing}\r\n\r\n");
        let response = send_big(&crm, head, chunked);
        assert_eq!(response.status, 413, "chunked: {chunked}");
        check_error_shape(&response).expect("JSON error");
        let body: Value = serde_json::from_slice(&response.body).expect("json");
        assert_eq!(body["error"]["code"], "payload_too_large");
    }
    health(&crm).expect("still serving");
    crm.stop().expect("clean shutdown");
}

#[test]
fn an_oversized_body_awaiting_100_continue_gets_413_before_it_is_sent() {
    let crm = Crm::start(Duration::from_secs(30));
    let head = format!("{POST_HEAD}Expect: 100-continue\r\nContent-Length: {TEN_MB}\r\n\r\n");
    let mut stream = crm.connect();
    stream.write_all(head.as_bytes()).expect("write");
    let mut received = Vec::new();
    while find(&received, b"\r\n\r\n").is_none() {
        assert!(
            fill(&mut stream, &mut received).expect("no hang"),
            "closed early"
        );
    }
    assert!(
        received.starts_with(b"HTTP/1.1 413 "),
        "413 straight away, no 100 Continue: {:?}",
        String::from_utf8_lossy(&received)
    );
    crm.stop().expect("clean shutdown");
}

#[test]
fn a_declared_oversized_body_that_never_comes_gets_413_not_a_hang() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let head = format!("{POST_HEAD}Content-Length: {TEN_MB}\r\n\r\n");
    let reply = exchange(&crm, head.as_bytes(), false, false).expect("no hang");
    let Reply::Answered(response) = reply else {
        panic!("closed without an answer");
    };
    assert_eq!(response.status, 413);
    check_error_shape(&response).expect("JSON error");
    crm.stop().expect("clean shutdown");
}

// ---------------------------------------------------------------------------
// Slow and idle clients.

/// Blocks until the server closes `stream`; `Err` if it never does.
fn wait_for_close(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut received = Vec::new();
    while fill(stream, &mut received)? {}
    Ok(received)
}

#[test]
fn half_a_request_line_is_cut_off() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    stream.write_all(b"GET /hea").expect("write");
    let received = wait_for_close(&mut stream).expect("the server closes the connection");
    assert!(received.is_empty(), "nothing to answer to: {received:?}");
    health(&crm).expect("still serving");
    crm.stop().expect("clean shutdown");
}

#[test]
fn a_silent_connection_is_cut_off() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    wait_for_close(&mut stream).expect("the server closes the connection");
    crm.stop().expect("clean shutdown");
}

#[test]
fn an_idle_kept_alive_connection_is_cut_off() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: m\r\n\r\n")
        .expect("write");
    match read_response(&mut stream, false).expect("answer") {
        Reply::Answered(response) => assert_eq!(response.status, 200),
        Reply::Closed => panic!("closed before answering"),
    }
    wait_for_close(&mut stream).expect("the idle connection is closed");
    crm.stop().expect("clean shutdown");
}

#[test]
fn a_stalled_body_gets_408_and_the_connection_closes() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    stream
        .write_all(format!("{POST_HEAD}Content-Length: 100\r\n\r\n{{\"subject\":").as_bytes())
        .expect("write");
    let response = match read_response(&mut stream, false).expect("answer") {
        Reply::Answered(response) => response,
        Reply::Closed => panic!("closed without a 408"),
    };
    assert_eq!(response.status, 408);
    check_error_shape(&response).expect("JSON error");
    let body: Value = serde_json::from_slice(&response.body).expect("json");
    assert_eq!(body["error"]["code"], "request_timeout");
    assert_eq!(response.header("connection"), Some("close"));
    wait_for_close(&mut stream).expect("then the connection is closed");
    crm.stop().expect("clean shutdown");
}

#[test]
fn shutdown_is_not_held_up_by_stalled_clients() {
    // Long enough that the stalled body's 408, due one read timeout after
    // it started, comes well inside shutdown's wait of two.
    let crm = Crm::start(Duration::from_secs(1));
    let mut half_head = crm.connect();
    half_head
        .write_all(b"POST /activity HTTP/1.1\r\nHo")
        .expect("write");
    // `100 Continue` comes when the handler starts reading the body: from
    // then on the request is in flight, and shutdown would wait for it.
    let mut half_body = crm.connect();
    half_body
        .write_all(
            format!("{POST_HEAD}Expect: 100-continue\r\nContent-Length: 100\r\n\r\n").as_bytes(),
        )
        .expect("write");
    let mut received = Vec::new();
    while find(&received, b"\r\n\r\n").is_none() {
        assert!(
            fill(&mut half_body, &mut received).expect("no hang"),
            "closed early"
        );
    }
    assert!(received.starts_with(b"HTTP/1.1 100 "), "{received:?}");
    half_body.write_all(b"{").expect("write");
    crm.stop()
        .expect("shutdown finishes despite the stalled clients");
    wait_for_close(&mut half_head).expect("closed");
    let rest = wait_for_close(&mut half_body).expect("closed");
    assert!(
        rest.starts_with(b"HTTP/1.1 408 "),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn shutdown_is_not_held_up_by_a_client_that_never_reads() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    // An answer far bigger than the socket buffers: writing it blocks for
    // as long as the client does not read.
    let mut activity = valid_activity();
    activity["body"] = Value::from("x".repeat(1_000_000));
    let body = activity.to_string();
    for _ in 0..16 {
        let bytes = format!("{POST_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
        match exchange(&crm, bytes.as_bytes(), false, false) {
            Ok(Reply::Answered(response)) => assert_eq!(response.status, 201),
            other => panic!("create failed: {other:?}"),
        }
    }
    let mut reader = crm.connect();
    reader
        .write_all(
            format!(
                "GET /activity?limit=16 HTTP/1.1\r\nHost: m\r\nAuthorization: {DEV_AUTH}\r\n\r\n"
            )
            .as_bytes(),
        )
        .expect("write");
    let mut first = [0u8; 1];
    reader
        .read_exact(&mut first)
        .expect("the answer has started");
    crm.stop()
        .expect("shutdown finishes although the answer is still being written");
    drop(reader);
}
