//! A small HTTP server for the tests (std `TcpListener`, a thread per connection) whose
//! handler decides every answer: faults for the refresh loop, failures for the sender of
//! outcomes. It logs every request (path, headers, body).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub at: Instant,
    /// 0 for the first request to this path, then 1, …
    pub nth: usize,
    /// The body (`Content-Length` bytes), empty without one.
    pub body: String,
}

type Handler = dyn Fn(&Request, &mut TcpStream) + Send + Sync;

pub struct Faulty {
    pub url: String,
    pub log: Arc<Mutex<Vec<Request>>>,
}

impl Faulty {
    pub fn start(handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> Faulty {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::<Request>::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let log = Arc::clone(&shared);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || {
                    let Some(mut request) = read_request(&stream) else { return };
                    {
                        let mut log = log.lock().unwrap();
                        request.nth = log.iter().filter(|r| r.path == request.path).count();
                        log.push(request.clone());
                    }
                    handler(&request, &mut stream);
                });
            }
        });
        Faulty { url, log }
    }

    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.log.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length").and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8(body).ok()?;
    Some(Request { path, headers, at: Instant::now(), nth: 0, body })
}

pub fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &str) {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// Starts an event stream (no length: the body runs until the connection closes).
pub fn stream_head(stream: &mut TcpStream) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.flush();
}

pub fn snapshot(revision: u64, on: bool) -> String {
    let state = if on { "on" } else { "off" };
    format!(
        r#"{{"schemaVersion":1,"revision":{revision},"flags":{{"f":{{"type":"boolean","state":"{state}","variants":{{"on":true,"off":false}},"offVariant":"off","fallthrough":{{"variant":"on"}}}}}}}}"#
    )
}
