//! Row types, one per table, and the insertable forms. Ids, statuses and amounts are the
//! domain's types (mapped by `bitfox-domain`'s `diesel` feature), so a row read back is
//! checked: an unknown status, a negative amount or a zero price is an error, not a
//! value to second-guess.

use bitfox_domain::billing::{MaxMinutes, PricePerMinute};
use bitfox_domain::{
    ChainId, ClusterId, ClusterStatus, GpuId, GpuStatus, JobId, JobKind, JobState, MicroAlgos,
    RentalId, RentalStatus, Shares,
};
use diesel::prelude::*;

use crate::schema::{api_keys, gpus, idempotency_keys, jobs, rentals};

/// A row of `gpus`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = gpus)]
pub struct GpuRow {
    pub id: GpuId,
    pub owner_address: String,
    pub gpu_model: String,
    pub vram_gb: Option<i32>,
    pub gpu_count: i32,
    pub region: Option<String>,
    pub price_per_minute: PricePerMinute,
    pub status: GpuStatus,
    pub completed_rentals: i32,
    pub failed_rentals: i32,
    pub last_heartbeat_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The listing id in the contract, once registered on chain.
    pub listing_id: Option<ChainId>,
    pub register_txid: Option<String>,
    /// The cluster the GPU belongs to, if any.
    pub cluster_id: Option<ClusterId>,
    /// The on-chain cluster its current listing was registered under (0: none).
    pub listing_cluster_id: Option<ChainId>,
    /// The app (contract version) its listing lives on, or is being registered on.
    pub app_id: Option<ChainId>,
    /// A cluster GPU's announced retirement: the chain time from which it may be
    /// delisted (contract v2).
    pub retirement_effective: Option<i64>,
}

/// A new GPU listing.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = gpus)]
pub struct NewGpu {
    pub owner_address: String,
    pub gpu_model: String,
    pub vram_gb: Option<i32>,
    pub gpu_count: i32,
    pub region: Option<String>,
    pub price_per_minute: PricePerMinute,
    pub status: GpuStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Fields a provider may change on a listing (`None` leaves a field as it is).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = gpus)]
pub struct GpuChanges {
    pub gpu_model: Option<String>,
    pub vram_gb: Option<Option<i32>>,
    pub gpu_count: Option<i32>,
    pub region: Option<Option<String>>,
    pub price_per_minute: Option<PricePerMinute>,
    pub updated_at: i64,
}

/// A row of `rentals`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rentals)]
pub struct RentalRow {
    pub id: RentalId,
    pub gpu_id: GpuId,
    pub renter_address: String,
    pub provider_address: String,
    pub price_per_minute: PricePerMinute,
    pub max_minutes: MaxMinutes,
    pub deposit: MicroAlgos,
    pub status: RentalStatus,
    pub stop_requested_at: Option<i64>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cost: Option<MicroAlgos>,
    pub fee: Option<MicroAlgos>,
    pub provider_amount: Option<MicroAlgos>,
    pub refund: Option<MicroAlgos>,
    pub failure_reason: Option<String>,
    pub rent_txid: Option<String>,
    pub settle_txid: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The rental id in the contract, once confirmed on chain.
    pub chain_rental_id: Option<ChainId>,
    /// The app (contract version) the rental lives on, once its deposit group is built.
    pub app_id: Option<ChainId>,
}

/// A new rental.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = rentals)]
pub struct NewRental {
    pub gpu_id: GpuId,
    pub renter_address: String,
    pub provider_address: String,
    pub price_per_minute: PricePerMinute,
    pub max_minutes: MaxMinutes,
    pub deposit: MicroAlgos,
    pub status: RentalStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A row of `jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: JobId,
    pub kind: JobKind,
    pub rental_id: Option<RentalId>,
    pub gpu_id: Option<GpuId>,
    pub cluster_id: Option<ClusterId>,
    /// A cluster call's parameters (JSON).
    pub payload: Option<String>,
    pub state: JobState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub run_after: i64,
    /// The group a wallet must sign (JSON), while the job awaits its signature.
    pub unsigned_group: Option<String>,
    /// The journal: the signed group this job sent (or is about to send).
    pub signed_group: Option<Vec<u8>>,
    pub signed_txid: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Whose claim runs the job (its lease token), while it is `running`.
    pub claimed_by: Option<String>,
}

/// A new job.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob {
    pub kind: JobKind,
    pub rental_id: Option<RentalId>,
    pub gpu_id: Option<GpuId>,
    pub cluster_id: Option<ClusterId>,
    pub payload: Option<String>,
    pub state: JobState,
    pub run_after: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A row of `api_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: i64,
    pub address: String,
    pub key_hash: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A new API key (its hash).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey {
    pub address: String,
    pub key_hash: String,
    pub label: String,
    pub created_at: i64,
}

/// A saved response to an idempotent POST.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub principal: String,
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub response_status: i32,
    pub response_body: String,
    pub response_location: Option<String>,
    pub created_at: i64,
}

/// A row of `clusters`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::clusters)]
pub struct ClusterRow {
    pub id: ClusterId,
    pub operator_address: String,
    pub name: String,
    pub description: String,
    pub total_shares: Shares,
    pub price_per_share: MicroAlgos,
    pub status: ClusterStatus,
    pub chain_cluster_id: Option<ChainId>,
    pub asset_id: Option<ChainId>,
    pub create_txid: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The app (contract version) the cluster lives on, once its creation is built.
    pub app_id: Option<ChainId>,
}

/// A new cluster.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::clusters)]
pub struct NewCluster {
    pub operator_address: String,
    pub name: String,
    pub description: String,
    pub total_shares: Shares,
    pub price_per_share: MicroAlgos,
    pub status: ClusterStatus,
    pub created_at: i64,
    pub updated_at: i64,
}
