//! The listing read model: every listing held in memory, in the orders `GET /gpus`
//! sorts by, each with its JSON rendered once per change. A page is the rendered pieces
//! of the listings that match, joined — no query, no serialisation per request.
//!
//! The model follows the database's listing change feed
//! ([`bitfox_store::repo::gpu::changed_since`]: every insert or update of a listing is
//! stamped with the next value of one counter, in commit order). It catches up
//!
//! * after every write committed through this process's [`Store::write`], on the writer
//!   connection, before the write returns ([`Store::on_commit`]) — so a request sees
//!   every write answered before it;
//! * every `http.listing_poll_ms` from a reader connection ([`Listings::follow`]) — so
//!   a write made by another process on the same database (a worker, another API
//!   process, the CLI) is seen within one poll interval.
//!
//! Each entry keeps the stamp it was read at and is replaced only by a newer one, so the
//! two paths may race and apply in either order. Filters and orders mean exactly what
//! [`bitfox_store::repo::gpu::list`]'s SQL means (ASCII case-insensitive `LIKE`, unknown
//! VRAM last, ties by id); the property test below holds them equal.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use actix_web::web::Bytes;
use bitfox_domain::GpuStatus;
use bitfox_store::DbConnection;
use bitfox_store::Store;
use bitfox_store::models::GpuRow;
use bitfox_store::repo::gpu::{self, After, Query, Sort};
use tokio_util::sync::CancellationToken;

use crate::types::Gpu;

/// One page of listings, assembled from rendered pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The JSON array.
    pub body: Bytes,
    /// The sort key of the last listing on the page, when more follow.
    pub next: Option<Position>,
}

/// Where a listing sits in every order: what a cursor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Listing id.
    pub id: i64,
    /// Price per minute.
    pub price: i64,
    /// VRAM in GB, if known.
    pub vram: Option<i32>,
}

/// A listing as the filters and sorts need it, with its JSON.
#[derive(Debug)]
struct Entry {
    /// The feed stamp it was read at.
    seq: i64,
    at: Position,
    status: GpuStatus,
    /// The model name, ASCII-lowercased (as SQLite's `LIKE` compares).
    model: Box<str>,
    region: Option<Box<str>>,
    owner: Box<str>,
    json: Bytes,
}

impl Entry {
    fn new(seq: i64, row: GpuRow) -> Result<Self, serde_json::Error> {
        let at = Position {
            id: row.id.get(),
            price: i64::try_from(row.price_per_minute.get()).unwrap_or(i64::MAX),
            vram: row.vram_gb,
        };
        let status = row.status;
        let model = row.gpu_model.to_ascii_lowercase().into();
        let region = row.region.clone().map(Into::into);
        let owner = row.owner_address.clone().into();
        let json = serde_json::to_vec(&Gpu::from(row))?.into();
        Ok(Self { seq, at, status, model, region, owner, json })
    }

    fn price_key(&self) -> (i64, i64) {
        (self.at.price, self.at.id)
    }

    fn vram_key(&self) -> (i64, i64) {
        vram_key(self.at.vram, self.at.id)
    }

    /// Whether the listing passes `query`'s filters (`model` is already lowercased).
    fn matches(&self, query: &Query, model: Option<&str>) -> bool {
        model.is_none_or(|m| self.model.contains(m))
            && query.min_vram.is_none_or(|min| self.at.vram.is_some_and(|v| v >= min))
            && query.max_price.is_none_or(|max| self.at.price <= max)
            && query.region.as_deref().is_none_or(|r| {
                self.region.as_deref().is_some_and(|mine| mine.eq_ignore_ascii_case(r))
            })
            && query.status.is_none_or(|s| self.status == s)
            && query.owner.as_deref().is_none_or(|o| *self.owner == *o)
    }
}

/// Most VRAM first, unknown VRAM last, then by id: ascending on this key.
fn vram_key(vram: Option<i32>, id: i64) -> (i64, i64) {
    (vram.map_or(i64::MAX, |v| -i64::from(v)), id)
}

