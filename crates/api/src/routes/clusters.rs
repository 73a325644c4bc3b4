//! `/clusters` and `/accounts/{address}/portfolio`: GPU clusters co-owned through share
//! tokens, their sales, transfers and revenue claims.
//!
//! Writes record intent and jobs, as everywhere (202). Reads of shares and claimable
//! revenue come from the contract's boxes through the node, so they are the chain's own
//! figures to the microAlgo; which addresses hold shares comes from the watcher's mirror.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, post};
use bitfox_domain::chain::{ClusterState, HolderState};
use bitfox_domain::{Address, ChainId, ClusterId, ClusterStatus, GpuId, MicroAlgos};
use bitfox_market::Mode;
use bitfox_store::mirror::{self, Holding};
use bitfox_store::models::ClusterRow;
use bitfox_store::now_seconds;
use bitfox_store::repo::{cluster, gpu};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::to_json;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{ValidJson, parse_id};
use crate::idempotency::{self, Saved};
use crate::spec::{AlgorandAddress, ClusterStatusName, DisplayName, IdempotencyKey};
use crate::types::{Gpu, Job, Rental};
use bitfox_market::clusters::{self, PlannedJob};

/// Body of `POST /clusters`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCluster {
    /// The operator: pays the 173,000 µAlgo deposit, owns the unsold shares and is paid
    /// for the shares sold.
    #[schema(value_type = AlgorandAddress)]
    pub operator_address: Address,
    /// 1–100 characters.
    #[schema(value_type = DisplayName)]
    pub name: String,
    /// Up to 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: String,
    /// Shares issued (1 to 10¹²).
    #[schema(minimum = 1u64, maximum = 1_000_000_000_000u64)]
    pub total_shares: u64,
    /// microAlgos per share (at most 10^16, the Algo supply).
    #[schema(maximum = 10_000_000_000_000_000u64)]
    pub price_per_share: u64,
    /// GPUs of the operator to put in the cluster (GPU ids).
    #[serde(default)]
    #[schema(inline, value_type = Vec<i64>)]
    pub gpus: Vec<i64>,
}

impl From<CreateCluster> for clusters::NewCluster {
    fn from(b: CreateCluster) -> Self {
        Self {
            operator_address: b.operator_address,
            name: b.name,
            description: b.description,
            total_shares: b.total_shares,
            price_per_share: b.price_per_share,
            gpus: b.gpus.into_iter().map(GpuId).collect(),
        }
    }
}

/// A cluster.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cluster {
    pub id: i64,
    #[schema(value_type = AlgorandAddress)]
    pub operator_address: String,
    pub name: String,
    pub description: String,
    pub total_shares: u64,
    pub price_per_share: u64,
    /// `pending` (being created on chain), `active` or `failed`.
    #[schema(value_type = ClusterStatusName)]
    pub status: String,
    /// The cluster's id in the contract.
    pub chain_cluster_id: Option<u64>,
    /// The share token (ASA) id.
    pub asset_id: Option<u64>,
    /// Why the chain refused it.
    pub failure_reason: Option<String>,
    /// The GPUs whose rentals pay the cluster's holders.
    pub gpus: Vec<i64>,
    /// On-chain figures (active clusters, `GET /clusters/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ClusterFigures>,
}

/// A cluster's on-chain figures, read from the contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClusterFigures {
    pub shares_sold: u64,
    /// Unsold shares (the operator's, for sale).
    pub shares_available: u64,
    /// Revenue credited to the cluster so far, microAlgos (exact).
    pub total_revenue: u64,
    /// Revenue per share, microAlgos, as a decimal with 12 places (the contract's
    /// accumulator, floored).
    pub revenue_per_share: String,
    /// Addresses holding shares, besides the operator's unsold stock (watcher mirror).
    pub holders: u64,
}

/// A holder and its on-chain figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Holder {
    #[schema(value_type = AlgorandAddress)]
    pub address: String,
    pub shares: u64,
    /// What a claim would pay now, microAlgos (the contract's own settlement).
    pub claimable: u64,
    /// Claimed so far (watcher mirror).
    pub claimed: u64,
}

/// Body of `POST /clusters/{id}/gpus`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachGpu {
    /// The operator's GPU.
    pub gpu_id: i64,
}

/// Body of `POST /clusters/{id}/shares`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyShares {
    #[schema(value_type = AlgorandAddress)]
    pub buyer_address: Address,
    /// Shares to buy, at most those available.
    #[schema(minimum = 1u64)]
    pub count: u64,
}

