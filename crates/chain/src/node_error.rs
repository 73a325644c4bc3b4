//! What a node's refusal means, decided in one place.
//!
//! algod answers a refused submission with HTTP 400 and a message; a few of those
//! messages are not refusals of the transaction's content but say something about its
//! fate, and the client must act on them differently. The texts are go-algorand's own
//! (`ledgercore.TransactionInLedgerError`, `bookkeeping.TxnDeadError`,
//! `pools.ErrPendingQueueReachedMaxCap`, the AVM's box-reference error), which the
//! embedded devnet reproduces; the tests below pin them.

/// The meaning of a refusal message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The very transaction is committed already: look its confirmation up.
    AlreadyCommitted,
    /// The transaction is outside its validity window. go-algorand says so before it
    /// looks at its ledger, so the group may have been committed long ago.
    Dead,
    /// The node's transaction pool is full: try again later.
    PoolFull,
    /// An application call names a box it may not touch — for BitFox, a creation whose
    /// predicted id another creation took first.
    BoxNotReferenced,
    /// Anything else: the content was refused (logic error, overspend, …); final.
    Rejected,
}

/// Classifies a refusal `message` from algod (or from the chain port, which passes the
/// node's words on).
pub fn classify(message: &str) -> Refusal {
    if message.contains("transaction already in ledger") {
        Refusal::AlreadyCommitted
    } else if message.contains("txn dead") {
        Refusal::Dead
    } else if message.contains("transaction pool") && message.contains("capacity") {
        Refusal::PoolFull
    } else if message.contains("invalid Box reference") {
        Refusal::BoxNotReferenced
    } else {
        Refusal::Rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_node_messages_are_classified() {
        let recorded = [
            // go-algorand through algod's REST handler, and the devnet's wording.
            (
                "TransactionPool.Remember: transaction already in ledger: \
                 5V3JZBPRMGDXWVN5BGJ3AS33CWHJMTRPXK4MMTPXEYFYT2G6ZZKQ",
                Refusal::AlreadyCommitted,
            ),
            (
                "transaction 5V3JZBPRMGDXWVN5BGJ3AS33CWHJMTRPXK4MMTPXEYFYT2G6ZZKQ: transaction \
                 already in ledger",
                Refusal::AlreadyCommitted,
            ),
            ("txn dead: round 1234 outside of 10--1010", Refusal::Dead),
            (
                "TransactionPool.checkPendingQueueSize: transaction pool has reached capacity",
                Refusal::PoolFull,
            ),
            (
                "transaction X: logic eval error: invalid Box reference 0x6c0000000000000007. \
                 Details: app=1001, pc=412",
                Refusal::BoxNotReferenced,
            ),
            (
                "transaction X: overspend (account Y, data {…}, tried to spend {1000})",
                Refusal::Rejected,
            ),
            ("logic eval error: assert failed pc=88", Refusal::Rejected),
        ];
        for (message, want) in recorded {
            assert_eq!(classify(message), want, "{message}");
        }
    }
}
