//! Applies the contract's events to the mirror tables. Each event is first recorded in
//! `chain_events` under its (app, round, txid, log index); an event already recorded is
//! skipped whole, which is what makes replaying a round harmless.

use bitfox_chain::abi::Event;
use bitfox_store::diesel::prelude::*;
use bitfox_store::diesel::result::Error as DieselError;
use bitfox_store::diesel::{self, SqliteConnection};
use bitfox_store::schema::{
    chain_clusters as cl, chain_cursors as cur, chain_events as ev, chain_holdings as h,
    chain_listings as l, chain_rentals as r,
};

/// Where an event was logged.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub app_id: u64,
    pub round: u64,
    pub txid: &'a str,
    pub log_index: usize,
}

fn int<T: TryInto<i64>>(value: T) -> QueryResult<i64> {
    value.try_into().map_err(|_| {
        DieselError::SerializationError("a chain value does not fit a 64-bit column".into())
    })
}

/// The mirrored round of `app_id` (0 before the first sync).
pub fn cursor(conn: &mut SqliteConnection, app_id: u64) -> QueryResult<u64> {
    let round: Option<i64> =
        cur::table.find(int(app_id)?).select(cur::round).first(conn).optional()?;
    Ok(round.and_then(|r| u64::try_from(r).ok()).unwrap_or(0))
}