#[derive(Debug, Default)]
struct Model {
    /// Every change up to this stamp is applied.
    seq: i64,
    by_id: BTreeMap<i64, Arc<Entry>>,
    by_price: BTreeMap<(i64, i64), Arc<Entry>>,
    by_vram: BTreeMap<(i64, i64), Arc<Entry>>,
}

impl Model {
    fn apply(&mut self, entry: Entry) {
        let id = entry.at.id;
        if let Some(old) = self.by_id.get(&id) {
            if old.seq >= entry.seq {
                return;
            }
            let (price, vram) = (old.price_key(), old.vram_key());
            self.by_price.remove(&price);
            self.by_vram.remove(&vram);
        }
        let entry = Arc::new(entry);
        self.by_price.insert(entry.price_key(), entry.clone());
        self.by_vram.insert(entry.vram_key(), entry.clone());
        self.by_id.insert(id, entry);
    }

    fn page(&self, query: &Query) -> Page {
        let model = query.model_contains.as_deref().map(str::to_ascii_lowercase);
        let limit = usize::try_from(query.limit).unwrap_or(0);
        let mut rows: Box<dyn Iterator<Item = &Arc<Entry>>> = match (query.sort, query.after) {
            (Sort::Oldest, Some(After::Oldest(id))) => {
                Box::new(self.by_id.range((Bound::Excluded(id), Bound::Unbounded)).map(|e| e.1))
            }
            (Sort::Oldest, _) => Box::new(self.by_id.values()),
            (Sort::Newest, Some(After::Newest(id))) => {
                Box::new(self.by_id.range(..id).rev().map(|e| e.1))
            }
            (Sort::Newest, _) => Box::new(self.by_id.values().rev()),
            (Sort::Price, Some(After::Price(price, id))) => Box::new(
                self.by_price.range((Bound::Excluded((price, id)), Bound::Unbounded)).map(|e| e.1),
            ),
            (Sort::Price, _) => Box::new(self.by_price.values()),
            (Sort::Vram, Some(After::Vram(vram, id))) => Box::new(
                self.by_vram
                    .range((Bound::Excluded(vram_key(vram, id)), Bound::Unbounded))
                    .map(|e| e.1),
            ),
            (Sort::Vram, _) => Box::new(self.by_vram.values()),
        };
        let mut picked: Vec<&Arc<Entry>> = Vec::with_capacity(limit.min(256));
        let mut more = false;
        for entry in rows.by_ref().filter(|e| e.matches(query, model.as_deref())) {
            if picked.len() == limit {
                more = true;
                break;
            }
            picked.push(entry);
        }
        let size = picked.iter().map(|e| e.json.len() + 1).sum::<usize>() + 2;
        let mut body = Vec::with_capacity(size);
        body.push(b'[');
        for (i, entry) in picked.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&entry.json);
        }
        body.push(b']');
        let next = picked.last().filter(|_| more).map(|e| e.at);
        Page { body: body.into(), next }
    }
}

/// Every listing, in memory, following the database.
#[derive(Debug, Default)]
pub struct Listings {
    model: RwLock<Model>,
}

impl Listings {
    /// Loads every listing from `store` and keeps the model current with every write
    /// committed through it (see the module documentation; [`Listings::follow`] covers
    /// other processes).
    pub fn load(store: &Store) -> anyhow::Result<Arc<Self>> {
        let listings = Arc::new(Self::default());
        let mut conn = store.conn()?;
        listings.sync(&mut conn)?;
        let hooked = listings.clone();
        store.on_commit(Arc::new(move |conn| {
            if let Err(e) = hooked.sync(conn) {
                // The next poll catches up.
                tracing::warn!(error = %e, "listing read model: catching up after a write failed");
            }
        }));
        Ok(listings)
    }

