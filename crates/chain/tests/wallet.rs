//! A group handed to a wallet is valid only for the rounds the wallet is given (the
//! checkout window), not the node's 1,000: an answer that comes too late can never land.

use std::net::TcpListener;

use algonaut::Algod;
use algonaut::transaction::account::Account;
use base64::Engine;
use bitfox_chain::client::Contract;
use bitfox_chain::port::AlgorandChain;
use bitfox_chain::signer::Keyring;
use bitfox_devnet::node::{DevAccount, Node};
use bitfox_devnet::server::{self, Shared};
use bitfox_domain::billing::{MaxMinutes, PricePerMinute};
use bitfox_domain::chain::{ChainError, ChainPort, Journal, PortFuture, RentOrder, SignedGroup};
use bitfox_domain::{GpuId, MicroAlgos, RentalId};

const TOKEN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// A journal that holds nothing: every attempt builds a group.
struct Empty;

impl Journal for Empty {
    fn recorded(&self) -> Option<SignedGroup> {
        None
    }
    fn record(&self, _group: SignedGroup) -> PortFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
    fn forget(&self) -> PortFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_wallet_gets_a_group_valid_for_its_window_only() {
    let shared = Shared::new(Node::in_memory(), Some(TOKEN.to_owned()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server::build(shared, listener, 1).unwrap());

    // The server holds the operator's key only: the renter's wallet must sign.
    let mut keys = Keyring::new();
    let operator = keys.insert(Account::from_seed(DevAccount::new(0).key.to_bytes()));
    let contract = Contract::new(Algod::new(&url, TOKEN).unwrap(), 1001);
    let order = RentOrder {
        app_id: 1001,
        rental: RentalId(1),
        gpu: GpuId(1),
        listing_id: 1,
        renter: DevAccount::new(2).address(),
        provider: DevAccount::new(1).address(),
        price: PricePerMinute::new(1_000).unwrap(),
        max_minutes: MaxMinutes::new(10).unwrap(),
        deposit: MicroAlgos(10_000),
    };
    for (validity, want) in [(None, 1_000), (Some(40), 40)] {
        let mut port = AlgorandChain::new("test", contract.clone(), keys.clone(), operator);
        if let Some(rounds) = validity {
            port = port.with_wallet_validity(rounds);
        }
        let Err(ChainError::NeedsSignature(group)) = port.rent(&order, &Empty).await else {
            panic!("the renter's wallet must sign");
        };
        for txn in &group.transactions {
            let bytes = base64::engine::general_purpose::STANDARD.decode(&txn.txn).unwrap();
            let decoded: algonaut::transaction::Transaction =
                rmp_serde::from_slice(&bytes).unwrap();
            assert_eq!(decoded.last_valid.0 - decoded.first_valid.0, want, "{}", txn.description);
        }
    }
}
