//! Assets: creation, reconfiguration and destruction (`acfg`), opt-in, transfers,
//! clawbacks and close-outs (`axfer`), and freezes (`afrz`), with go-algorand's rules.
//! Used for top-level transactions and for the inner ones programs issue.

use bitfox_domain::Address;

use super::state::{ApplyData, Asset, Consensus, EvalError, Holding, Overlay, reject};
use crate::txn::{AssetParams, Transaction};

/// Checks new asset parameters against the consensus limits.
fn check_params(c: &Consensus, txn: &Transaction, p: &AssetParams) -> Result<(), EvalError> {
    if p.decimals > c.max_asset_decimals {
        return Err(reject(
            txn,
            format!("asset decimals {} above {}", p.decimals, c.max_asset_decimals),
        ));
    }
    if p.unit_name.len() > c.max_asset_unit_name_bytes {
        return Err(reject(txn, "asset unit name too long"));
    }
    if p.asset_name.len() > c.max_asset_name_bytes {
        return Err(reject(txn, "asset name too long"));
    }
    if p.url.len() > c.max_asset_url_bytes {
        return Err(reject(txn, "asset url too long"));
    }
    Ok(())
}

/// Creates (`asset_id` 0), reconfigures (`params` given) or destroys an asset.
pub(crate) fn asset_config(
    o: &mut Overlay<'_>,
    c: &Consensus,
    txn: &Transaction,
    asset_id: u64,
    params: Option<&AssetParams>,
    ad: &mut ApplyData,
) -> Result<(), EvalError> {
    if asset_id == 0 {
        let params = params.cloned().unwrap_or_default();
        check_params(c, txn, &params)?;
        // The new id is the transaction's place in the ledger's history.
        let id = o.changes.txn_counter;
        let mut creator = o.account(&txn.sender);
        creator.created_assets.insert(id);
        creator.holdings.insert(id, Holding { amount: params.total, frozen: false });
        o.put(txn.sender, creator);
        o.changes.assets.insert(id, Some(Asset { creator: txn.sender, params }));
        ad.config_asset = id;
        return Ok(());
    }
    let mut asset =
        o.asset(asset_id).ok_or_else(|| reject(txn, format!("asset {asset_id} does not exist")))?;
    if asset.params.manager != Some(txn.sender) {
        return Err(reject(txn, "this transaction should be issued by the manager"));
    }
    match params {
        Some(new) => {
            // go-algorand lets the manager set any of the four addresses, a cleared one
            // included (refusing that is only an SDK-side convention).
            asset.params.manager = new.manager;
            asset.params.reserve = new.reserve;
            asset.params.freeze = new.freeze;
            asset.params.clawback = new.clawback;
            o.changes.assets.insert(asset_id, Some(asset));
        }
        None => {
            let mut creator = o.account(&asset.creator);
            let held = creator.holdings.get(&asset_id).map_or(0, |h| h.amount);
            if held != asset.params.total {
                return Err(reject(
                    txn,
                    "cannot destroy asset: the creator does not hold every unit",
                ));
            }
            creator.holdings.remove(&asset_id);
            creator.created_assets.remove(&asset_id);
            o.put(asset.creator, creator);
            o.changes.assets.insert(asset_id, None);
        }
    }
    Ok(())
}

/// Opts in (a zero transfer to oneself), transfers, claws back (`asset_sender`) or closes
/// out (`close_to`) a holding.
#[allow(clippy::too_many_arguments)]
pub(crate) fn asset_transfer(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    asset_id: u64,
    amount: u64,
    asset_sender: Option<Address>,
    receiver: Option<Address>,
    close_to: Option<Address>,
    ad: &mut ApplyData,
) -> Result<(), EvalError> {
    let zero = Address::from_public_key([0; 32]);
    let asset =
        o.asset(asset_id).ok_or_else(|| reject(txn, format!("asset {asset_id} does not exist")))?;
    let receiver = receiver.unwrap_or(zero);
    // Opt-in: a zero transfer to oneself creates the holding.
    if asset_sender.is_none() && receiver == txn.sender && amount == 0 && close_to.is_none() {
        let mut account = o.account(&txn.sender);
        account
            .holdings
            .entry(asset_id)
            .or_insert(Holding { amount: 0, frozen: asset.params.default_frozen });
        o.put(txn.sender, account);
        return Ok(());
    }
    let clawback = asset_sender.is_some();
    if clawback && asset.params.clawback != Some(txn.sender) {
        return Err(reject(txn, "clawback transactions must be sent by the clawback address"));
    }
    let source = asset_sender.unwrap_or(txn.sender);
    move_units(o, txn, asset_id, source, receiver, amount, clawback)?;
    if let Some(close_to) = close_to {
        if clawback {
            return Err(reject(txn, "a clawback cannot close out a holding"));
        }
        if txn.sender == asset.creator {
            return Err(reject(txn, "cannot close asset holding of the asset creator"));
        }
        let holding = o.account(&txn.sender).holdings.get(&asset_id).copied();
        let holding = holding.ok_or_else(|| reject(txn, "asset not held"))?;
        if holding.frozen && close_to != asset.creator {
            return Err(reject(txn, "frozen holdings can only be closed to the creator"));
        }
        move_units(o, txn, asset_id, txn.sender, close_to, holding.amount, true)?;
        let mut account = o.account(&txn.sender);
        account.holdings.remove(&asset_id);
        o.put(txn.sender, account);
        ad.asset_closing_amount = holding.amount;
    }
    Ok(())
}

/// Moves `amount` units of `asset_id` between two holdings.
fn move_units(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    asset_id: u64,
    from: Address,
    to: Address,
    amount: u64,
    ignore_freeze: bool,
) -> Result<(), EvalError> {
    let mut source = o.account(&from);
    let held = source
        .holdings
        .get_mut(&asset_id)
        .ok_or_else(|| reject(txn, format!("asset {asset_id} missing from {from}")))?;
    if held.frozen && !ignore_freeze {
        return Err(reject(txn, format!("asset {asset_id} frozen in {from}")));
    }
    held.amount = held.amount.checked_sub(amount).ok_or_else(|| {
        reject(txn, format!("underflow on subtracting {amount} from sender amount {}", held.amount))
    })?;
    o.put(from, source);
    let mut target = o.account(&to);
    let held = target
        .holdings
        .get_mut(&asset_id)
        .ok_or_else(|| reject(txn, format!("asset {asset_id} missing from {to}")))?;
    if held.frozen && !ignore_freeze {
        return Err(reject(txn, format!("asset {asset_id} frozen in {to}")));
    }
    held.amount =
        held.amount.checked_add(amount).ok_or_else(|| reject(txn, "asset amount overflows"))?;
    o.put(to, target);
    Ok(())
}

/// Freezes or unfreezes the holding of `account`.
pub(crate) fn asset_freeze(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    account: Option<Address>,
    asset_id: u64,
    frozen: bool,
) -> Result<(), EvalError> {
    let asset =
        o.asset(asset_id).ok_or_else(|| reject(txn, format!("asset {asset_id} does not exist")))?;
    if asset.params.freeze != Some(txn.sender) {
        return Err(reject(txn, "freeze transactions must be sent by the freeze address"));
    }
    let target = account.unwrap_or(Address::from_public_key([0; 32]));
    let mut holder = o.account(&target);
    let holding = holder
        .holdings
        .get_mut(&asset_id)
        .ok_or_else(|| reject(txn, format!("asset {asset_id} missing from {target}")))?;
    holding.frozen = frozen;
    o.put(target, holder);
    Ok(())
}
