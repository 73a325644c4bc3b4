//! Wire types: request and response bodies. They are separate from the database rows
//! and the domain types, with explicit conversions, so a schema change cannot silently
//! change the API.

use std::time::{Duration, UNIX_EPOCH};

use bitfox_domain::billing::{self, MaxMinutes, PricePerMinute};
use bitfox_domain::{Address, ChainId, ClusterId, GpuId, JobId, JobState, RentalId, RentalStatus};
use bitfox_store::models::{GpuRow, JobRow, RentalRow};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::spec::{
    AlgorandAddress, DisplayName, GpuCursor, GpuSort, GpuStatusFilter, GpuStatusName, JobKindName,
    JobStateName, RegionName, RentalCursor, RentalStatusName, SignedTransaction,
};

/// Formats Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(seconds: i64) -> String {
    let secs = u64::try_from(seconds).unwrap_or(0);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// `Some(None)` for an explicit `null`, `Some(Some(v))` for a value, `None` if absent.
fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `Some(v)` for a value, `None` if absent (with `#[serde(default)]`); `null` is refused,
/// for a field that may be left out but not cleared.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Body of `POST /gpus`. The first three fields are the original wire contract; the
/// rest are optional.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGpu {
    /// The provider's Algorand address.
    #[schema(value_type = AlgorandAddress)]
    pub owner_address: Address,
    /// GPU model name, 1–100 characters.
    #[schema(value_type = DisplayName)]
    pub gpu_model: String,
    /// Price in microAlgos per minute (1 ..= 10^16, the Algo supply).
    #[schema(value_type = u64, minimum = 1u64, maximum = 10_000_000_000_000_000u64, example = 1000)]
    pub price_per_minute: PricePerMinute,
    /// Video memory per GPU, in GB (1 ..= 4096).
    #[schema(minimum = 1u32, maximum = 4096u32)]
    pub vram_gb: Option<u32>,
    /// Number of GPUs in the machine (1 ..= 1024; default 1).
    #[schema(minimum = 1u32, maximum = 1024u32)]
    pub gpu_count: Option<u32>,
    /// Region label, e.g. `eu-west` (1–64 characters).
    #[schema(value_type = Option<RegionName>)]
    pub region: Option<String>,
}

/// Body of `PATCH /gpus/{id}`: the fields to change, at least one. `null` clears
/// `vram_gb` or `region`; the other fields cannot be cleared.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGpu {
    /// New model name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = DisplayName, required = false)]
    pub gpu_model: Option<String>,
    /// New price in microAlgos per minute (1 ..= 10^16).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = u64, required = false, minimum = 1u64, maximum = 10_000_000_000_000_000u64)]
    pub price_per_minute: Option<PricePerMinute>,
    /// New VRAM in GB (1 ..= 4096), or `null` for unknown.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u32>, minimum = 1u32, maximum = 4096u32)]
    pub vram_gb: Option<Option<u32>>,
    /// New GPU count (1 ..= 1024).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = u32, required = false, minimum = 1u32, maximum = 1024u32)]
    pub gpu_count: Option<u32>,
    /// New region, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<RegionName>)]
    pub region: Option<Option<String>>,
}

/// Body of `POST /gpus/{id}/rent`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RentGpu {
    /// The renter's Algorand address (pays the deposit).
    #[schema(value_type = AlgorandAddress)]
    pub renter_address: Address,
    /// Minutes the deposit pays for (1 ..= 525600, default 60). The deposit is
    /// `price_per_minute * max_minutes`; unused time is refunded at stop. A deposit
    /// beyond the Algo supply (10^16 microAlgos) is refused (409: the GPU's price allows
    /// fewer minutes).
    #[schema(value_type = Option<u64>, minimum = 1u64, maximum = 525_600u64, example = 60)]
    pub max_minutes: Option<MaxMinutes>,
}

/// Body of `POST /gpus/{id}/stop` (optional; the original contract sends none).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopGpu {
    /// If given, the stop applies only if this address is the rental's renter.
    #[schema(value_type = Option<AlgorandAddress>)]
    pub renter_address: Option<Address>,
}

/// Body of `POST /gpus/{id}/retirement` (optional; an empty object).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireGpu {}

impl From<CreateGpu> for bitfox_market::listings::NewListing {
    fn from(b: CreateGpu) -> Self {
        Self {
            owner_address: b.owner_address,
            gpu_model: b.gpu_model,
            price_per_minute: b.price_per_minute,
            vram_gb: b.vram_gb,
            gpu_count: b.gpu_count,
            region: b.region,
        }
    }
}

