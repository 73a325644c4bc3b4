//! The typed contract client: builds the exact transaction groups each method needs
//! (`contracts/README.md`, *Methods*), with the pooled fee, the minimum-balance payment
//! and the box and account references; sends signed groups and waits for them.
//!
//! Built on algonaut_transaction's builders (fee, boxes and accounts are set on each
//! transaction; the typed `contract!` builders cannot set fees, which fee pooling needs).

use algonaut::Algod;
use algonaut::core::{Address as AlgoAddress, AppId, AssetId, MicroAlgos, Round, TransactionId};
use algonaut::error::{RequestError, RequestErrorDetails};
use algonaut::model::algod::SuggestedParams;
use algonaut::transaction::transaction::BoxReference;
use algonaut::transaction::{CallApplication, Pay, Transaction};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_domain::Address;

use crate::node_error::{Refusal, classify};

use bitfox_contract::abi::{method, method_arg, u64_arg};
use bitfox_contract::app_address;
use bitfox_contract::boxes;
use bitfox_contract::mbr::{
    CLUSTER_DEPOSIT, HOLDER_MBR, LISTING_MBR, MIN_FEE, RENTAL_MBR, RETIREMENT_MBR,
};
/// How many rounds to wait for a confirmation before giving up (the group stays
/// journalled and is sent again on the next attempt).
const CONFIRM_ROUNDS: u64 = 20;

/// Why a send did not confirm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The node refused the group (logic error, overspend, ...): final.
    #[error("{0}")]
    Rejected(String),
    /// The group's validity window has passed without it being committed: it never
    /// will be, a new group must be built.
    #[error("{0}")]
    Expired(String),
    /// The node could not be reached, or did not confirm in time; try again later.
    #[error("{0}")]
    Unavailable(String),
}

/// A confirmed transaction of interest (the group's app call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub txid: String,
    pub round: u64,
    pub logs: Vec<Vec<u8>>,
}

/// The contract on one network.
#[derive(Debug, Clone)]
pub struct Contract {
    algod: Algod,
    app_id: u64,
    /// An indexer (URL, token) to find transactions algod no longer remembers.
    indexer: Option<(String, String)>,
}

/// Converts a domain address.
pub fn algo_address(address: &Address) -> AlgoAddress {
    AlgoAddress(*address.public_key())
}

/// A reference to this app's box `name`.
fn box_ref(name: Vec<u8>) -> BoxReference {
    BoxReference { app_id: None, name }
}

/// The `last_valid` round of the first transaction of signed group bytes.
fn last_valid(signed: &[u8]) -> Option<u64> {
    use serde::Deserialize;
    let mut decoder = rmp_serde::Deserializer::new(signed);
    algonaut::transaction::SignedTransaction::deserialize(&mut decoder)
        .ok()
        .map(|s| s.transaction().last_valid.0)
}

/// The holder-record box reference.
fn holder_ref(cluster_id: u64, holder: &Address) -> BoxReference {
    box_ref(boxes::holder(cluster_id, holder))
}

/// A payment at the minimum fee.
fn pay(
    params: &SuggestedParams,
    sender: &Address,
    receiver: AlgoAddress,
    amount: u64,
) -> Result<Transaction, SendError> {
    Pay::new(algo_address(sender), receiver, MicroAlgos(amount))
        .fee(MicroAlgos(MIN_FEE))
        .build(params)
        .map_err(|e| SendError::Rejected(format!("building the payment: {e}")))
}

fn set_assets(txn: &mut Transaction, asset_id: u64) {
    if let algonaut::transaction::transaction::TransactionType::ApplicationCallTransaction(call) =
        &mut txn.txn_type
    {
        call.foreign_assets = Some(vec![AssetId(asset_id)]);
    }
}

fn describe(e: &algonaut::Error) -> String {
    match e {
        algonaut::Error::Request(RequestError {
            details: RequestErrorDetails::Http { message, .. },
            ..
        }) => message.clone(),
        other => other.to_string(),
    }
}

