//! The watcher's mirror of the chain (`chain_*` tables): typed rows, written by the
//! watcher and read by the API and the jobs — through this module only.
//!
//! Chain values are `u64`; the columns are 64-bit signed. A value that does not fit is
//! refused with an error, never stored as something else.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sqlite::SqliteConnection;

use crate::schema::{
    chain_clusters as cl, chain_cursors as cur, chain_events as ev, chain_holdings as h,
    chain_listings as l, chain_rentals as r,
};

/// `value` as a column value; an error when it does not fit.
pub fn column<T: TryInto<i64> + Copy + std::fmt::Display>(value: T) -> QueryResult<i64> {
    value.try_into().map_err(|_| {
        DieselError::SerializationError(
            format!("the chain value {value} does not fit a 64-bit column").into(),
        )
    })
}

/// A stored column as the chain's `u64`; an error when it is negative (a corrupt row).
fn chain_value(stored: i64) -> QueryResult<u64> {
    u64::try_from(stored).map_err(|_| {
        DieselError::DeserializationError(
            format!("a mirrored chain value is negative ({stored})").into(),
        )
    })
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
pub fn cursor(conn: &mut SqliteConnection, app_id: u64) -> QueryResult<u64> {
    let round: Option<i64> =
        cur::table.find(column(app_id)?).select(cur::round).first(conn).optional()?;
    round.map_or(Ok(0), chain_value)
}

/// Sets the mirrored round of `app_id`.
pub fn set_cursor(
    conn: &mut SqliteConnection,
    app_id: u64,
    round: u64,
    now: i64,
) -> QueryResult<()> {
    let (app, round) = (column(app_id)?, column(round)?);
    diesel::insert_into(cur::table)
        .values((cur::app_id.eq(app), cur::round.eq(round), cur::updated_at.eq(now)))
        .on_conflict(cur::app_id)
        .do_update()
        .set((cur::round.eq(round), cur::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Records an event under its origin; `false` when it was recorded before (a replayed
/// round), in which case nothing else may be applied for it.
pub fn record_event(
    conn: &mut SqliteConnection,
    origin: Origin<'_>,
    name: &str,
    body: &str,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(ev::table)
        .values((
            ev::app_id.eq(column(origin.app_id)?),
            ev::round.eq(column(origin.round)?),
            ev::txid.eq(origin.txid),
            ev::log_index.eq(i32::try_from(origin.log_index)
                .map_err(|_| DieselError::SerializationError("a log index does not fit".into()))?),
            ev::name.eq(name),
            ev::body.eq(body),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
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
    conn: &mut SqliteConnection,
    app_id: u64,
    round: u64,
    listing: ListingRegistered<'_>,
) -> QueryResult<()> {
    diesel::insert_into(l::table)
        .values((
            l::app_id.eq(column(app_id)?),
            l::listing_id.eq(column(listing.listing_id)?),
            l::provider.eq(listing.provider),
            l::price_per_minute.eq(column(listing.price_per_minute)?),
            l::cluster_id.eq(column(listing.cluster_id)?),
            l::active_rental_id.eq(0),
            l::updated_round.eq(column(round)?),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a price change.
pub fn set_listing_price(
    conn: &mut SqliteConnection,
    app_id: u64,
    round: u64,
    listing_id: u64,
    price_per_minute: u64,
) -> QueryResult<()> {
    diesel::update(l::table.find((column(app_id)?, column(listing_id)?)))
        .set((
            l::price_per_minute.eq(column(price_per_minute)?),
            l::updated_round.eq(column(round)?),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a delisting.
pub fn delist(
    conn: &mut SqliteConnection,
    app_id: u64,
    round: u64,
    listing_id: u64,
) -> QueryResult<()> {
    diesel::update(l::table.find((column(app_id)?, column(listing_id)?)))
        .set((l::delisted.eq(true), l::updated_round.eq(column(round)?)))
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
    conn: &mut SqliteConnection,
    origin: Origin<'_>,
    s: RentalStarted<'_>,
) -> QueryResult<()> {
    let app = column(origin.app_id)?;
    diesel::insert_into(r::table)
        .values((
            r::app_id.eq(app),
            r::rental_id.eq(column(s.rental_id)?),
            r::listing_id.eq(column(s.listing_id)?),
            r::renter.eq(s.renter),
            r::provider.eq(s.provider),
            r::price_per_minute.eq(column(s.price_per_minute)?),
            r::deposit.eq(column(s.deposit)?),
            r::start.eq(column(s.start)?),
            r::max_end.eq(column(s.max_end)?),
            r::fee_bps.eq(column(s.fee_bps)?),
            r::cluster_id.eq(column(s.cluster_id)?),
            r::rent_txid.eq(origin.txid),
        ))
        .execute(conn)?;
    diesel::update(l::table.find((app, column(s.listing_id)?)))
        .set((
            l::active_rental_id.eq(column(s.rental_id)?),
            l::updated_round.eq(column(origin.round)?),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a top-up.
pub fn extend_rental(
    conn: &mut SqliteConnection,
    app_id: u64,
    rental_id: u64,
    deposit: u64,
    max_end: u64,
) -> QueryResult<()> {
    diesel::update(r::table.find((column(app_id)?, column(rental_id)?)))
        .set((r::deposit.eq(column(deposit)?), r::max_end.eq(column(max_end)?)))
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
    conn: &mut SqliteConnection,
    origin: Origin<'_>,
    s: RentalSettled<'_>,
) -> QueryResult<()> {
    let (app, round) = (column(origin.app_id)?, column(origin.round)?);
    diesel::update(r::table.find((app, column(s.rental_id)?)))
        .set((
            r::settled_round.eq(round),
            r::settle_txid.eq(origin.txid),
            r::settled_by.eq(s.settled_by),
            r::ended_at.eq(column(s.end)?),
            r::elapsed.eq(column(s.elapsed)?),
            r::cost.eq(column(s.cost)?),
            r::fee.eq(column(s.fee)?),
            r::provider_amount.eq(column(s.provider_amount)?),
            r::refund.eq(column(s.refund)?),
        ))
        .execute(conn)?;
    diesel::update(l::table.find((app, column(s.listing_id)?)))
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
    conn: &mut SqliteConnection,
    app_id: u64,
    app_address: &str,
    c: ClusterCreated<'_>,
) -> QueryResult<()> {
    diesel::insert_into(cl::table)
        .values((
            cl::app_id.eq(column(app_id)?),
            cl::cluster_id.eq(column(c.cluster_id)?),
            cl::asset_id.eq(column(c.asset_id)?),
            cl::operator.eq(c.operator),
            cl::total_shares.eq(column(c.total_shares)?),
            cl::price_per_share.eq(column(c.price_per_share)?),
            cl::url.eq(c.url),
        ))
        .execute(conn)?;
    move_shares(conn, app_id, c.cluster_id, None, Some(app_address), c.total_shares)
}

/// Adds a holder record with no shares (a join), if there is none.
pub fn join_cluster(
    conn: &mut SqliteConnection,
    app_id: u64,
    cluster_id: u64,
    holder: &str,
) -> QueryResult<()> {
    add_shares(conn, column(app_id)?, column(cluster_id)?, holder, 0)
}

/// Moves `count` shares from `from` to `to` (`None`: issued or retired).
pub fn move_shares(
    conn: &mut SqliteConnection,
    app_id: u64,
    cluster_id: u64,
    from: Option<&str>,
    to: Option<&str>,
    count: u64,
) -> QueryResult<()> {
    let (app, cluster, count) = (column(app_id)?, column(cluster_id)?, column(count)?);
    if let Some(from) = from {
        add_shares(conn, app, cluster, from, -count)?;
    }
    if let Some(to) = to {
        add_shares(conn, app, cluster, to, count)?;
    }
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

/// Mirrors revenue credited to a cluster (`acc` is the accumulator, a u128 as text).
pub fn add_revenue(
    conn: &mut SqliteConnection,
    app_id: u64,
    cluster_id: u64,
    amount: u64,
    acc: u128,
) -> QueryResult<()> {
    diesel::update(cl::table.find((column(app_id)?, column(cluster_id)?)))
        .set((cl::revenue.eq(cl::revenue + column(amount)?), cl::acc.eq(acc.to_string())))
        .execute(conn)?;
    Ok(())
}

/// Mirrors a claim.
pub fn add_claimed(
    conn: &mut SqliteConnection,
    app_id: u64,
    cluster_id: u64,
    holder: &str,
    amount: u64,
) -> QueryResult<()> {
    diesel::update(h::table.find((column(app_id)?, column(cluster_id)?, holder)))
        .set(h::claimed.eq(h::claimed + column(amount)?))
        .execute(conn)?;
    Ok(())
}

/// A holder of a cluster's shares, as mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The holder's address (the app account's record holds the unsold shares).
    pub holder: String,
    /// The on-chain cluster id.
    pub cluster_id: u64,
    /// Shares held.
    pub shares: u64,
    /// Revenue claimed so far, in microAlgos.
    pub claimed: u64,
}

fn holdings(rows: Vec<(String, i64, i64, i64)>) -> QueryResult<Vec<Holding>> {
    rows.into_iter()
        .map(|(holder, cluster_id, shares, claimed)| {
            Ok(Holding {
                holder,
                cluster_id: chain_value(cluster_id)?,
                shares: chain_value(shares)?,
                claimed: chain_value(claimed)?,
            })
        })
        .collect()
}

/// The holders of on-chain cluster `cluster_id`, by address.
pub fn holders(conn: &mut SqliteConnection, cluster_id: u64) -> QueryResult<Vec<Holding>> {
    let rows = h::table
        .filter(h::cluster_id.eq(column(cluster_id)?))
        .order(h::holder)
        .select((h::holder, h::cluster_id, h::shares, h::claimed))
        .load(conn)?;
    holdings(rows)
}

/// What `holder` holds, by cluster.
pub fn holdings_of(conn: &mut SqliteConnection, holder: &str) -> QueryResult<Vec<Holding>> {
    let rows = h::table
        .filter(h::holder.eq(holder))
        .order(h::cluster_id)
        .select((h::holder, h::cluster_id, h::shares, h::claimed))
        .load(conn)?;
    holdings(rows)
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
    conn: &mut SqliteConnection,
    app_id: u64,
    rental_id: u64,
) -> QueryResult<Option<Settlement>> {
    type Row = (Option<String>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = r::table
        .filter(r::app_id.eq(column(app_id)?))
        .filter(r::rental_id.eq(column(rental_id)?))
        .select((r::settle_txid, r::ended_at, r::cost, r::fee, r::provider_amount, r::refund))
        .first(conn)
        .optional()?;
    let Some((Some(txid), Some(end), Some(cost), Some(fee), Some(provider), Some(refund))) = row
    else {
        return Ok(None);
    };
    Ok(Some(Settlement {
        txid,
        ended_at: chain_value(end)?,
        cost: chain_value(cost)?,
        fee: chain_value(fee)?,
        provider_amount: chain_value(provider)?,
        refund: chain_value(refund)?,
    }))
}
