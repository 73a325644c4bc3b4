//! The watcher's mirror of the chain (`chain_*` tables): typed rows, written by the
//! watcher and read by the API and the jobs — through this module only.
//!
//! Chain values are `u64` over their whole range (a stranger may call the contract with
//! a price of 2^64 − 1); the columns are 64-bit signed integers. A value is stored as
//! the `i64` with the same 64 bits ([`column`]) and read back by the inverse
//! ([`chain_value`]): lossless, and equal values stay equal in queries. Values of 2^63
//! or more therefore read as negative in raw SQL; sums are made here in checked `u64`
//! arithmetic, never in SQL. Events that do not decode, and values that break the
//! mirror's arithmetic, are recorded as [`anomalies`](record_anomaly) and skipped.

use crate::DbConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::schema::{
    chain_anomalies as an, chain_clusters as cl, chain_cursors as cur, chain_events as ev,
    chain_holdings as h, chain_listings as l, chain_rentals as r,
};

/// A chain `u64` as its column value: the `i64` with the same 64 bits (lossless).
pub const fn column(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// A column value back as the chain's `u64` (the inverse of [`column`]).
pub const fn chain_value(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

/// A mirror sum that left `u64`: only a contract that broke its own rules could log it.
fn overflow(what: &str) -> DieselError {
    DieselError::SerializationError(format!("{what} overflows u64").into())
}

/// Where an event was logged.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The application that logged it.
    pub app_id: u64,
    /// Its round.
    pub round: u64,
    /// Its transaction.
    pub txid: &'a str,
    /// Its position among the transaction's logs.
    pub log_index: usize,
}

/// The mirrored round of `app_id` (0 before the first sync).
pub fn cursor(conn: &mut DbConnection, app_id: u64) -> QueryResult<u64> {
    let round: Option<i64> =
        cur::table.find(column(app_id)).select(cur::round).first(conn).optional()?;
    Ok(round.map_or(0, chain_value))
}

/// Sets the mirrored round of `app_id`.
pub fn set_cursor(conn: &mut DbConnection, app_id: u64, round: u64, now: i64) -> QueryResult<()> {
    let (app, round) = (column(app_id), column(round));
    let upsert = diesel::insert_into(cur::table)
        .values((cur::app_id.eq(app), cur::round.eq(round), cur::updated_at.eq(now)))
        .on_conflict(cur::app_id)
        .do_update()
        .set((cur::round.eq(round), cur::updated_at.eq(now)));
    crate::on_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}

/// Records an event under its origin; `false` when it was recorded before (a replayed
/// round), in which case nothing else may be applied for it.
pub fn record_event(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    name: &str,
    body: &str,
) -> QueryResult<bool> {
    let upsert = diesel::insert_into(ev::table)
        .values((
            ev::app_id.eq(column(origin.app_id)),
            ev::round.eq(column(origin.round)),
            ev::txid.eq(origin.txid),
            ev::log_index.eq(i32::try_from(origin.log_index)
                .map_err(|_| DieselError::SerializationError("a log index does not fit".into()))?),
            ev::name.eq(name),
            ev::body.eq(body),
        ))
        .on_conflict_do_nothing();
    let inserted = crate::on_backend!(conn, |c| upsert.execute(c))?;
    Ok(inserted > 0)
}

/// A listing registered on chain.
#[derive(Debug, Clone, Copy)]
pub struct ListingRegistered<'a> {
    pub listing_id: u64,
    pub provider: &'a str,
    pub price_per_minute: u64,
    pub cluster_id: u64,
}