impl Contract {
    /// The app `app_id` reached through `algod`.
    pub fn new(algod: Algod, app_id: u64) -> Self {
        Self { algod, app_id, indexer: None }
    }

    /// Also asks the indexer at `url` when algod has forgotten a transaction (it keeps
    /// confirmed ones only for a while).
    pub fn with_indexer(mut self, url: &str, token: &str) -> Self {
        self.indexer = Some((url.trim_end_matches('/').to_owned(), token.to_owned()));
        self
    }

    /// The application id.
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// The node client.
    pub fn algod(&self) -> &Algod {
        &self.algod
    }

    /// Current transaction parameters.
    pub async fn params(&self) -> Result<SuggestedParams, SendError> {
        self.algod.suggested_params().await.map_err(|e| SendError::Unavailable(describe(&e)))
    }

    /// The latest block's timestamp (the contract's `global LatestTimestamp`).
    pub async fn latest_timestamp(&self) -> Result<u64, SendError> {
        let unavailable = |e: algonaut::Error| SendError::Unavailable(describe(&e));
        let round = self.algod.status().await.map_err(unavailable)?.last_round.0;
        let block = self.algod.block(round).await.map_err(unavailable)?;
        block
            .block
            .timestamp
            .ok_or_else(|| SendError::Unavailable(format!("block {round} has no timestamp")))
    }

    /// The app's global-state value under `key`, if set.
    async fn global(
        &self,
        key: &str,
    ) -> Result<Option<algonaut::model::algod::TealValue>, SendError> {
        let app = self
            .algod
            .app(AppId(self.app_id))
            .await
            .map_err(|e| SendError::Unavailable(describe(&e)))?;
        let wanted = B64.encode(key);
        Ok(app
            .params
            .global_state
            .unwrap_or_default()
            .into_iter()
            .find(|kv| kv.key == wanted)
            .map(|kv| *kv.value))
    }

    /// An address from the app's global state (`None` when unset).
    pub async fn global_address(&self, key: &str) -> Result<Option<Address>, SendError> {
        Ok(self
            .global(key)
            .await?
            .and_then(|v| <[u8; 32]>::try_from(v.bytes).ok())
            .map(Address::from_public_key))
    }

    /// An integer from the app's global state (0 when unset, as the AVM reads it).
    pub async fn global_uint(&self, key: &str) -> Result<u64, SendError> {
        Ok(self.global(key).await?.map_or(0, |v| v.uint))
    }

    fn call(
        &self,
        params: &SuggestedParams,
        sender: &Address,
        fee: u64,
        args: Vec<Vec<u8>>,
        boxes: Vec<BoxReference>,
        accounts: Vec<AlgoAddress>,
    ) -> Result<Transaction, SendError> {
        let mut call = CallApplication::new(algo_address(sender), AppId(self.app_id))
            .app_arguments(args)
            .boxes(boxes)
            .fee(MicroAlgos(fee));
        if !accounts.is_empty() {
            call = call.accounts(accounts);
        }
        call.build(params).map_err(|e| SendError::Rejected(format!("building the call: {e}")))
    }

    /// A payment of `amount` to the app.
    fn payment(
        &self,
        params: &SuggestedParams,
        sender: &Address,
        amount: u64,
    ) -> Result<Transaction, SendError> {
        pay(params, sender, algo_address(&app_address(self.app_id)), amount)
    }

    /// `[pay 28 500 → app, register_listing(price, cluster)]`; `listing_id` is the id the
    /// call will be handed (`n_listing + 1`), named in the box reference.
    pub fn register_listing(
        &self,
        params: &SuggestedParams,
        provider: &Address,
        price_per_minute: u64,
        cluster_id: u64,
        listing_id: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let mut boxes = vec![box_ref(boxes::listing(listing_id))];
        if cluster_id != 0 {
            boxes.push(box_ref(boxes::cluster(cluster_id)));
        }
        let args = vec![
            method_arg(method::REGISTER_LISTING),
            u64_arg(price_per_minute),
            u64_arg(cluster_id),
        ];
        Ok(vec![
            self.payment(params, provider, LISTING_MBR)?,
            self.call(params, provider, MIN_FEE, args, boxes, vec![])?,
        ])
    }

