//! The devnet's `POST /v2/transactions` on arbitrary bytes.
//!
//! The body is fed to what the handler runs on it: `SignedTxn::decode_group` (the
//! msgpack reader and the transaction decoder) and `Node::submit` on a fresh in-memory
//! node (decode, group checks, evaluation, sealing). Checked besides "no panic":
//!
//! - every decoded transaction re-encodes canonically to bytes that decode to the same
//!   transaction (the id and signature are computed from that encoding);
//! - a group the node accepts makes exactly one block.
//!
//! Mutated bytes almost never carry a valid signature, so the raw body stops at
//! `verify()`. A client holding a key (on the devnet every dev account's key is public)
//! can sign anything, so the decoded group is also sent again the way such a client
//! would: each sender replaced by a dev account, the network and validity window set to
//! the devnet's where they would be refused anyway, group ids recomputed, every
//! transaction signed. That takes arbitrary transactions past the signature into the
//! ledger and, for application calls, the AVM.

#![no_main]

use std::sync::OnceLock;

use bitfox_devnet::msgpack;
use bitfox_devnet::node::{DEV_ACCOUNTS, DevAccount, Node, network};
use bitfox_devnet::txn::{SignedTxn, group_id};
use libfuzzer_sys::fuzz_target;

/// The dev accounts and the dispenser (deriving their keys is the costly part).
fn keys() -> &'static [DevAccount] {
    static KEYS: OnceLock<Vec<DevAccount>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (0..DEV_ACCOUNTS).map(DevAccount::new).chain([DevAccount::dispenser()]).collect()
    })
}

/// Submits `raw` to a fresh node: an accepted group makes exactly one block.
fn submit(raw: &[u8]) {
    let mut node = Node::in_memory();
    if node.submit(raw).is_ok() {
        assert_eq!(node.round(), 1, "an accepted group makes one block");
    }
}

/// `group` as a client holding dev keys would send it (see the module docs).
fn resigned(group: &[SignedTxn]) -> Vec<u8> {
    let net = network();
    let mut txns: Vec<_> = group
        .iter()
        .map(|stxn| {
            let mut txn = stxn.txn.clone();
            let key = &keys()[usize::from(txn.sender.public_key()[0]) % keys().len()];
            txn.sender = key.address();
            txn.genesis_hash = Some(net.genesis_hash);
            txn.genesis_id = net.genesis_id.clone();
            if !(txn.first_valid..=txn.last_valid).contains(&1) {
                txn.first_valid = 1;
                txn.last_valid = 1_001;
            }
            txn
        })
        .collect();
    let ids: Vec<_> = txns
        .iter()
        .map(|txn| {
            let mut txn = txn.clone();
            txn.group = None;
            txn.id_bytes()
        })
        .collect();
    let gid = group_id(&ids);
    for txn in &mut txns {
        if txn.group.is_some() {
            txn.group = Some(gid);
        }
    }
    txns.into_iter()
        .flat_map(|txn| {
            let key = keys().iter().find(|k| k.address() == txn.sender).expect("a dev key");
            key.sign(txn).encode()
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // The msgpack reader alone, on any bytes.
    let _ = msgpack::decode(data);
    let Ok(group) = SignedTxn::decode_group(data) else {
        return;
    };
    for stxn in &group {
        let canonical = stxn.encode();
        assert_eq!(
            SignedTxn::decode(&canonical).as_ref(),
            Ok(stxn),
            "the canonical encoding decodes to the same transaction"
        );
        assert_eq!(stxn.txn.id().len(), 52);
        let _ = stxn.verify();
    }
    // The devnet refuses empty and oversized groups before evaluating anything.
    if group.is_empty() || group.len() > 16 {
        return;
    }
    submit(data);
    submit(&resigned(&group));
});
