//! Group evaluation: applying a transaction group to the ledger, all or nothing.
//!
//! [`apply_group_at`] checks the group as a whole (size, group ids, pooled fees), then
//! evaluates each transaction on one [`Overlay`]: validity window, genesis, note size,
//! duplicates and leases, authorisation (rekeying), the fee, then its effects by kind
//! (payments, assets, application calls), and the minimum balance of every account
//! changed so far. Only if every transaction is accepted are the changes committed; each
//! transaction's [`ApplyData`] is returned.

use bitfox_avm::eval::GroupContext;

use super::apps;
use super::assets::{asset_config, asset_freeze, asset_transfer};
use super::payment::pay;
use super::state::{ApplyData, Consensus, EvalError, Network, Overlay, State, reject};
use crate::txn::{Digest32, SignedTxn, TxnKind, group_id};

/// Evaluates `group` at `round` against `state`; on success commits it and returns each
/// transaction's apply data.
pub fn apply_group(
    state: &mut State,
    consensus: &Consensus,
    network: &Network,
    round: u64,
    group: &[SignedTxn],
) -> Result<Vec<ApplyData>, EvalError> {
    apply_group_at(state, consensus, network, round, 0, group)
}

/// [`apply_group`] in a block made after one stamped `latest_timestamp` (what programs
/// read as `global LatestTimestamp`).
pub fn apply_group_at(
    state: &mut State,
    consensus: &Consensus,
    network: &Network,
    round: u64,
    latest_timestamp: u64,
    group: &[SignedTxn],
) -> Result<Vec<ApplyData>, EvalError> {
    check_group(consensus, group)?;
    let mut overlay = Overlay::new(state);
    let mut cx = group
        .iter()
        .any(|s| matches!(s.txn.kind, TxnKind::AppCall(_)))
        .then(|| apps::group_context(consensus, round, latest_timestamp, group));
    let mut applied = Vec::with_capacity(group.len());
    for (gi, stxn) in group.iter().enumerate() {
        applied.push(apply_one(
            &mut overlay,
            consensus,
            network,
            round,
            stxn,
            cx.as_mut().map(|cx| (cx, gi)),
        )?);
    }
    let changes = overlay.finish();
    changes.apply(state);
    // Forget what can no longer be replayed.
    state.recent_txids.retain(|_, last_valid| *last_valid >= round);
    state.leases.retain(|_, last_valid| *last_valid >= round);
    Ok(applied)
}

fn check_group(consensus: &Consensus, group: &[SignedTxn]) -> Result<(), EvalError> {
    if group.is_empty() {
        return Err(EvalError::Group("empty transaction group".into()));
    }
    if group.len() > consensus.max_group_size {
        return Err(EvalError::Group(format!(
            "group size {} exceeds maximum {}",
            group.len(),
            consensus.max_group_size
        )));
    }
    let ids: Vec<Digest32> = group
        .iter()
        .map(|s| {
            let mut txn = s.txn.clone();
            txn.group = None;
            txn.id_bytes()
        })
        .collect();
    let expected = group_id(&ids);
    for stxn in group {
        match stxn.txn.group {
            None if group.len() == 1 => {}
            Some(g) if g == expected => {}
            None => {
                return Err(EvalError::Group(format!(
                    "transaction {} is in a group of {} but has no group id",
                    stxn.txn.id(),
                    group.len()
                )));
            }
            Some(_) => {
                return Err(EvalError::Group("incomplete group: group id does not match".into()));
            }
        }
    }
    // Fee pooling: the group's fees together must cover the minimum fee of every member.
    let total: u128 = group.iter().map(|s| u128::from(s.txn.fee)).sum();
    let needed = u128::from(consensus.min_txn_fee) * group.len() as u128;
    if total < needed {
        return Err(EvalError::Group(format!("fee too small: group pays {total}, needs {needed}")));
    }
    Ok(())
}