/// Sets the mirrored round of `app_id`.
pub fn set_cursor(
    conn: &mut SqliteConnection,
    app_id: u64,
    round: u64,
    now: i64,
) -> QueryResult<()> {
    diesel::insert_into(cur::table)
        .values((cur::app_id.eq(int(app_id)?), cur::round.eq(int(round)?), cur::updated_at.eq(now)))
        .on_conflict(cur::app_id)
        .do_update()
        .set((cur::round.eq(int(round)?), cur::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

fn add_shares(
    conn: &mut SqliteConnection,
    app: i64,
    cluster: i64,
    holder: &str,
    delta: i64,
) -> QueryResult<()> {
    diesel::insert_into(h::table)
        .values((
            h::app_id.eq(app),
            h::cluster_id.eq(cluster),
            h::holder.eq(holder),
            h::shares.eq(delta),
        ))
        .on_conflict((h::app_id, h::cluster_id, h::holder))
        .do_update()
        .set(h::shares.eq(h::shares + delta))
        .execute(conn)?;
    Ok(())
}

/// Records `event` and applies it; `false` when it was already recorded (nothing done).
/// `app_address` is the app account, whose holding stands for the unsold shares.
pub fn apply(
    conn: &mut SqliteConnection,
    origin: Origin<'_>,
    app_address: &str,
    event: &Event,
) -> QueryResult<bool> {
    let app = int(origin.app_id)?;
    let round = int(origin.round)?;
    let body =
        serde_json::to_string(event).map_err(|e| DieselError::SerializationError(Box::new(e)))?;
    let inserted = diesel::insert_into(ev::table)
        .values((
            ev::app_id.eq(app),
            ev::round.eq(round),
            ev::txid.eq(origin.txid),
            ev::log_index.eq(i32::try_from(origin.log_index).unwrap_or(i32::MAX)),
            ev::name.eq(event.name()),
            ev::body.eq(body),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok(false);
    }
    match event {
        Event::ListingRegistered { listing_id, provider, price_per_minute, cluster_id } => {
            diesel::insert_into(l::table)
                .values((
                    l::app_id.eq(app),
                    l::listing_id.eq(int(*listing_id)?),
                    l::provider.eq(provider.to_string()),
                    l::price_per_minute.eq(int(*price_per_minute)?),
                    l::cluster_id.eq(int(*cluster_id)?),
                    l::active_rental_id.eq(0),
                    l::updated_round.eq(round),
                ))
                .execute(conn)?;
        }
        Event::ListingPriceUpdated { listing_id, price_per_minute } => {
            diesel::update(l::table.find((app, int(*listing_id)?)))
                .set((l::price_per_minute.eq(int(*price_per_minute)?), l::updated_round.eq(round)))
                .execute(conn)?;
        }
        Event::ListingDelisted { listing_id, .. } => {
            diesel::update(l::table.find((app, int(*listing_id)?)))
                .set((l::delisted.eq(true), l::updated_round.eq(round)))
                .execute(conn)?;
        }
        Event::RentalStarted(s) => {
            diesel::insert_into(r::table)
                .values((
                    r::app_id.eq(app),
                    r::rental_id.eq(int(s.rental_id)?),
                    r::listing_id.eq(int(s.listing_id)?),
                    r::renter.eq(s.renter.to_string()),
                    r::provider.eq(s.provider.to_string()),
                    r::price_per_minute.eq(int(s.price_per_minute)?),
                    r::deposit.eq(int(s.deposit)?),
                    r::start.eq(int(s.start)?),
                    r::max_end.eq(int(s.max_end)?),
                    r::fee_bps.eq(int(s.fee_bps)?),
                    r::cluster_id.eq(int(s.cluster_id)?),
                    r::rent_txid.eq(origin.txid),
                ))
                .execute(conn)?;
            diesel::update(l::table.find((app, int(s.listing_id)?)))
                .set((l::active_rental_id.eq(int(s.rental_id)?), l::updated_round.eq(round)))
                .execute(conn)?;
        }
        Event::RentalExtended { rental_id, deposit, max_end, .. } => {
            diesel::update(r::table.find((app, int(*rental_id)?)))
                .set((r::deposit.eq(int(*deposit)?), r::max_end.eq(int(*max_end)?)))
                .execute(conn)?;
        }
        Event::RentalSettled(s) => {
            diesel::update(r::table.find((app, int(s.rental_id)?)))
                .set((
                    r::settled_round.eq(round),
                    r::settle_txid.eq(origin.txid),
                    r::settled_by.eq(s.settled_by.to_string()),
                    r::ended_at.eq(int(s.end)?),
                    r::elapsed.eq(int(s.elapsed)?),
                    r::cost.eq(int(s.cost)?),
                    r::fee.eq(int(s.fee)?),
                    r::provider_amount.eq(int(s.provider_amount)?),
                    r::refund.eq(int(s.refund)?),
                ))
                .execute(conn)?;
            diesel::update(l::table.find((app, int(s.listing_id)?)))
                .set((l::active_rental_id.eq(0), l::updated_round.eq(round)))
                .execute(conn)?;
        }
        Event::ClusterCreated(c) => {
            let cluster = int(c.cluster_id)?;
            diesel::insert_into(cl::table)
                .values((
                    cl::app_id.eq(app),
                    cl::cluster_id.eq(cluster),
                    cl::asset_id.eq(int(c.asset_id)?),
                    cl::operator.eq(c.operator.to_string()),
                    cl::total_shares.eq(int(c.total_shares)?),
                    cl::price_per_share.eq(int(c.price_per_share)?),
                    cl::url.eq(&c.url),
                ))
                .execute(conn)?;
            add_shares(conn, app, cluster, app_address, int(c.total_shares)?)?;
        }
        Event::ClusterJoined { cluster_id, holder } => {
            add_shares(conn, app, int(*cluster_id)?, &holder.to_string(), 0)?;
        }
        Event::SharesBought { cluster_id, buyer, count, .. } => {
            let (cluster, count) = (int(*cluster_id)?, int(*count)?);
            add_shares(conn, app, cluster, &buyer.to_string(), count)?;
            add_shares(conn, app, cluster, app_address, -count)?;
        }
        Event::SharesTransferred { cluster_id, from, to, count } => {
            let (cluster, count) = (int(*cluster_id)?, int(*count)?);
            add_shares(conn, app, cluster, &from.to_string(), -count)?;
            add_shares(conn, app, cluster, &to.to_string(), count)?;
        }
        Event::ClusterRevenue { cluster_id, amount, acc, .. } => {
            diesel::update(cl::table.find((app, int(*cluster_id)?)))
                .set((cl::revenue.eq(cl::revenue + int(*amount)?), cl::acc.eq(acc.to_string())))
                .execute(conn)?;
        }
        Event::RevenueClaimed { cluster_id, holder, amount, .. } => {
            diesel::update(h::table.find((app, int(*cluster_id)?, holder.to_string())))
                .set(h::claimed.eq(h::claimed + int(*amount)?))
                .execute(conn)?;
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
