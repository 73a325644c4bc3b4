//! Ledger rules on hand-built, really signed transactions.

use bitfox_devnet::ledger::{Consensus, EvalError, Network, State, apply_group};
use bitfox_devnet::txn::{AssetParams, SignedTxn, Transaction, TxnKind, group_id};
use bitfox_domain::Address;
use ed25519_dalek::{Signer, SigningKey};

const ROUND: u64 = 10;

struct Key(SigningKey);

impl Key {
    fn new(seed: u8) -> Self {
        Self(SigningKey::from_bytes(&[seed; 32]))
    }
    fn addr(&self) -> Address {
        Address::from_public_key(self.0.verifying_key().to_bytes())
    }
    fn sign(&self, txn: Transaction) -> SignedTxn {
        let sig = self.0.sign(&txn.signing_bytes()).to_bytes();
        let auth_addr = (self.addr() != txn.sender).then(|| self.addr());
        SignedTxn { txn, sig: Some(sig), auth_addr }
    }
}

fn network() -> Network {
    Network { genesis_id: "bitfox-devnet-v1".into(), genesis_hash: [3; 32] }
}

fn txn(sender: Address, kind: TxnKind) -> Transaction {
    Transaction {
        sender,
        fee: 1_000,
        first_valid: 1,
        last_valid: 1_000,
        note: Vec::new(),
        genesis_id: "bitfox-devnet-v1".into(),
        genesis_hash: Some([3; 32]),
        group: None,
        lease: None,
        rekey_to: None,
        kind,
    }
}

fn pay(from: &Key, to: Address, amount: u64) -> Transaction {
    txn(from.addr(), TxnKind::Payment { receiver: Some(to), amount, close_to: None })
}

fn funded(accounts: &[(&Key, u64)]) -> State {
    let mut state = State { txn_counter: 1_000, ..State::default() };
    for (key, balance) in accounts {
        state.accounts.entry(key.addr()).or_default().balance = *balance;
    }
    state
}

fn apply(
    state: &mut State,
    group: Vec<SignedTxn>,
) -> Result<Vec<bitfox_devnet::ledger::ApplyData>, EvalError> {
    apply_group(state, &Consensus::default(), &network(), ROUND, &group)
}

fn grouped(mut txns: Vec<Transaction>) -> Vec<Transaction> {
    let ids: Vec<_> = txns.iter().map(Transaction::id_bytes).collect();
    let gid = group_id(&ids);
    for t in &mut txns {
        t.group = Some(gid);
    }
    txns
}

fn balance(state: &State, key: &Key) -> u64 {
    state.account(&key.addr()).balance
}

#[test]
fn payments_move_algos_and_charge_the_fee() {
    let (a, b) = (Key::new(1), Key::new(2));
    let mut state = funded(&[(&a, 1_000_000)]);
    apply(&mut state, vec![a.sign(pay(&a, b.addr(), 200_000))]).unwrap();
    assert_eq!(balance(&state, &a), 799_000);
    assert_eq!(balance(&state, &b), 200_000);
    assert_eq!(state.txn_counter, 1_001);
}

#[test]
fn overspending_and_minimum_balance_are_refused_and_change_nothing() {
    let (a, b) = (Key::new(1), Key::new(2));
    let mut state = funded(&[(&a, 1_000_000)]);
    let err = apply(&mut state, vec![a.sign(pay(&a, b.addr(), 2_000_000))]).unwrap_err();
    assert!(err.to_string().contains("overspend"), "{err}");
    // Leaving less than 0.1 Algo is refused, and so is funding a new account below it.
    let err = apply(&mut state, vec![a.sign(pay(&a, b.addr(), 950_000))]).unwrap_err();
    assert!(err.to_string().contains("below min"), "{err}");
    let err = apply(&mut state, vec![a.sign(pay(&a, b.addr(), 50_000))]).unwrap_err();
    assert!(err.to_string().contains("below min 100000"), "{err}");
    assert_eq!(balance(&state, &a), 1_000_000);
    assert!(!state.accounts.contains_key(&b.addr()));
}

#[test]
fn closing_sends_the_rest_and_forgets_the_account() {
    let (a, b, c) = (Key::new(1), Key::new(2), Key::new(3));
    let mut state = funded(&[(&a, 1_000_000)]);
    let mut t = pay(&a, b.addr(), 300_000);
    t.kind =
        TxnKind::Payment { receiver: Some(b.addr()), amount: 300_000, close_to: Some(c.addr()) };
    let ad = apply(&mut state, vec![a.sign(t)]).unwrap();
    assert_eq!(ad[0].closing_amount, 699_000);
    assert!(!state.accounts.contains_key(&a.addr()));
    assert_eq!((balance(&state, &b), balance(&state, &c)), (300_000, 699_000));
}