/// Mirrors a registration.
pub fn insert_listing(
    conn: &mut DbConnection,
    app_id: u64,
    round: u64,
    listing: ListingRegistered<'_>,
) -> QueryResult<()> {
    diesel::insert_into(l::table)
        .values((
            l::app_id.eq(column(app_id)),
            l::listing_id.eq(column(listing.listing_id)),
            l::provider.eq(listing.provider),
            l::price_per_minute.eq(column(listing.price_per_minute)),
            l::cluster_id.eq(column(listing.cluster_id)),
            l::active_rental_id.eq(0),
            l::updated_round.eq(column(round)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a price change.
pub fn set_listing_price(
    conn: &mut DbConnection,
    app_id: u64,
    round: u64,
    listing_id: u64,
    price_per_minute: u64,
) -> QueryResult<()> {
    diesel::update(l::table.find((column(app_id), column(listing_id))))
        .set((l::price_per_minute.eq(column(price_per_minute)), l::updated_round.eq(column(round))))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a delisting.
pub fn delist(
    conn: &mut DbConnection,
    app_id: u64,
    round: u64,
    listing_id: u64,
) -> QueryResult<()> {
    diesel::update(l::table.find((column(app_id), column(listing_id))))
        .set((l::delisted.eq(true), l::updated_round.eq(column(round))))
        .execute(conn)?;
    Ok(())
}

/// A cluster GPU's retirement was announced (contract v2): delisting it is allowed
/// from `effective` (chain time) on.
pub fn announce_retirement(
    conn: &mut DbConnection,
    app_id: u64,
    round: u64,
    listing_id: u64,
    effective: u64,
) -> QueryResult<()> {
    diesel::update(l::table.find((column(app_id), column(listing_id))))
        .set((
            l::retirement_effective.eq(Some(column(effective))),
            l::updated_round.eq(column(round)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A rental started on chain.
#[derive(Debug, Clone, Copy)]
pub struct RentalStarted<'a> {
    pub rental_id: u64,
    pub listing_id: u64,
    pub renter: &'a str,
    pub provider: &'a str,
    pub price_per_minute: u64,
    pub deposit: u64,
    pub start: u64,
    pub max_end: u64,
    pub fee_bps: u64,
    pub cluster_id: u64,
}

/// Mirrors a rent: the rental, and its listing taken.
pub fn start_rental(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    s: RentalStarted<'_>,
) -> QueryResult<()> {
    let app = column(origin.app_id);
    diesel::insert_into(r::table)
        .values((
            r::app_id.eq(app),
            r::rental_id.eq(column(s.rental_id)),
            r::listing_id.eq(column(s.listing_id)),
            r::renter.eq(s.renter),
            r::provider.eq(s.provider),
            r::price_per_minute.eq(column(s.price_per_minute)),
            r::deposit.eq(column(s.deposit)),
            r::start.eq(column(s.start)),
            r::max_end.eq(column(s.max_end)),
            r::fee_bps.eq(column(s.fee_bps)),
            r::cluster_id.eq(column(s.cluster_id)),
            r::rent_txid.eq(origin.txid),
        ))
        .execute(conn)?;
    diesel::update(l::table.find((app, column(s.listing_id))))
        .set((
            l::active_rental_id.eq(column(s.rental_id)),
            l::updated_round.eq(column(origin.round)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a top-up.
pub fn extend_rental(
    conn: &mut DbConnection,
    app_id: u64,
    rental_id: u64,
    deposit: u64,
    max_end: u64,
) -> QueryResult<()> {
    diesel::update(r::table.find((column(app_id), column(rental_id))))
        .set((r::deposit.eq(column(deposit)), r::max_end.eq(column(max_end))))
        .execute(conn)?;
    Ok(())
}

/// A settlement as the contract made it.
#[derive(Debug, Clone, Copy)]
pub struct RentalSettled<'a> {
    pub rental_id: u64,
    pub listing_id: u64,
    pub settled_by: &'a str,
    pub end: u64,
    pub elapsed: u64,
    pub cost: u64,
    pub fee: u64,
    pub provider_amount: u64,
    pub refund: u64,
}

/// Mirrors a settlement: the rental's figures, and its listing free again.
pub fn settle_rental(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    s: RentalSettled<'_>,
) -> QueryResult<()> {
    let (app, round) = (column(origin.app_id), column(origin.round));
    diesel::update(r::table.find((app, column(s.rental_id))))
        .set((
            r::settled_round.eq(round),
            r::settle_txid.eq(origin.txid),
            r::settled_by.eq(s.settled_by),
            r::ended_at.eq(column(s.end)),
            r::elapsed.eq(column(s.elapsed)),
            r::cost.eq(column(s.cost)),
            r::fee.eq(column(s.fee)),
            r::provider_amount.eq(column(s.provider_amount)),
            r::refund.eq(column(s.refund)),
        ))
        .execute(conn)?;
    diesel::update(l::table.find((app, column(s.listing_id))))
        .set((l::active_rental_id.eq(0), l::updated_round.eq(round)))
        .execute(conn)?;
    Ok(())
}

/// A cluster created on chain.
#[derive(Debug, Clone, Copy)]
pub struct ClusterCreated<'a> {
    pub cluster_id: u64,
    pub asset_id: u64,
    pub operator: &'a str,
    pub total_shares: u64,
    pub price_per_share: u64,
    pub url: &'a str,
}

/// Mirrors a cluster creation; the app account (`app_address`) holds every share.
pub fn insert_cluster(
    conn: &mut DbConnection,
    app_id: u64,
    app_address: &str,
    c: ClusterCreated<'_>,
) -> QueryResult<()> {
    diesel::insert_into(cl::table)
        .values((
            cl::app_id.eq(column(app_id)),
            cl::cluster_id.eq(column(c.cluster_id)),
            cl::asset_id.eq(column(c.asset_id)),
            cl::operator.eq(c.operator),
            cl::total_shares.eq(column(c.total_shares)),
            cl::price_per_share.eq(column(c.price_per_share)),
            cl::url.eq(c.url),
        ))
        .execute(conn)?;
    move_shares(conn, app_id, c.cluster_id, None, Some(app_address), c.total_shares)
}

/// Adds a holder record with no shares (a join), if there is none.
pub fn join_cluster(
    conn: &mut DbConnection,
    app_id: u64,
    cluster_id: u64,
    holder: &str,
) -> QueryResult<()> {
    change_shares(conn, app_id, cluster_id, holder, Some)
}

/// Moves `count` shares from `from` to `to` (`None`: issued or retired).
pub fn move_shares(
    conn: &mut DbConnection,
    app_id: u64,
    cluster_id: u64,
    from: Option<&str>,
    to: Option<&str>,
    count: u64,
) -> QueryResult<()> {
    if let Some(from) = from {
        change_shares(conn, app_id, cluster_id, from, |held| held.checked_sub(count))?;
    }
    if let Some(to) = to {
        change_shares(conn, app_id, cluster_id, to, |held| held.checked_add(count))?;
    }
    Ok(())
}

/// Sets `holder`'s shares to `change(current)` (0 for a new record); an error when the
/// change leaves `u64`.
fn change_shares(
    conn: &mut DbConnection,
    app_id: u64,
    cluster_id: u64,
    holder: &str,
    change: impl FnOnce(u64) -> Option<u64>,
) -> QueryResult<()> {
    let (app, cluster) = (column(app_id), column(cluster_id));
    let held: Option<i64> =
        h::table.find((app, cluster, holder)).select(h::shares).first(conn).optional()?;
    let shares = change(held.map_or(0, chain_value))
        .ok_or_else(|| overflow(&format!("the shares of {holder} in cluster {cluster_id}")))?;
    let upsert = diesel::insert_into(h::table)
        .values((
            h::app_id.eq(app),
            h::cluster_id.eq(cluster),
            h::holder.eq(holder),
            h::shares.eq(column(shares)),
        ))
        .on_conflict((h::app_id, h::cluster_id, h::holder))
        .do_update()
        .set(h::shares.eq(column(shares)));
    crate::on_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}

/// Mirrors revenue credited to a cluster (`acc` is the accumulator, a u128 as text).
pub fn add_revenue(
    conn: &mut DbConnection,
    app_id: u64,
    cluster_id: u64,
    amount: u64,
    acc: u128,
) -> QueryResult<()> {
    let key = (column(app_id), column(cluster_id));
    let Some(revenue) = cl::table.find(key).select(cl::revenue).first::<i64>(conn).optional()?
    else {
        return Ok(());
    };
    let revenue = chain_value(revenue)
        .checked_add(amount)
        .ok_or_else(|| overflow(&format!("the revenue of cluster {cluster_id}")))?;
    diesel::update(cl::table.find(key))
        .set((cl::revenue.eq(column(revenue)), cl::acc.eq(acc.to_string())))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a claim.
pub fn add_claimed(
    conn: &mut DbConnection,
    app_id: u64,
    cluster_id: u64,
    holder: &str,
    amount: u64,
) -> QueryResult<()> {
    let key = (column(app_id), column(cluster_id), holder);
    let Some(claimed) = h::table.find(key).select(h::claimed).first::<i64>(conn).optional()? else {
        return Ok(());
    };
    let claimed = chain_value(claimed)
        .checked_add(amount)
        .ok_or_else(|| overflow(&format!("the claims of {holder} in cluster {cluster_id}")))?;
    diesel::update(h::table.find(key)).set(h::claimed.eq(column(claimed))).execute(conn)?;
    Ok(())
}

/// Records a log the mirror could not apply (it does not decode, or a value breaks the
/// mirror's arithmetic) under its origin, with the reason and the log's bytes; `false`
/// when it was recorded before (a replayed round).
pub fn record_anomaly(
    conn: &mut DbConnection,
    origin: Origin<'_>,
    reason: &str,
    log: &[u8],
    now: i64,
) -> QueryResult<bool> {
    let upsert = diesel::insert_into(an::table)
        .values((
            an::app_id.eq(column(origin.app_id)),
            an::round.eq(column(origin.round)),
            an::txid.eq(origin.txid),
            an::log_index.eq(log_index(origin.log_index)?),
            an::reason.eq(reason),
            an::log.eq(log),
            an::recorded_at.eq(now),
        ))
        .on_conflict_do_nothing();
    let inserted = crate::on_backend!(conn, |c| upsert.execute(c))?;
    Ok(inserted > 0)
}

/// A recorded anomaly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub app_id: u64,
    pub round: u64,
    pub txid: String,
    pub log_index: i32,
    pub reason: String,
    pub log: Vec<u8>,
}

/// The anomalies recorded for `app_id`, oldest first.
pub fn anomalies(conn: &mut DbConnection, app_id: u64) -> QueryResult<Vec<Anomaly>> {
    let rows: Vec<(i64, i64, String, i32, String, Vec<u8>)> = an::table
        .filter(an::app_id.eq(column(app_id)))
        .order(an::id)
        .select((an::app_id, an::round, an::txid, an::log_index, an::reason, an::log))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(app, round, txid, log_index, reason, log)| Anomaly {
            app_id: chain_value(app),
            round: chain_value(round),
            txid,
            log_index,
            reason,
            log,
        })
        .collect())
}

/// How many anomalies are recorded, per app.
pub fn anomaly_counts(conn: &mut DbConnection) -> QueryResult<Vec<(u64, i64)>> {
    let rows: Vec<(i64, i64)> = an::table
        .group_by(an::app_id)
        .select((an::app_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(app, n)| (chain_value(app), n)).collect())
}

fn log_index(index: usize) -> QueryResult<i32> {
    i32::try_from(index)
        .map_err(|_| DieselError::SerializationError("a log index does not fit".into()))
}

/// A holder of a cluster's shares, as mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The holder's address (the app account's record holds the unsold shares).
    pub holder: String,
    /// The app the cluster lives on.
    pub app_id: u64,
    /// The on-chain cluster id.
    pub cluster_id: u64,
    /// Shares held.
    pub shares: u64,
    /// Revenue claimed so far, in microAlgos.
    pub claimed: u64,
}

fn holdings(rows: Vec<(String, i64, i64, i64, i64)>) -> Vec<Holding> {
    rows.into_iter()
        .map(|(holder, app_id, cluster_id, shares, claimed)| Holding {
            holder,
            app_id: chain_value(app_id),
            cluster_id: chain_value(cluster_id),
            shares: chain_value(shares),
            claimed: chain_value(claimed),
        })
        .collect()
}

/// The holders of on-chain cluster `cluster_id`, by address.
pub fn holders(conn: &mut DbConnection, app_id: u64, cluster_id: u64) -> QueryResult<Vec<Holding>> {
    let rows = h::table
        .filter(h::app_id.eq(column(app_id)))
        .filter(h::cluster_id.eq(column(cluster_id)))
        .order(h::holder)
        .select((h::holder, h::app_id, h::cluster_id, h::shares, h::claimed))
        .load(conn)?;
    Ok(holdings(rows))
}

/// What `holder` holds, by cluster.
pub fn holdings_of(conn: &mut DbConnection, holder: &str) -> QueryResult<Vec<Holding>> {
    let rows = h::table
        .filter(h::holder.eq(holder))
        .order((h::app_id, h::cluster_id))
        .select((h::holder, h::app_id, h::cluster_id, h::shares, h::claimed))
        .load(conn)?;
    Ok(holdings(rows))
}

/// A settlement as the chain recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The settling transaction.
    pub txid: String,
    /// When the rental ended (the chain's clock).
    pub ended_at: u64,
    pub cost: u64,
    pub fee: u64,
    pub provider_amount: u64,
    pub refund: u64,
}

/// The settlement the chain recorded for rental `rental_id` of app `app_id`, if it was
/// settled.
pub fn settlement_of(
    conn: &mut DbConnection,
    app_id: u64,
    rental_id: u64,
) -> QueryResult<Option<Settlement>> {
    type Row = (Option<String>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = r::table
        .filter(r::app_id.eq(column(app_id)))
        .filter(r::rental_id.eq(column(rental_id)))
        .select((r::settle_txid, r::ended_at, r::cost, r::fee, r::provider_amount, r::refund))
        .first(conn)
        .optional()?;
    let Some((Some(txid), Some(end), Some(cost), Some(fee), Some(provider), Some(refund))) = row
    else {
        return Ok(None);
    };
    Ok(Some(Settlement {
        txid,
        ended_at: chain_value(end),
        cost: chain_value(cost),
        fee: chain_value(fee),
        provider_amount: chain_value(provider),
        refund: chain_value(refund),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_u64_survives_the_column() {
        for value in [0, 1, i64::MAX as u64, 1 << 63, u64::MAX - 1, u64::MAX] {
            assert_eq!(chain_value(column(value)), value);
        }
        assert_eq!(column(7), 7, "values that fit read the same in SQL");
    }
}
