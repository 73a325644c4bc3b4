//! Payments: moving Algos from the sender to a receiver and, with a close-to address,
//! closing the sender's account (its remaining balance goes there, its spending key is
//! cleared). Used for top-level payments and for the inner payments programs issue.

use bitfox_domain::Address;

use super::state::{ApplyData, EvalError, Overlay, reject};
use crate::txn::Transaction;

/// Adds `amount` to the balance of `address`.
fn credit(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    address: Address,
    amount: u64,
) -> Result<(), EvalError> {
    let mut account = o.account(&address);
    account.balance = account
        .balance
        .checked_add(amount)
        .ok_or_else(|| reject(txn, format!("balance of {address} overflows")))?;
    o.put(address, account);
    Ok(())
}

/// Applies a payment of `amount` from `txn.sender` to `receiver` (the zero address when
/// absent), then closes the sender to `close_to` if given.
pub(crate) fn pay(
    o: &mut Overlay<'_>,
    txn: &Transaction,
    receiver: Option<Address>,
    amount: u64,
    close_to: Option<Address>,
    ad: &mut ApplyData,
) -> Result<(), EvalError> {
    let zero = Address::from_public_key([0; 32]);
    let mut sender = o.account(&txn.sender);
    sender.balance = sender.balance.checked_sub(amount).ok_or_else(|| {
        reject(
            txn,
            format!(
                "overspend: account {} tried to spend {amount}, has {}",
                txn.sender, sender.balance
            ),
        )
    })?;
    o.put(txn.sender, sender);
    credit(o, txn, receiver.unwrap_or(zero), amount)?;
    if let Some(close_to) = close_to {
        if close_to == txn.sender {
            return Err(reject(txn, "transaction cannot close account to its sender"));
        }
        let mut sender = o.account(&txn.sender);
        if !sender.holdings.is_empty()
            || !sender.created_apps.is_empty()
            || !sender.opted_in_apps.is_empty()
        {
            return Err(reject(txn, "cannot close account: it still holds assets or applications"));
        }
        let rest = sender.balance;
        sender.balance = 0;
        sender.auth_addr = None;
        o.put(txn.sender, sender);
        credit(o, txn, close_to, rest)?;
        ad.closing_amount = rest;
    }
    Ok(())
}