#[test]
fn rekeying_moves_the_signing_authority() {
    let (a, b, new_key) = (Key::new(1), Key::new(2), Key::new(9));
    let mut state = funded(&[(&a, 1_000_000)]);
    let mut t = pay(&a, b.addr(), 100_000);
    t.rekey_to = Some(new_key.addr());
    apply(&mut state, vec![a.sign(t)]).unwrap();
    let mut t = pay(&a, b.addr(), 1_000);
    t.note = b"old key".to_vec();
    let err = apply(&mut state, vec![a.sign(t.clone())]).unwrap_err();
    assert!(err.to_string().contains("should have been authorized by"), "{err}");
    apply(&mut state, vec![new_key.sign(t)]).unwrap();
    assert_eq!(balance(&state, &b), 101_000);
}

#[test]
fn groups_are_all_or_nothing_and_pool_fees() {
    let (a, b) = (Key::new(1), Key::new(2));
    let mut state = funded(&[(&a, 1_000_000), (&b, 1_000_000)]);
    // The second transaction overspends: the first is not applied either.
    let txns = grouped(vec![pay(&a, b.addr(), 10), pay(&b, a.addr(), 5_000_000)]);
    let err =
        apply(&mut state, vec![a.sign(txns[0].clone()), b.sign(txns[1].clone())]).unwrap_err();
    assert!(err.to_string().contains("overspend"), "{err}");
    assert_eq!((balance(&state, &a), balance(&state, &b)), (1_000_000, 1_000_000));

    // One transaction may pay the other's fee.
    let mut free = pay(&b, a.addr(), 7);
    free.fee = 0;
    let mut double = pay(&a, b.addr(), 3);
    double.fee = 2_000;
    let txns = grouped(vec![double, free]);
    apply(&mut state, vec![a.sign(txns[0].clone()), b.sign(txns[1].clone())]).unwrap();
    assert_eq!(
        (balance(&state, &a), balance(&state, &b)),
        (1_000_000 - 2_000 - 3 + 7, 1_000_000 + 3 - 7)
    );

    // Not enough fees in total.
    let mut free = pay(&b, a.addr(), 8);
    free.fee = 0;
    let err = apply(&mut state, vec![b.sign(free)]).unwrap_err();
    assert!(err.to_string().contains("fee too small"), "{err}");
}

#[test]
fn group_ids_must_match_the_members() {
    let (a, b) = (Key::new(1), Key::new(2));
    let mut state = funded(&[(&a, 1_000_000), (&b, 1_000_000)]);
    let txns = grouped(vec![pay(&a, b.addr(), 1), pay(&b, a.addr(), 2)]);
    // Only one member submitted.
    let err = apply(&mut state, vec![a.sign(txns[0].clone())]).unwrap_err();
    assert!(err.to_string().contains("group"), "{err}");
    // Members without a group id.
    let err = apply(&mut state, vec![a.sign(pay(&a, b.addr(), 1)), b.sign(pay(&b, a.addr(), 2))])
        .unwrap_err();
    assert!(err.to_string().contains("no group id"), "{err}");
}

#[test]
fn replays_leases_windows_and_signatures_are_checked() {
    let (a, b) = (Key::new(1), Key::new(2));
    let mut state = funded(&[(&a, 10_000_000)]);
    let signed = a.sign(pay(&a, b.addr(), 200_000));
    apply(&mut state, vec![signed.clone()]).unwrap();
    let err = apply(&mut state, vec![signed]).unwrap_err();
    assert!(err.to_string().contains("already in ledger"), "{err}");

    let mut leased = pay(&a, b.addr(), 1);
    leased.lease = Some([5; 32]);
    apply(&mut state, vec![a.sign(leased.clone())]).unwrap();
    leased.amount_note_change();
    let err = apply(&mut state, vec![a.sign(leased)]).unwrap_err();
    assert!(err.to_string().contains("lease"), "{err}");

    let mut dead = pay(&a, b.addr(), 1);
    dead.first_valid = 20;
    dead.last_valid = 30;
    assert!(apply(&mut state, vec![a.sign(dead)]).unwrap_err().to_string().contains("txn dead"));
    let mut long = pay(&a, b.addr(), 1);
    long.last_valid = 2_000;
    assert!(apply(&mut state, vec![a.sign(long)]).is_err());
    let mut other_net = pay(&a, b.addr(), 1);
    other_net.genesis_hash = Some([4; 32]);
    assert!(
        apply(&mut state, vec![a.sign(other_net)])
            .unwrap_err()
            .to_string()
            .contains("genesis hash")
    );
    let mut forged = a.sign(pay(&a, b.addr(), 2));
    forged.sig = Some([1; 64]);
    assert!(apply(&mut state, vec![forged]).unwrap_err().to_string().contains("signature"));
    let by_b = b.sign(pay(&a, b.addr(), 3));
    assert!(apply(&mut state, vec![by_b]).unwrap_err().to_string().contains("authorized by"));
}

