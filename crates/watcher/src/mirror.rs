//! Applies the contract's events to the mirror (`bitfox_store::mirror`). Each event is
//! first recorded under its (app, round, txid, log index); an event already recorded is
//! skipped whole, which is what makes replaying a round harmless.

use bitfox_contract::Event;
use bitfox_store::DbConnection;
use bitfox_store::diesel::result::{Error as DieselError, QueryResult};
use bitfox_store::mirror::{self, ClusterCreated, ListingRegistered, RentalSettled, RentalStarted};

pub use bitfox_store::mirror::{Origin, cursor, record_anomaly, set_cursor};

/// Records `event` and applies it; `false` when it was already recorded (nothing done).
/// `app_address` is the app account, whose holding stands for the unsold shares.
pub fn apply(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    app_address: &str,
    event: &Event,
) -> QueryResult<bool> {
    let body =
        serde_json::to_string(event).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
    if !mirror::record_event(conn, origin, event.name(), &body)? {
        return Ok(false);
    }
    let (app, round) = (origin.app_id, origin.round);
    match event {
        Event::ListingRegistered { listing_id, provider, price_per_minute, cluster_id } => {
            let provider = provider.to_string();
            mirror::insert_listing(
                conn,
                app,
                round,
                ListingRegistered {
                    listing_id: *listing_id,
                    provider: &provider,
                    price_per_minute: *price_per_minute,
                    cluster_id: *cluster_id,
                },
            )?;
        }
        Event::ListingPriceUpdated { listing_id, price_per_minute } => {
            mirror::set_listing_price(conn, app, round, *listing_id, *price_per_minute)?;
        }
        Event::ListingDelisted { listing_id, .. } => {
            mirror::delist(conn, app, round, *listing_id)?;
        }
        Event::RentalStarted(s) => {
            let (renter, provider) = (s.renter.to_string(), s.provider.to_string());
            mirror::start_rental(
                conn,
                origin,
                RentalStarted {
                    rental_id: s.rental_id,
                    listing_id: s.listing_id,
                    renter: &renter,
                    provider: &provider,
                    price_per_minute: s.price_per_minute,
                    deposit: s.deposit,
                    start: s.start,
                    max_end: s.max_end,
                    fee_bps: s.fee_bps,
                    cluster_id: s.cluster_id,
                },
            )?;
        }
        Event::RentalExtended { rental_id, deposit, max_end, .. } => {
            mirror::extend_rental(conn, app, *rental_id, *deposit, *max_end)?;
        }
        Event::RentalSettled(s) => {
            let settled_by = s.settled_by.to_string();
            mirror::settle_rental(
                conn,
                origin,
                RentalSettled {
                    rental_id: s.rental_id,
                    listing_id: s.listing_id,
                    settled_by: &settled_by,
                    end: s.end,
                    elapsed: s.elapsed,
                    cost: s.cost,
                    fee: s.fee,
                    provider_amount: s.provider_amount,
                    refund: s.refund,
                },
            )?;
        }
        Event::ClusterCreated(c) => {
            let operator = c.operator.to_string();
            mirror::insert_cluster(
                conn,
                app,
                app_address,
                ClusterCreated {
                    cluster_id: c.cluster_id,
                    asset_id: c.asset_id,
                    operator: &operator,
                    total_shares: c.total_shares,
                    price_per_share: c.price_per_share,
                    url: &c.url,
                },
            )?;
        }
        Event::ClusterJoined { cluster_id, holder } => {
            mirror::join_cluster(conn, app, *cluster_id, &holder.to_string())?;
        }
        Event::SharesBought { cluster_id, buyer, count, .. } => {
            let buyer = buyer.to_string();
            mirror::move_shares(conn, app, *cluster_id, Some(app_address), Some(&buyer), *count)?;
        }
        Event::SharesTransferred { cluster_id, from, to, count } => {
            let (from, to) = (from.to_string(), to.to_string());
            mirror::move_shares(conn, app, *cluster_id, Some(&from), Some(&to), *count)?;
        }
        Event::ClusterRevenue { cluster_id, amount, acc, .. } => {
            mirror::add_revenue(conn, app, *cluster_id, *amount, *acc)?;
        }
        Event::RevenueClaimed { cluster_id, holder, amount, .. } => {
            mirror::add_claimed(conn, app, *cluster_id, &holder.to_string(), *amount)?;
        }
        Event::RetirementAnnounced { listing_id, effective, .. } => {
            mirror::announce_retirement(conn, app, round, *listing_id, *effective)?;
        }
        // Platform settings, fees and forfeits live in the event log only.
        Event::Initialized { .. }
        | Event::FeeChanged { .. }
        | Event::TreasuryChanged { .. }
        | Event::PauseChanged { .. }
        | Event::AdminChanged { .. }
        | Event::FeesWithdrawn { .. }
        | Event::PayoutForfeited { .. } => {}
    }
    Ok(true)
}
