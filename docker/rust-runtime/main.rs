// The Rust function of seed 004 (rust:1.67-slim in production): an HTTP server on port 8080 speaking
// the OpenFaaS watchdog's contract itself, as of-watchdog's HTTP mode expects of a function:
// GET /_/health answers 200; any other call runs the function on its JSON body or query (cpuMs of
// computation, allocMb of memory held until it answers, sleepMs of waiting) and answers JSON.
// exec_timeout (a Go duration such as 30s, from the environment) bounds each call: past it the call
// answers 500 and its work is abandoned. Standard library only, so Debian's rustc builds it alone.
use std::collections::HashMap;
use std::env;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

fn duration_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(seconds) = t.parse::<f64>() {
        return Some((seconds * 1000.0) as u64);
    }
    let mut total = 0.0;
    let mut number = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next().unwrap());
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        total += value
            * match unit.as_str() {
                "h" => 3_600_000.0,
                "m" => 60_000.0,
                "s" => 1000.0,
                "ms" => 1.0,
                _ => return None,
            };
    }
    if !number.is_empty() {
        return None;
    }
    Some(total as u64)
}

/// The numeric fields of a flat JSON object or a query string ("cpuMs": 40 / cpuMs=40).
fn fields(text: &str, into: &mut HashMap<String, f64>) {
    let cleaned: String = text
        .chars()
        .map(|c| if c == '{' || c == '}' || c == '"' || c == ' ' || c == '\n' { ' ' } else { c })
        .collect();
    for pair in cleaned.split(|c| c == ',' || c == '&') {
        let mut kv = pair.splitn(2, |c| c == ':' || c == '=');
        if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
            if let Ok(n) = v.trim().parse::<f64>() {
                into.insert(k.trim().to_string(), n);
            }
        }
    }
}

fn work(input: HashMap<String, f64>, stop: Arc<AtomicBool>) -> String {
    let cpu_ms = input.get("cpuMs").cloned().unwrap_or(0.0).max(0.0);
    let alloc_mb = input.get("allocMb").cloned().unwrap_or(0.0).max(0.0) as usize;
    let sleep_ms = input.get("sleepMs").cloned().unwrap_or(0.0).max(0.0);
    let mut held: Vec<Vec<u8>> = Vec::new();
    for i in 0..alloc_mb {
        held.push(vec![(i & 0xff) as u8; 1024 * 1024]);
    }
    let until = Instant::now() + Duration::from_micros((cpu_ms * 1000.0) as u64);
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut rounds: u64 = 0;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        for _ in 0..1000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
        }
        rounds += 1;
    }
    let sleep_until = Instant::now() + Duration::from_micros((sleep_ms * 1000.0) as u64);
    while Instant::now() < sleep_until && !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(5));
    }
    format!(
        "{{\"runtime\":\"rust\",\"rounds\":{},\"state\":{},\"allocatedMb\":{},\"sleptMs\":{}}}",
        rounds,
        state % 1000,
        held.len(),
        sleep_ms
    )
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        status,
        content_type,
        body.len(),
        body
    );
}

fn handle(mut stream: TcpStream, exec_timeout_ms: u64) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (path, query) = match target.find('?') {
        Some(i) => (target[..i].to_string(), target[i + 1..].to_string()),
        None => (target.clone(), String::new()),
    };
    if path == "/_/health" {
        respond(&mut stream, "200 OK", "text/plain", "OK");
        return;
    }
    let mut input = HashMap::new();
    fields(&query, &mut input);
    fields(&String::from_utf8_lossy(&body), &mut input);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let worker_stop = stop.clone();
    thread::spawn(move || {
        let _ = tx.send(work(input, worker_stop));
    });
    let answer = if exec_timeout_ms > 0 {
        rx.recv_timeout(Duration::from_millis(exec_timeout_ms)).ok()
    } else {
        rx.recv().ok()
    };
    match answer {
        Some(json) => respond(&mut stream, "200 OK", "application/json", &json),
        None => {
            stop.store(true, Ordering::Relaxed);
            let message = format!("Function was killed by ExecTimeout: {}s\n", exec_timeout_ms as f64 / 1000.0);
            respond(&mut stream, "500 Internal Server Error", "text/plain", &message);
        }
    }
}

fn main() {
    let port = env::var("port").unwrap_or_else(|_| "8080".to_string());
    let exec_timeout_ms = env::var("exec_timeout").ok().and_then(|t| duration_ms(&t)).unwrap_or(10_000);
    let listener = TcpListener::bind(format!("0.0.0.0:{}", port)).expect("bind");
    eprintln!("rust-runtime listening on {} (exec_timeout {} ms)", port, exec_timeout_ms);
    for stream in listener.incoming() {
        if let Ok(stream) = stream {
            thread::spawn(move || handle(stream, exec_timeout_ms));
        }
    }
}