trait NoteChange {
    fn amount_note_change(&mut self);
}

impl NoteChange for Transaction {
    /// A different transaction (new id) with the same sender and lease.
    fn amount_note_change(&mut self) {
        self.note = b"second".to_vec();
    }
}

#[test]
fn asset_lifecycle_with_freeze_clawback_and_close() {
    let (creator, holder, other) = (Key::new(1), Key::new(2), Key::new(3));
    let mut state = funded(&[(&creator, 10_000_000), (&holder, 1_000_000), (&other, 1_000_000)]);
    let params = AssetParams {
        total: 1_000,
        unit_name: "SHARE".into(),
        asset_name: "Cluster 1".into(),
        default_frozen: true,
        manager: Some(creator.addr()),
        freeze: Some(creator.addr()),
        clawback: Some(creator.addr()),
        ..AssetParams::default()
    };
    let ad =
        apply(
            &mut state,
            vec![creator.sign(txn(
                creator.addr(),
                TxnKind::AssetConfig { asset_id: 0, params: Some(params) },
            ))],
        )
        .unwrap();
    let id = ad[0].config_asset;
    assert_eq!(id, 1_001, "asset ids come from the transaction counter");
    assert_eq!(state.account(&creator.addr()).holdings[&id].amount, 1_000);
    assert_eq!(state.account(&creator.addr()).min_balance(&Consensus::default()), 200_000);

    let axfer = |from: &Key, to: Address, amount: u64| {
        txn(
            from.addr(),
            TxnKind::AssetTransfer {
                asset_id: id,
                amount,
                asset_sender: None,
                receiver: Some(to),
                close_to: None,
            },
        )
    };
    // Not opted in yet.
    assert!(apply(&mut state, vec![creator.sign(axfer(&creator, holder.addr(), 5))]).is_err());
    apply(&mut state, vec![holder.sign(axfer(&holder, holder.addr(), 0))]).unwrap();
    assert!(state.account(&holder.addr()).holdings[&id].frozen, "default frozen");
    // Frozen: a plain transfer into the holding is refused; a clawback moves units anyway.
    let err = apply(&mut state, vec![creator.sign(axfer(&creator, holder.addr(), 5))]).unwrap_err();
    assert!(err.to_string().contains("frozen"), "{err}");
    let clawback = txn(
        creator.addr(),
        TxnKind::AssetTransfer {
            asset_id: id,
            amount: 50,
            asset_sender: Some(creator.addr()),
            receiver: Some(holder.addr()),
            close_to: None,
        },
    );
    apply(&mut state, vec![creator.sign(clawback)]).unwrap();
    assert_eq!(state.account(&holder.addr()).holdings[&id].amount, 50);
    // Only the clawback address may claw back.
    let stolen = txn(
        other.addr(),
        TxnKind::AssetTransfer {
            asset_id: id,
            amount: 1,
            asset_sender: Some(holder.addr()),
            receiver: Some(other.addr()),
            close_to: None,
        },
    );
    assert!(apply(&mut state, vec![other.sign(stolen)]).is_err());
    // Unfreeze, then the holder closes out to the creator.
    let unfreeze = txn(
        creator.addr(),
        TxnKind::AssetFreeze { account: Some(holder.addr()), asset_id: id, frozen: false },
    );
    apply(&mut state, vec![creator.sign(unfreeze)]).unwrap();
    let close = txn(
        holder.addr(),
        TxnKind::AssetTransfer {
            asset_id: id,
            amount: 10,
            asset_sender: None,
            receiver: Some(creator.addr()),
            close_to: Some(creator.addr()),
        },
    );
    let ad = apply(&mut state, vec![holder.sign(close)]).unwrap();
    assert_eq!(ad[0].asset_closing_amount, 40);
    assert!(!state.account(&holder.addr()).holdings.contains_key(&id));
    // The creator holds everything again, so the manager can destroy the asset.
    let destroy = txn(creator.addr(), TxnKind::AssetConfig { asset_id: id, params: None });
    apply(&mut state, vec![creator.sign(destroy)]).unwrap();
    assert!(state.assets.is_empty());
    assert_eq!(state.account(&creator.addr()).min_balance(&Consensus::default()), 100_000);
}

#[test]
fn an_application_without_a_program_is_refused() {
    let a = Key::new(1);
    let mut state = funded(&[(&a, 1_000_000)]);
    let call = txn(a.addr(), TxnKind::AppCall(Default::default()));
    let err = apply(&mut state, vec![a.sign(call)]).unwrap_err();
    assert!(err.to_string().contains("approval program empty"), "{err}");
    assert_eq!(balance(&state, &a), 1_000_000, "nothing changed");
}
