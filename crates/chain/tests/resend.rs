//! Sending a journalled group again: within its validity the node answers "already in
//! ledger"; past it, "txn dead" — before it looks at its ledger — so the client must look
//! the transaction up instead of concluding it was never committed.

use std::net::TcpListener;
use std::sync::Arc;

use algonaut::Algod;
use algonaut::transaction::account::Account;
use bitfox_chain::client::{Contract, SendError};
use bitfox_chain::signer::Keyring;
use bitfox_devnet::node::{DevAccount, Node};
use bitfox_devnet::server::{self, Shared};
use bitfox_domain::Address;

const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

async fn devnet() -> (Arc<Shared>, String) {
    let shared = Shared::new(Node::in_memory(), Some(TOKEN.to_owned()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server::build(shared.clone(), listener, 1).unwrap());
    (shared, url)
}

#[tokio::test]
async fn a_committed_group_is_found_again_even_past_its_validity() {
    let (shared, url) = devnet().await;
    let contract = Contract::new(Algod::new(&url, TOKEN).unwrap(), 1001).with_indexer(&url, TOKEN);
    let mut keys = Keyring::new();
    let renter = keys.insert(Account::from_seed(DevAccount::new(2).key.to_bytes()));
    // The rent group's payment alone, sent on its own: a plain payment is enough here.
    let params = contract.params().await.unwrap();
    let rent = contract.rent(&params, &renter, 1, 100_000, 10).unwrap();
    let payment = keys.sign_group(vec![rent[0].clone()]).unwrap();
    let first = contract.send(&payment.bytes, &payment.txid).await.unwrap();

    // Within its validity: "already in ledger", the same confirmation.
    let again = contract.send(&payment.bytes, &payment.txid).await.unwrap();
    assert_eq!((again.txid.as_str(), again.round), (first.txid.as_str(), first.round));

    // 1001 rounds later the node says "txn dead"; the client still finds it committed.
    let someone = Address::from_public_key([3; 32]);
    for _ in 0..1001 {
        let raw = shared.node_mut().dispense(someone, 100_000);
        shared.submit(&raw).unwrap();
    }
    let late = contract.send(&payment.bytes, &payment.txid).await.unwrap();
    assert_eq!(late.round, first.round);

    // A transaction never sent whose validity has passed is reported expired.
    let mut other = contract.rent(&params, &renter, 1, 20_000, 20).unwrap()[0].clone();
    other.last_valid = other.first_valid;
    let never = keys.sign_group(vec![other]).unwrap();
    assert!(matches!(contract.send(&never.bytes, &never.txid).await, Err(SendError::Expired(_))));
    // Without an indexer to ask, nobody can say it was never committed: try again later.
    let blind = Contract::new(Algod::new(&url, TOKEN).unwrap(), 1001);
    assert!(matches!(blind.send(&never.bytes, &never.txid).await, Err(SendError::Unavailable(_))));
}
