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

    let genesis = algod.block(0).await.unwrap().block;
    assert_eq!(
        (genesis.round, genesis.timestamp),
        (Some(0), Some(shared.node().latest().timestamp))
    );
    assert!(algod.block(1).await.is_err(), "no block 1 yet");

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

async fn search(url: &str, query: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{url}/v2/transactions?{query}"))
        .header("X-Indexer-API-Token", TOKEN)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_indexer_search_pages_through_history() {
    let (_shared, url) = start().await;
    let algod = Algod::new(&url, TOKEN).unwrap();
    let (alice, bob, carol) = (dev(0), dev(1), dev(2));
    for amount in 1..=5u64 {
        let params = algod.suggested_params().await.unwrap();
        let pay =
            Pay::new(alice.address(), bob.address(), MicroAlgos(amount)).build(&params).unwrap();
        algod.submit(&alice.sign(pay).unwrap()).await.unwrap().confirm().await.unwrap();
    }
    let params = algod.suggested_params().await.unwrap();
    let create = CreateAsset::new(carol.address(), 10, 0, false).build(&params).unwrap();
    let created =
        algod.submit(&carol.sign(create).unwrap()).await.unwrap().confirm().await.unwrap();
    let asset = created.asset_index.unwrap();

    // Pages of two, oldest first, until no next-token.
    let mut amounts = Vec::new();
    let mut next = String::new();
    for _ in 0..5 {
        let (status, page) =
            search(&url, &format!("address={}&limit=2{next}", bob.address())).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["current-round"], 6);
        for txn in page["transactions"].as_array().unwrap() {
            assert_eq!(txn["tx-type"], "pay");
            assert_eq!(txn["sender"], alice.address().to_string());
            amounts.push(txn["payment-transaction"]["amount"].as_u64().unwrap());
        }
        match page["next-token"].as_str() {
            Some(token) => next = format!("&next={token}"),
            None => break,
        }
    }
    assert_eq!(amounts, vec![1, 2, 3, 4, 5]);

    let (_, rounds) = search(&url, "min-round=2&max-round=3").await;
    let rounds: Vec<u64> = rounds["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["confirmed-round"].as_u64().unwrap())
        .collect();
    assert_eq!(rounds, vec![2, 3]);
    let (_, by_asset) = search(&url, &format!("asset-id={asset}")).await;
    assert_eq!(by_asset["transactions"][0]["created-asset-index"], asset);
    let (_, apps) = search(&url, "application-id=1234").await;
    assert_eq!(apps["transactions"], serde_json::json!([]));
    let (status, problem) = search(&url, "colour=red").await;
    assert_eq!(status, 400);
    assert!(problem["message"].as_str().unwrap().contains("colour"));
}

const STORE: &str = "#pragma version 9
txn ApplicationID
bz done
byte \"n\"
int 7
app_global_put
byte \"b\"
int 4
box_create
pop
byte \"stored\"
log
done:
int 1
";

#[tokio::test]
async fn algonaut_creates_calls_and_reads_an_application() {
    use algonaut::core::AppId;
    use algonaut::transaction::transaction::{BoxReference, StateSchema};
    use algonaut::transaction::{CallApplication, CreateApplication};

    let (_shared, url) = start().await;
    let algod = Algod::new(&url, TOKEN).unwrap();
    let alice = dev(0);
    let approval = algod.teal_compile(STORE.as_bytes(), SourceMap::Skip).await.unwrap();
    let clear = algod.teal_compile(b"#pragma version 9\nint 1", SourceMap::Skip).await.unwrap();
    let params = algod.suggested_params().await.unwrap();
    let schema = |ints, bytes| StateSchema { number_ints: ints, number_byteslices: bytes };
    let create =
        CreateApplication::new(alice.address(), approval, clear, schema(1, 0), schema(0, 0))
            .build(&params)
            .unwrap();
    let created =
        algod.submit(&alice.sign(create).unwrap()).await.unwrap().confirm().await.unwrap();
    let app_id = created.application_index.expect("application index");

    // The app account needs a balance for its box's minimum balance.
    let app_address =
        bitfox_domain::Address::from_public_key(bitfox_avm::eval::app_address(app_id));
    let funded = reqwest::Client::new()
        .post(format!("{url}/v2/devnet/fund"))
        .header("X-Algo-API-Token", TOKEN)
        .json(&serde_json::json!({"address": app_address.to_string(), "amount": 200_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(funded.status().as_u16(), 200);
    let call = CallApplication::new(alice.address(), AppId(app_id))
        .boxes(vec![BoxReference { app_id: None, name: b"b".to_vec() }])
        .build(&params)
        .unwrap();
    let called = algod.submit(&alice.sign(call).unwrap()).await.unwrap().confirm().await.unwrap();
    let logs = called.logs.expect("logs");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].0, b"stored".to_vec());
    let round = called.confirmed_round.unwrap();
    let status = algod.status_after_block(algonaut::core::Round(round - 1)).await.unwrap();
    assert!(status.last_round.0 >= round);

    let app = algod.app(AppId(app_id)).await.unwrap();
    let global = app.params.global_state.unwrap();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].value.uint, 7);
    let boxes = algod.app_boxes(AppId(app_id), None).await.unwrap();
    assert_eq!(boxes.boxes.len(), 1);
    let value = algod.app_box(AppId(app_id), "str:b").await.unwrap();
    assert_eq!(value.value.0, vec![0; 4]);
    let account = algod.account(&alice.address()).await.unwrap();
    assert_eq!(account.total_created_apps, 1);
    let app_account =
        algod.account(&algonaut::core::Address(*app_address.public_key())).await.unwrap();
    assert_eq!(app_account.amount, 200_000);
    assert_eq!(app_account.min_balance, 100_000 + 2_500 + 400 * 5);
}