    /// Applies every change to listings committed since the model's last one; returns how
    /// many listings changed.
    pub fn sync(&self, conn: &mut DbConnection) -> anyhow::Result<usize> {
        let seq = self.read().seq;
        let rows = gpu::changed_since(conn, seq)?;
        let Some(&(last, _)) = rows.last() else { return Ok(0) };
        let count = rows.len();
        // Rendered outside the lock: readers are never held up by serialisation.
        let entries = rows
            .into_iter()
            .map(|(seq, row)| Entry::new(seq, row))
            .collect::<Result<Vec<_>, _>>()?;
        let mut model = self.model.write().unwrap_or_else(PoisonError::into_inner);
        for entry in entries {
            model.apply(entry);
        }
        model.seq = model.seq.max(last);
        Ok(count)
    }

    /// Catches up from `store` every `period` until `cancel` fires: how writes made by
    /// other processes on the same database reach this one.
    pub async fn follow(
        self: Arc<Self>,
        store: Store,
        period: Duration,
        cancel: CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(period.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let (listings, store) = (self.clone(), store.clone());
            let synced = tokio::task::spawn_blocking(move || {
                let mut conn = store.conn()?;
                listings.sync(&mut conn)
            })
            .await;
            match synced {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::debug!(listings = n, "listing read model caught up"),
                Ok(Err(e)) => tracing::warn!(error = %e, "listing read model: catching up failed"),
                Err(e) => tracing::warn!(error = %e, "listing read model: catching up failed"),
            }
        }
    }