/// Body of `POST /clusters/{id}/transfers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferShares {
    #[schema(value_type = AlgorandAddress)]
    pub from_address: Address,
    /// Another holder than `from_address`.
    #[schema(value_type = AlgorandAddress)]
    pub to_address: Address,
    /// Shares to transfer, at most those held.
    #[schema(minimum = 1u64)]
    pub count: u64,
}

/// Body of `POST /clusters/{id}/claims`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The holder; the operator claims its unsold shares' revenue.
    #[schema(value_type = AlgorandAddress)]
    pub holder_address: Address,
}

/// An address's holdings, rentals and earnings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Portfolio {
    #[schema(value_type = AlgorandAddress)]
    pub address: String,
    /// Shares and claimable revenue per active cluster.
    pub holdings: Vec<PortfolioHolding>,
    /// Rentals as renter, newest first.
    pub rentals_as_renter: Vec<Rental>,
    /// Rentals as provider, newest first.
    pub rentals_as_provider: Vec<Rental>,
    /// Paid to it as a provider for settled rentals of its GPUs outside clusters,
    /// microAlgos (a cluster GPU's provider part goes to the cluster's holders).
    pub provider_earnings: u64,
    /// Revenue it claimed from clusters, microAlgos (watcher mirror).
    pub claimed_revenue: u64,
    /// Revenue it can claim now, microAlgos.
    pub claimable_revenue: u64,
}

/// One cluster in a portfolio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioHolding {
    pub cluster_id: i64,
    pub shares: u64,
    pub claimable: u64,
    /// Whether these are the operator's unsold shares.
    pub unsold: bool,
}

/// The sum of `amounts`; an error, never a wrapped figure, if it passes `u64`.
fn checked_sum(amounts: impl IntoIterator<Item = u64>) -> Result<u64, ApiError> {
    amounts.into_iter().try_fold(0u64, u64::checked_add).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("a sum of microAlgo amounts overflows u64"))
    })
}

fn view(row: ClusterRow, gpus: Vec<GpuId>) -> Cluster {
    Cluster {
        id: row.id.get(),
        operator_address: row.operator_address,
        name: row.name,
        description: row.description,
        total_shares: row.total_shares.0,
        price_per_share: row.price_per_share.get(),
        status: row.status.to_string(),
        chain_cluster_id: row.chain_cluster_id.map(ChainId::get),
        asset_id: row.asset_id.map(ChainId::get),
        failure_reason: row.failure_reason,
        gpus: gpus.into_iter().map(GpuId::get).collect(),
        chain: None,
    }
}

fn cluster_id(text: &str) -> Result<ClusterId, ApiError> {
    parse_id::<ClusterId>("cluster", text)
}

/// An active cluster as the chain has it.
struct Active {
    row: ClusterRow,
    /// The app the cluster lives on.
    app_id: u64,
    chain_id: u64,
    chain: ClusterState,
    /// The contract account, whose record holds the unsold shares.
    app: Address,
}

impl Active {
    async fn load(state: &AppState, id: ClusterId) -> Result<Self, ApiError> {
        let row =
            state.store.read(move |c| Ok::<_, ApiError>(clusters::find_cluster(c, id)?)).await?;
        let (app_id, chain_id) = match (row.status, row.app_id, row.chain_cluster_id) {
            (ClusterStatus::Active, Some(app_id), Some(chain_id)) => (app_id.get(), chain_id.get()),
            (ClusterStatus::Active, ..) => {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "active cluster {id} names no app or chain id"
                )));
            }
            (status, ..) => {
                return Err(ApiError::Conflict(format!("cluster {id} is {status}, not active")));
            }
        };
        let chain =
            state.chain.cluster_state(app_id, chain_id).await?.ok_or_else(|| {
                ApiError::Unavailable(format!("cluster {id} is not on this chain"))
            })?;
        let app = bitfox_domain::protocol::app_address(app_id);
        Ok(Self { row, app_id, chain_id, chain, app })
    }

    async fn holder(
        &self,
        state: &AppState,
        who: &Address,
    ) -> Result<Option<HolderState>, ApiError> {
        Ok(state.chain.holder_state(self.app_id, self.chain_id, who).await?)
    }

    fn claimable(&self, h: &HolderState) -> Result<u64, ApiError> {
        h.claimable(self.chain.acc).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("holder record beyond the accumulator"))
        })
    }

    async fn unsold(&self, state: &AppState) -> Result<u64, ApiError> {
        Ok(self.holder(state, &self.app).await?.map_or(0, |h| h.shares))
    }

    /// Mirror holders: `(address, shares, claimed)`, the unsold-shares record included.
    async fn mirrored(&self, state: &AppState) -> Result<Vec<Holding>, ApiError> {
        let (app_id, chain_id) = (self.app_id, self.chain_id);
        state.store.read(move |c| Ok::<_, ApiError>(mirror::holders(c, app_id, chain_id)?)).await
    }
}

