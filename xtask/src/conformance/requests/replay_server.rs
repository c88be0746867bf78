//! A loopback HTTP/1.1 server that answers an entry's recorded exchanges to a real client.
//!
//! The server listens on `127.0.0.1` at an ephemeral port, serves every connection on its
//! own thread with keep-alive, and writes down every request it receives. Answers are the
//! recorded responses exactly as the core runner synthesizes them ([`super::transport`]):
//! the fixture's headers plus `content-length`, and nothing else (no `date`, no
//! `connection`), because a retrieve-mode audit row lists the provider's response headers.
//!
//! Foreground requests take the recorded exchanges in `seq` order, whatever they are. A
//! background upload (an audit row, a scope-mismatch report) may arrive at any time after
//! the request that caused it, on its own connection, so a request whose method and path
//! match a background exchange not yet answered takes that one instead. A request with no
//! exchange left gets status 599 and a body holding [`UNEXPECTED_MARKER`], so that the run
//! fails clearly rather than hanging.
//!
//! The server only answers and records; judging what it received is the caller's job.
//!
//! # Limitations
//!
//! Request heads must be UTF-8 (every client here sends ASCII). `Expect: 100-continue` is not
//! honoured; neither HTTP stack sends it.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::SystemTime;

use alter_core::HttpResponse;

/// Marks the body of the 599 answer to a request no recorded exchange was left for.
pub(crate) const UNEXPECTED_MARKER: &str = "alter-rs replay server: no recorded exchange left";

/// The status of that answer: outside every range a backend or provider uses.
const UNEXPECTED_STATUS: u16 = 599;

/// The largest request body the server accepts; larger ones end the connection.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One recorded exchange as the server needs it: how to recognise a background upload, and
/// what to answer.
#[derive(Debug)]
pub(crate) struct Canned {
    /// The recorded method.
    pub(crate) method: String,
    /// The recorded path with query.
    pub(crate) path: String,
    /// Whether the reference client sent it in the background.
    pub(crate) background: bool,
    /// The answer.
    pub(crate) response: HttpResponse,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// Method from the request line.
    pub(crate) method: String,
    /// Path and query from the request line.
    pub(crate) target: String,
    /// Headers in the order received, names as sent.
    pub(crate) headers: Vec<(String, String)>,
    /// The body bytes.
    pub(crate) body: Vec<u8>,
    /// The wall clock when the request was complete.
    pub(crate) at: SystemTime,
    /// The index of the exchange that answered it; `None` for the 599 answer.
    pub(crate) answered_by: Option<usize>,
}

impl Received {
    /// The first value of header `name`, compared case-insensitively.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A bound listener whose port is known before the exchanges are: the entry is rewritten to
/// this address first.
#[derive(Debug)]
pub(crate) struct Bound {
    listener: TcpListener,
    address: SocketAddr,
}

impl Bound {
    /// Binds `127.0.0.1` at an ephemeral port.
    pub(crate) fn new() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        Ok(Self { listener, address })
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Starts answering with `exchanges`, in this order.
    pub(crate) fn serve(self, exchanges: Vec<Canned>) -> io::Result<ReplayServer> {
        let ledger = Arc::new(Mutex::new(Ledger {
            answered: vec![false; exchanges.len()],
            exchanges,
            received: Vec::new(),
            connections: Vec::new(),
            workers: Vec::new(),
        }));
        let stopping = Arc::new(AtomicBool::new(false));

        let acceptor = {
            let ledger = Arc::clone(&ledger);
            let stopping = Arc::clone(&stopping);
            std::thread::Builder::new()
                .name("replay-accept".to_owned())
                .spawn(move || accept_all(&self.listener, &ledger, &stopping))?
        };
        Ok(ReplayServer {
            address: self.address,
            ledger,
            stopping,
            acceptor: Some(acceptor),
        })
    }
}

/// A running replay server; [`ReplayServer::stop`] ends it and hands over what it received.
#[derive(Debug)]
pub(crate) struct ReplayServer {
    address: SocketAddr,
    ledger: Arc<Mutex<Ledger>>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ReplayServer {
    /// Stops accepting, closes every connection, waits for the threads, and returns every
    /// request received, in order of arrival.
    pub(crate) fn stop(mut self) -> Vec<Received> {
        self.shut_down();
        let mut ledger = lock(&self.ledger);
        std::mem::take(&mut ledger.received)
    }

    fn shut_down(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // The acceptor blocks in accept(); one more connection wakes it to see the flag.
        let _wake = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _joined = acceptor.join();
        }

        let workers = {
            let mut ledger = lock(&self.ledger);
            for connection in &ledger.connections {
                // Wakes a worker blocked reading a connection the client keeps alive.
                let _closed = connection.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut ledger.workers)
        };
        for worker in workers {
            let _joined = worker.join();
        }
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.shut_down();
        }
    }
}