    /// `update_price(listing, price)`, alone.
    pub fn update_price(
        &self,
        params: &SuggestedParams,
        provider: &Address,
        listing_id: u64,
        price_per_minute: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let args =
            vec![method_arg(method::UPDATE_PRICE), u64_arg(listing_id), u64_arg(price_per_minute)];
        Ok(vec![self.call(
            params,
            provider,
            MIN_FEE,
            args,
            vec![box_ref(boxes::listing(listing_id))],
            vec![],
        )?])
    }

    /// `delist(listing)`, alone, fee 2000 (one inner payment refunds the box's minimum
    /// balance). A cluster listing (`cluster_id` ≠ 0) also names what contract v2 checks
    /// before letting it go: the cluster, the unsold shares' and the provider's holder
    /// records, and the retirement notice (v1 ignores the extra references).
    pub fn delist(
        &self,
        params: &SuggestedParams,
        provider: &Address,
        listing_id: u64,
        cluster_id: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let args = vec![method_arg(method::DELIST), u64_arg(listing_id)];
        let mut refs = vec![box_ref(boxes::listing(listing_id))];
        if cluster_id != 0 {
            refs.extend([
                box_ref(boxes::cluster(cluster_id)),
                holder_ref(cluster_id, &app_address(self.app_id)),
                holder_ref(cluster_id, provider),
                box_ref(boxes::retirement(listing_id)),
            ]);
        }
        Ok(vec![self.call(params, provider, 2 * MIN_FEE, args, refs, vec![])?])
    }

    /// `[pay → app, announce_retirement(listing)]` (contract v2): the cluster GPU may be
    /// delisted once the notice has passed, for the notice's window. A first notice pays
    /// the notice box's 9 300; one replacing a lapsed notice (`replacing`) pays 0, the
    /// box being held already.
    pub fn announce_retirement(
        &self,
        params: &SuggestedParams,
        provider: &Address,
        listing_id: u64,
        replacing: bool,
    ) -> Result<Vec<Transaction>, SendError> {
        let args = vec![method_arg(method::ANNOUNCE_RETIREMENT), u64_arg(listing_id)];
        let refs =
            vec![box_ref(boxes::listing(listing_id)), box_ref(boxes::retirement(listing_id))];
        let deposit = if replacing { 0 } else { RETIREMENT_MBR };
        Ok(vec![
            self.payment(params, provider, deposit)?,
            self.call(params, provider, MIN_FEE, args, refs, vec![])?,
        ])
    }

    /// `[pay price·minutes + 38 100 → app, rent(listing, minutes)]`.
    pub fn rent(
        &self,
        params: &SuggestedParams,
        renter: &Address,
        listing_id: u64,
        deposit: u64,
        max_minutes: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let payment = deposit
            .checked_add(RENTAL_MBR)
            .ok_or_else(|| SendError::Rejected("the deposit overflows".into()))?;
        let args = vec![method_arg(method::RENT), u64_arg(listing_id), u64_arg(max_minutes)];
        let boxes = vec![box_ref(boxes::listing(listing_id)), box_ref(boxes::rental(listing_id))];
        Ok(vec![
            self.payment(params, renter, payment)?,
            self.call(params, renter, MIN_FEE, args, boxes, vec![])?,
        ])
    }

    /// `[pay top-up → app, extend(listing, rental, extra minutes)]`.
    pub fn extend(
        &self,
        params: &SuggestedParams,
        renter: &Address,
        listing_id: u64,
        rental_id: u64,
        top_up: u64,
        extra_minutes: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let args = vec![
            method_arg(method::EXTEND),
            u64_arg(listing_id),
            u64_arg(rental_id),
            u64_arg(extra_minutes),
        ];
        Ok(vec![
            self.payment(params, renter, top_up)?,
            self.call(
                params,
                renter,
                MIN_FEE,
                args,
                vec![box_ref(boxes::rental(listing_id))],
                vec![],
            )?,
        ])
    }