/// Queues `jobs` for cluster `id` in order (see [`clusters::queue_in_order`]), once per
/// `Idempotency-Key`, and answers 202 with the last job.
async fn queue(
    state: &AppState,
    key: Option<idempotency::Claim>,
    jobs: Vec<PlannedJob>,
    id: ClusterId,
) -> Result<HttpResponse, ApiError> {
    idempotency::write_once(state, key, move |c, now| {
        let job = Job::from(clusters::queue_in_order(c, id, jobs.clone(), now)?);
        let location = job.links.this.clone();
        Ok(Saved::new(StatusCode::ACCEPTED, to_json(&job)?, Some(location)))
    })
    .await
}

/// Create a cluster and its share token (operator only). The creation goes on chain as
/// a job; the cluster is `pending` until then. `gpus` are put in the cluster.
#[utoipa::path(
    tag = "clusters",
    params(("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries")),
    request_body = CreateCluster,
    responses(
        (status = 202, description = "Accepted; the cluster is being created on chain", body = Cluster),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the operator, or a GPU of someone else", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A GPU is rented or in another cluster", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clusters")]
pub async fn create_cluster(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidJson<CreateCluster>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency::Claim::from_request(&req, &body.raw, caller.principal())?;
    let req = body.value;
    let gpus: Vec<GpuId> = req.gpus.iter().copied().map(GpuId).collect();
    idempotency::write_once(&state, key, move |c, now| {
        let row = clusters::create(c, &caller, req.clone().into(), now)?;
        let location = format!("/clusters/{}", row.id);
        Ok(Saved::new(StatusCode::ACCEPTED, to_json(&view(row, gpus.clone()))?, Some(location)))
    })
    .await
}

/// Clusters, oldest first.
#[utoipa::path(tag = "clusters", responses((status = 200, description = "Clusters", body = [Cluster])))]
#[get("/clusters")]
pub async fn list_clusters(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .store
        .read(|c| {
            cluster::list(c)?
                .into_iter()
                .map(|row| {
                    let gpus = gpu::in_cluster(c, row.id)?;
                    Ok(view(row, gpus))
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// One cluster; once active, with its on-chain figures: shares sold and available,
/// total revenue, revenue per share, holders.
#[utoipa::path(
    tag = "clusters",
    params(("id" = i64, Path, minimum = 1, description = "Cluster id")),
    responses(
        (status = 200, description = "The cluster", body = Cluster),
        (status = 404, description = "No such cluster", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/clusters/{id}")]
pub async fn get_cluster(
    state: Data<AppState>,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = cluster_id(&id)?;
    let (row, gpus) = state
        .store
        .read(move |c| Ok::<_, ApiError>((clusters::find_cluster(c, id)?, gpu::in_cluster(c, id)?)))
        .await?;
    let active = row.status == ClusterStatus::Active;
    let mut out = view(row, gpus);
    if active {
        let cluster = Active::load(&state, id).await?;
        let unsold = cluster.unsold(&state).await?;
        let app = cluster.app.to_string();
        let holders = cluster.mirrored(&state).await?;
        out.chain = Some(ClusterFigures {
            shares_sold: cluster.chain.total_shares.saturating_sub(unsold),
            shares_available: unsold,
            total_revenue: cluster.chain.total_revenue().ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("cluster {id}'s revenue overflows u64"))
            })?,
            revenue_per_share: cluster.chain.revenue_per_share(),
            holders: holders.iter().filter(|h| h.holder != app && h.shares > 0).count() as u64,
        });
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Holders of an active cluster with their shares and what they can claim now (the
/// operator's unsold shares under the contract's address).
#[utoipa::path(
    tag = "clusters",
    params(("id" = i64, Path, minimum = 1, description = "Cluster id")),
    responses(
        (status = 200, description = "Holders", body = [Holder]),
        (status = 404, description = "No such cluster", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not active yet", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/clusters/{id}/holders")]
pub async fn list_holders(
    state: Data<AppState>,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = cluster_id(&id)?;
    let cluster = Active::load(&state, id).await?;
    let mut out = Vec::new();
    for held in cluster.mirrored(&state).await? {
        let who: Address = held
            .holder
            .parse()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("bad mirror address")))?;
        let Some(h) = cluster.holder(&state, &who).await? else { continue };
        out.push(Holder {
            address: held.holder,
            shares: h.shares,
            claimable: cluster.claimable(&h)?,
            claimed: held.claimed,
        });
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Put a GPU of the operator in the cluster.
#[utoipa::path(
    tag = "clusters",
    params(
        ("id" = i64, Path, minimum = 1, description = "Cluster id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body = AttachGpu,
    responses(
        (status = 202, description = "Accepted; the listing moves into the cluster on chain", body = Gpu),
        (status = 403, description = "Not the operator's GPU", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cluster or GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Rented, or in another cluster", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clusters/{id}/gpus")]
pub async fn attach_gpu(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<AttachGpu>,
) -> Result<HttpResponse, ApiError> {
    let id = cluster_id(&id)?;
    let key = idempotency::Claim::from_request(&req, &body.raw, caller.principal())?;
    let gpu_id = GpuId(body.value.gpu_id);
    let row = state.store.read(move |c| Ok::<_, ApiError>(clusters::find_cluster(c, id)?)).await?;
    caller.ensure_is(&row.operator_address, &format!("cluster {id}"))?;
    let operator = row.operator_address;
    idempotency::write_once(&state, key, move |c, now| {
        let gpu = Gpu::from(clusters::attach(c, &operator, id, gpu_id, now)?);
        Ok(Saved::new(StatusCode::ACCEPTED, to_json(&gpu)?, None))
    })
    .await
}

/// Buy unsold shares: the buyer's record and token opt-in (when missing), then the
/// payment to the operator and the app call, as jobs; the answer is the purchase's job.
#[utoipa::path(
    tag = "clusters",
    params(
        ("id" = i64, Path, minimum = 1, description = "Cluster id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body = BuyShares,
    responses(
        (status = 202, description = "Accepted; the purchase job", body = Job),
        (status = 403, description = "API key bound to another address than the buyer's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cluster", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not active yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than is available, a price beyond the Algo supply, or the operator buying", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clusters/{id}/shares")]
pub async fn buy_shares(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<BuyShares>,
) -> Result<HttpResponse, ApiError> {
    let id = cluster_id(&id)?;
    let key = idempotency::Claim::from_request(&req, &body.raw, caller.principal())?;
    // A retry is answered before the chain is read and the rules checked again.
    if let Some(saved) = idempotency::replayed(&state, key.as_ref()).await? {
        return Ok(saved.respond());
    }
    let req = body.value;
    let buyer = req.buyer_address.to_string();
    caller.ensure_is(&buyer, "buyer_address")?;
    let cluster = Active::load(&state, id).await?;
    let available = cluster.unsold(&state).await?;
    let jobs = clusters::purchase(
        &cluster.row.operator_address,
        cluster.chain.price_per_share,
        available,
        &buyer,
        req.count,
    )?;
    queue(&state, key, jobs, id).await
}

/// Transfer shares to another address (its record and opt-in are created first).
#[utoipa::path(
    tag = "clusters",
    params(
        ("id" = i64, Path, minimum = 1, description = "Cluster id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body = TransferShares,
    responses(
        (status = 202, description = "Accepted; the transfer job", body = Job),
        (status = 403, description = "API key bound to another address than the sender's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cluster", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not active yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than held, or to oneself", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clusters/{id}/transfers")]
pub async fn transfer_shares(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<TransferShares>,
) -> Result<HttpResponse, ApiError> {
    let id = cluster_id(&id)?;
    let key = idempotency::Claim::from_request(&req, &body.raw, caller.principal())?;
    // A retry is answered before the chain is read and the rules checked again.
    if let Some(saved) = idempotency::replayed(&state, key.as_ref()).await? {
        return Ok(saved.respond());
    }
    let req = body.value;
    caller.ensure_is(&req.from_address.to_string(), "from_address")?;
    let cluster = Active::load(&state, id).await?;
    clusters::transfer_parties(&req.from_address, &req.to_address, &cluster.app)?;
    // The recipient's record is read only where the rule needs it (production).
    let recipient_joined = match state.mode {
        Mode::Production => cluster.holder(&state, &req.to_address).await?.is_some(),
        Mode::Dev => true,
    };
    let held = cluster.holder(&state, &req.from_address).await?.map_or(0, |h| h.shares);
    let jobs = clusters::transfer(
        state.mode,
        id,
        &req.from_address,
        &req.to_address,
        recipient_joined,
        held,
        req.count,
    )?;
    queue(&state, key, jobs, id).await
}

/// Claim the revenue a holder is owed (the operator: its unsold shares' revenue).
#[utoipa::path(
    tag = "clusters",
    params(
        ("id" = i64, Path, minimum = 1, description = "Cluster id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body = Claim,
    responses(
        (status = 202, description = "Accepted; the claim job", body = Job),
        (status = 403, description = "API key bound to another address than the holder's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cluster", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to claim now, or not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a holder", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/clusters/{id}/claims")]
pub async fn claim(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<Claim>,
) -> Result<HttpResponse, ApiError> {
    let id = cluster_id(&id)?;
    let key = idempotency::Claim::from_request(&req, &body.raw, caller.principal())?;
    // A retry is answered before the chain is read and the rules checked again.
    if let Some(saved) = idempotency::replayed(&state, key.as_ref()).await? {
        return Ok(saved.respond());
    }
    let who = body.value.holder_address;
    caller.ensure_is(&who.to_string(), "holder_address")?;
    let cluster = Active::load(&state, id).await?;
    let unsold = who.to_string() == cluster.row.operator_address;
    let record = if unsold { cluster.app } else { who };
    let Some(h) = cluster.holder(&state, &record).await? else {
        return Err(ApiError::field(
            "holder_address",
            format!("{who} holds no shares of cluster {id}"),
        ));
    };
    let due = cluster.claimable(&h)?;
    queue(&state, key, clusters::claim(id, &who, unsold, due)?, id).await
}

/// What an address owns and earned: shares and claimable revenue per cluster (chain),
/// rentals as renter and as provider, provider earnings and claimed revenue.
#[utoipa::path(
    tag = "clusters",
    params(("address" = AlgorandAddress, Path, description = "Algorand address")),
    responses(
        (status = 200, description = "The portfolio", body = Portfolio),
        (status = 422, description = "Not an address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/accounts/{address}/portfolio")]
pub async fn portfolio(
    state: Data<AppState>,
    address: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who: Address = address
        .parse()
        .map_err(|e| ApiError::field("address", format!("not an Algorand address: {e}")))?;
    let text = who.to_string();
    let query = text.clone();
    let (holdings, renter, provider, operated, clustered) = state
        .store
        .read(move |c| {
            let by = |renter: bool| bitfox_store::repo::rental::Query {
                renter: renter.then(|| query.clone()),
                provider: (!renter).then(|| query.clone()),
                limit: 200,
                ..Default::default()
            };
            Ok::<_, ApiError>((
                mirror::holdings_of(c, &query)?,
                bitfox_store::repo::rental::list(c, &by(true))?,
                bitfox_store::repo::rental::list(c, &by(false))?,
                cluster::list(c)?
                    .into_iter()
                    .filter(|r| r.operator_address == query)
                    .collect::<Vec<_>>(),
                gpu::clustered(c)?,
            ))
        })
        .await?;
    let now = now_seconds();
    let provider_earnings = provider
        .iter()
        .filter(|r| !clustered.contains(&r.gpu_id))
        .filter_map(|r| r.provider_amount)
        .map(MicroAlgos::get);
    let provider_earnings = checked_sum(provider_earnings)?;
    let mut out = Portfolio {
        address: text,
        holdings: Vec::new(),
        rentals_as_renter: renter.into_iter().map(|r| Rental::from_row(r, None, now)).collect(),
        rentals_as_provider: provider.into_iter().map(|r| Rental::from_row(r, None, now)).collect(),
        provider_earnings,
        claimed_revenue: checked_sum(holdings.iter().map(|h| h.claimed))?,
        claimable_revenue: 0,
    };
    let mut wanted: Vec<(ChainId, ChainId, bool)> =
        holdings.iter().map(|h| (ChainId(h.app_id), ChainId(h.cluster_id), false)).collect();
    wanted.extend(operated.iter().filter_map(|r| Some((r.app_id?, r.chain_cluster_id?, true))));
    for (app, chain_id, unsold) in wanted {
        let local = state
            .store
            .read(move |c| Ok::<_, ApiError>(cluster::by_chain_id(c, app, chain_id)?))
            .await?;
        let Some(local) = local else { continue };
        let cluster = Active::load(&state, local).await?;
        let record = if unsold { cluster.app } else { who };
        let Some(h) = cluster.holder(&state, &record).await? else { continue };
        let claimable = cluster.claimable(&h)?;
        out.claimable_revenue = checked_sum([out.claimable_revenue, claimable])?;
        out.holdings.push(PortfolioHolding {
            cluster_id: local.get(),
            shares: h.shares,
            claimable,
            unsold,
        });
    }
    Ok(HttpResponse::Ok().json(out))
}
