//! Application calls on the devnet: programs assembled by the project's assembler, run by
//! its AVM, with global state, boxes, logs and inner payments applied to the ledger.

use bitfox_avm::eval::app_address;
use bitfox_devnet::node::{DevAccount, Node, transaction};
use bitfox_devnet::txn::{AppCall, BoxRef, OnComplete, SignedTxn, StateSchema, TxnKind};
use bitfox_domain::Address;

/// Counts calls in global state, keeps a box, pays the caller 1000 through an inner
/// payment and logs; shared with the go-algorand vectors (`reference/fixtures/ledger_vectors.py`).
const COUNTER: &str = include_str!("fixtures/counter.teal");

fn sign(from: &DevAccount, kind: TxnKind, fee: u64, note: &[u8], round: u64) -> SignedTxn {
    let mut txn = transaction(from.address(), round.saturating_sub(10).max(1), note.to_vec(), kind);
    txn.fee = fee;
    from.sign(txn)
}

fn call(app_id: u64, arg: &[u8]) -> TxnKind {
    TxnKind::AppCall(AppCall {
        app_id,
        args: vec![arg.to_vec()],
        boxes: vec![BoxRef { app_index: 0, name: b"b".to_vec() }],
        ..AppCall::default()
    })
}

#[test]
fn a_program_keeps_state_boxes_logs_and_pays_through_inner_transactions() {
    let mut node = Node::in_memory();
    let alice = DevAccount::new(0);
    let program = bitfox_avm::assemble(COUNTER).unwrap().bytecode;
    let clear = bitfox_avm::assemble("#pragma version 9\nint 1").unwrap().bytecode;
    let create = TxnKind::AppCall(AppCall {
        approval_program: program,
        clear_program: clear,
        global_schema: StateSchema { num_uint: 1, num_byte_slice: 0 },
        ..AppCall::default()
    });
    let txid = node.submit(&sign(&alice, create, 1_000, b"create", 1).encode()).unwrap();
    let app_id = node.confirmed(&txid).unwrap().apply.application_id;
    assert_eq!(app_id, 1_001);
    let app = Address::from_public_key(app_address(app_id));
    let fund = TxnKind::Payment { receiver: Some(app), amount: 1_000_000, close_to: None };
    node.submit(&sign(&alice, fund, 1_000, b"fund", 2).encode()).unwrap();

    // Without fee pooling for the inner payment, the call is refused and changes nothing.
    let err =
        node.submit(&sign(&alice, call(app_id, b"go"), 1_000, b"cheap", 3).encode()).unwrap_err();
    assert!(err.to_string().contains("fee"), "{err}");
    assert_eq!(node.state().apps[&app_id].global.len(), 1);

    for (n, note) in [(1u64, b"one"), (2, b"two")] {
        let txid =
            node.submit(&sign(&alice, call(app_id, b"go"), 2_000, note, 3).encode()).unwrap();
        let confirmed = node.confirmed(&txid).unwrap();
        let applied = &confirmed.apply;
        assert_eq!(applied.logs, vec![b"hello".to_vec()]);
        assert_eq!(applied.inner.len(), 1);
        // The indexer shape the watcher reads: logs and the inner payment.
        let indexed = bitfox_devnet::indexer::transaction_json(&node, confirmed);
        assert_eq!(indexed["logs"], serde_json::json!(["aGVsbG8="]));
        let inner = &indexed["inner-txns"][0];
        assert_eq!(inner["payment-transaction"]["amount"], 1_000);
        assert_eq!(inner["sender"], app.to_string());
        assert!(inner.get("id").is_none(), "inner transactions have no id of their own");
        let global = &node.state().apps[&app_id].global;
        assert_eq!(global.get(b"n".as_slice()), Some(&bitfox_avm::eval::Value::Uint(n)));
    }
    assert_eq!(node.state().boxes.get(&(app_id, b"b".to_vec())), Some(&vec![0u8; 8]));
    let account = node.state().account(&app);
    assert_eq!(account.balance, 1_000_000 - 2 * 1_000, "two inner payments of 1000");
    assert_eq!((account.total_boxes, account.total_box_bytes), (1, 9));
    assert_eq!(account.min_balance(node.consensus()), 100_000 + 2_500 + 400 * 9);

    // A rejecting program refuses the call.
    let err =
        node.submit(&sign(&alice, call(app_id, b"fail"), 2_000, b"fail", 4).encode()).unwrap_err();
    assert!(err.to_string().contains("rejected"), "{err}");
    assert_eq!(
        node.state().apps[&app_id].global.get(b"n".as_slice()),
        Some(&bitfox_avm::eval::Value::Uint(2)),
        "unchanged"
    );
}

#[test]
fn opt_in_close_out_and_delete_follow_the_program() {
    let mut node = Node::in_memory();
    let (alice, bob) = (DevAccount::new(0), DevAccount::new(1));
    let approve = bitfox_avm::assemble("#pragma version 9\nint 1").unwrap().bytecode;
    let create = TxnKind::AppCall(AppCall {
        approval_program: approve.clone(),
        clear_program: approve,
        local_schema: StateSchema { num_uint: 2, num_byte_slice: 1 },
        ..AppCall::default()
    });
    let txid = node.submit(&sign(&alice, create, 1_000, b"c", 1).encode()).unwrap();
    let app_id = node.confirmed(&txid).unwrap().apply.application_id;
    let with =
        |on_complete| TxnKind::AppCall(AppCall { app_id, on_complete, ..AppCall::default() });
    let before = node.state().account(&bob.address()).min_balance(node.consensus());
    node.submit(&sign(&bob, with(OnComplete::OptIn), 1_000, b"in", 2).encode()).unwrap();
    let after = node.state().account(&bob.address()).min_balance(node.consensus());
    assert_eq!(after - before, 100_000 + 2 * 28_500 + 50_000, "opt-in and local schema");
    assert!(
        node.submit(&sign(&bob, with(OnComplete::OptIn), 1_000, b"again", 2).encode()).is_err()
    );
    node.submit(&sign(&bob, with(OnComplete::CloseOut), 1_000, b"out", 3).encode()).unwrap();
    assert_eq!(node.state().account(&bob.address()).min_balance(node.consensus()), before);
    node.submit(&sign(&alice, with(OnComplete::DeleteApplication), 1_000, b"del", 4).encode())
        .unwrap();
    assert!(node.state().apps.is_empty());
    assert_eq!(node.state().account(&alice.address()).created_apps.len(), 0);
}
