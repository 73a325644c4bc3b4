//! Repositories: table-level queries over a borrowed connection, so callers can compose
//! several of them inside one transaction ([`crate::Store::write`]).

use crate::DbConnection;
use crate::db::MultiBackend;
use diesel::prelude::*;

use bitfox_domain::{
    ChainId, ClusterId, ClusterStatus, GpuId, GpuStatus, JobId, JobKind, JobState, RentalId,
    RentalStatus,
};

use crate::models::*;
use crate::schema::{api_keys, gpus, idempotency_keys, jobs, rentals};

type QueryResult<T> = Result<T, diesel::result::Error>;

diesel::define_sql_function! {
    /// SQL `lower(text)`. ASCII-only on both databases, as the API's read model compares:
    /// SQLite's `lower` folds ASCII only, and on PostgreSQL the columns it is used on are
    /// `COLLATE "C"`, under which it does the same.
    fn lower<ST: diesel::sql_types::SingleValue>(text: ST) -> ST;
}

/// GPU listings.
pub mod gpu {
    use super::*;

    /// Sort orders for listing GPUs. Each is a total order (ties broken by id), so the
    /// keyset cursor of a page is exact.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Sort {
        /// Listing order (oldest first), as the original API returned them.
        Oldest,
        /// Cheapest first.
        Price,
        /// Most VRAM first; listings without a VRAM figure last.
        Vram,
        /// Newest first.
        Newest,
    }

    /// Where the previous page ended (the sort key of its last row).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum After {
        /// After `id` (ascending).
        Oldest(i64),
        /// After `(price, id)`.
        Price(i64, i64),
        /// After `(vram, id)`.
        Vram(Option<i32>, i64),
        /// After `id` (descending).
        Newest(i64),
    }

    /// A listing query.
    #[derive(Debug, Clone)]
    pub struct Query {
        /// Case-insensitive substring of the model name.
        pub model_contains: Option<String>,
        /// At least this much VRAM (GB).
        pub min_vram: Option<i32>,
        /// At most this price per minute.
        pub max_price: Option<i64>,
        /// Exactly this region (case-insensitive).
        pub region: Option<String>,
        /// Only this status; `None` for every status.
        pub status: Option<GpuStatus>,
        /// Only this owner.
        pub owner: Option<String>,
        /// Order of the results.
        pub sort: Sort,
        /// Continue after this position.
        pub after: Option<After>,
        /// Page size.
        pub limit: i64,
    }

    /// Inserts a listing and returns it.
    pub fn insert(conn: &mut DbConnection, new: &NewGpu) -> QueryResult<GpuRow> {
        diesel::insert_into(gpus::table)
            .values(new)
            .returning(<GpuRow as Selectable<MultiBackend>>::construct_selection())
            .get_result(conn)
    }

    /// The listing `id`, if it exists.
    pub fn find(conn: &mut DbConnection, id: GpuId) -> QueryResult<Option<GpuRow>> {
        gpus::table.find(id).select(GpuRow::as_select()).first(conn).optional()
    }

    /// Applies `changes` to listing `id`.
    pub fn update(conn: &mut DbConnection, id: GpuId, changes: &GpuChanges) -> QueryResult<GpuRow> {
        diesel::update(gpus::table.find(id))
            .set(changes)
            .returning(<GpuRow as Selectable<MultiBackend>>::construct_selection())
            .get_result(conn)
    }

    /// Moves listing `id` from status `from` to `to` if it is still in `from`;
    /// returns whether it moved (compare-and-set).
    pub fn set_status(
        conn: &mut DbConnection,
        id: GpuId,
        from: GpuStatus,
        to: GpuStatus,
        now: i64,
    ) -> QueryResult<bool> {
        let n = diesel::update(gpus::table.find(id).filter(gpus::status.eq(from)))
            .set((gpus::status.eq(to), gpus::updated_at.eq(now)))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Forgets GPU `id`'s on-chain listing (delisted on chain).
    pub fn clear_listing(conn: &mut DbConnection, id: GpuId, now: i64) -> QueryResult<()> {
        diesel::update(gpus::table.find(id))
            .set((
                gpus::listing_id.eq(None::<ChainId>),
                gpus::register_txid.eq(None::<String>),
                gpus::app_id.eq(None::<ChainId>),
                gpus::retirement_effective.eq(None::<i64>),
                gpus::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Takes GPU `id` out of its cluster.
    pub fn clear_cluster(conn: &mut DbConnection, id: GpuId, now: i64) -> QueryResult<()> {
        diesel::update(gpus::table.find(id))
            .set((gpus::cluster_id.eq(None::<ClusterId>), gpus::updated_at.eq(now)))
            .execute(conn)?;
        Ok(())
    }

    /// Puts GPU `id` in cluster `cluster_id`.
    pub fn set_cluster(
        conn: &mut DbConnection,
        id: GpuId,
        cluster_id: ClusterId,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(gpus::table.find(id))
            .set((gpus::cluster_id.eq(cluster_id), gpus::updated_at.eq(now)))
            .execute(conn)?;
        Ok(())
    }

    /// Ids of the GPUs in any cluster.
    pub fn clustered(conn: &mut DbConnection) -> QueryResult<Vec<GpuId>> {
        gpus::table.filter(gpus::cluster_id.is_not_null()).select(gpus::id).load(conn)
    }

    /// Ids of the GPUs in cluster `cluster_id`.
    pub fn in_cluster(conn: &mut DbConnection, cluster_id: ClusterId) -> QueryResult<Vec<GpuId>> {
        gpus::table
            .filter(gpus::cluster_id.eq(cluster_id))
            .order(gpus::id)
            .select(gpus::id)
            .load(conn)
    }

    /// Records a heartbeat of GPU `id`.
    pub fn heartbeat(conn: &mut DbConnection, id: GpuId, now: i64) -> QueryResult<()> {
        diesel::update(gpus::table.find(id))
            .set((gpus::last_heartbeat_at.eq(now), gpus::updated_at.eq(now)))
            .execute(conn)?;
        Ok(())
    }

    /// Ids of available GPUs whose last heartbeat is older than `before`.
    pub fn silent_since(conn: &mut DbConnection, before: i64) -> QueryResult<Vec<GpuId>> {
        gpus::table
            .filter(gpus::status.eq(GpuStatus::Available))
            .filter(gpus::last_heartbeat_at.lt(before))
            .select(gpus::id)
            .load(conn)
    }

    /// Records the on-chain listing id of GPU `id` and the transaction that created it.
    pub fn set_listing(
        conn: &mut DbConnection,
        id: GpuId,
        app: ChainId,
        listing_id: ChainId,
        txid: &str,
        chain_cluster_id: ChainId,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(gpus::table.find(id))
            .set((
                gpus::app_id.eq(app),
                gpus::listing_id.eq(listing_id),
                gpus::register_txid.eq(txid),
                gpus::listing_cluster_id.eq(chain_cluster_id),
                gpus::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Records the app GPU `id`'s listing is registered on (before its group is built, so
    /// that a retry or a restart goes to the same app).
    pub fn set_app(conn: &mut DbConnection, id: GpuId, app: ChainId) -> QueryResult<()> {
        diesel::update(gpus::table.find(id)).set(gpus::app_id.eq(app)).execute(conn)?;
        Ok(())
    }

    /// Records a cluster GPU's announced retirement (the chain time it takes effect).
    pub fn set_retirement(
        conn: &mut DbConnection,
        id: GpuId,
        effective: i64,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(gpus::table.find(id))
            .set((gpus::retirement_effective.eq(effective), gpus::updated_at.eq(now)))
            .execute(conn)?;
        Ok(())
    }

    /// Counts one finished rental in the listing's reliability figures.
    pub fn record_outcome(conn: &mut DbConnection, id: GpuId, completed: bool) -> QueryResult<()> {
        let target = gpus::table.find(id);
        if completed {
            diesel::update(target)
                .set(gpus::completed_rentals.eq(gpus::completed_rentals + 1))
                .execute(conn)?;
        } else {
            diesel::update(target)
                .set(gpus::failed_rentals.eq(gpus::failed_rentals + 1))
                .execute(conn)?;
        }
        Ok(())
    }

    fn like_pattern(text: &str) -> String {
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for ch in text.chars() {
            if matches!(ch, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('%');
        pattern
    }

    /// One page of listings matching `query`.
    pub fn list(conn: &mut DbConnection, query: &Query) -> QueryResult<Vec<GpuRow>> {
        let mut q = gpus::table.select(GpuRow::as_select()).into_boxed();
        // ASCII-case-insensitive matching, the same on both databases: both sides
        // lower-cased (see `lower`).
        if let Some(model) = &query.model_contains {
            let pattern = like_pattern(&model.to_ascii_lowercase());
            q = q.filter(lower(gpus::gpu_model).like(pattern).escape('\\'));
        }
        if let Some(min) = query.min_vram {
            q = q.filter(gpus::vram_gb.ge(min));
        }
        if let Some(max) = query.max_price {
            q = q.filter(gpus::price_per_minute.le(max));
        }
        if let Some(region) = &query.region {
            q = q.filter(lower(gpus::region).eq(region.to_ascii_lowercase()));
        }
        if let Some(status) = &query.status {
            q = q.filter(gpus::status.eq(*status));
        }
        if let Some(owner) = &query.owner {
            q = q.filter(gpus::owner_address.eq(owner.clone()));
        }
        q = match (query.sort, query.after) {
            (Sort::Oldest, after) => {
                if let Some(After::Oldest(id)) = after {
                    q = q.filter(gpus::id.gt(id));
                }
                q.order(gpus::id.asc())
            }
            (Sort::Price, after) => {
                if let Some(After::Price(price, id)) = after {
                    q = q.filter(
                        gpus::price_per_minute
                            .gt(price)
                            .or(gpus::price_per_minute.eq(price).and(gpus::id.gt(id))),
                    );
                }
                q.order((gpus::price_per_minute.asc(), gpus::id.asc()))
            }
            (Sort::Vram, after) => {
                match after {
                    Some(After::Vram(Some(vram), id)) => {
                        q = q.filter(
                            gpus::vram_gb
                                .lt(vram)
                                .or(gpus::vram_gb.eq(vram).and(gpus::id.gt(id)))
                                .or(gpus::vram_gb.is_null()),
                        );
                    }
                    Some(After::Vram(None, id)) => {
                        q = q.filter(gpus::vram_gb.is_null().and(gpus::id.gt(id)));
                    }
                    _ => {}
                }
                // Unknown VRAM last (the databases disagree on where NULL sorts).
                q.order((gpus::vram_gb.is_null().asc(), gpus::vram_gb.desc(), gpus::id.asc()))
            }
            (Sort::Newest, after) => {
                if let Some(After::Newest(id)) = after {
                    q = q.filter(gpus::id.lt(id));
                }
                q.order(gpus::id.desc())
            }
        };
        q.limit(query.limit).load(conn)
    }

    /// Listings changed since stamp `seq` of the listing change feed, with their stamps,
    /// oldest change first (every listing when `seq` is 0). See the migration
    /// `listing_feed`: stamps follow commit order, so one call sees every change
    /// committed before it.
    pub fn changed_since(conn: &mut DbConnection, seq: i64) -> QueryResult<Vec<(i64, GpuRow)>> {
        gpus::table
            .filter(gpus::change_seq.gt(seq))
            .order(gpus::change_seq.asc())
            .select((gpus::change_seq, GpuRow::as_select()))
            .load(conn)
    }

    /// Number of listings per status.
    pub fn count_by_status(conn: &mut DbConnection) -> QueryResult<Vec<(GpuStatus, i64)>> {
        gpus::table
            .group_by(gpus::status)
            .select((gpus::status, diesel::dsl::count_star()))
            .load(conn)
    }
}

/// Rentals.
pub mod rental {
    use super::*;

    /// A rentals query; newest first.
    #[derive(Debug, Clone, Default)]
    pub struct Query {
        /// Only this renter.
        pub renter: Option<String>,
        /// Only this provider.
        pub provider: Option<String>,
        /// Only this status.
        pub status: Option<RentalStatus>,
        /// Only ids below this one (the cursor).
        pub before_id: Option<RentalId>,
        /// Page size.
        pub limit: i64,
    }

    /// Inserts a rental and returns it.
    pub fn insert(conn: &mut DbConnection, new: &NewRental) -> QueryResult<RentalRow> {
        diesel::insert_into(rentals::table)
            .values(new)
            .returning(<RentalRow as Selectable<MultiBackend>>::construct_selection())
            .get_result(conn)
    }

    /// The rental `id`, if it exists.
    pub fn find(conn: &mut DbConnection, id: RentalId) -> QueryResult<Option<RentalRow>> {
        rentals::table.find(id).select(RentalRow::as_select()).first(conn).optional()
    }

    /// The statuses of rentals that still hold their GPU.
    fn live_statuses() -> Vec<RentalStatus> {
        RentalStatus::ALL.iter().copied().filter(|s| s.is_live()).collect()
    }

    /// The GPU's live (pending, active or settling) rental, if any.
    pub fn live_for_gpu(conn: &mut DbConnection, gpu_id: GpuId) -> QueryResult<Option<RentalRow>> {
        rentals::table
            .filter(rentals::gpu_id.eq(gpu_id))
            .filter(rentals::status.eq_any(live_statuses()))
            .select(RentalRow::as_select())
            .first(conn)
            .optional()
    }

    /// Active rentals with no stop requested (the keeper checks their deposits).
    pub fn running(conn: &mut DbConnection) -> QueryResult<Vec<RentalRow>> {
        rentals::table
            .filter(rentals::status.eq(RentalStatus::Active))
            .filter(rentals::stop_requested_at.is_null())
            .select(RentalRow::as_select())
            .load(conn)
    }

    /// Pending rentals with no stop requested, created before `before` (the keeper
    /// bounds how long a rent that sent nothing may hold its GPU).
    pub fn pending_since(conn: &mut DbConnection, before: i64) -> QueryResult<Vec<RentalRow>> {
        rentals::table
            .filter(rentals::status.eq(RentalStatus::Pending))
            .filter(rentals::stop_requested_at.is_null())
            .filter(rentals::created_at.lt(before))
            .select(RentalRow::as_select())
            .load(conn)
    }

    /// Records the app rental `id` lives on (before its deposit group is built).
    pub fn set_app(conn: &mut DbConnection, id: RentalId, app: ChainId) -> QueryResult<()> {
        diesel::update(rentals::table.find(id)).set(rentals::app_id.eq(app)).execute(conn)?;
        Ok(())
    }

    /// Saves every field of `row` (by id).
    pub fn save(conn: &mut DbConnection, row: &RentalRow) -> QueryResult<()> {
        diesel::update(rentals::table.find(row.id))
            .set((
                rentals::status.eq(row.status),
                rentals::stop_requested_at.eq(row.stop_requested_at),
                rentals::started_at.eq(row.started_at),
                rentals::ended_at.eq(row.ended_at),
                rentals::cost.eq(row.cost),
                rentals::fee.eq(row.fee),
                rentals::provider_amount.eq(row.provider_amount),
                rentals::refund.eq(row.refund),
                rentals::failure_reason.eq(&row.failure_reason),
                rentals::rent_txid.eq(&row.rent_txid),
                rentals::settle_txid.eq(&row.settle_txid),
                rentals::chain_rental_id.eq(row.chain_rental_id),
                rentals::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// One page of rentals matching `query`, newest first.
    pub fn list(conn: &mut DbConnection, query: &Query) -> QueryResult<Vec<RentalRow>> {
        let mut q = rentals::table.select(RentalRow::as_select()).into_boxed();
        if let Some(renter) = &query.renter {
            q = q.filter(rentals::renter_address.eq(renter.clone()));
        }
        if let Some(provider) = &query.provider {
            q = q.filter(rentals::provider_address.eq(provider.clone()));
        }
        if let Some(status) = &query.status {
            q = q.filter(rentals::status.eq(*status));
        }
        if let Some(before) = query.before_id {
            q = q.filter(rentals::id.lt(before));
        }
        q.order(rentals::id.desc()).limit(query.limit).load(conn)
    }

    /// Number of rentals per status.
    pub fn count_by_status(conn: &mut DbConnection) -> QueryResult<Vec<(RentalStatus, i64)>> {
        rentals::table
            .group_by(rentals::status)
            .select((rentals::status, diesel::dsl::count_star()))
            .load(conn)
    }
}

/// The durable jobs table.
pub mod job {
    use super::*;

    /// Inserts a job and returns it.
    pub fn insert(conn: &mut DbConnection, new: &NewJob) -> QueryResult<JobRow> {
        diesel::insert_into(jobs::table)
            .values(new)
            .returning(<JobRow as Selectable<MultiBackend>>::construct_selection())
            .get_result(conn)
    }

    /// The job `id`, if it exists.
    pub fn find(conn: &mut DbConnection, id: JobId) -> QueryResult<Option<JobRow>> {
        jobs::table.find(id).select(JobRow::as_select()).first(conn).optional()
    }

    /// The most recent job for a rental, if any.
    pub fn latest_for_rental(
        conn: &mut DbConnection,
        rental_id: RentalId,
    ) -> QueryResult<Option<JobRow>> {
        jobs::table
            .filter(jobs::rental_id.eq(rental_id))
            .order(jobs::id.desc())
            .select(JobRow::as_select())
            .first(conn)
            .optional()
    }

    /// A queued job as a claim sees it: id, kind, GPU, cluster, due time.
    type QueuedJob = (JobId, JobKind, Option<GpuId>, Option<ClusterId>, i64);

    /// Queued jobs looked at by one claim (the oldest); newer ones wait for a later claim.
    const CLAIM_WINDOW: i64 = 4096;

    /// What a job must not run concurrently with, and after: the chain state it changes
    /// (a listing's boxes, a cluster's shares). Algorand has no account nonces, so two
    /// groups from one account may be in flight at once; two on one listing may not.
    #[derive(Debug, Default)]
    struct Held {
        gpus: std::collections::HashSet<GpuId>,
        clusters: std::collections::HashSet<ClusterId>,
        /// A job that names neither (none does today) runs after every earlier such job.
        unkeyed: bool,
        /// Registrations and cluster creations name the box of the id they will get from
        /// the app's counter before they are sent (`n_listing + 1`, `n_cluster + 1`): two
        /// in flight would predict the same id, so one runs at a time. They need no order
        /// among themselves, so only a running (or just claimed) one holds the counter: a
        /// registration backing off does not hold up everyone else's.
        counter: bool,
    }

    /// Whether a job of `kind` takes a new id from the app's counter.
    fn allocates(kind: JobKind) -> bool {
        matches!(kind, JobKind::Register | JobKind::CreateCluster)
    }

    impl Held {
        fn holds(&self, kind: JobKind, gpu: Option<GpuId>, cluster: Option<ClusterId>) -> bool {
            gpu.is_some_and(|g| self.gpus.contains(&g))
                || cluster.is_some_and(|c| self.clusters.contains(&c))
                || (gpu.is_none() && cluster.is_none() && self.unkeyed)
                || (allocates(kind) && self.counter)
        }

        /// Later jobs on `gpu` / `cluster` wait for this one (queued or running).
        fn hold(&mut self, gpu: Option<GpuId>, cluster: Option<ClusterId>) {
            self.gpus.extend(gpu);
            self.clusters.extend(cluster);
            self.unkeyed |= gpu.is_none() && cluster.is_none();
        }

        /// A job of `kind` runs: it also holds the counter if it takes an id from it.
        fn run(&mut self, kind: JobKind, gpu: Option<GpuId>, cluster: Option<ClusterId>) {
            self.hold(gpu, cluster);
            self.counter |= allocates(kind);
        }
    }

    /// Who claims jobs, and until when the claim holds unless it is renewed
    /// ([`renew_leases`]).
    #[derive(Debug, Clone, Copy)]
    pub struct Lease<'a> {
        /// The claiming worker's identity (host, process, a random part).
        pub holder: &'a str,
        /// Unix seconds: after this a running job is claimable again.
        pub expires_at: i64,
    }

    /// Claims up to `max` due jobs (`run_after <= now`), oldest first, marking them
    /// running under `lease` and counting the attempt; call inside a write transaction.
    /// Jobs on one GPU (or one cluster) run one at a time and in the order they were
    /// queued: a job is skipped while an earlier one on the same GPU or cluster is running
    /// or still queued (due or not); registrations and cluster creations run one at a
    /// time (see `Held::counter`). A running job whose lease has expired — its worker
    /// died or lost the database — goes back to the queue first, and is claimed again
    /// in its turn (its journal makes the resumed run resend the same signed group).
    ///
    /// Several workers share the queue on PostgreSQL: run this in
    /// `Store::write_exclusive` (the runner does), so claims run one at a time across
    /// processes — no job is claimed twice and the per-GPU order holds across workers —
    /// and the claim's scan of the queue aborts no other writer. Each update is guarded by
    /// the state it read. (`FOR UPDATE SKIP LOCKED` would not keep the order: a worker
    /// skipping the queued job another is claiming could start a later job on the same
    /// GPU.)
    pub fn claim_due(
        conn: &mut DbConnection,
        now: i64,
        max: usize,
        lease: Lease<'_>,
    ) -> QueryResult<Vec<JobRow>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        diesel::update(
            jobs::table
                .filter(jobs::state.eq(JobState::Running))
                .filter(jobs::lease_expires_at.lt(now)),
        )
        .set((
            jobs::state.eq(JobState::Queued),
            jobs::claimed_by.eq(None::<String>),
            jobs::lease_expires_at.eq(None::<i64>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
        let mut held = Held::default();
        let running: Vec<(JobKind, Option<GpuId>, Option<ClusterId>)> = jobs::table
            .filter(jobs::state.eq(JobState::Running))
            .select((jobs::kind, jobs::gpu_id, jobs::cluster_id))
            .load(conn)?;
        for (kind, gpu, cluster) in running {
            held.run(kind, gpu, cluster);
        }
        let queued: Vec<QueuedJob> = jobs::table
            .filter(jobs::state.eq(JobState::Queued))
            .order(jobs::id.asc())
            .select((jobs::id, jobs::kind, jobs::gpu_id, jobs::cluster_id, jobs::run_after))
            .limit(CLAIM_WINDOW)
            .load(conn)?;
        let mut picked = Vec::new();
        for (id, kind, gpu, cluster, run_after) in queued {
            if picked.len() == max {
                break;
            }
            if !held.holds(kind, gpu, cluster) && run_after <= now {
                picked.push(id);
                held.run(kind, gpu, cluster);
            } else {
                held.hold(gpu, cluster);
            }
        }
        if picked.is_empty() {
            return Ok(Vec::new());
        }
        // Guarded by the state read: run under `Store::write_exclusive` on PostgreSQL, a
        // picked job may have been cancelled meanwhile.
        let mut claimed: Vec<JobRow> = diesel::update(
            jobs::table.filter(jobs::id.eq_any(&picked)).filter(jobs::state.eq(JobState::Queued)),
        )
        .set((
            jobs::state.eq(JobState::Running),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::claimed_by.eq(lease.holder),
            jobs::lease_expires_at.eq(lease.expires_at),
            jobs::updated_at.eq(now),
        ))
        .returning(<JobRow as Selectable<MultiBackend>>::construct_selection())
        .get_results(conn)?;
        claimed.sort_by_key(|j| j.id);
        Ok(claimed)
    }

    /// [`claim_due`] for one job.
    pub fn claim_next(
        conn: &mut DbConnection,
        now: i64,
        lease: Lease<'_>,
    ) -> QueryResult<Option<JobRow>> {
        Ok(claim_due(conn, now, 1, lease)?.pop())
    }

    /// Extends to `expires_at` the lease of every running job claimed under one of
    /// `holders` (the claims' tokens); returns how many it extended. A job whose lease
    /// already ran out and was claimed again is under another token, and left alone.
    pub fn renew_leases(
        conn: &mut DbConnection,
        holders: &[String],
        expires_at: i64,
    ) -> QueryResult<usize> {
        if holders.is_empty() {
            return Ok(0);
        }
        diesel::update(
            jobs::table
                .filter(jobs::state.eq(JobState::Running))
                .filter(jobs::claimed_by.eq_any(holders)),
        )
        .set(jobs::lease_expires_at.eq(expires_at))
        .execute(conn)
    }

    /// Whether `holder` still holds job `id` (it is running under `holder`'s lease),
    /// checked by writing the row unchanged: the row stays locked until the transaction
    /// ends, so no claim can take the job over before this transaction's other writes
    /// commit, and on PostgreSQL a takeover committed since the transaction began aborts
    /// it (a serialization failure, and the rerun sees the new holder). A worker checks
    /// it inside every write it makes for a claimed job, so a worker whose lease ran out
    /// (and whose job another worker took over) changes nothing.
    pub fn hold(conn: &mut DbConnection, id: JobId, holder: &str) -> QueryResult<bool> {
        let held = diesel::update(
            jobs::table
                .find(id)
                .filter(jobs::state.eq(JobState::Running))
                .filter(jobs::claimed_by.eq(holder)),
        )
        .set(jobs::updated_at.eq(jobs::updated_at))
        .execute(conn)?;
        Ok(held == 1)
    }

    /// Who holds running job `id`'s lease, and until when (`None`: not running).
    pub fn lease_of(conn: &mut DbConnection, id: JobId) -> QueryResult<Option<(String, i64)>> {
        let row: Option<(Option<String>, Option<i64>)> = jobs::table
            .find(id)
            .filter(jobs::state.eq(JobState::Running))
            .select((jobs::claimed_by, jobs::lease_expires_at))
            .first(conn)
            .optional()?;
        Ok(row.and_then(|(holder, until)| Some((holder?, until?))))
    }

    /// Sets a job's state and error; `run_after` reschedules it.
    pub fn set_state(
        conn: &mut DbConnection,
        id: JobId,
        state: JobState,
        last_error: Option<&str>,
        run_after: Option<i64>,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(jobs::table.find(id))
            .set((jobs::state.eq(state), jobs::last_error.eq(last_error), jobs::updated_at.eq(now)))
            .execute(conn)?;
        if let Some(at) = run_after {
            diesel::update(jobs::table.find(id)).set(jobs::run_after.eq(at)).execute(conn)?;
        }
        Ok(())
    }

    /// Stores (or, with `None`, clears) the signed group job `id` sends.
    pub fn set_journal(
        conn: &mut DbConnection,
        id: JobId,
        signed: Option<(&[u8], &str)>,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(jobs::table.find(id))
            .set((
                jobs::signed_group.eq(signed.map(|(bytes, _)| bytes)),
                jobs::signed_txid.eq(signed.map(|(_, txid)| txid)),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Parks running job `id` until a wallet signs `unsigned` (JSON).
    pub fn await_signature(
        conn: &mut DbConnection,
        id: JobId,
        unsigned: &str,
        reason: &str,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(jobs::table.find(id))
            .set((
                jobs::state.eq(JobState::AwaitingSignature),
                jobs::unsigned_group.eq(unsigned),
                jobs::last_error.eq(reason),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Journals the signed group of job `id` (which must await it) and queues the job;
    /// returns whether it was awaiting.
    pub fn accept_signature(
        conn: &mut DbConnection,
        id: JobId,
        signed: &[u8],
        txid: &str,
        now: i64,
    ) -> QueryResult<bool> {
        let awaiting = jobs::table.find(id).filter(jobs::state.eq(JobState::AwaitingSignature));
        let n = diesel::update(awaiting)
            .set((
                jobs::state.eq(JobState::Queued),
                jobs::signed_group.eq(signed),
                jobs::signed_txid.eq(txid),
                jobs::last_error.eq(None::<String>),
                jobs::run_after.eq(now),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Jobs awaiting a signature since before `before`.
    pub fn awaiting_since(conn: &mut DbConnection, before: i64) -> QueryResult<Vec<JobRow>> {
        jobs::table
            .filter(jobs::state.eq(JobState::AwaitingSignature))
            .filter(jobs::updated_at.lt(before))
            .select(JobRow::as_select())
            .load(conn)
    }

    /// Jobs of `kind` for GPU `gpu_id` not finished yet (queued, running or awaiting a
    /// signature), oldest first.
    pub fn unfinished_for_gpu(
        conn: &mut DbConnection,
        gpu_id: GpuId,
        kind: JobKind,
    ) -> QueryResult<Vec<JobRow>> {
        use JobState::{AwaitingSignature, Queued, Running};
        jobs::table
            .filter(jobs::gpu_id.eq(gpu_id))
            .filter(jobs::kind.eq(kind))
            .filter(jobs::state.eq_any([Queued, Running, AwaitingSignature]))
            .order(jobs::id.asc())
            .select(JobRow::as_select())
            .load(conn)
    }

    /// The most recent job of `kind` for GPU `gpu_id`, if any.
    pub fn latest_for_gpu(
        conn: &mut DbConnection,
        gpu_id: GpuId,
        kind: JobKind,
    ) -> QueryResult<Option<JobRow>> {
        jobs::table
            .filter(jobs::gpu_id.eq(gpu_id))
            .filter(jobs::kind.eq(kind))
            .order(jobs::id.desc())
            .select(JobRow::as_select())
            .first(conn)
            .optional()
    }

    /// Gives an attempt back: a job claimed but not finished (the process stopped
    /// mid-way) returns to the queue without counting that attempt.
    pub fn unclaim(conn: &mut DbConnection, id: JobId, now: i64) -> QueryResult<()> {
        diesel::update(jobs::table.find(id).filter(jobs::state.eq(JobState::Running)))
            .set((
                jobs::state.eq(JobState::Queued),
                jobs::attempts.eq(jobs::attempts - 1),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Returns every `running` job to the queue; called at start-up, when no job can
    /// really be running. Returns how many were requeued.
    pub fn requeue_interrupted(conn: &mut DbConnection, now: i64) -> QueryResult<usize> {
        diesel::update(jobs::table.filter(jobs::state.eq(JobState::Running)))
            .set((
                jobs::state.eq(JobState::Queued),
                jobs::run_after.eq(now),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)
    }

    /// Number of jobs per state.
    pub fn count_by_state(conn: &mut DbConnection) -> QueryResult<Vec<(JobState, i64)>> {
        jobs::table
            .group_by(jobs::state)
            .select((jobs::state, diesel::dsl::count_star()))
            .load(conn)
    }
}

/// API keys.
pub mod api_key {
    use super::*;

    /// Stores a key's hash.
    pub fn insert(conn: &mut DbConnection, new: &NewApiKey) -> QueryResult<ApiKeyRow> {
        diesel::insert_into(api_keys::table)
            .values(new)
            .returning(<ApiKeyRow as Selectable<MultiBackend>>::construct_selection())
            .get_result(conn)
    }

    /// The unrevoked key with this hash, if any.
    pub fn find_active(conn: &mut DbConnection, key_hash: &str) -> QueryResult<Option<ApiKeyRow>> {
        api_keys::table
            .filter(api_keys::key_hash.eq(key_hash))
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()
    }

    /// Revokes key `id`; returns whether a live key was revoked.
    pub fn revoke(conn: &mut DbConnection, id: i64, now: i64) -> QueryResult<bool> {
        let n = diesel::update(api_keys::table.find(id).filter(api_keys::revoked_at.is_null()))
            .set(api_keys::revoked_at.eq(now))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Every key (hashes only), oldest first.
    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ApiKeyRow>> {
        api_keys::table.order(api_keys::id.asc()).select(ApiKeyRow::as_select()).load(conn)
    }
}

/// Saved responses of idempotent requests.
pub mod idempotency {
    use super::*;

    /// The saved response for `(principal, key)`, if any.
    pub fn find(
        conn: &mut DbConnection,
        principal: &str,
        key: &str,
    ) -> QueryResult<Option<IdempotencyRow>> {
        idempotency_keys::table
            .find((principal, key))
            .select(IdempotencyRow::as_select())
            .first(conn)
            .optional()
    }

    /// Saves a response.
    pub fn insert(conn: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
        diesel::insert_into(idempotency_keys::table).values(row).execute(conn)?;
        Ok(())
    }
}

/// GPU clusters.
pub mod cluster {
    use super::*;
    use crate::models::{ClusterRow, NewCluster};
    use crate::schema::clusters;

    /// Inserts a cluster and returns it.
    pub fn insert(conn: &mut DbConnection, new: &NewCluster) -> QueryResult<ClusterRow> {
        diesel::insert_into(clusters::table)
            .values(new)
            .returning(<ClusterRow as Selectable<MultiBackend>>::construct_selection())
            .get_result(conn)
    }

    /// The cluster `id`, if it exists.
    pub fn find(conn: &mut DbConnection, id: ClusterId) -> QueryResult<Option<ClusterRow>> {
        clusters::table.find(id).select(ClusterRow::as_select()).first(conn).optional()
    }

    /// All clusters, oldest first.
    pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<ClusterRow>> {
        clusters::table.order(clusters::id).select(ClusterRow::as_select()).load(conn)
    }

    /// Records the app cluster `id` is created on (before its group is built).
    pub fn set_app(conn: &mut DbConnection, id: ClusterId, app: ChainId) -> QueryResult<()> {
        diesel::update(clusters::table.find(id)).set(clusters::app_id.eq(app)).execute(conn)?;
        Ok(())
    }

    /// The cluster whose on-chain id is `chain_cluster_id` on app `app`.
    pub fn by_chain_id(
        conn: &mut DbConnection,
        app: ChainId,
        chain_cluster_id: ChainId,
    ) -> QueryResult<Option<ClusterId>> {
        clusters::table
            .filter(clusters::app_id.eq(app))
            .filter(clusters::chain_cluster_id.eq(chain_cluster_id))
            .select(clusters::id)
            .first(conn)
            .optional()
    }

    /// Records the cluster's creation on chain.
    pub fn activate(
        conn: &mut DbConnection,
        id: ClusterId,
        chain_cluster_id: ChainId,
        asset_id: ChainId,
        txid: &str,
        now: i64,
    ) -> QueryResult<()> {
        diesel::update(clusters::table.find(id))
            .set((
                clusters::status.eq(ClusterStatus::Active),
                clusters::chain_cluster_id.eq(chain_cluster_id),
                clusters::asset_id.eq(asset_id),
                clusters::create_txid.eq(txid),
                clusters::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Records the chain's refusal of the cluster.
    pub fn fail(conn: &mut DbConnection, id: ClusterId, reason: &str, now: i64) -> QueryResult<()> {
        diesel::update(clusters::table.find(id))
            .set((
                clusters::status.eq(ClusterStatus::Failed),
                clusters::failure_reason.eq(reason),
                clusters::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Rows written before contract versions existed name no app: every one that reached
/// the chain (or journalled a group for it) lives on the deployment's first app. Run
/// at start-up with the manifest's oldest version; returns how many rows were adopted.
pub fn adopt_unversioned(conn: &mut DbConnection, first_app: ChainId) -> QueryResult<usize> {
    use crate::schema::clusters;
    let journalled_gpus = jobs::table
        .filter(jobs::signed_group.is_not_null())
        .filter(jobs::gpu_id.is_not_null())
        .select(jobs::gpu_id.assume_not_null());
    let gpus = diesel::update(
        gpus::table
            .filter(gpus::app_id.is_null())
            .filter(gpus::listing_id.is_not_null().or(gpus::id.eq_any(journalled_gpus))),
    )
    .set(gpus::app_id.eq(first_app))
    .execute(conn)?;
    let journalled_rentals = jobs::table
        .filter(jobs::signed_group.is_not_null())
        .filter(jobs::rental_id.is_not_null())
        .select(jobs::rental_id.assume_not_null());
    let rentals =
        diesel::update(rentals::table.filter(rentals::app_id.is_null()).filter(
            rentals::chain_rental_id.is_not_null().or(rentals::id.eq_any(journalled_rentals)),
        ))
        .set(rentals::app_id.eq(first_app))
        .execute(conn)?;
    let journalled_clusters = jobs::table
        .filter(jobs::signed_group.is_not_null())
        .filter(jobs::kind.eq(JobKind::CreateCluster))
        .filter(jobs::cluster_id.is_not_null())
        .select(jobs::cluster_id.assume_not_null());
    let clusters = diesel::update(clusters::table.filter(clusters::app_id.is_null()).filter(
        clusters::chain_cluster_id.is_not_null().or(clusters::id.eq_any(journalled_clusters)),
    ))
    .set(clusters::app_id.eq(first_app))
    .execute(conn)?;
    Ok(gpus + rentals + clusters)
}
