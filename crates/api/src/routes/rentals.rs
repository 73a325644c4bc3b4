//! `/rentals`: rentals and their settlement.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse, get};
use bitfox_domain::{RentalId, RentalStatus};
use bitfox_store::now_seconds;
use bitfox_store::repo::{job, rental};

use super::{next_link, parse_address, parse_digits, parse_limit};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{parse_id, parse_query};
use crate::types::{Rental, RentalListParams};
use bitfox_market::rentals;

/// One rental: status, deposit, cost so far, on-chain transaction ids and, once
/// settled, the exact amounts paid, charged as fee and refunded.
#[utoipa::path(
    tag = "rentals",
    params(("id" = i64, Path, minimum = 1, description = "Rental id")),
    responses(
        (status = 200, description = "The rental", body = Rental),
        (status = 404, description = "No such rental", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/rentals/{id}")]
pub async fn get_rental(state: Data<AppState>, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse_id::<bitfox_domain::RentalId>("rental", &id)?;
    let (row, job) = state
        .store
        .read(move |c| {
            let row = rentals::find_rental(c, id)?;
            let job = job::latest_for_rental(c, id)?.map(|j| j.id);
            Ok::<_, ApiError>((row, job))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Rental::from_row(row, job, now_seconds())))
}

/// Rentals, newest first, filtered by renter, provider and status.
#[utoipa::path(
    tag = "rentals",
    params(RentalListParams),
    responses(
        (status = 200, description = "One page of rentals", body = [Rental],
            headers(("Link" = String, description = "Next page, if any"), ("X-Next-Cursor" = String, description = "Cursor of the next page, if any"))),
        (status = 422, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/rentals")]
pub async fn list_rentals(
    state: Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params: RentalListParams = parse_query(req.query_string())?;
    let status = params
        .status
        .as_deref()
        .map(|s| s.parse::<RentalStatus>().map_err(|e| ApiError::field("status", e.to_string())))
        .transpose()?;
    // A cursor (`crate::spec::RENTAL_CURSOR_PATTERN`) is the id of the last rental seen.
    let before_id =
        params
            .cursor
            .as_deref()
            .map(|c| {
                Some(c).filter(|c| c.len() <= 18).and_then(parse_digits).map(RentalId).ok_or_else(
                    || ApiError::field("cursor", "is not a cursor returned by this API"),
                )
            })
            .transpose()?;
    let limit = parse_limit(params.limit.as_deref())?;
    let query = rental::Query {
        renter: parse_address("renter", params.renter.as_deref())?,
        provider: parse_address("provider", params.provider.as_deref())?,
        status,
        before_id,
        limit: limit + 1,
    };
    let mut rows =
        state.store.read(move |c| rental::list(c, &query).map_err(ApiError::from)).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let now = now_seconds();
    let rentals: Vec<Rental> = rows.into_iter().map(|r| Rental::from_row(r, None, now)).collect();
    let mut response = HttpResponse::Ok();
    if more && let Some(last) = rentals.last() {
        let cursor = last.id.to_string();
        response.insert_header(("Link", next_link(req.path(), req.query_string(), &cursor)));
        response.insert_header(("X-Next-Cursor", cursor));
    }
    Ok(response.json(rentals))
}
