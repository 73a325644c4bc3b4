//! The `bitfox` binary as a user runs it: a fresh data directory, real processes,
//! real signals.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

#[test]
fn up_serves_the_seed_flow_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Without a chain the rent stays pending, whatever the timing: this test is about
    // the process (the chain is in tests/e2e.rs).
    let no_chain = [("BITFOX_CHAIN__NETWORK", "none")];
    let (mut child, port, _) =
        start_with(dir.path(), &["up", "--port", "0"], "BitFox API", &no_chain);
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
    let (mut child, port, _) =
        start_with(dir.path(), &["up", "--port", "0"], "BitFox API", &no_chain);
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
    assert!(
        text(&out.stdout).starts_with("deployed contract v2 as app 1001"),
        "{}",
        text(&out.stdout)
    );
    let manifest =
        std::fs::read_to_string(dir.path().join("data/deployments/devnet.json")).unwrap();
    assert!(manifest.contains("\"app_id\": 1001"), "{manifest}");
    let out = deploy(&[]);
    assert!(
        text(&out.stdout).starts_with("already deployed: contract v2 app 1001"),
        "{}",
        text(&out.stdout)
    );
    let out = run(dir.path(), &["deploy", "--network", "testnet"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("algod URL is required"), "{}", text(&out.stderr));
    devnet.kill().unwrap();
    devnet.wait().unwrap();
}

#[test]
fn up_on_another_network_needs_its_deployment_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let out = bitfox(dir.path())
        .env("BITFOX_CHAIN__ALGOD_URL", "http://127.0.0.1:9")
        .args(["up", "--port", "0", "--network", "testnet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("bitfox deploy --network testnet"), "{said}");
    assert!(!said.contains("Algorand devnet"), "no embedded devnet off the devnet: {said}");
}

#[test]
fn an_api_without_jobs_leaves_them_to_a_worker() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &["migrate"]).status.success());
    // No chain, so a job that runs is visibly requeued with the reason.
    let api_only = [("BITFOX_CHAIN__NETWORK", "none"), ("BITFOX_JOBS__ENABLED", "false")];
    let (mut api, port, banner) =
        start_with(dir.path(), &["api", "--port", "0"], "BitFox API", &api_only);
    assert!(banner.iter().any(|l| l.contains("bitfox worker")), "{banner:?}");
    let listing = r#"{"owner_address":"K7TRT3QILTZWS4H5PCOR2OOD63IRA5FPLPYVFXGJ4APJHUBAJRMKBK3Z7U","gpu_model":"RTX 4090","price_per_minute":1000}"#;
    let (status, body) = http(port, "POST", "/gpus", listing);
    assert!(status.contains("201"), "{status} {body}");
    std::thread::sleep(Duration::from_millis(1500));
    let (_, job) = http(port, "GET", "/jobs/1", "");
    assert!(job.contains("\"state\":\"queued\"") && job.contains("\"last_error\":null"), "{job}");

    let mut worker = bitfox(dir.path())
        .args(["worker"])
        .env("BITFOX_CHAIN__NETWORK", "none")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let job = loop {
        let (_, job) = http(port, "GET", "/jobs/1", "");
        if !job.contains("\"last_error\":null") || std::time::Instant::now() > deadline {
            break job;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(job.contains("no chain backend is configured"), "the worker ran the job: {job}");

    for child in [&mut worker, &mut api] {
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        let exit = wait_with_timeout(child, Duration::from_secs(20));
        assert!(exit.success(), "exited with {exit}");
    }
}