impl From<UpdateGpu> for bitfox_market::listings::ListingChanges {
    fn from(b: UpdateGpu) -> Self {
        Self {
            gpu_model: b.gpu_model,
            price_per_minute: b.price_per_minute,
            vram_gb: b.vram_gb,
            gpu_count: b.gpu_count,
            region: b.region,
        }
    }
}

impl From<RentGpu> for bitfox_market::rentals::RentRequest {
    fn from(b: RentGpu) -> Self {
        Self { renter_address: b.renter_address, max_minutes: b.max_minutes }
    }
}

impl From<StopGpu> for bitfox_market::rentals::StopRequest {
    fn from(b: StopGpu) -> Self {
        Self { renter_address: b.renter_address }
    }
}

/// A renter's view of a listing's track record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reliability {
    /// Rentals settled normally.
    pub completed_rentals: u32,
    /// Rentals that failed.
    pub failed_rentals: u32,
}

/// Links to follow.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Links {
    /// This resource.
    #[serde(rename = "self")]
    pub this: String,
    /// The GPU involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    /// The rental involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental: Option<String>,
    /// The job carrying the chain work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The cluster involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// A GPU listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Gpu {
    /// Listing id.
    pub id: i64,
    /// The provider's Algorand address.
    #[schema(value_type = AlgorandAddress)]
    pub owner_address: String,
    /// GPU model name.
    pub gpu_model: String,
    /// microAlgos per minute.
    pub price_per_minute: u64,
    /// `available`, `renting`, `rented`, `delisted` or `offline`.
    #[schema(value_type = GpuStatusName)]
    pub status: String,
    /// VRAM per GPU in GB, if known.
    pub vram_gb: Option<u32>,
    /// GPUs in the machine.
    pub gpu_count: u32,
    /// Region label, if any.
    pub region: Option<String>,
    /// Track record.
    pub reliability: Reliability,
    /// The listing id in the contract; `null` until the listing is confirmed on chain
    /// (a rent waits for it).
    pub listing_id: Option<u64>,
    /// The transaction that created the on-chain listing.
    pub listing_txid: Option<String>,
    /// Whether the listing is registered on chain. One that is not yet (its registration
    /// is being sent, or awaits its provider's wallet) can be rented, but the rent waits
    /// for the registration — at most the checkout window when a wallet must sign.
    pub on_chain: bool,
    /// The app (contract version) the listing lives on; `null` until it is chosen.
    pub app_id: Option<u64>,
    /// A cluster GPU whose retirement was announced may be delisted from this time
    /// (RFC 3339, the chain's clock) on; `null` when none was announced.
    pub retirement_effective_at: Option<String>,
    /// When listed (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Links.
    pub links: Links,
}

impl From<GpuRow> for Gpu {
    fn from(row: GpuRow) -> Self {
        Self {
            links: Links { this: format!("/gpus/{}", row.id), ..Links::default() },
            id: row.id.get(),
            owner_address: row.owner_address,
            gpu_model: row.gpu_model,
            price_per_minute: row.price_per_minute.get(),
            status: row.status.to_string(),
            vram_gb: row.vram_gb.and_then(|v| u32::try_from(v).ok()),
            gpu_count: u32::try_from(row.gpu_count).unwrap_or(1),
            region: row.region,
            reliability: Reliability {
                completed_rentals: u32::try_from(row.completed_rentals).unwrap_or(0),
                failed_rentals: u32::try_from(row.failed_rentals).unwrap_or(0),
            },
            listing_id: row.listing_id.map(ChainId::get),
            listing_txid: row.register_txid,
            on_chain: row.listing_id.is_some(),
            app_id: row.app_id.map(ChainId::get),
            retirement_effective_at: row.retirement_effective.map(rfc3339),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// Exact amounts of a settled rental, in microAlgos.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettlementAmounts {
    /// What the rental cost: `paid_to_provider + platform_fee`.
    pub cost: u64,
    /// Paid to the provider.
    pub paid_to_provider: u64,
    /// Paid to the platform treasury.
    pub platform_fee: u64,
    /// Returned to the renter: `deposit - cost`.
    pub refunded: u64,
}

/// On-chain transaction ids of a rental.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RentalTransactions {
    /// The deposit group's app call.
    pub rent: Option<String>,
    /// The settle call.
    pub settle: Option<String>,
}

/// A rental.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rental {
    /// Rental id.
    pub id: i64,
    /// The rented GPU.
    pub gpu_id: i64,
    /// Who rents.
    #[schema(value_type = AlgorandAddress)]
    pub renter_address: String,
    /// Who provides.
    #[schema(value_type = AlgorandAddress)]
    pub provider_address: String,
    /// `pending`, `active`, `settling`, `settled`, `failed`, `expired` or `cancelled`
    /// (stopped before its deposit was ever sent).
    #[schema(value_type = RentalStatusName)]
    pub status: String,
    /// Price at rent time, microAlgos per minute.
    pub price_per_minute: u64,
    /// Minutes the deposit pays for.
    pub max_minutes: u64,
    /// `price_per_minute * max_minutes`, microAlgos.
    pub deposit: u64,
    /// Whether a stop was requested.
    pub stop_requested: bool,
    /// Cost so far by the server's clock while active (the chain's block time decides
    /// the final amount); `null` before the deposit is locked on chain.
    pub cost_so_far: Option<u64>,
    /// Final amounts once settled.
    pub settlement: Option<SettlementAmounts>,
    /// Why the chain refused the rental or its settlement.
    pub failure_reason: Option<String>,
    /// The rental id in the contract, once confirmed on chain.
    pub chain_rental_id: Option<u64>,
    /// On-chain transaction ids.
    pub transactions: RentalTransactions,
    /// When requested (RFC 3339).
    pub created_at: String,
    /// When billing started on chain (RFC 3339).
    pub started_at: Option<String>,
    /// When billing ended on chain (RFC 3339).
    pub ended_at: Option<String>,
    /// Links.
    pub links: Links,
}

