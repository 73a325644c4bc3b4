//! [`AlgorandChain`]: the job runner's [`ChainPort`] on Algorand.
//!
//! Every call follows the same steps: take the group the job's journal already holds,
//! or build the group, sign it and record it in the journal; send it; wait for the
//! app call's confirmation; read the outcome from the contract's events. A group that
//! expired unsent is forgotten and rebuilt on the next attempt.

use bitfox_domain::billing::Settlement;
use bitfox_domain::chain::{
    ChainError, ChainPort, DelistOrder, Journal, PortFuture, RegisterOrder, RegisterReceipt,
    RentOrder, RentReceipt, SettleOrder, SettleReceipt, SignedGroup, TxReceipt, UnsignedGroup,
    UpdatePriceOrder,
};
use bitfox_domain::{Address, MicroAlgos};

use crate::abi::{self, Event};
use crate::client::{Confirmed, Contract, SendError};
use crate::signer::{self, Keyring, SignError};

/// The contract on a network, signing with a [`Keyring`].
#[derive(Debug)]
pub struct AlgorandChain {
    name: String,
    contract: Contract,
    keys: Keyring,
    /// Signs settlements (the contract's admin may stop any rental; anyone may once a
    /// rental's deposit is used up).
    operator: Address,
}

impl From<SendError> for ChainError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Rejected(m) => ChainError::Rejected(m),
            SendError::Expired(m) => ChainError::Transient(m),
            SendError::Unavailable(m) => ChainError::Unavailable(m),
        }
    }
}

impl From<SignError> for ChainError {
    fn from(e: SignError) -> Self {
        ChainError::Rejected(e.to_string())
    }
}

fn missing(what: &str, txid: &str) -> ChainError {
    ChainError::Rejected(format!("transaction {txid} confirmed without a {what} event"))
}

impl AlgorandChain {
    /// The contract `contract`, signing with `keys`; `operator` (which must be in
    /// `keys`) signs settlements.
    pub fn new(
        name: impl Into<String>,
        contract: Contract,
        keys: Keyring,
        operator: Address,
    ) -> Self {
        Self { name: name.into(), contract, keys, operator }
    }

    /// The contract client.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// Sends the journalled group, or builds, signs and journals a new one with
    /// `build`, and waits for its confirmation.
    async fn execute<F>(
        &self,
        journal: &dyn Journal,
        build: F,
    ) -> Result<(Confirmed, Vec<Event>), ChainError>
    where
        F: AsyncFnOnce(&Contract) -> Result<Vec<algonaut::transaction::Transaction>, ChainError>,
    {
        let group = match journal.recorded() {
            Some(group) => group,
            None => {
                let txns = signer::group(build(&self.contract).await?)?;
                let group = match self.keys.sign_grouped(txns.clone()) {
                    Ok(group) => group,
                    // A wallet must sign: the job waits for the group to come back.
                    Err(SignError::MissingKey(_)) => {
                        return Err(ChainError::NeedsSignature(signer::unsigned(&txns)?));
                    }
                    Err(e) => return Err(e.into()),
                };
                journal.record(group.clone()).await?;
                group
            }
        };
        match self.contract.send(&group.bytes, &group.txid).await {
            Ok(confirmed) => {
                let events = abi::events(&confirmed.logs)
                    .map_err(|e| ChainError::Rejected(format!("{}: {e}", confirmed.txid)))?;
                Ok((confirmed, events))
            }
            Err(SendError::Expired(reason)) => {
                journal.forget().await?;
                Err(ChainError::Transient(format!("{reason}; a new group will be signed")))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl ChainPort for AlgorandChain {
    fn name(&self) -> &str {
        &self.name
    }

    fn accept_signed(
        &self,
        unsigned: &UnsignedGroup,
        signed: &[Vec<u8>],
    ) -> Result<SignedGroup, String> {
        signer::accept_signed(unsigned, signed)
    }

    fn now(&self) -> PortFuture<'_, u64> {
        Box::pin(async move { Ok(self.contract.latest_timestamp().await?) })
    }

    fn register<'a>(
        &'a self,
        order: &'a RegisterOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RegisterReceipt> {
        Box::pin(async move {
            let (confirmed, events) = self
                .execute(journal, async |c: &Contract| {
                    let params = c.params().await?;
                    let next = c.global_uint("n_listing").await? + 1;
                    let price = order.price.get();
                    Ok(c.register_listing(&params, &order.provider, price, 0, next)?)
                })
                .await?;
            let listing_id = events
                .iter()
                .find_map(|e| match e {
                    Event::ListingRegistered { listing_id, .. } => Some(*listing_id),
                    _ => None,
                })
                .ok_or_else(|| missing("ListingRegistered", &confirmed.txid))?;
            Ok(RegisterReceipt { txid: confirmed.txid, listing_id })
        })
    }

    fn update_price<'a>(
        &'a self,
        order: &'a UpdatePriceOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt> {
        Box::pin(async move {
            let (confirmed, _) = self
                .execute(journal, async |c: &Contract| {
                    let params = c.params().await?;
                    Ok(c.update_price(
                        &params,
                        &order.provider,
                        order.listing_id,
                        order.price.get(),
                    )?)
                })
                .await?;
            Ok(TxReceipt { txid: confirmed.txid })
        })
    }

    fn delist<'a>(
        &'a self,
        order: &'a DelistOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, TxReceipt> {
        Box::pin(async move {
            let (confirmed, _) = self
                .execute(journal, async |c: &Contract| {
                    let params = c.params().await?;
                    Ok(c.delist(&params, &order.provider, order.listing_id)?)
                })
                .await?;
            Ok(TxReceipt { txid: confirmed.txid })
        })
    }

    fn rent<'a>(
        &'a self,
        order: &'a RentOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RentReceipt> {
        Box::pin(async move {
            let (confirmed, events) = self
                .execute(journal, async |c: &Contract| {
                    let params = c.params().await?;
                    let (deposit, minutes) = (order.deposit.get(), order.max_minutes.get());
                    Ok(c.rent(&params, &order.renter, order.listing_id, deposit, minutes)?)
                })
                .await?;
            let started = events
                .into_iter()
                .find_map(|e| match e {
                    Event::RentalStarted(s) => Some(s),
                    _ => None,
                })
                .ok_or_else(|| missing("RentalStarted", &confirmed.txid))?;
            Ok(RentReceipt {
                txid: confirmed.txid,
                started_at: started.start,
                chain_rental_id: started.rental_id,
            })
        })
    }

    fn settle<'a>(
        &'a self,
        order: &'a SettleOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, SettleReceipt> {
        Box::pin(async move {
            let (confirmed, events) = self
                .execute(journal, async |c: &Contract| {
                    let params = c.params().await?;
                    Ok(c.stop(
                        &params,
                        &self.operator,
                        order.listing_id,
                        order.chain_rental_id,
                        &order.renter,
                        &order.provider,
                        0,
                    )?)
                })
                .await?;
            let settled = events
                .into_iter()
                .find_map(|e| match e {
                    Event::RentalSettled(s) => Some(s),
                    _ => None,
                })
                .ok_or_else(|| missing("RentalSettled", &confirmed.txid))?;
            Ok(SettleReceipt {
                txid: confirmed.txid,
                ended_at: settled.end,
                settlement: Settlement {
                    cost: MicroAlgos(settled.cost),
                    fee: MicroAlgos(settled.fee),
                    provider: MicroAlgos(settled.provider_amount),
                    refund: MicroAlgos(settled.refund),
                },
            })
        })
    }
}
