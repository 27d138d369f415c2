//! A small HTTP/1.1 load generator for the benchmarks: N keep-alive connections on their own
//! threads, each sending the same request back to back for a fixed time.
//!
//! It speaks just enough HTTP (Content-Length and chunked bodies) for our own servers on
//! 127.0.0.1, and costs far less per request than a general-purpose client, so the figures measure
//! the server under test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One request to repeat: a GET of `path` on `addr` with extra headers.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Target {
    pub fn get(addr: SocketAddr, path: impl Into<String>) -> Target {
        Target {
            addr,
            method: "GET",
            path: path.into(),
            headers: Vec::new(),
        }
    }

    pub fn post(addr: SocketAddr, path: impl Into<String>) -> Target {
        Target {
            method: "POST",
            ..Target::get(addr, path)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Target {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn request_bytes(&self) -> Vec<u8> {
        let mut text = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive\r\n",
            self.method, self.path, self.addr
        );
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.into_bytes()
    }
}

/// What one load run saw.
pub struct Outcome {
    pub ok: u64,
    /// Non-2xx answers and broken connections.
    pub errors: u64,
    pub elapsed: Duration,
    /// Every request's latency, unsorted.
    pub latencies: Vec<Duration>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at `q` (0.5 for the median), or zero when nothing completed.
    pub fn quantile(&self, q: f64) -> Duration {
        quantile(&self.latencies, q)
    }
}

/// The value at quantile `q` of `samples` (nearest rank).
pub fn quantile(samples: &[Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs `connections` clients against `target` for `duration`.
pub fn run(target: &Target, connections: usize, duration: Duration) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let request = Arc::new(target.request_bytes());
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (stop, request, addr) = (stop.clone(), request.clone(), target.addr);
            std::thread::spawn(move || client_loop(addr, &request, &stop))
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut outcome = Outcome {
        ok: 0,
        errors: 0,
        elapsed: started.elapsed(),
        latencies: Vec::new(),
    };
    for worker in workers {
        if let Ok((ok, errors, latencies)) = worker.join() {
            outcome.ok += ok;
            outcome.errors += errors;
            outcome.latencies.extend(latencies);
        }
    }
    outcome
}

/// One request on a fresh connection, returning the status and the body (for set-up calls such
/// as a login before a load run).
pub fn fetch(target: &Target) -> std::io::Result<(u16, String)> {
    let stream = TcpStream::connect(target.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let request = target.request_bytes();
    reader.get_mut().write_all(&request)?;
    let mut out = Vec::new();
    let (status, _) = read_response(&mut reader, Some(&mut out))?;
    Ok((status, String::from_utf8_lossy(&out).into_owned()))
}

/// `count` requests one after another on one connection: the latency of a lone user.
pub fn sequential(target: &Target, count: usize) -> Outcome {
    let request = target.request_bytes();
    let started = Instant::now();
    let mut outcome = Outcome {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(count),
    };
    let mut conn = None;
    for _ in 0..count {
        let t0 = Instant::now();
        match exchange(&mut conn, target.addr, &request) {
            Ok(true) => {
                outcome.ok += 1;
                outcome.latencies.push(t0.elapsed());
            }
            _ => outcome.errors += 1,
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

fn client_loop(addr: SocketAddr, request: &[u8], stop: &AtomicBool) -> (u64, u64, Vec<Duration>) {
    let (mut ok, mut errors, mut latencies) = (0, 0, Vec::new());
    let mut conn = None;
    while !stop.load(Ordering::Relaxed) {
        let t0 = Instant::now();
        match exchange(&mut conn, addr, request) {
            Ok(true) => {
                ok += 1;
                latencies.push(t0.elapsed());
            }
            _ => errors += 1,
        }
    }
    (ok, errors, latencies)
}

/// Sends one request and reads the whole response; `Ok(true)` for a 2xx. Reconnects when the
/// connection was closed.
fn exchange(
    conn: &mut Option<BufReader<TcpStream>>,
    addr: SocketAddr,
    request: &[u8],
) -> std::io::Result<bool> {
    if conn.is_none() {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        *conn = Some(BufReader::new(stream));
    }
    let result = conn
        .as_mut()
        .ok_or_else(|| std::io::Error::other("no connection"))
        .and_then(|reader| {
            reader.get_mut().write_all(request)?;
            read_response(reader, None)
        });
    match result {
        Ok((status, keep_alive)) => {
            if !keep_alive {
                *conn = None;
            }
            Ok((200..300).contains(&status))
        }
        Err(e) => {
            *conn = None;
            Err(e)
        }
    }
}

/// Reads one response; returns its status and whether the connection stays open.
fn read_response(
    reader: &mut BufReader<TcpStream>,
    mut body: Option<&mut Vec<u8>>,
) -> std::io::Result<(u16, bool)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(bad("connection closed"));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let (mut length, mut chunked, mut keep_alive) = (None, false, true);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("truncated headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("bad chunk"))?;
            take(reader, size, body.as_deref_mut())?;
            take(reader, 2, None)?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        take(reader, n, body)?;
    } else {
        keep_alive = false;
    }
    Ok((status, keep_alive))
}

/// Reads `n` body bytes, into `body` when given, else discarding them.
fn take(
    reader: &mut BufReader<TcpStream>,
    n: usize,
    body: Option<&mut Vec<u8>>,
) -> std::io::Result<()> {
    let mut limited = reader.by_ref().take(n as u64);
    let copied = match body {
        Some(buf) => std::io::copy(&mut limited, buf)?,
        None => std::io::copy(&mut limited, &mut std::io::sink())?,
    };
    if copied as usize == n {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "short body",
        ))
    }
}
