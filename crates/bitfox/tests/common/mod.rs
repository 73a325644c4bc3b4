//! Running the `bitfox` binary in tests: a fresh data directory, real processes.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bitfox(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bitfox"));
    command
        .current_dir(dir)
        .env_remove("BITFOX_CONFIG")
        .env("BITFOX_DATA_DIR", dir.join("data"))
        .env("BITFOX_DEVNET__PORT", "0")
        .env("BITFOX_LOG", "warn");
    command
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    bitfox(dir).args(args).output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One HTTP/1.1 request over a fresh connection; returns the status line and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
    http_with(port, method, path, body, &[])
}

/// Starts `bitfox up --port 0` and returns the child and the API's port.
pub fn start_up(dir: &Path) -> (Child, u16) {
    start(dir, &["up", "--port", "0"], "BitFox API")
}

/// Starts `bitfox ARGS` and returns the child and the port of the URL printed after
/// `label`.
pub fn start(dir: &Path, args: &[&str], label: &str) -> (Child, u16) {
    let (child, port, _) = start_with(dir, args, label, &[]);
    (child, port)
}

/// Starts `bitfox ARGS` with extra environment variables; returns the child, the port
/// of the URL printed after `label`, and the lines printed before it.
pub fn start_with(
    dir: &Path,
    args: &[&str],
    label: &str,
    envs: &[(&str, &str)],
) -> (Child, u16, Vec<String>) {
    let mut command = bitfox(dir);
    command.args(args).envs(envs.iter().copied()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.trim().strip_prefix(label) {
            let port = port_of(rest);
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return (child, port, seen);
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("bitfox printed no {label:?} URL:\n{}", seen.join("\n"));
}

/// The port of the first URL in `text`.
pub fn port_of(text: &str) -> u16 {
    let url = text.split_whitespace().find(|w| w.starts_with("http://")).unwrap();
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

/// One HTTP/1.1 request with extra headers; returns the status line and body.
pub fn http_with(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         {extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    // A process that dies mid-answer resets the connection: what arrived is the answer
    // (an empty status says none did).
    let _ = stream.read_to_string(&mut response);
    let status = response.lines().next().unwrap_or("").to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