fn apply_one(
    o: &mut Overlay<'_>,
    c: &Consensus,
    network: &Network,
    round: u64,
    stxn: &SignedTxn,
    cx: Option<(&mut GroupContext, usize)>,
) -> Result<ApplyData, EvalError> {
    let txn = &stxn.txn;
    let txid = txn.id_bytes();
    // Validity window and network.
    if txn.last_valid < txn.first_valid || txn.last_valid - txn.first_valid > c.max_txn_life {
        return Err(reject(
            txn,
            format!("validity window [{}, {}] is invalid", txn.first_valid, txn.last_valid),
        ));
    }
    if round < txn.first_valid || round > txn.last_valid {
        return Err(reject(
            txn,
            format!("txn dead: round {round} outside of {}--{}", txn.first_valid, txn.last_valid),
        ));
    }
    if txn.genesis_hash != Some(network.genesis_hash) {
        return Err(reject(txn, "genesis hash does not match this network"));
    }
    if !txn.genesis_id.is_empty() && txn.genesis_id != network.genesis_id {
        return Err(reject(
            txn,
            format!("genesis id {:?} does not match {:?}", txn.genesis_id, network.genesis_id),
        ));
    }
    if txn.note.len() > c.max_note_bytes {
        return Err(reject(
            txn,
            format!("note too big: {} > {}", txn.note.len(), c.max_note_bytes),
        ));
    }
    if o.base.recent_txids.contains_key(&txid)
        || o.changes.new_txids.iter().any(|(id, _)| *id == txid)
    {
        return Err(reject(txn, "transaction already in ledger"));
    }
    if let Some(lease) = txn.lease {
        let key = (txn.sender, lease);
        let active = o.base.leases.get(&key).is_some_and(|lv| *lv >= round)
            || o.changes.new_leases.iter().any(|(k, _)| *k == key);
        if active {
            return Err(reject(txn, "transaction using an overlapping lease"));
        }
        o.changes.new_leases.push((key, txn.last_valid));
    }
    // Authorisation: the signer must be the account's current spending key.
    stxn.verify()?;
    let mut sender = o.account(&txn.sender);
    let authorised = sender.auth_addr.unwrap_or(txn.sender);
    if stxn.signer() != authorised {
        return Err(reject(
            txn,
            format!(
                "should have been authorized by {authorised} but was actually authorized by {}",
                stxn.signer()
            ),
        ));
    }
    // The fee.
    sender.balance = sender.balance.checked_sub(txn.fee).ok_or_else(|| {
        reject(
            txn,
            format!(
                "overspend: account {} balance {} cannot pay fee {}",
                txn.sender, sender.balance, txn.fee
            ),
        )
    })?;
    o.put(txn.sender, sender);
    o.changes.txn_counter += 1;
    o.changes.new_txids.push((txid, txn.last_valid));

    // Rekeying takes effect before the transaction's own effects, as in go-algorand: a
    // payment that closes the account then clears the new key along with everything else.
    if let Some(rekey_to) = txn.rekey_to {
        let mut sender = o.account(&txn.sender);
        sender.auth_addr = (rekey_to != txn.sender).then_some(rekey_to);
        o.put(txn.sender, sender);
    }
    let mut ad = ApplyData::default();
    match &txn.kind {
        TxnKind::Payment { receiver, amount, close_to } => {
            pay(o, txn, *receiver, *amount, *close_to, &mut ad)?;
        }
        TxnKind::AssetConfig { asset_id, params } => {
            asset_config(o, c, txn, *asset_id, params.as_ref(), &mut ad)?
        }
        TxnKind::AssetTransfer { asset_id, amount, asset_sender, receiver, close_to } => {
            asset_transfer(
                o,
                txn,
                *asset_id,
                *amount,
                *asset_sender,
                *receiver,
                *close_to,
                &mut ad,
            )?;
        }
        TxnKind::AssetFreeze { account, asset_id, frozen } => {
            asset_freeze(o, txn, *account, *asset_id, *frozen)?
        }
        TxnKind::AppCall(call) => {
            let (cx, gi) = cx.ok_or_else(|| {
                EvalError::Group("application call outside a group context".into())
            })?;
            apps::app_call(o, c, cx, gi, txn, call, &mut ad)
                .map_err(|reason| reject(txn, reason))?;
        }
    }
    // Every account changed so far in the group must keep its minimum balance.
    for (address, account) in o.touched() {
        if !account.is_empty() && account.balance < account.min_balance(c) {
            return Err(reject(
                txn,
                format!(
                    "account {address} balance {} below min {}",
                    account.balance,
                    account.min_balance(c)
                ),
            ));
        }
    }
    Ok(ad)
}
