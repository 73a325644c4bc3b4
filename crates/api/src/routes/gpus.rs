//! `/gpus`: listings, rent and stop.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use bitfox_domain::GpuStatus;
use bitfox_domain::retirement::Notice;
use bitfox_store::DbConnection;
use bitfox_store::models::{JobRow, RentalRow};
use bitfox_store::now_seconds;
use bitfox_store::repo::gpu::{After, Query, Sort};

use super::{next_link, parse_address, parse_digits, parse_limit, to_json};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{OptionalJson, ValidJson, parse_id, parse_query};
use crate::idempotency::{self, Claim, Saved};
use crate::listings::Position;
use crate::spec::{GPU_SORTS, IdempotencyKey};
use crate::types::{CreateGpu, Gpu, GpuListParams, RentGpu, Rental, RetireGpu, StopGpu, UpdateGpu};
use bitfox_market::{listings, rentals};

/// List a GPU.
///
/// The provider's address owns the listing. In production mode the API key must be
/// bound to `owner_address`.
#[utoipa::path(
    tag = "gpus",
    request_body = CreateGpu,
    params(("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries")),
    responses(
        (status = 201, description = "Listed", body = Gpu),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API key bound to another address", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/gpus")]
pub async fn create_gpu(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidJson<CreateGpu>,
) -> Result<HttpResponse, ApiError> {
    let claim = Claim::from_request(&req, &body.raw, caller.principal())?;
    let value = body.value;
    idempotency::write_once(&state, claim, move |c, now| {
        let gpu = Gpu::from(listings::register(c, &caller, value.clone().into(), now)?);
        let location = gpu.links.this.clone();
        Ok(Saved::new(StatusCode::CREATED, to_json(&gpu)?, Some(location)))
    })
    .await
}

fn parse_gpu_query(params: GpuListParams) -> Result<Query, ApiError> {
    let number = |field: &str, text: Option<String>| -> Result<Option<i64>, ApiError> {
        text.map(|t| {
            parse_digits(&t).ok_or_else(|| ApiError::field(field, "must be a non-negative integer"))
        })
        .transpose()
    };
    let sort = match params.sort.as_deref() {
        None => Sort::Oldest,
        Some(text) => match GPU_SORTS.iter().position(|s| *s == text) {
            Some(0) => Sort::Oldest,
            Some(1) => Sort::Newest,
            Some(2) => Sort::Price,
            Some(_) => Sort::Vram,
            None => {
                return Err(ApiError::field(
                    "sort",
                    format!("must be one of: {}", GPU_SORTS.join(", ")),
                ));
            }
        },
    };
    let status = match params.status.as_deref() {
        None => Some(GpuStatus::Available),
        Some("all") => None,
        Some(text) => Some(
            text.parse::<GpuStatus>()
                .map_err(|e| ApiError::field("status", format!("{e}or all")))?,
        ),
    };
    let min_vram =
        number("min_vram", params.min_vram)?.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    let max_price = number("max_price", params.max_price)?;
    let after = params.cursor.map(|cursor| parse_gpu_cursor(&cursor, sort)).transpose()?;
    let model_contains = params.model.filter(|m| !m.is_empty());
    Ok(Query {
        model_contains,
        min_vram,
        max_price,
        region: params.region.filter(|r| !r.is_empty()),
        status,
        owner: parse_address("owner", params.owner.as_deref())?,
        sort,
        after,
        limit: parse_limit(params.limit.as_deref())?,
    })
}

/// Reads a cursor ([`crate::spec::GPU_CURSOR_PATTERN`]): the id, price and VRAM of the
/// last GPU seen. It names a place in every order, so a page in one order may continue
/// from a GPU seen in another.
fn parse_gpu_cursor(text: &str, sort: Sort) -> Result<After, ApiError> {
    let bad = || ApiError::field("cursor", "is not a cursor returned by this API");
    let number = |s: &str, digits: usize| {
        if s.len() > digits { None } else { parse_digits(s) }.ok_or_else(bad)
    };
    let [id, price, vram] = text.split('.').collect::<Vec<_>>()[..] else { return Err(bad()) };
    let (id, price) = (number(id, 18)?, number(price, 18)?);
    let vram = match vram {
        "-" => None,
        vram => Some(i32::try_from(number(vram, 9)?).map_err(|_| bad())?),
    };
    Ok(match sort {
        Sort::Oldest => After::Oldest(id),
        Sort::Newest => After::Newest(id),
        Sort::Price => After::Price(price, id),
        Sort::Vram => After::Vram(vram, id),
    })
}

