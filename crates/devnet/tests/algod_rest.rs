//! algonaut's `Algod` client against the devnet's REST server, over real HTTP.

use std::net::TcpListener;
use std::sync::Arc;

use algonaut::core::MicroAlgos;
use algonaut::transaction::account::Account;
use algonaut::transaction::{CreateAsset, Pay};
use algonaut::{Algod, SourceMap};
use bitfox_devnet::node::{DevAccount, Node};
use bitfox_devnet::server::{self, Shared};

const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

async fn start() -> (Arc<Shared>, String) {
    let shared = Shared::new(Node::in_memory(), Some(TOKEN.to_owned()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = server::build(shared.clone(), listener, 1).unwrap();
    tokio::spawn(server);
    (shared, url)
}

fn dev(index: u8) -> Account {
    Account::from_seed(DevAccount::new(index).key.to_bytes())
}

#[tokio::test]
async fn algonaut_reads_status_and_params() {
    let (shared, url) = start().await;
    let algod = Algod::new(&url, TOKEN).unwrap();
    algod.health().await.unwrap();
    let status = algod.status().await.unwrap();
    assert_eq!(status.last_round.0, 0);
    let params = algod.suggested_params().await.unwrap();
    assert_eq!(params.genesis_id, "bitfox-devnet-v1");
    assert_eq!(params.genesis_hash.0.to_vec(), shared.node().network().genesis_hash.to_vec());
    assert_eq!(params.min_fee, MicroAlgos(1_000));

    let wrong = Algod::new(&url, &"b".repeat(64)).unwrap();
    assert!(wrong.status().await.is_err(), "a wrong token is refused");
}

#[tokio::test]
async fn algonaut_pays_and_creates_an_asset() {
    let (_shared, url) = start().await;
    let algod = Algod::new(&url, TOKEN).unwrap();
    let (alice, bob) = (dev(0), dev(1));
    let before = algod.account(&bob.address()).await.unwrap().amount;

    let params = algod.suggested_params().await.unwrap();
    let pay = Pay::new(alice.address(), bob.address(), MicroAlgos(123_456)).build(&params).unwrap();
    let signed = alice.sign(pay).unwrap();
    let confirmed = algod.submit(&signed).await.unwrap().confirm().await.unwrap();
    assert_eq!(confirmed.confirmed_round, Some(1));
    let after = algod.account(&bob.address()).await.unwrap().amount;
    assert_eq!(after - before, 123_456);

    let params = algod.suggested_params().await.unwrap();
    let create = CreateAsset::new(alice.address(), 1_000, 0, true)
        .unit_name("SHARE".to_owned())
        .asset_name("Cluster 1".to_owned())
        .manager(alice.address())
        .clawback(alice.address())
        .build(&params)
        .unwrap();
    let confirmed =
        algod.submit(&alice.sign(create).unwrap()).await.unwrap().confirm().await.unwrap();
    let id = confirmed.asset_index.expect("asset index");
    let asset = algod.asset(algonaut::core::AssetId(id)).await.unwrap();
    assert_eq!(asset.params.total, 1_000);
    assert_eq!(asset.params.unit_name.as_deref(), Some("SHARE"));
    let account = algod.account(&alice.address()).await.unwrap();
    assert_eq!(account.total_created_assets, 1);
    assert_eq!(account.min_balance, 200_000);
}

#[tokio::test]
async fn refused_transactions_come_back_as_errors_and_time_can_move() {
    let (shared, url) = start().await;
    let algod = Algod::new(&url, TOKEN).unwrap();
    let (alice, bob) = (dev(0), dev(1));
    let params = algod.suggested_params().await.unwrap();
    let too_much =
        Pay::new(bob.address(), alice.address(), MicroAlgos(u64::MAX / 2)).build(&params).unwrap();
    let err = algod.send(&bob.sign(too_much).unwrap()).await.unwrap_err();
    assert!(format!("{err:?}").contains("overspend"), "{err:?}");
    assert_eq!(shared.node().round(), 0);

    algod.set_block_timestamp_offset(86_400).await.unwrap();
    assert_eq!(algod.block_timestamp_offset().await.unwrap().offset, 86_400);
    let pay = Pay::new(alice.address(), bob.address(), MicroAlgos(1)).build(&params).unwrap();
    algod.submit(&alice.sign(pay).unwrap()).await.unwrap().confirm().await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(shared.node().latest().timestamp >= now + 86_400 - 5);
}

#[tokio::test]
async fn algonaut_compiles_teal_on_the_devnet() {
    let (_shared, url) = start().await;
    let algod = Algod::new(&url, TOKEN).unwrap();
    let compiled =
        algod.teal_compile(b"#pragma version 9\nint 1\nreturn\n", SourceMap::Skip).await.unwrap();
    assert_eq!(compiled.0, vec![0x09, 0x81, 0x01, 0x43]);
    let ours = bitfox_devnet::server::program_address(&compiled.0);
    assert_eq!(ours.public_key(), &compiled.hash().0, "the same program hash as algonaut computes");
    let err = algod
        .teal_compile(b"#pragma version 9\nnot_an_opcode\n", SourceMap::Skip)
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("not_an_opcode"), "{err:?}");
}