    /// `stop(listing, rental)`, alone, fee 3000 (two inner payments); the renter and the
    /// provider in the accounts array; the cluster's box for a cluster GPU.
    #[allow(clippy::too_many_arguments)]
    pub fn stop(
        &self,
        params: &SuggestedParams,
        sender: &Address,
        listing_id: u64,
        rental_id: u64,
        renter: &Address,
        provider: &Address,
        cluster_id: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let args = vec![method_arg(method::STOP), u64_arg(listing_id), u64_arg(rental_id)];
        let mut boxes =
            vec![box_ref(boxes::rental(listing_id)), box_ref(boxes::listing(listing_id))];
        if cluster_id != 0 {
            boxes.push(box_ref(boxes::cluster(cluster_id)));
        }
        let accounts = vec![algo_address(renter), algo_address(provider)];
        Ok(vec![self.call(params, sender, 3 * MIN_FEE, args, boxes, accounts)?])
    }

    /// `[pay 173 000 → app, create_cluster(total, price, url)]`, fee 2000 (the inner
    /// asset creation); `cluster_id` is the predicted id (`n_cluster + 1`).
    pub fn create_cluster(
        &self,
        params: &SuggestedParams,
        operator: &Address,
        total_shares: u64,
        price_per_share: u64,
        url: &str,
        cluster_id: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let len = u16::try_from(url.len())
            .map_err(|_| SendError::Rejected("the cluster URL is too long".into()))?;
        let mut url_arg = len.to_be_bytes().to_vec();
        url_arg.extend_from_slice(url.as_bytes());
        let args = vec![
            method_arg(method::CREATE_CLUSTER),
            u64_arg(total_shares),
            u64_arg(price_per_share),
            url_arg,
        ];
        let app = app_address(self.app_id);
        let boxes = vec![box_ref(boxes::cluster(cluster_id)), holder_ref(cluster_id, &app)];
        Ok(vec![
            self.payment(params, operator, CLUSTER_DEPOSIT)?,
            self.call(params, operator, 2 * MIN_FEE, args, boxes, vec![])?,
        ])
    }

    /// `[pay 34 900 → app, join_cluster(cluster)]`: the sender's holder record.
    pub fn join_cluster(
        &self,
        params: &SuggestedParams,
        holder: &Address,
        cluster_id: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let args = vec![method_arg(method::JOIN_CLUSTER), u64_arg(cluster_id)];
        let boxes = vec![box_ref(boxes::cluster(cluster_id)), holder_ref(cluster_id, holder)];
        Ok(vec![
            self.payment(params, holder, HOLDER_MBR)?,
            self.call(params, holder, MIN_FEE, args, boxes, vec![])?,
        ])
    }

    /// The holder's opt-in to the share ASA (a 0-amount transfer to itself).
    pub fn opt_in(
        &self,
        params: &SuggestedParams,
        holder: &Address,
        asset_id: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let txn = algonaut::transaction::AcceptAsset::new(algo_address(holder), AssetId(asset_id))
            .fee(MicroAlgos(MIN_FEE))
            .build(params)
            .map_err(|e| SendError::Rejected(format!("building the opt-in: {e}")))?;
        Ok(vec![txn])
    }

    /// `[pay count·price → operator, buy_shares(cluster, count)]`, fee 2000.
    #[allow(clippy::too_many_arguments)]
    pub fn buy_shares(
        &self,
        params: &SuggestedParams,
        buyer: &Address,
        cluster_id: u64,
        asset_id: u64,
        operator: &Address,
        count: u64,
        price: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        let amount = count
            .checked_mul(price)
            .ok_or_else(|| SendError::Rejected("the share price overflows".into()))?;
        let args = vec![method_arg(method::BUY_SHARES), u64_arg(cluster_id), u64_arg(count)];
        let app = app_address(self.app_id);
        let boxes = vec![
            box_ref(boxes::cluster(cluster_id)),
            holder_ref(cluster_id, &app),
            holder_ref(cluster_id, buyer),
        ];
        let pay = pay(params, buyer, algo_address(operator), amount)?;
        let mut call = self.call(params, buyer, 2 * MIN_FEE, args, boxes, vec![])?;
        set_assets(&mut call, asset_id);
        Ok(vec![pay, call])
    }

