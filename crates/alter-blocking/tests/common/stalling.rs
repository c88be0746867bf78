//! A loopback server that misbehaves below HTTP: it reads each request's head, writes a
//! fixed answer (possibly nothing, possibly half an answer), then sends nothing more while
//! keeping the connection open, until the client hangs up.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// Starts a server that answers every request with `answer` and then stalls; returns its
/// base URL (`http://127.0.0.1:<port>`). It lives until the test process ends.
pub(crate) fn stalling_server(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("a bound address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || stall(stream, answer));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn stall(mut stream: TcpStream, answer: &[u8]) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    if stream.write_all(answer).is_err() {
        return;
    }
    // Reads (and ignores) until the client closes: the connection stays open meanwhile.
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}
