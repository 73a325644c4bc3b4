//! The deployer against the embedded devnet over its algod REST API.

use std::net::TcpListener;

use algonaut::Algod;
use algonaut::core::AppId;
use algonaut::transaction::account::Account;
use bitfox_deployer::{DeployError, Manifest, Outcome, Plan, app_address, deploy, read_manifest};
use bitfox_devnet::node::{DevAccount, Node};
use bitfox_devnet::server::{self, Shared};

const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

async fn devnet() -> Algod {
    let shared = Shared::new(Node::in_memory(), Some(TOKEN.to_owned()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server::build(shared, listener, 1).unwrap());
    Algod::new(&url, TOKEN).unwrap()
}

fn plan(dir: &std::path::Path) -> Plan {
    Plan {
        network: "devnet".into(),
        approval: bitfox_deployer::APPROVAL_TEAL.to_owned(),
        clear: bitfox_deployer::CLEAR_TEAL.to_owned(),
        contract_version: bitfox_deployer::CONTRACT_VERSION,
        treasury: Account::from_seed(DevAccount::new(9).key.to_bytes()).address(),
        fee_bps: 250,
        manifest: dir.join("deployments/devnet.json"),
        dry_run: false,
        allow_mainnet: false,
    }
}

#[tokio::test]
async fn deploys_once_funds_the_app_and_writes_the_manifest() {
    let algod = devnet().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = Account::from_seed(DevAccount::new(0).key.to_bytes());
    let mut p = plan(dir.path());

    p.dry_run = true;
    let Outcome::WouldDeploy(lines) = deploy(&algod, &admin, &p).await.unwrap() else {
        panic!("dry run")
    };
    assert!(lines[0].contains("extra pages 1") && lines[0].contains("fee_bps 250"), "{lines:?}");
    assert!(!p.manifest.exists(), "a dry run writes nothing");
    assert_eq!(algod.status().await.unwrap().last_round.0, 0, "a dry run sends nothing");

    p.dry_run = false;
    let Outcome::Deployed(manifest) = deploy(&algod, &admin, &p).await.unwrap() else {
        panic!("deployed")
    };
    assert_eq!(manifest.versions.len(), 1);
    assert_eq!(manifest.newest().contract_version, bitfox_deployer::CONTRACT_VERSION);
    assert_eq!(manifest.newest().app_address, app_address(manifest.app_id()).to_string());
    assert_eq!(manifest.genesis_id, "bitfox-devnet-v1");
    let app = algod.app(AppId(manifest.app_id())).await.unwrap();
    assert_eq!(app.params.extra_program_pages, Some(1));
    let account = algod.account(&app_address(manifest.app_id())).await.unwrap();
    assert_eq!(account.amount, 100_000, "the app account holds its minimum balance");
    let written: bitfox_deployer::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&p.manifest).unwrap()).unwrap();
    assert_eq!(written, manifest);

    // Again: nothing is sent.
    let round = algod.status().await.unwrap().last_round.0;
    assert_eq!(
        deploy(&algod, &admin, &p).await.unwrap(),
        Outcome::AlreadyDeployed(manifest.clone())
    );
    assert_eq!(algod.status().await.unwrap().last_round.0, round);

    // Another program of the same version is refused: it would not be newer.
    p.clear = "#pragma version 9\nint 1\nint 1\n&&".into();
    let err = deploy(&algod, &admin, &p).await.unwrap_err();
    assert!(
        matches!(err, DeployError::NotNewer { app_id, .. } if app_id == manifest.app_id()),
        "{err}"
    );
}

#[tokio::test]
async fn a_newer_version_is_a_new_app_beside_the_old_one_and_never_the_reverse() {
    let algod = devnet().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = Account::from_seed(DevAccount::new(0).key.to_bytes());
    let old = Plan {
        approval: bitfox_deployer::v1::APPROVAL_TEAL.to_owned(),
        contract_version: 1,
        ..plan(dir.path())
    };
    let Outcome::Deployed(first) = deploy(&algod, &admin, &old).await.unwrap() else { panic!() };
    let v1_app = first.app_id();

    let Outcome::Deployed(both) = deploy(&algod, &admin, &plan(dir.path())).await.unwrap() else {
        panic!("the current version is deployed beside v1")
    };
    let versions: Vec<(u32, u64)> =
        both.versions.iter().map(|v| (v.contract_version, v.app_id)).collect();
    assert_eq!(versions[0], (1, v1_app), "v1 stays in the manifest");
    assert_eq!(versions.len(), 2);
    assert_ne!(both.app_id(), v1_app, "a new app");
    assert_eq!(read_manifest(&old.manifest).unwrap(), Some(both.clone()));
    // Both apps run, each its own program.
    let v1 = algod.app(AppId(v1_app)).await.unwrap();
    let v2 = algod.app(AppId(both.app_id())).await.unwrap();
    assert_ne!(v1.params.approval_program.0, v2.params.approval_program.0);

    // Idempotent again, and an older version is refused.
    assert_eq!(
        deploy(&algod, &admin, &plan(dir.path())).await.unwrap(),
        Outcome::AlreadyDeployed(both.clone())
    );
    let err = deploy(&algod, &admin, &old).await.unwrap_err();
    assert!(matches!(err, DeployError::NotNewer { deployed: 2, offered: 1, .. }), "{err}");
}

#[test]
fn a_manifest_of_a_single_app_reads_as_version_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("devnet.json");
    let single = r#"{"network":"devnet","genesis_id":"g","genesis_hash":"aA==","app_id":7,
        "app_address":"A","approval_hash":"ab","clear_hash":"cd","admin":"B","treasury":"C",
        "fee_bps":250,"created_round":3}"#;
    std::fs::write(&path, single).unwrap();
    let manifest: Manifest = read_manifest(&path).unwrap().unwrap();
    assert_eq!(manifest.versions.len(), 1);
    assert_eq!((manifest.newest().contract_version, manifest.app_id()), (1, 7));
    assert_eq!(manifest.newest().created_round, 3);
    std::fs::write(&path, r#"{"network":"devnet","versions":[]}"#).unwrap();
    assert!(read_manifest(&path).is_err(), "neither shape");
}

#[tokio::test]
async fn a_manifest_from_another_chain_means_a_new_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let admin = Account::from_seed(DevAccount::new(0).key.to_bytes());
    let p = plan(dir.path());
    let first = devnet().await;
    let Outcome::Deployed(old) = deploy(&first, &admin, &p).await.unwrap() else { panic!() };
    // A fresh chain with the same genesis hash but without the app (a wiped devnet).
    let second = devnet().await;
    let Outcome::Deployed(new) = deploy(&second, &admin, &p).await.unwrap() else { panic!() };
    assert_eq!(new.app_id(), old.app_id(), "same ids on a fresh chain");
    assert_eq!(new.versions.len(), 1, "the wiped chain's versions are gone");
    let err = deploy(
        &second,
        &admin,
        &Plan { fee_bps: 9_999, ..plan(tempfile::tempdir().unwrap().path()) },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("algod"), "the contract refuses the fee: {err}");
}