impl Rental {
    /// The wire form of `row`, with `job` (its latest job) linked and the cost so far
    /// computed at `now` (Unix seconds).
    pub fn from_row(row: RentalRow, job: Option<JobId>, now: i64) -> Self {
        let (price, deposit) = (row.price_per_minute, row.deposit);
        let seconds = |t: i64| u64::try_from(t).ok();
        let cost_so_far = match (row.status, row.started_at.and_then(seconds), seconds(now)) {
            (RentalStatus::Active | RentalStatus::Settling, Some(start), Some(now)) => {
                let end = billing::max_end(start, price, deposit);
                let elapsed = billing::elapsed(start, end, now);
                Some(billing::cost(price, elapsed, deposit).get())
            }
            _ => None,
        };
        let settlement = match (row.cost, row.fee, row.provider_amount, row.refund) {
            (Some(cost), Some(fee), Some(provider), Some(refund)) => Some(SettlementAmounts {
                cost: cost.get(),
                paid_to_provider: provider.get(),
                platform_fee: fee.get(),
                refunded: refund.get(),
            }),
            _ => None,
        };
        Self {
            links: Links {
                this: format!("/rentals/{}", row.id),
                gpu: Some(format!("/gpus/{}", row.gpu_id)),
                rental: None,
                job: job.map(|id| format!("/jobs/{id}")),
                cluster: None,
            },
            id: row.id.get(),
            gpu_id: row.gpu_id.get(),
            renter_address: row.renter_address,
            provider_address: row.provider_address,
            status: row.status.to_string(),
            price_per_minute: price.get(),
            max_minutes: row.max_minutes.get(),
            deposit: deposit.get(),
            stop_requested: row.stop_requested_at.is_some(),
            cost_so_far,
            settlement,
            failure_reason: row.failure_reason,
            chain_rental_id: row.chain_rental_id.map(ChainId::get),
            transactions: RentalTransactions { rent: row.rent_txid, settle: row.settle_txid },
            created_at: rfc3339(row.created_at),
            started_at: row.started_at.map(rfc3339),
            ended_at: row.ended_at.map(rfc3339),
        }
    }
}

