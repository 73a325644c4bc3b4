//! [`AlgorandChain`]: the job runner's [`ChainPort`] on Algorand.
//!
//! Every call follows the same steps: take the group the job's journal already holds,
//! or build the group, sign it and record it in the journal; send it; wait for the
//! app call's confirmation; read the outcome from the contract's events. A group that
//! expired unsent is forgotten and rebuilt on the next attempt.

use algonaut::model::algod::SuggestedParams;
use bitfox_contract::{Event, boxes, events};
use bitfox_domain::billing::Settlement;
use bitfox_domain::chain::{
    ChainError, ChainPort, ClusterCall, ClusterReceipt, ClusterState, DelistOrder, HolderState,
    Journal, PortFuture, RegisterOrder, RegisterReceipt, RentOrder, RentReceipt, RetireOrder,
    RetireReceipt, SettleOrder, SettleReceipt, SignedGroup, TxReceipt, UnsignedGroup,
    UpdatePriceOrder,
};
use bitfox_domain::{Address, MicroAlgos};

use crate::client::{Confirmed, Contract, SendError};
use crate::node_error::{Refusal, classify};
use crate::signer::{self, Keyring, SignError};

/// The contract on a network, signing with a [`Keyring`]. It knows every deployed
/// version (one app each, oldest first): new listings and clusters go to the newest,
/// and every order names the app its listing, rental or cluster lives on.
#[derive(Debug)]
pub struct AlgorandChain {
    name: String,
    /// The newest version: where new listings and clusters go.
    contract: Contract,
    /// Older versions, still settling what lives on them.
    older: Vec<Contract>,
    keys: Keyring,
    /// Signs settlements (the contract's admin may stop any rental; anyone may once a
    /// rental's deposit is used up).
    operator: Address,
    /// The validity, in rounds, of groups a wallet must sign (`None`: the node's).
    wallet_rounds: Option<u64>,
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

/// A listing or cluster creation names the id it predicts (`counter + 1`) in its box
/// reference; when another creation took that id first, the node refuses the box. The
/// group is forgotten so that the next attempt predicts again (contracts/README.md).
async fn unless_raced<T>(
    result: Result<T, ChainError>,
    journal: &dyn Journal,
) -> Result<T, ChainError> {
    match result {
        Err(ChainError::Rejected(reason)) if classify(&reason) == Refusal::BoxNotReferenced => {
            journal.forget().await?;
            Err(ChainError::Transient(format!(
                "another creation took the predicted id ({reason}); a new group will be built"
            )))
        }
        other => other,
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
        Self { name: name.into(), contract, keys, operator, older: Vec::new(), wallet_rounds: None }
    }

    /// Also serves `contract`, an older version of the app.
    pub fn with_older(mut self, contract: Contract) -> Self {
        self.older.push(contract);
        self
    }

    /// Groups handed to a wallet for its signature are valid for `rounds` rounds only
    /// (instead of the node's 1,000): a wallet's answer cannot land on chain after the
    /// job that asked for it has given up (the checkout window, for a rent).
    pub fn with_wallet_validity(mut self, rounds: u64) -> Self {
        self.wallet_rounds = Some(rounds.max(1));
        self
    }

    /// The contract client of the newest version.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The client of app `app_id`, one of the versions this port serves.
    pub fn contract_of(&self, app_id: u64) -> Result<&Contract, ChainError> {
        std::iter::once(&self.contract)
            .chain(&self.older)
            .find(|c| c.app_id() == app_id)
            .ok_or_else(|| {
                ChainError::Rejected(format!(
                    "app {app_id} is not a BitFox contract version in this deployment's manifest"
                ))
            })
    }

    /// Sends the journalled group, or builds (with `build`, given the node's current
    /// transaction parameters), signs and journals a new one, and waits for its
    /// confirmation.
    async fn execute<F>(
        &self,
        app_id: u64,
        journal: &dyn Journal,
        build: F,
    ) -> Result<(Confirmed, Vec<Event>), ChainError>
    where
        F: AsyncFnOnce(
            &Contract,
            &SuggestedParams,
        ) -> Result<Vec<algonaut::transaction::Transaction>, ChainError>,
    {
        let contract = self.contract_of(app_id)?;
        let group = match journal.recorded() {
            Some(group) => group,
            None => {
                let params = contract.params().await?;
                let built = build(contract, &params).await?;
                let txns = signer::group(built.clone())?;
                let group = match self.keys.sign_grouped(txns.clone()) {
                    Ok(group) => group,
                    // A wallet must sign: the job waits for the group to come back,
                    // with the shorter validity wallets get.
                    Err(SignError::MissingKey(_)) => {
                        let txns = match self.wallet_rounds {
                            Some(rounds) => {
                                let mut short = built;
                                for txn in &mut short {
                                    let last = txn.first_valid.0.saturating_add(rounds);
                                    if last < txn.last_valid.0 {
                                        txn.last_valid = algonaut::core::Round(last);
                                    }
                                }
                                signer::group(short)?
                            }
                            None => txns,
                        };
                        return Err(ChainError::NeedsSignature(signer::unsigned(&txns)?));
                    }
                    Err(e) => return Err(e.into()),
                };
                journal.record(group.clone()).await?;
                group
            }
        };
        match contract.send(&group.bytes, &group.txid).await {
            Ok(confirmed) => {
                let events = events(&confirmed.logs)
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

    fn newest_app(&self) -> Option<u64> {
        Some(self.contract.app_id())
    }

    fn register<'a>(
        &'a self,
        order: &'a RegisterOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RegisterReceipt> {
        Box::pin(async move {
            let executed = self
                .execute(order.app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    let next = c.global_uint("n_listing").await? + 1;
                    let (price, cluster) = (order.price.get(), order.cluster_id);
                    Ok(c.register_listing(params, &order.provider, price, cluster, next)?)
                })
                .await;
            let (confirmed, events) = unless_raced(executed, journal).await?;
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
                .execute(order.app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    Ok(c.update_price(
                        params,
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
                .execute(order.app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    Ok(c.delist(params, &order.provider, order.listing_id, order.cluster_id)?)
                })
                .await?;
            Ok(TxReceipt { txid: confirmed.txid })
        })
    }

    fn announce_retirement<'a>(
        &'a self,
        order: &'a RetireOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RetireReceipt> {
        Box::pin(async move {
            let (confirmed, events) = self
                .execute(order.app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    // A lapsed notice's box is still held: replacing it pays nothing.
                    let replacing =
                        c.box_value(&boxes::retirement(order.listing_id)).await?.is_some();
                    Ok(c.announce_retirement(params, &order.provider, order.listing_id, replacing)?)
                })
                .await?;
            let effective = events
                .iter()
                .find_map(|e| match e {
                    Event::RetirementAnnounced { effective, .. } => Some(*effective),
                    _ => None,
                })
                .ok_or_else(|| missing("RetirementAnnounced", &confirmed.txid))?;
            Ok(RetireReceipt { txid: confirmed.txid, effective })
        })
    }

    fn rent<'a>(
        &'a self,
        order: &'a RentOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, RentReceipt> {
        Box::pin(async move {
            let (confirmed, events) = self
                .execute(order.app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    let (deposit, minutes) = (order.deposit.get(), order.max_minutes.get());
                    Ok(c.rent(params, &order.renter, order.listing_id, deposit, minutes)?)
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

    fn cluster<'a>(
        &'a self,
        app_id: u64,
        call: &'a ClusterCall,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, ClusterReceipt> {
        Box::pin(async move {
            let contract = self.contract_of(app_id)?;
            // Joins and opt-ins are done at most once: skip them when the chain has them.
            if journal.recorded().is_none() {
                let done = match call {
                    ClusterCall::Join { holder, cluster_id } => {
                        contract.box_value(&boxes::holder(*cluster_id, holder)).await?.is_some()
                    }
                    ClusterCall::OptIn { holder, asset_id } => {
                        contract.holds_asset(holder, *asset_id).await?
                    }
                    _ => false,
                };
                if done {
                    return Ok(ClusterReceipt { skipped: true, ..ClusterReceipt::default() });
                }
            }
            let executed = self
                .execute(app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    Ok(match call {
                        ClusterCall::Create { operator, total_shares, price_per_share, url } => {
                            let next = c.global_uint("n_cluster").await? + 1;
                            c.create_cluster(
                                params,
                                operator,
                                *total_shares,
                                *price_per_share,
                                url,
                                next,
                            )?
                        }
                        ClusterCall::Join { holder, cluster_id } => {
                            c.join_cluster(params, holder, *cluster_id)?
                        }
                        ClusterCall::OptIn { holder, asset_id } => {
                            c.opt_in(params, holder, *asset_id)?
                        }
                        ClusterCall::Buy {
                            buyer,
                            cluster_id,
                            asset_id,
                            operator,
                            count,
                            price_per_share,
                        } => c.buy_shares(
                            params,
                            buyer,
                            *cluster_id,
                            *asset_id,
                            operator,
                            *count,
                            *price_per_share,
                        )?,
                        ClusterCall::Transfer { from, to, cluster_id, asset_id, count } => {
                            c.transfer_shares(params, from, *cluster_id, *asset_id, to, *count)?
                        }
                        ClusterCall::Claim { holder, cluster_id, unsold } => {
                            c.claim(params, holder, *cluster_id, *unsold)?
                        }
                    })
                })
                .await;
            let (confirmed, events) = unless_raced(executed, journal).await?;
            let mut receipt = ClusterReceipt { txid: confirmed.txid, ..ClusterReceipt::default() };
            for event in events {
                match event {
                    Event::ClusterCreated(created) => {
                        receipt.created = Some((created.cluster_id, created.asset_id));
                    }
                    Event::RevenueClaimed { amount, .. } => receipt.claimed = Some(amount),
                    _ => {}
                }
            }
            if matches!(call, ClusterCall::Create { .. }) && receipt.created.is_none() {
                return Err(missing("ClusterCreated", &receipt.txid));
            }
            if matches!(call, ClusterCall::Claim { .. }) && receipt.claimed.is_none() {
                // A claim of 0 pays nothing and logs no event.
                receipt.claimed = Some(0);
            }
            Ok(receipt)
        })
    }

    fn rental_open(&self, app_id: u64, listing_id: u64, rental_id: u64) -> PortFuture<'_, bool> {
        Box::pin(async move {
            let value = self.contract_of(app_id)?.box_value(&boxes::rental(listing_id)).await?;
            Ok(value.is_some_and(|v| boxes::rental_id(&v) == Some(rental_id)))
        })
    }

    fn cluster_state(&self, app_id: u64, cluster_id: u64) -> PortFuture<'_, Option<ClusterState>> {
        Box::pin(async move {
            let contract = self.contract_of(app_id)?;
            let Some(v) = contract.box_value(&boxes::cluster(cluster_id)).await? else {
                return Ok(None);
            };
            boxes::decode_cluster(&v).map(Some).ok_or_else(|| {
                ChainError::Rejected(format!("cluster box {cluster_id} is malformed"))
            })
        })
    }

    fn holder_state<'a>(
        &'a self,
        app_id: u64,
        cluster_id: u64,
        holder: &'a Address,
    ) -> PortFuture<'a, Option<HolderState>> {
        Box::pin(async move {
            let contract = self.contract_of(app_id)?;
            let Some(v) = contract.box_value(&boxes::holder(cluster_id, holder)).await? else {
                return Ok(None);
            };
            boxes::decode_holder(&v)
                .map(Some)
                .ok_or_else(|| ChainError::Rejected(format!("holder box of {holder} is malformed")))
        })
    }

    fn settle<'a>(
        &'a self,
        order: &'a SettleOrder,
        journal: &'a dyn Journal,
    ) -> PortFuture<'a, SettleReceipt> {
        Box::pin(async move {
            let (confirmed, events) = self
                .execute(order.app_id, journal, async |c: &Contract, params: &SuggestedParams| {
                    Ok(c.stop(
                        params,
                        &self.operator,
                        order.listing_id,
                        order.chain_rental_id,
                        &order.renter,
                        &order.provider,
                        order.cluster_id,
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