    /// `transfer_shares(cluster, to, count)`, alone, fee 2000.
    pub fn transfer_shares(
        &self,
        params: &SuggestedParams,
        from: &Address,
        cluster_id: u64,
        asset_id: u64,
        to: &Address,
        count: u64,
    ) -> Result<Vec<Transaction>, SendError> {
        // `account` arguments are indexes into the accounts array (0 is the sender).
        let args =
            vec![method_arg(method::TRANSFER_SHARES), u64_arg(cluster_id), vec![1], u64_arg(count)];
        let boxes = vec![
            box_ref(boxes::cluster(cluster_id)),
            holder_ref(cluster_id, from),
            holder_ref(cluster_id, to),
        ];
        let mut call = self.call(params, from, 2 * MIN_FEE, args, boxes, vec![algo_address(to)])?;
        set_assets(&mut call, asset_id);
        Ok(vec![call])
    }

    /// `claim(cluster)` (or `claim_unsold` for the operator's unsold shares), fee 2000.
    pub fn claim(
        &self,
        params: &SuggestedParams,
        holder: &Address,
        cluster_id: u64,
        unsold: bool,
    ) -> Result<Vec<Transaction>, SendError> {
        let (method, record) = if unsold {
            (method::CLAIM_UNSOLD, app_address(self.app_id))
        } else {
            (method::CLAIM, *holder)
        };
        let args = vec![method_arg(method), u64_arg(cluster_id)];
        let boxes = vec![box_ref(boxes::cluster(cluster_id)), holder_ref(cluster_id, &record)];
        Ok(vec![self.call(params, holder, 2 * MIN_FEE, args, boxes, vec![])?])
    }

    /// A box's value, `None` when it does not exist.
    pub async fn box_value(&self, name: &[u8]) -> Result<Option<Vec<u8>>, SendError> {
        let encoded = format!("b64:{}", B64.encode(name));
        match self.algod.app_box(AppId(self.app_id), &encoded).await {
            Ok(b) => Ok(Some(b.value.0)),
            Err(e) if e.is_404() => Ok(None),
            Err(e) => Err(SendError::Unavailable(describe(&e))),
        }
    }

    /// Whether `address` has opted in to `asset_id`.
    pub async fn holds_asset(&self, address: &Address, asset_id: u64) -> Result<bool, SendError> {
        let account = self
            .algod
            .account(&algo_address(address))
            .await
            .map_err(|e| SendError::Unavailable(describe(&e)))?;
        Ok(account.assets.unwrap_or_default().iter().any(|a| a.asset_id == asset_id))
    }

    /// Sends a signed group (again, if it was sent before) and waits until `txid` is
    /// committed. A group the node already has in its ledger counts as sent.
    pub async fn send(&self, signed: &[u8], txid: &str) -> Result<Confirmed, SendError> {
        if let Err(e) = self.algod.send_raw(signed).await {
            let message = describe(&e);
            match &e {
                algonaut::Error::Request(RequestError {
                    details: RequestErrorDetails::Http { status: 400, .. },
                    ..
                }) => {
                    match classify(&message) {
                        // Sent by an earlier attempt: look it up below.
                        Refusal::AlreadyCommitted => {}
                        Refusal::Dead => {
                            return match self.committed(txid, last_valid(signed)).await? {
                                Some(confirmed) => Ok(confirmed),
                                None => Err(SendError::Expired(message)),
                            };
                        }
                        Refusal::PoolFull => return Err(SendError::Unavailable(message)),
                        Refusal::BoxNotReferenced | Refusal::Rejected => {
                            return Err(SendError::Rejected(message));
                        }
                    }
                }
                _ => return Err(SendError::Unavailable(message)),
            }
        }
        self.confirmation(txid).await
    }