/// What the connection threads share.
#[derive(Debug)]
struct Ledger {
    exchanges: Vec<Canned>,
    answered: Vec<bool>,
    received: Vec<Received>,
    connections: Vec<TcpStream>,
    workers: Vec<JoinHandle<()>>,
}

impl Ledger {
    /// Records `request` and picks its answer.
    fn answer(&mut self, mut request: Received) -> HttpResponse {
        let path_matches = |canned: &Canned| {
            canned.method.eq_ignore_ascii_case(&request.method) && canned.path == request.target
        };
        let pending = |index: &usize| !self.answered[*index];
        let background = (0..self.exchanges.len()).filter(pending).find(|&index| {
            self.exchanges[index].background && path_matches(&self.exchanges[index])
        });
        let chosen = background.or_else(|| {
            (0..self.exchanges.len())
                .filter(pending)
                .find(|&index| !self.exchanges[index].background)
        });

        request.answered_by = chosen;
        self.received.push(request);
        match chosen {
            Some(index) => {
                self.answered[index] = true;
                self.exchanges[index].response.clone()
            }
            None => unexpected(),
        }
    }
}

fn accept_all(listener: &TcpListener, ledger: &Arc<Mutex<Ledger>>, stopping: &AtomicBool) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let Ok(handle) = stream.try_clone() else {
            continue;
        };

        let worker = {
            let ledger = Arc::clone(ledger);
            std::thread::Builder::new()
                .name("replay-connection".to_owned())
                .spawn(move || serve_connection(stream, &ledger))
        };
        let mut ledger = lock(ledger);
        ledger.connections.push(handle);
        if let Ok(worker) = worker {
            ledger.workers.push(worker);
        }
    }
}

/// Answers requests on one connection until the client closes it or the server stops.
fn serve_connection(stream: TcpStream, ledger: &Mutex<Ledger>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);

    while let Ok(Some(request)) = read_request(&mut reader) {
        let response = lock(ledger).answer(request);
        if writer.write_all(&encode(&response)).is_err() || writer.flush().is_err() {
            return;
        }
    }
}

/// Reads one request; `None` when the connection ended before a new one began.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Received>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(malformed("request line"));
    };
    let (method, target) = (method.to_owned(), target.to_owned());

    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(malformed("end of headers"));
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(|| malformed("header"))?;
        headers.push((name.to_owned(), value.trim().to_owned()));
    }

    let mut request = Received {
        method,
        target,
        headers,
        body: Vec::new(),
        at: SystemTime::now(),
        answered_by: None,
    };
    request.body = read_body(reader, &request)?;
    request.at = SystemTime::now();
    Ok(Some(request))
}

/// The body framed by `content-length` or chunked transfer coding.
fn read_body(reader: &mut impl BufRead, head: &Received) -> io::Result<Vec<u8>> {
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"));
    if chunked {
        return read_chunked(reader);
    }

    let length = match head.header("content-length") {
        Some(value) => value
            .parse::<usize>()
            .map_err(|_| malformed("content-length"))?,
        None => 0,
    };
    if length > MAX_BODY {
        return Err(malformed("body size"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = line.trim_end().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16).map_err(|_| malformed("chunk size"))?;
        if body.len() + size > MAX_BODY {
            return Err(malformed("body size"));
        }
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }

        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?;
    }
}