    /// The page `query` asks for: `query.limit` listings at most, and where the next page
    /// starts if there is one.
    pub fn page(&self, query: &Query) -> Page {
        self.read().page(query)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Model> {
        self.model.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use bitfox_domain::billing::PricePerMinute;
    use bitfox_domain::{ChainId, GpuId};
    use bitfox_store::StoreError;
    use bitfox_store::models::{GpuChanges, NewGpu};
    use bitfox_store::testing::TestDatabase;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const OWNERS: [&str; 2] = [
        "GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY5HFKQ",
    ];
    const MODELS: [&str; 5] = ["RTX 4090", "rtx 3090", "A100 80GB", "H100_sxm", "L4 50%"];
    const REGIONS: [&str; 3] = ["eu-west", "EU-West", "us-east"];
    const STATUSES: [GpuStatus; 5] = [
        GpuStatus::Available,
        GpuStatus::Renting,
        GpuStatus::Rented,
        GpuStatus::Offline,
        GpuStatus::Delisted,
    ];

    /// A fresh database: SQLite, or PostgreSQL when `BITFOX_TEST_POSTGRES` is set.
    fn store() -> (TestDatabase, Store) {
        let db = TestDatabase::new();
        let store = db.migrated(4);
        (db, store)
    }

    fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> T {
        items[rng.random_range(0..items.len())].clone()
    }

    /// Prices and VRAM from small sets, so that ties (broken by id) are common.
    fn price(rng: &mut StdRng) -> PricePerMinute {
        PricePerMinute::new(pick(rng, &[100, 250, 250, 4000, 9_999_999_999])).unwrap()
    }

    fn vram(rng: &mut StdRng) -> Option<i32> {
        pick(rng, &[None, Some(16), Some(24), Some(24), Some(80)])
    }

    fn region(rng: &mut StdRng) -> Option<String> {
        rng.random_bool(0.8).then(|| pick(rng, &REGIONS).to_owned())
    }

    /// One random write, through whichever repository call a real path would use.
    fn write(conn: &mut DbConnection, rng: &mut StdRng, ids: &[GpuId]) -> QueryResultGpu {
        let now = rng.random_range(1..1_000_000);
        if ids.is_empty() || rng.random_bool(0.3) {
            let new = NewGpu {
                owner_address: pick(rng, &OWNERS).to_owned(),
                gpu_model: pick(rng, &MODELS).to_owned(),
                vram_gb: vram(rng),
                gpu_count: 1,
                region: region(rng),
                price_per_minute: price(rng),
                status: GpuStatus::Available,
                created_at: now,
                updated_at: now,
            };
            return gpu::insert(conn, &new).map(|row| Some(row.id));
        }
        let id = pick(rng, ids);
        match rng.random_range(0..6) {
            0 => {
                let changes = GpuChanges {
                    gpu_model: rng.random_bool(0.5).then(|| pick(rng, &MODELS).to_owned()),
                    vram_gb: rng.random_bool(0.5).then(|| vram(rng)),
                    gpu_count: None,
                    region: rng.random_bool(0.5).then(|| region(rng)),
                    price_per_minute: rng.random_bool(0.7).then(|| price(rng)),
                    updated_at: now,
                };
                gpu::update(conn, id, &changes).map(|_| None)
            }
            1 | 2 => {
                let (from, to) = (pick(rng, &STATUSES), pick(rng, &STATUSES));
                gpu::set_status(conn, id, from, to, now).map(|_| None)
            }
            3 => gpu::record_outcome(conn, id, rng.random_bool(0.5)).map(|_| None),
            4 => gpu::heartbeat(conn, id, now).map(|_| None),
            _ => {
                // Listing ids are unique per app: the GPU's own id stands in for one.
                let listing = ChainId(u64::try_from(id.get()).unwrap());
                let app = ChainId(1001);
                gpu::set_listing(conn, id, app, listing, "TXID", app, now).map(|_| None)
            }
        }
    }

    type QueryResultGpu = bitfox_store::diesel::QueryResult<Option<GpuId>>;

    /// Every listing, oldest first.
    fn everything() -> Query {
        Query {
            model_contains: None,
            min_vram: None,
            max_price: None,
            region: None,
            status: None,
            owner: None,
            sort: Sort::Oldest,
            after: None,
            limit: i64::MAX,
        }
    }

    fn random_query(rng: &mut StdRng) -> Query {
        let sort = pick(rng, &[Sort::Oldest, Sort::Newest, Sort::Price, Sort::Vram]);
        Query {
            model_contains: rng
                .random_bool(0.4)
                .then(|| pick(rng, &["rtx", "RTX", "0", "%", "_", "a100 80", "é"]).to_owned()),
            min_vram: rng.random_bool(0.3).then(|| pick(rng, &[0, 20, 24, 81])),
            max_price: rng.random_bool(0.3).then(|| pick(rng, &[99, 250, 5000, i64::MAX])),
            region: rng
                .random_bool(0.3)
                .then(|| pick(rng, &["eu-west", "US-EAST", "x"]).to_owned()),
            status: pick(rng, &[None, Some(GpuStatus::Available), Some(GpuStatus::Rented)]),
            owner: rng.random_bool(0.2).then(|| pick(rng, &OWNERS).to_owned()),
            sort,
            after: None,
            limit: pick(rng, &[1, 3, 7, 50, 200]),
        }
    }

    /// What the SQL query returns for `query`, rendered as the model renders it.
    fn sql_page(conn: &mut DbConnection, query: &Query) -> Page {
        let mut q = query.clone();
        q.limit += 1;
        let mut rows = gpu::list(conn, &q).unwrap();
        let more = rows.len() as i64 > query.limit;
        rows.truncate(usize::try_from(query.limit).unwrap());
        let next = rows.last().filter(|_| more).map(|r| Position {
            id: r.id.get(),
            price: i64::try_from(r.price_per_minute.get()).unwrap(),
            vram: r.vram_gb,
        });
        let gpus: Vec<Gpu> = rows.into_iter().map(Gpu::from).collect();
        Page { body: serde_json::to_vec(&gpus).unwrap().into(), next }
    }

    fn after(sort: Sort, at: Position) -> After {
        match sort {
            Sort::Oldest => After::Oldest(at.id),
            Sort::Newest => After::Newest(at.id),
            Sort::Price => After::Price(at.price, at.id),
            Sort::Vram => After::Vram(at.vram, at.id),
        }
    }

    /// Every page of `query`, followed by its cursors to the end, equals SQL's.
    fn assert_pages_equal(listings: &Listings, conn: &mut DbConnection, mut query: Query) {
        for _ in 0..1000 {
            let (mine, truth) = (listings.page(&query), sql_page(conn, &query));
            assert_eq!(
                mine,
                truth,
                "{query:?}\nmodel: {}\nsql:   {}",
                String::from_utf8_lossy(&mine.body),
                String::from_utf8_lossy(&truth.body)
            );
            let Some(at) = mine.next else { return };
            query.after = Some(after(query.sort, at));
        }
        panic!("pages never ended");
    }

    /// After any interleaving of writes from several writers, every page (followed to
    /// its end) equals what the SQL query returns — in this process, kept current by the
    /// commit hook, and in another process on the same file, kept current by polling.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_page_equals_the_sql_truth_after_concurrent_writes() {
        for seed in 0..12u64 {
            let (db, store) = store();
            let listings = Listings::load(&store).unwrap();
            // Another process: its own connections, no hook on this one's writes.
            let other_store = db.store(2);
            let other = Arc::new(Listings::default());
            let cancel = CancellationToken::new();
            let follower = tokio::spawn(other.clone().follow(
                other_store,
                Duration::from_millis(15),
                cancel.clone(),
            ));
            let ids = Arc::new(std::sync::Mutex::new(Vec::<GpuId>::new()));
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let (store, ids) = (store.clone(), ids.clone());
                    let listings = listings.clone();
                    tokio::spawn(async move {
                        let mut rng = StdRng::seed_from_u64(seed * 100 + w);
                        for _ in 0..60 {
                            let known = ids.lock().unwrap().clone();
                            let mut step = StdRng::seed_from_u64(rng.random());
                            let inserted = store
                                .write(move |c| {
                                    write(c, &mut step, &known).map_err(StoreError::from)
                                })
                                .await
                                .unwrap();
                            if let Some(id) = inserted {
                                ids.lock().unwrap().push(id);
                                // Read your writes: in the model before the write returned.
                                let query = Query {
                                    after: Some(After::Oldest(id.get() - 1)),
                                    limit: 1,
                                    ..everything()
                                };
                                let page = listings.page(&query);
                                assert!(
                                    String::from_utf8_lossy(&page.body)
                                        .contains(&format!("\"id\":{},", id.get())),
                                    "listing {id} missing right after its insert"
                                );
                            }
                            if rng.random_bool(0.2) {
                                tokio::task::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            for writer in writers {
                writer.await.unwrap();
            }
            // The follower sees every change within a few poll intervals.
            let mut conn = store.conn().unwrap();
            let total = gpu::list(&mut conn, &everything()).unwrap().len();
            assert!(total > 0);
            let mut rng = StdRng::seed_from_u64(seed);
            for _ in 0..200 {
                if other.read().seq == listings.read().seq {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(listings.read().by_id.len(), total);
            assert_eq!(other.read().by_id.len(), total);
            for _ in 0..60 {
                let query = random_query(&mut rng);
                assert_pages_equal(&listings, &mut conn, query.clone());
                assert_pages_equal(&other, &mut conn, query);
            }
            cancel.cancel();
            follower.await.unwrap();
        }
    }

    #[test]
    fn a_change_read_late_never_replaces_a_newer_one() {
        let (_db, store) = store();
        let mut conn = store.conn().unwrap();
        let new = NewGpu {
            owner_address: OWNERS[0].to_owned(),
            gpu_model: "RTX 4090".to_owned(),
            vram_gb: Some(24),
            gpu_count: 1,
            region: None,
            price_per_minute: PricePerMinute::new(100).unwrap(),
            status: GpuStatus::Available,
            created_at: 1,
            updated_at: 1,
        };
        let id = gpu::insert(&mut conn, &new).unwrap().id;
        let stale = gpu::changed_since(&mut conn, 0).unwrap();
        let changes = GpuChanges {
            price_per_minute: Some(PricePerMinute::new(900).unwrap()),
            ..GpuChanges::default()
        };
        gpu::update(&mut conn, id, &changes).unwrap();
        let listings = Listings::default();
        listings.sync(&mut conn).unwrap();
        // A slower catch-up that read before the price change applies after it.
        let mut model = listings.model.write().unwrap();
        for (seq, row) in stale {
            model.apply(Entry::new(seq, row).unwrap());
        }
        assert_eq!(model.by_price.keys().collect::<Vec<_>>(), vec![&(900, id.get())]);
        assert_eq!(model.by_vram.len(), 1);
    }
}
