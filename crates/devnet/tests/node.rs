//! The node: dev accounts, blocks on demand, timestamps and persistence.

use bitfox_devnet::node::{
    DEV_BALANCE, DevAccount, Node, genesis_allocation, network, transaction,
};
use bitfox_devnet::txn::TxnKind;
use bitfox_domain::Address;

fn payment(from: &DevAccount, to: Address, amount: u64, first_valid: u64, note: &[u8]) -> Vec<u8> {
    let kind = TxnKind::Payment { receiver: Some(to), amount, close_to: None };
    from.sign(transaction(from.address(), first_valid, note.to_vec(), kind)).encode()
}

#[test]
fn dev_accounts_are_fixed_and_funded() {
    let allocation = genesis_allocation();
    assert_eq!(allocation.len(), 11);
    assert_eq!(allocation[0], (DevAccount::new(0).address(), DEV_BALANCE));
    assert_eq!(DevAccount::new(3).address(), DevAccount::new(3).address());
    assert_ne!(DevAccount::new(3).address(), DevAccount::new(4).address());
    assert_eq!(network(), network(), "the genesis hash is deterministic");
    let node = Node::in_memory();
    assert_eq!(node.state().account(&DevAccount::new(0).address()).balance, DEV_BALANCE);
    assert_eq!(node.round(), 0);
}

#[test]
fn every_group_makes_a_block_and_time_only_moves_forward() {
    let mut node = Node::in_memory();
    let (a, b) = (DevAccount::new(0), DevAccount::new(1));
    let txid = node.submit(&payment(&a, b.address(), 5, 1, b"one")).unwrap();
    assert_eq!(node.round(), 1);
    let confirmed = node.confirmed(&txid).unwrap();
    assert_eq!((confirmed.round, confirmed.index), (1, 0));
    let first = node.latest().timestamp;
    node.set_offset(3_600);
    node.submit(&payment(&a, b.address(), 5, 1, b"two")).unwrap();
    assert!(node.latest().timestamp >= first + 3_600);
    node.set_offset(0);
    node.submit(&payment(&a, b.address(), 5, 1, b"three")).unwrap();
    assert!(node.latest().timestamp >= first + 3_600, "never backwards");
    // A refused group makes no block.
    assert!(node.submit(&payment(&a, b.address(), u64::MAX, 1, b"too much")).is_err());
    assert_eq!(node.round(), 3);
}

#[test]
fn a_restart_replays_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain/devnet.db");
    let (a, b) = (DevAccount::new(0), DevAccount::new(1));
    let (txid, header, balance) = {
        let mut node = Node::open(&path).unwrap();
        node.set_offset(100);
        let txid = node.submit(&payment(&a, b.address(), 777, 1, b"persist")).unwrap();
        node.submit(&payment(&b, a.address(), 1, 1, b"back")).unwrap();
        (txid, node.latest(), node.state().account(&b.address()).balance)
    };
    let node = Node::open(&path).unwrap();
    assert_eq!(node.latest(), header);
    assert_eq!(node.state().account(&b.address()).balance, balance);
    assert_eq!(node.confirmed(&txid).unwrap().round, 1);
    // Replay protection survives too.
    let mut node = node;
    let err = node.submit(&payment(&a, b.address(), 777, 1, b"persist")).unwrap_err();
    assert!(err.to_string().contains("already in ledger"), "{err}");
}
