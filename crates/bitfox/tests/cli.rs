//! The `bitfox` binary as a user runs it: a fresh data directory, real processes,
//! real signals.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bitfox(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bitfox"));
    command
        .current_dir(dir)
        .env_remove("BITFOX_CONFIG")
        .env("BITFOX_DATA_DIR", dir.join("data"))
        .env("BITFOX_DEVNET__PORT", "0")
        .env("BITFOX_LOG", "warn");
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bitfox(dir).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One HTTP/1.1 request over a fresh connection; returns the status line and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or("").to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

/// Starts `bitfox up --port 0` and returns the child and the API's port.
fn start_up(dir: &Path) -> (Child, u16) {
    start(dir, &["up", "--port", "0"], "BitFox API")
}

/// Starts `bitfox ARGS` and returns the child and the port of the URL printed after
/// `label`.
fn start(dir: &Path, args: &[&str], label: &str) -> (Child, u16) {
    let mut child = bitfox(dir).args(args).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.trim().strip_prefix(label) {
            let url = rest.split_whitespace().next().unwrap();
            let port = url.rsplit(':').next().unwrap().parse().unwrap();
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return (child, port);
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("bitfox up printed no URL:\n{}", seen.join("\n"));
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
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

#[test]
fn up_serves_the_seed_flow_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start_up(dir.path());
    let (status, body) = http(port, "GET", "/health", "");
    assert!(status.contains("200"), "{status} {body}");
    assert!(body.contains("\"mode\":\"dev\""), "{body}");
    let listing = r#"{"owner_address":"K7TRT3QILTZWS4H5PCOR2OOD63IRA5FPLPYVFXGJ4APJHUBAJRMKBK3Z7U","gpu_model":"RTX 4090","price_per_minute":1000}"#;
    let (status, body) = http(port, "POST", "/gpus", listing);
    assert!(status.contains("201"), "{status} {body}");
    let (status, _) = http(
        port,
        "POST",
        "/gpus/1/rent",
        r#"{"renter_address":"Q3MBU3HS4W5G32J4ZHHCS7QJETPNQEUULJ5NDZDNZEANUFMD5P62NWEJGQ"}"#,
    );
    assert!(status.contains("202"), "{status}");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let exit = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert!(exit.success(), "bitfox up exited with {exit}");

    // The data survived: a second start sees the listing and the live rental.
    let (mut child, port) = start_up(dir.path());
    let (_, body) = http(port, "GET", "/gpus/1", "");
    assert!(body.contains("\"status\":\"renting\""), "{body}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn api_refuses_an_unmigrated_database_and_migrate_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["api", "--port", "0"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("bitfox migrate"), "{}", text(&out.stderr));
    let out = run(dir.path(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("applied "), "{}", text(&out.stdout));
    let out = run(dir.path(), &["migrate"]);
    assert!(text(&out.stdout).contains("up to date"), "{}", text(&out.stdout));
}

#[test]
fn keys_are_printed_once_and_listed_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let address = "K7TRT3QILTZWS4H5PCOR2OOD63IRA5FPLPYVFXGJ4APJHUBAJRMKBK3Z7U";
    let out = run(dir.path(), &["keys", "create", "--address", address, "--label", "laptop"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_owned();
    assert!(key.starts_with("bfx_") && key.len() == 68, "{key}");
    let list = text(&run(dir.path(), &["keys", "list"]).stdout);
    assert!(list.contains(address) && list.contains("laptop") && list.contains("active"), "{list}");
    assert!(!list.contains(&key), "the key itself is never shown again");
    assert!(run(dir.path(), &["keys", "revoke", "1"]).status.success());
    assert!(text(&run(dir.path(), &["keys", "list"]).stdout).contains("revoked"));
    let out = run(dir.path(), &["keys", "create", "--address", "nope"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not an Algorand address"), "{}", text(&out.stderr));
}

#[test]
fn a_mistyped_setting_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        bitfox(dir.path()).env("BITFOX_HTTP__PROT", "9000").args(["migrate"]).output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("prot"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("bitfox.toml"), "mode = \"staging\"\n").unwrap();
    let out = run(dir.path(), &["migrate"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("staging"), "{}", text(&out.stderr));
}

#[test]
fn devnet_serves_algod_with_its_token_and_dev_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bitfox(dir.path()).args(["devnet"]).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.trim().starts_with("dispenser");
        banner.push(line);
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let text = banner.join("\n");
    let url = text
        .split("Algorand devnet ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(text.matches("    #").count(), 10, "{text}");
    let first_mnemonic =
        banner.iter().find(|l| l.trim().split(' ').count() == 25).expect("25-word mnemonics");
    assert!(!first_mnemonic.is_empty());

    let (status, body) = http(port, "GET", "/v2/status", "");
    assert!(status.contains("401"), "{status} {body}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /v2/status HTTP/1.1\r\nHost: localhost\r\nX-Algo-API-Token: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64)
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"last-round\":0"), "{response}");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let exit = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert!(exit.success(), "bitfox devnet exited with {exit}");
}

#[test]
fn deploy_puts_the_contract_on_the_devnet_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut devnet, port) = start(dir.path(), &["devnet"], "Algorand devnet");
    let url = format!("http://127.0.0.1:{port}");
    let deploy = |extra: &[&str]| {
        let mut args = vec!["deploy", "--network", "devnet", "--algod-url", &url];
        args.extend_from_slice(extra);
        run(dir.path(), &args)
    };
    let out = deploy(&["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("dry run; nothing sent"), "{}", text(&out.stdout));
    let out = deploy(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("deployed app 1001"), "{}", text(&out.stdout));
    let manifest =
        std::fs::read_to_string(dir.path().join("data/deployments/devnet.json")).unwrap();
    assert!(manifest.contains("\"app_id\": 1001"), "{manifest}");
    let out = deploy(&[]);
    assert!(text(&out.stdout).starts_with("already deployed: app 1001"), "{}", text(&out.stdout));
    let out = run(dir.path(), &["deploy", "--network", "testnet"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--algod-url is required"), "{}", text(&out.stderr));
    devnet.kill().unwrap();
    devnet.wait().unwrap();
}