/// The cursor of the page after the listing at `last`.
fn gpu_cursor(last: Position) -> String {
    match last.vram {
        Some(vram) => format!("{}.{}.{vram}", last.id, last.price),
        None => format!("{}.{}.-", last.id, last.price),
    }
}

/// Browse GPUs.
///
/// With no parameters, returns the available GPUs in listing order, as the original
/// API did. The body is a JSON array; when more results exist, the `Link` header
/// (`rel="next"`) and `X-Next-Cursor` point at the next page.
#[utoipa::path(
    tag = "gpus",
    params(GpuListParams),
    responses(
        (status = 200, description = "One page of GPUs", body = [Gpu],
            headers(("Link" = String, description = "Next page, if any"), ("X-Next-Cursor" = String, description = "Cursor of the next page, if any"))),
        (status = 422, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/gpus")]
pub async fn list_gpus(state: Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = parse_gpu_query(parse_query(req.query_string())?)?;
    let page = state.listings.page(&query);
    let mut response = HttpResponse::Ok();
    response.content_type(ContentType::json());
    if let Some(last) = page.next {
        let cursor = gpu_cursor(last);
        response.insert_header(("Link", next_link(req.path(), req.query_string(), &cursor)));
        response.insert_header(("X-Next-Cursor", cursor));
    }
    Ok(response.body(page.body))
}

/// One GPU, unless it was delisted.
///
/// A delisted GPU is not found here, as a deleted resource is not: `DELETE /gpus/{id}`
/// answered with its last state, and `GET /gpus?status=delisted` still lists it.
#[utoipa::path(
    tag = "gpus",
    params(("id" = i64, Path, minimum = 1, description = "GPU id")),
    responses(
        (status = 200, description = "The GPU", body = Gpu),
        (status = 404, description = "No such GPU, or delisted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/gpus/{id}")]
pub async fn get_gpu(state: Data<AppState>, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let row = state.store.read(move |c| Ok::<_, ApiError>(listings::find_gpu(c, id)?)).await?;
    if row.status == GpuStatus::Delisted {
        return Err(ApiError::NotFound(format!(
            "GPU {id} was delisted; GET /gpus?status=delisted lists it with its last state"
        )));
    }
    Ok(HttpResponse::Ok().json(Gpu::from(row)))
}

/// Change a GPU's price or specs (owner only; not while rented).
#[utoipa::path(
    tag = "gpus",
    params(("id" = i64, Path, minimum = 1, description = "GPU id")),
    request_body = UpdateGpu,
    responses(
        (status = 200, description = "Changed", body = Gpu),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Rented or delisted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/gpus/{id}")]
pub async fn update_gpu(
    state: Data<AppState>,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<UpdateGpu>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let value = body.value;
    let row = state
        .store
        .write(move |c| {
            Ok::<_, ApiError>(listings::update(
                c,
                &caller,
                id,
                value.clone().into(),
                now_seconds(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Gpu::from(row)))
}

/// Delist a GPU (owner only; not while rented). Delisting twice is harmless.
///
/// A GPU in a cluster whose shares investors hold cannot be delisted at once: its
/// revenue belongs to the holders. Announce its retirement (`POST
/// /gpus/{id}/retirement`) and delist once the notice has passed — unless the operator
/// holds every share, in which case nobody else is owed anything.
#[utoipa::path(
    tag = "gpus",
    params(("id" = i64, Path, minimum = 1, description = "GPU id")),
    responses(
        (status = 200, description = "Delisted", body = Gpu),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Rented, or a cluster GPU whose retirement notice has not passed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The node cannot be read now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/gpus/{id}")]
pub async fn delete_gpu(
    state: Data<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let current = state.store.read(move |c| Ok::<_, ApiError>(listings::find_gpu(c, id)?)).await?;
    caller.ensure_is(&current.owner_address, &format!("GPU {id}"))?;
    ensure_releasable(&state, &current).await?;
    let row = state
        .store
        .write(move |c| Ok::<_, ApiError>(listings::delist(c, &caller, id, now_seconds())?))
        .await?;
    Ok(HttpResponse::Ok().json(Gpu::from(row)))
}

/// Whether GPU `row`'s listing may leave its cluster now (the rule contract v2 enforces
/// on chain, checked here first so that a refused delisting is a 409, not a failed job):
/// a GPU outside any cluster may; a cluster GPU may when the operator holds every share,
/// or once its announced retirement has taken effect by the chain's clock.
async fn ensure_releasable(
    state: &AppState,
    row: &bitfox_store::models::GpuRow,
) -> Result<(), ApiError> {
    let (Some(app), Some(_), Some(cluster)) =
        (row.app_id, row.listing_id, row.listing_cluster_id.filter(|c| c.get() != 0))
    else {
        return Ok(());
    };
    let (app, cluster) = (app.get(), cluster.get());
    let chain = &state.chain;
    let Some(record) = chain.cluster_state(app, cluster).await? else {
        return Err(ApiError::Unavailable(format!(
            "cluster {cluster} of app {app} is not on chain"
        )));
    };
    let operator: bitfox_domain::Address = row
        .owner_address
        .parse()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored owner address: {e}")))?;
    let unsold =
        chain.holder_state(app, cluster, &bitfox_domain::protocol::app_address(app)).await?;
    let own = chain.holder_state(app, cluster, &operator).await?;
    let held = unsold.map_or(0, |h| h.shares).checked_add(own.map_or(0, |h| h.shares));
    if held == Some(record.total_shares) {
        return Ok(());
    }
    let id = row.id;
    let now = chain.now().await?;
    match notice(row, now) {
        Notice::InForce { .. } => Ok(()),
        Notice::None => Err(ApiError::Conflict(format!(
            "GPU {id} earns for investors in its cluster: announce its retirement (POST \
             /gpus/{id}/retirement) and delist it once the notice has passed"
        ))),
        Notice::Pending { effective } => Err(ApiError::Conflict(format!(
            "GPU {id}'s retirement takes effect at {}; it earns for its cluster's investors \
             until then",
            chain_time(effective)
        ))),
        Notice::Lapsed { at } => Err(ApiError::Conflict(format!(
            "GPU {id}'s retirement notice lapsed at {}: announce it again (POST \
             /gpus/{id}/retirement)",
            chain_time(at)
        ))),
    }
}

/// Where GPU `row`'s retirement notice stands at chain time `now`.
fn notice(row: &bitfox_store::models::GpuRow, now: u64) -> Notice {
    Notice::at(row.retirement_effective.and_then(|e| u64::try_from(e).ok()), now)
}

fn chain_time(seconds: u64) -> String {
    crate::types::rfc3339(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// Announce a cluster GPU's retirement (owner only).
///
/// Records a job that announces on chain (contract v2) that the GPU's listing will leave
/// its cluster: it may be delisted once the notice period (30 days of chain time) has
/// passed, and until then it stays listed and earns for the cluster's holders, who see
/// the notice coming (`retirement_effective_at`, and the contract's
/// `RetirementAnnounced` event).
#[utoipa::path(
    tag = "gpus",
    params(
        ("id" = i64, Path, minimum = 1, description = "GPU id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body(content = Option<RetireGpu>, description = "Optional, empty object"),
    responses(
        (status = 202, description = "Accepted; the notice is being sent", body = Gpu),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in a cluster, delisted, or announced already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/gpus/{id}/retirement")]
pub async fn announce_retirement(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: OptionalJson<RetireGpu>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let claim = Claim::from_request(&req, &body.raw, caller.principal())?;
    if let Some(saved) = idempotency::replayed(&state, claim.as_ref()).await? {
        return Ok(saved.respond());
    }
    // A notice pending or in force cannot be replaced (the contract refuses it).
    let row = state.store.read(move |c| Ok::<_, ApiError>(listings::find_gpu(c, id)?)).await?;
    caller.ensure_is(&row.owner_address, &format!("GPU {id}"))?;
    if row.retirement_effective.is_some() {
        match notice(&row, state.chain.now().await?) {
            Notice::Pending { effective } => {
                return Err(ApiError::Conflict(format!(
                    "GPU {id}'s retirement is announced already; it takes effect at {}",
                    chain_time(effective)
                )));
            }
            Notice::InForce { until } => {
                return Err(ApiError::Conflict(format!(
                    "GPU {id}'s retirement is in force until {}: delist it now",
                    chain_time(until)
                )));
            }
            Notice::None | Notice::Lapsed { .. } => {}
        }
    }
    idempotency::write_once(&state, claim, move |c, now| {
        let (row, job) = listings::announce_retirement(c, &caller, id, now)?;
        let mut gpu = Gpu::from(row);
        gpu.links.job = Some(format!("/jobs/{}", job.id));
        Ok(Saved::new(StatusCode::ACCEPTED, to_json(&gpu)?, None))
    })
    .await
}

/// Heartbeat from the GPU's provider (owner only): a GPU that sends heartbeats goes
/// `offline` when they stop for `jobs.heartbeat_timeout_secs`, and comes back with the
/// next one.
#[utoipa::path(
    tag = "gpus",
    params(("id" = i64, Path, minimum = 1, description = "GPU id")),
    responses(
        (status = 200, description = "Recorded", body = Gpu),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Delisted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/gpus/{id}/heartbeat")]
pub async fn heartbeat(
    state: Data<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let row = state
        .store
        .write(move |c| Ok::<_, ApiError>(listings::heartbeat(c, &caller, id, now_seconds())?))
        .await?;
    Ok(HttpResponse::Ok().json(Gpu::from(row)))
}

/// Rent a GPU.
///
/// Records the rental and a job that locks the deposit (`price_per_minute *
/// max_minutes`) in the on-chain escrow, and answers at once: follow `links.self`
/// (the rental) and `links.job`. A GPU that is already being rented is refused (409).
#[utoipa::path(
    tag = "gpus",
    params(
        ("id" = i64, Path, minimum = 1, description = "GPU id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body = RentGpu,
    responses(
        (status = 202, description = "Accepted; chain work queued", body = Rental),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API key bound to another address", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not available, the renter is its provider, or the deposit at its price would exceed the Algo supply", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/gpus/{id}/rent")]
pub async fn rent_gpu(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: ValidJson<RentGpu>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let value = body.value;
    accept(&state, &req, caller, &body.raw, move |c, caller, now| {
        Ok(rentals::rent(c, caller, id, value.clone().into(), now)?)
    })
    .await
}

/// Runs a rental operation that queues chain work (rent, stop) in one idempotent write
/// transaction and answers 202 with the rental, waking the job runner.
async fn accept<F>(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    raw: &[u8],
    mut op: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnMut(&mut DbConnection, &Caller, i64) -> Result<(RentalRow, JobRow), ApiError>
        + Send
        + 'static,
{
    let claim = Claim::from_request(req, raw, caller.principal())?;
    idempotency::write_once(state, claim, move |c, now| {
        let (rental, job) = op(c, &caller, now)?;
        let rental = Rental::from_row(rental, Some(job.id), now);
        let location = rental.links.this.clone();
        Ok(Saved::new(StatusCode::ACCEPTED, to_json(&rental)?, Some(location)))
    })
    .await
}

/// Stop the GPU's rental.
///
/// Records a job that settles the rental on chain (provider paid per second used,
/// platform fee, renter refunded) and answers at once. The renter or the provider may
/// stop. The body is optional.
#[utoipa::path(
    tag = "gpus",
    params(
        ("id" = i64, Path, minimum = 1, description = "GPU id"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "Replay-safe retries"),
    ),
    request_body(content = Option<StopGpu>, description = "Optional, empty object"),
    responses(
        (status = 202, description = "Accepted; settlement queued", body = Rental),
        (status = 401, description = "API key required (production)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither renter nor provider", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such GPU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to stop, or already stopping", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/gpus/{id}/stop")]
pub async fn stop_gpu(
    state: Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: Path<String>,
    body: OptionalJson<StopGpu>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::GpuId>("GPU", &id)?;
    let stop = body.value.unwrap_or_default();
    accept(&state, &req, caller, &body.raw, move |c, caller, now| {
        Ok(rentals::stop(c, caller, id, stop.clone().into(), now)?)
    })
    .await
}