    /// `txid`, if it is committed: from algod while it remembers it, else from the
    /// indexer. `None` means not committed (as far as both can tell).
    ///
    /// Not-committed is only said when it is certain: algod answered that it does not
    /// know the transaction and the indexer, caught up past the group's `last_valid`
    /// round, has not seen it either. Anything less is `Unavailable` (try again later), so
    /// a committed group is never taken for a lost one and signed a second time.
    pub async fn committed(
        &self,
        txid: &str,
        last_valid: Option<u64>,
    ) -> Result<Option<Confirmed>, SendError> {
        match self.algod.pending_transaction(&TransactionId(txid.to_owned())).await {
            Ok(pending) => {
                if let Some(round) = pending.confirmed_round.filter(|r| *r > 0) {
                    let logs = pending.logs.unwrap_or_default().into_iter().map(|b| b.0).collect();
                    return Ok(Some(Confirmed { txid: txid.to_owned(), round, logs }));
                }
            }
            Err(e) if e.is_404() => {}
            Err(e) => {
                return Err(SendError::Unavailable(format!("looking {txid} up: {}", describe(&e))));
            }
        }
        let Some((url, token)) = &self.indexer else {
            return Err(SendError::Unavailable(format!(
                "cannot tell whether {txid} was committed without an indexer"
            )));
        };
        let unavailable = |e: &dyn std::fmt::Display| {
            SendError::Unavailable(format!("looking {txid} up on the indexer: {e}"))
        };
        let response = reqwest::Client::new()
            .get(format!("{url}/v2/transactions"))
            .query(&[("txid", txid)])
            .header("X-Indexer-API-Token", token)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !response.status().is_success() {
            return Err(unavailable(&response.status()));
        }
        let body: serde_json::Value = response.json().await.map_err(|e| unavailable(&e))?;
        let Some(found) = body["transactions"].as_array().and_then(|t| t.first()) else {
            let seen = body["current-round"].as_u64().unwrap_or(0);
            return match last_valid {
                Some(last) if seen >= last => Ok(None),
                _ => Err(unavailable(&format!(
                    "the indexer is at round {seen}, not past the group yet"
                ))),
            };
        };
        // The indexer holds committed transactions only: one it returns without its
        // round is a malformed answer, never "not committed".
        let round = found["confirmed-round"]
            .as_u64()
            .filter(|round| *round > 0)
            .ok_or_else(|| unavailable(&"the indexer's transaction has no confirmed-round"))?;
        let logs = found["logs"]
            .as_array()
            .map(|logs| logs.iter().filter_map(|l| B64.decode(l.as_str()?).ok()).collect())
            .unwrap_or_default();
        Ok(Some(Confirmed { txid: txid.to_owned(), round, logs }))
    }

    async fn confirmation(&self, txid: &str) -> Result<Confirmed, SendError> {
        let id = TransactionId(txid.to_owned());
        let mut round = None;
        for _ in 0..CONFIRM_ROUNDS {
            let pending = self.algod.pending_transaction(&id).await.map_err(|e| {
                SendError::Unavailable(format!("looking up {txid}: {}", describe(&e)))
            })?;
            if let Some(confirmed) = pending.confirmed_round.filter(|r| *r > 0) {
                return Ok(Confirmed {
                    txid: txid.to_owned(),
                    round: confirmed,
                    logs: pending.logs.unwrap_or_default().into_iter().map(|b| b.0).collect(),
                });
            }
            if !pending.pool_error.is_empty() {
                return Err(SendError::Rejected(pending.pool_error));
            }
            let last = match round {
                Some(r) => r,
                None => self.params().await?.last_round.0,
            };
            let status = self
                .algod
                .status_after_block(Round(last))
                .await
                .map_err(|e| SendError::Unavailable(describe(&e)))?;
            round = Some(status.last_round.0);
        }
        Err(SendError::Unavailable(format!("{txid} not confirmed after {CONFIRM_ROUNDS} rounds")))
    }
}