/// A background job carrying chain work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    /// Job id.
    pub id: i64,
    /// `register`, `update_price`, `delist`, `rent`, `settle`, or a cluster job
    /// (`create_cluster`, `join_cluster`, `opt_in`, `buy_shares`, `transfer_shares`,
    /// `claim`, `claim_unsold`).
    #[schema(value_type = JobKindName)]
    pub kind: String,
    /// `queued`, `running`, `awaiting_signature`, `succeeded`, `failed` or `cancelled`.
    #[schema(value_type = JobStateName)]
    pub state: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt did not finish (or why the job waits).
    pub last_error: Option<String>,
    /// The GPU it serves.
    pub gpu_id: Option<i64>,
    /// The rental it serves (rent and settle jobs).
    pub rental_id: Option<i64>,
    /// The cluster it serves (cluster jobs).
    pub cluster_id: Option<i64>,
    /// While `awaiting_signature`: the group to sign, in order. Sign each transaction
    /// whose `signer` you hold (`txn` is its base64 msgpack, signed with the `TX`
    /// prefix as every Algorand wallet does) and POST them to `/jobs/{id}/signature`.
    pub unsigned_group: Option<Vec<UnsignedTransaction>>,
    /// The transaction id of the signed group, once signed (it is stored before it is
    /// sent, so a retry sends the very same transaction).
    pub txid: Option<String>,
    /// Earliest time of the next attempt (RFC 3339).
    pub run_after: String,
    /// When created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Links.
    pub links: Links,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        let unsigned_group = row
            .unsigned_group
            .as_deref()
            .filter(|_| row.state == JobState::AwaitingSignature)
            .and_then(|json| serde_json::from_str(json).ok())
            .map(|g: bitfox_domain::chain::UnsignedGroup| {
                g.transactions.into_iter().map(UnsignedTransaction::from).collect()
            });
        Self {
            links: Links {
                this: format!("/jobs/{}", row.id),
                rental: row.rental_id.map(|id| format!("/rentals/{id}")),
                gpu: row.gpu_id.map(|id| format!("/gpus/{id}")),
                cluster: row.cluster_id.map(|id| format!("/clusters/{id}")),
                ..Links::default()
            },
            id: row.id.get(),
            kind: row.kind.to_string(),
            state: row.state.to_string(),
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            last_error: row.last_error,
            gpu_id: row.gpu_id.map(GpuId::get),
            rental_id: row.rental_id.map(RentalId::get),
            cluster_id: row.cluster_id.map(ClusterId::get),
            unsigned_group,
            txid: row.signed_txid,
            run_after: rfc3339(row.run_after),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// A transaction a wallet is asked to sign.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnsignedTransaction {
    /// The unsigned transaction, base64 of its canonical msgpack.
    pub txn: String,
    /// Its transaction id.
    pub txid: String,
    /// The address that must sign it.
    #[schema(value_type = AlgorandAddress)]
    pub signer: String,
    /// What it does.
    pub description: String,
}

impl From<bitfox_domain::chain::UnsignedTxn> for UnsignedTransaction {
    fn from(t: bitfox_domain::chain::UnsignedTxn) -> Self {
        Self { txn: t.txn, txid: t.txid, signer: t.signer.to_string(), description: t.description }
    }
}

/// Body of `POST /jobs/{id}/signature`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedGroupBody {
    /// The signed transactions, one per transaction of `unsigned_group` and in its
    /// order, each base64 of the signed msgpack envelope (what wallets return).
    #[schema(value_type = Vec<SignedTransaction>)]
    pub signed_transactions: Vec<String>,
}

/// Query parameters of `GET /gpus`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GpuListParams {
    /// Case-insensitive substring of the model name (empty: any).
    pub model: Option<String>,
    /// Minimum VRAM in GB.
    #[param(value_type = Option<i64>, minimum = 0i64, maximum = 9_223_372_036_854_775_807i64)]
    pub min_vram: Option<String>,
    /// Maximum price in microAlgos per minute.
    #[param(value_type = Option<i64>, minimum = 0i64, maximum = 9_223_372_036_854_775_807i64)]
    pub max_price: Option<String>,
    /// Exact region (case-insensitive; empty: any).
    pub region: Option<String>,
    /// Status to list (default `available`), or `all`.
    #[param(value_type = Option<GpuStatusFilter>)]
    pub status: Option<String>,
    /// Only this provider's listings.
    #[param(value_type = Option<AlgorandAddress>)]
    pub owner: Option<String>,
    /// `oldest` (default, listing order), `newest`, `price` (cheapest first) or `vram`
    /// (most first).
    #[param(value_type = Option<GpuSort>)]
    pub sort: Option<String>,
    /// Continue from a previous page (`X-Next-Cursor` / `Link: rel="next"`).
    #[param(value_type = Option<GpuCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 ..= 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1i64, maximum = 200i64)]
    pub limit: Option<String>,
}

/// Query parameters of `GET /rentals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RentalListParams {
    /// Only this renter's rentals.
    #[param(value_type = Option<AlgorandAddress>)]
    pub renter: Option<String>,
    /// Only rentals of this provider's GPUs.
    #[param(value_type = Option<AlgorandAddress>)]
    pub provider: Option<String>,
    /// Only this status.
    #[param(value_type = Option<RentalStatusName>)]
    pub status: Option<String>,
    /// Continue from a previous page (`X-Next-Cursor` / `Link: rel="next"`).
    #[param(value_type = Option<RentalCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 ..= 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1i64, maximum = 200i64)]
    pub limit: Option<String>,
}

/// Body of `GET /health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// `dev` or `production`.
    pub mode: String,
    /// The chain backend the job runner uses.
    pub chain: String,
    /// The server's version.
    pub version: String,
}