/// The answer on the wire: status line, the given headers as they are, the body.
fn encode(response: &HttpResponse) -> Vec<u8> {
    let mut wire = format!("HTTP/1.1 {} Replayed\r\n", response.status).into_bytes();
    for (name, value) in &response.headers {
        wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(&response.body);
    wire
}

fn unexpected() -> HttpResponse {
    HttpResponse {
        status: UNEXPECTED_STATUS,
        headers: vec![
            ("content-type".to_owned(), "text/plain".to_owned()),
            (
                "content-length".to_owned(),
                UNEXPECTED_MARKER.len().to_string(),
            ),
        ],
        body: UNEXPECTED_MARKER.as_bytes().to_vec(),
    }
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed {what}"))
}

fn lock(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn canned(method: &str, path: &str, background: bool, body: &str) -> Canned {
        Canned {
            method: method.to_owned(),
            path: path.to_owned(),
            background,
            response: HttpResponse {
                status: 200,
                headers: vec![("content-length".to_owned(), body.len().to_string())],
                body: body.as_bytes().to_vec(),
            },
        }
    }

    /// Sends raw requests on one connection and reads `answers` answers back.
    fn exchange(address: SocketAddr, raw: &str, answers: usize) -> Vec<String> {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        (0..answers)
            .map(|_| {
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(value) = line.strip_prefix("content-length: ") {
                        length = value.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                head + &String::from_utf8(body).unwrap()
            })
            .collect()
    }

    #[test]
    fn answers_in_order_with_keep_alive_and_records_every_request() {
        let bound = Bound::new().unwrap();
        let address = bound.address();
        let server = bound
            .serve(vec![
                canned("POST", "/sdk/token", false, "first"),
                canned("GET", "/provider", false, "second"),
            ])
            .unwrap();

        let answers = exchange(
            address,
            "POST /sdk/token HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}\
             GET /provider?a=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
             3\r\nabc\r\n0\r\n\r\n",
            2,
        );
        let received = server.stop();

        assert!(answers[0].starts_with("HTTP/1.1 200 "));
        assert!(answers[0].ends_with("first"));
        assert!(answers[1].ends_with("second"));
        assert_eq!(received.len(), 2);
        assert_eq!(received[0].body, b"{}");
        assert_eq!(received[1].target, "/provider?a=1");
        assert_eq!(received[1].body, b"abc");
        assert_eq!(received[1].answered_by, Some(1));
    }

    #[test]
    fn background_uploads_match_by_path_and_extra_requests_get_599() {
        let bound = Bound::new().unwrap();
        let address = bound.address();
        let server = bound
            .serve(vec![
                canned("POST", "/sdk/token", false, "token"),
                canned("POST", "/sdk/audit", true, "audit"),
            ])
            .unwrap();

        let answers = exchange(
            address,
            "POST /sdk/audit HTTP/1.1\r\n\r\n\
             POST /sdk/token HTTP/1.1\r\n\r\n\
             POST /sdk/token HTTP/1.1\r\n\r\n",
            3,
        );
        let received = server.stop();

        assert!(answers[0].ends_with("audit"));
        assert!(answers[1].ends_with("token"));
        assert!(answers[2].starts_with("HTTP/1.1 599 "));
        assert!(answers[2].ends_with(UNEXPECTED_MARKER));
        assert_eq!(
            received.iter().map(|r| r.answered_by).collect::<Vec<_>>(),
            [Some(1), Some(0), None]
        );
    }

    #[test]
    fn a_malformed_request_ends_only_its_connection() {
        let bound = Bound::new().unwrap();
        let address = bound.address();
        let server = bound.serve(vec![canned("GET", "/a", false, "ok")]).unwrap();

        let mut broken = TcpStream::connect(address).unwrap();
        broken.write_all(b"GARBAGE\r\n\r\n").unwrap();
        let answers = exchange(address, "GET /a HTTP/1.1\r\n\r\n", 1);
        let received = server.stop();

        assert!(answers[0].ends_with("ok"));
        assert_eq!(received.len(), 1);
    }
}
