//! Store tests on a fresh database each: a temporary SQLite file, or a new PostgreSQL
//! database when `BITFOX_TEST_POSTGRES` names a server (`scripts/test` runs this suite
//! both ways; see `bitfox_store::testing`).

use bitfox_domain::billing::{MaxMinutes, PricePerMinute};
use bitfox_domain::{GpuId, GpuStatus, JobKind, JobState, MicroAlgos, RentalStatus};
use bitfox_store::diesel::prelude::*;
use bitfox_store::diesel::sql_query;
use bitfox_store::diesel::sql_types::{BigInt, Text};
use bitfox_store::models::{NewGpu, NewJob, NewRental};
use bitfox_store::repo::{gpu, job, rental};
use bitfox_store::testing::TestDatabase;
use bitfox_store::{DbConnection, Store, StoreError};

const A: &str = "GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A";
/// A lease that outlives every test's clock.
const LEASE: job::Lease<'static> = job::Lease { holder: "test", expires_at: i64::MAX };
const B: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY5HFKQ";

fn fresh() -> (TestDatabase, Store) {
    let db = TestDatabase::new();
    let store = db.migrated(4);
    (db, store)
}

#[derive(QueryableByName, Debug)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName, Debug)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName, Debug)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The schema objects the migrations made (tables, indexes, triggers, sequences,
/// functions), by name.
fn objects(store: &Store) -> Vec<String> {
    let mut conn = store.conn().unwrap();
    let query = match &*conn {
        DbConnection::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '__diesel%' ORDER BY name"
        }
        DbConnection::Pg(_) => {
            "SELECT name FROM ( \
                 SELECT c.relname::text AS name FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S') \
                 UNION ALL SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal \
                 UNION ALL SELECT p.proname::text FROM pg_proc p \
                 JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' \
             ) o WHERE name NOT LIKE '__diesel%' ORDER BY name COLLATE \"C\""
        }
    };
    sql_query(query).load::<Name>(&mut conn).unwrap().into_iter().map(|n| n.name).collect()
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
}

/// Every column of every table, with its type (normalised across the two databases) and
/// whether it may be NULL.
fn columns(store: &Store) -> Vec<Column> {
    let mut conn = store.conn().unwrap();
    let query = match &*conn {
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, \
                 CASE upper(p.type) WHEN 'INTEGER' THEN CASE WHEN p.pk > 0 AND m.name NOT IN \
                 ('listing_clock') THEN 'BIGINT' ELSE 'INTEGER' END \
                 WHEN 'BLOB' THEN 'BINARY' ELSE upper(p.type) END AS column_type, \
                 (p.\"notnull\" OR p.pk > 0) AS not_null \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name NOT LIKE '__diesel%'"
        }
        DbConnection::Pg(_) => {
            "SELECT table_name::text, column_name::text, \
                 CASE data_type WHEN 'bigint' THEN 'BIGINT' WHEN 'integer' THEN 'INTEGER' \
                 WHEN 'text' THEN 'TEXT' WHEN 'bytea' THEN 'BINARY' \
                 WHEN 'boolean' THEN 'BOOLEAN' ELSE data_type END AS column_type, \
                 CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END::bigint AS not_null \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name NOT LIKE '__diesel%'"
        }
    };
    let mut out = sql_query(query).load::<Column>(&mut conn).unwrap();
    out.sort();
    out
}

fn new_gpu(owner: &str, price: u64) -> NewGpu {
    NewGpu {
        owner_address: owner.to_owned(),
        gpu_model: "RTX 4090".to_owned(),
        vram_gb: Some(24),
        gpu_count: 1,
        region: None,
        price_per_minute: PricePerMinute::new(price).unwrap(),
        status: GpuStatus::Available,
        created_at: 1,
        updated_at: 1,
    }
}

fn new_rental(gpu_id: GpuId) -> NewRental {
    NewRental {
        gpu_id,
        renter_address: B.to_owned(),
        provider_address: A.to_owned(),
        price_per_minute: PricePerMinute::new(1000).unwrap(),
        max_minutes: MaxMinutes::new(60).unwrap(),
        deposit: MicroAlgos(60_000),
        status: RentalStatus::Pending,
        created_at: 1,
        updated_at: 1,
    }
}

#[test]
fn connections_use_wal_busy_timeout_and_foreign_keys() {
    let (db, store) = fresh();
    let mut conn = store.conn().unwrap();
    if db.is_postgres() {
        // PostgreSQL always checks foreign keys.
        assert!(rental::insert(&mut conn, &new_rental(GpuId(999))).is_err());
        return;
    }
    let mode: Vec<Value> =
        sql_query("SELECT journal_mode AS value FROM pragma_journal_mode").load(&mut conn).unwrap();
    assert_eq!(mode[0].value, "wal");
    let fk: Vec<Number> =
        sql_query("SELECT foreign_keys AS n FROM pragma_foreign_keys").load(&mut conn).unwrap();
    assert_eq!(fk[0].n, 1);
    let timeout: Vec<Number> =
        sql_query("SELECT timeout AS n FROM pragma_busy_timeout").load(&mut conn).unwrap();
    assert!(timeout[0].n >= 1000, "{}", timeout[0].n);
    // A rental for a GPU that does not exist violates the foreign key.
    assert!(rental::insert(&mut conn, &new_rental(GpuId(999))).is_err());
}

#[test]
fn down_migrations_undo_up_migrations() {
    let (db, store) = fresh();
    let tables = objects(&store);
    let (feed, migrations): (&[&str], usize) = if db.is_postgres() {
        (
            &[
                "listing_seq",
                "gpus_feed",
                "gpus_feed_stamp",
                "jobs_lease",
                "jobs_wake",
                "write_lock",
            ],
            4,
        )
    } else {
        (&["listing_clock", "gpus_feed_update"], 9)
    };
    for expected in
        ["api_keys", "gpus", "idempotency_keys", "jobs", "rentals", "rentals_one_live_per_gpu"]
            .iter()
            .chain(feed)
    {
        assert!(tables.contains(&(*expected).to_owned()), "{expected}: {tables:?}");
    }
    store.revert_all().unwrap();
    assert_eq!(objects(&store), Vec::<String>::new());
    // And up again from scratch.
    assert_eq!(store.migrate().unwrap().len(), migrations);
    assert_eq!(objects(&store), tables);
}

#[test]
fn both_databases_migrate_to_the_same_tables_and_columns() {
    let (db, store) = fresh();
    if !db.is_postgres() {
        // Compared in the PostgreSQL run, against a SQLite file made here.
        return;
    }
    let sqlite = TestDatabase::sqlite();
    let mut sqlite_columns = columns(&sqlite.migrated(1));
    // SQLite's feed keeps its counter in a table; PostgreSQL's in a sequence. PostgreSQL
    // has a table only to be locked by writers (SQLite has one writer at a time anyway).
    sqlite_columns.retain(|c| c.table_name != "listing_clock");
    let mut pg_columns = columns(&store);
    pg_columns.retain(|c| c.table_name != "write_lock");
    assert_eq!(pg_columns, sqlite_columns);
}

#[test]
fn the_database_allows_one_live_rental_per_gpu() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let g = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap();
    let first = rental::insert(&mut conn, &new_rental(g.id)).unwrap();
    assert!(rental::insert(&mut conn, &new_rental(g.id)).is_err());
    let mut done = first.clone();
    done.status = RentalStatus::Settled;
    rental::save(&mut conn, &done).unwrap();
    assert!(rental::insert(&mut conn, &new_rental(g.id)).is_ok());
}

#[test]
fn status_compare_and_set_moves_only_from_the_expected_status() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let g = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap();
    let (available, renting) = (GpuStatus::Available, GpuStatus::Renting);
    assert!(gpu::set_status(&mut conn, g.id, available, renting, 2).unwrap());
    assert!(!gpu::set_status(&mut conn, g.id, available, renting, 3).unwrap());
    assert_eq!(gpu::find(&mut conn, g.id).unwrap().unwrap().status, renting);
}

#[test]
fn jobs_are_claimed_once_in_order_and_requeued_after_a_crash() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let g = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap();
    let r = rental::insert(&mut conn, &new_rental(g.id)).unwrap();
    let job_at = |run_after| NewJob {
        kind: JobKind::Rent,
        rental_id: Some(r.id),
        gpu_id: Some(g.id),
        cluster_id: None,
        payload: None,
        state: JobState::Queued,
        run_after,
        created_at: 1,
        updated_at: 1,
    };
    let first = job::insert(&mut conn, &job_at(10)).unwrap();
    let later = job::insert(&mut conn, &job_at(100)).unwrap();
    assert_eq!(job::claim_next(&mut conn, 5, LEASE).unwrap(), None, "nothing due yet");
    let claimed = job::claim_next(&mut conn, 50, LEASE).unwrap().unwrap();
    assert_eq!((claimed.id, claimed.state, claimed.attempts), (first.id, JobState::Running, 1));
    assert_eq!(job::claim_next(&mut conn, 50, LEASE).unwrap(), None, "the later job is not due");
    // The process dies; at the next start the running job goes back to the queue.
    assert_eq!(job::requeue_interrupted(&mut conn, 60).unwrap(), 1);
    assert_eq!(job::claim_next(&mut conn, 60, LEASE).unwrap().unwrap().id, first.id);
    assert_eq!(job::claim_next(&mut conn, 100, LEASE).unwrap(), None, "one job at a time per GPU");
    job::set_state(&mut conn, first.id, JobState::Succeeded, None, None, 100).unwrap();
    assert_eq!(job::claim_next(&mut conn, 100, LEASE).unwrap().unwrap().id, later.id);
}

#[test]
fn jobs_on_different_gpus_and_clusters_run_together_and_in_order_on_each() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let g1 = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap().id;
    let g2 = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap().id;
    let queue = |conn: &mut DbConnection, gpu_id, cluster_id, run_after| {
        let new = NewJob {
            kind: JobKind::UpdatePrice,
            rental_id: None,
            gpu_id,
            cluster_id,
            payload: None,
            state: JobState::Queued,
            run_after,
            created_at: 1,
            updated_at: 1,
        };
        job::insert(conn, &new).unwrap().id
    };
    // g1: a job backing off (due at 50), then one due now; g2: two due now.
    let g1_backing_off = queue(&mut conn, Some(g1), None, 50);
    let g1_next = queue(&mut conn, Some(g1), None, 0);
    let g2_first = queue(&mut conn, Some(g2), None, 0);
    let g2_second = queue(&mut conn, Some(g2), None, 0);
    let ids = |jobs: Vec<bitfox_store::models::JobRow>| {
        jobs.into_iter().map(|j| j.id).collect::<Vec<_>>()
    };
    // Only g2's first: g1's next waits behind its GPU's earlier job, g2's second behind
    // g2's first.
    assert_eq!(ids(job::claim_due(&mut conn, 10, 8, LEASE).unwrap()), vec![g2_first]);
    assert!(job::claim_due(&mut conn, 10, 8, LEASE).unwrap().is_empty(), "g2 is busy, g1 waits");
    assert_eq!(ids(job::claim_due(&mut conn, 50, 8, LEASE).unwrap()), vec![g1_backing_off]);
    job::set_state(&mut conn, g2_first, JobState::Succeeded, None, None, 50).unwrap();
    job::set_state(&mut conn, g1_backing_off, JobState::Failed, None, None, 50).unwrap();
    // Both GPUs free again: one job each, in a single claim; `max` bounds it.
    assert_eq!(ids(job::claim_due(&mut conn, 50, 1, LEASE).unwrap()), vec![g1_next]);
    assert_eq!(ids(job::claim_due(&mut conn, 50, 8, LEASE).unwrap()), vec![g2_second]);
    assert!(job::claim_due(&mut conn, 50, 8, LEASE).unwrap().is_empty());

    // Registrations predict their listing id from the app's counter: one at a time, even
    // on different GPUs.
    let register = |conn: &mut DbConnection, gpu_id| {
        let new = NewJob {
            kind: JobKind::Register,
            rental_id: None,
            gpu_id: Some(gpu_id),
            cluster_id: None,
            payload: None,
            state: JobState::Queued,
            run_after: 0,
            created_at: 1,
            updated_at: 1,
        };
        job::insert(conn, &new).unwrap().id
    };
    let g3 = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap().id;
    let g4 = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap().id;
    let (first, second) = (register(&mut conn, g3), register(&mut conn, g4));
    assert_eq!(ids(job::claim_due(&mut conn, 60, 8, LEASE).unwrap()), vec![first]);
    assert!(job::claim_due(&mut conn, 60, 8, LEASE).unwrap().is_empty(), "the counter is taken");
    // The first backs off (queued, not due): it no longer holds the counter.
    job::set_state(&mut conn, first, JobState::Queued, None, Some(500), 60).unwrap();
    assert_eq!(ids(job::claim_due(&mut conn, 60, 8, LEASE).unwrap()), vec![second]);
}

fn update_job(gpu_id: GpuId) -> NewJob {
    NewJob {
        kind: JobKind::UpdatePrice,
        rental_id: None,
        gpu_id: Some(gpu_id),
        cluster_id: None,
        payload: None,
        state: JobState::Queued,
        run_after: 0,
        created_at: 1,
        updated_at: 1,
    }
}

#[test]
fn a_job_whose_worker_died_is_claimed_again_by_another_once_its_lease_expires() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let g = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap();
    let queued = job::insert(&mut conn, &update_job(g.id)).unwrap();
    let lease = |holder, expires_at| job::Lease { holder, expires_at };
    let claimed = job::claim_next(&mut conn, 100, lease("a", 130)).unwrap().unwrap();
    assert_eq!((claimed.id, claimed.attempts), (queued.id, 1));
    assert_eq!(job::lease_of(&mut conn, queued.id).unwrap(), Some(("a".to_owned(), 130)));
    // B finds nothing while A's lease holds, and A keeps renewing it.
    assert_eq!(job::claim_next(&mut conn, 120, lease("b", 150)).unwrap(), None);
    assert_eq!(job::renew_leases(&mut conn, &["a".to_owned()], 160).unwrap(), 1);
    assert_eq!(job::claim_next(&mut conn, 140, lease("b", 170)).unwrap(), None);
    // A dies: after its lease, B claims the same job (its journal resumes it).
    let resumed = job::claim_next(&mut conn, 161, lease("b", 191)).unwrap().unwrap();
    assert_eq!((resumed.id, resumed.attempts), (queued.id, 2));
    assert_eq!(job::lease_of(&mut conn, queued.id).unwrap(), Some(("b".to_owned(), 191)));
    // A, back from the dead, renews nothing: the job is B's now.
    assert_eq!(job::renew_leases(&mut conn, &["a".to_owned()], 200).unwrap(), 0);
    assert_eq!(job::lease_of(&mut conn, queued.id).unwrap(), Some(("b".to_owned(), 191)));
}

/// Two processes (each its own store and connections) claim from one queue at once:
/// every job is claimed exactly once, and jobs on one GPU never run together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_in_two_processes_claim_every_job_exactly_once() {
    let (db, store) = fresh();
    let mut jobs = Vec::new();
    {
        let mut conn = store.conn().unwrap();
        for i in 0..12 {
            let g = gpu::insert(&mut conn, &new_gpu(A, 100 + i)).unwrap();
            for _ in 0..4 {
                jobs.push(job::insert(&mut conn, &update_job(g.id)).unwrap().id);
            }
        }
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = if w % 2 == 0 { store.clone() } else { db.store(2) };
            tokio::spawn(async move {
                let holder = format!("worker-{w}");
                let mut mine = Vec::new();
                let mut idle = 0;
                while idle < 50 {
                    let holder = holder.clone();
                    let claimed = store
                        .write_exclusive("jobs/claim", move |c| {
                            let lease = job::Lease { holder: &holder, expires_at: i64::MAX };
                            let claimed = job::claim_due(c, 10, 3, lease)?;
                            // No other job of these GPUs may be running now.
                            for j in &claimed {
                                let running: i64 = bitfox_store::schema::jobs::table
                                    .filter(bitfox_store::schema::jobs::gpu_id.eq(j.gpu_id))
                                    .filter(bitfox_store::schema::jobs::state.eq(JobState::Running))
                                    .count()
                                    .get_result(c)?;
                                assert_eq!(running, 1, "two jobs of one GPU run together");
                            }
                            Ok::<_, StoreError>(claimed)
                        })
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        idle += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                        continue;
                    }
                    idle = 0;
                    for j in claimed {
                        mine.push(j.id);
                        store
                            .write(move |c| {
                                job::set_state(c, j.id, JobState::Succeeded, None, None, 10)
                                    .map_err(StoreError::from)
                            })
                            .await
                            .unwrap();
                    }
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for w in workers {
        claimed.extend(w.await.unwrap());
    }
    claimed.sort();
    jobs.sort();
    assert_eq!(claimed, jobs, "every job exactly once");
}

#[test]
fn one_process_leads_a_role_and_another_takes_over_when_it_goes() {
    let (db, store) = fresh();
    let other = db.store(1);
    let mut first = store.lead("keeper").unwrap().expect("the first asker leads");
    assert!(first.holds());
    let second = other.lead("keeper").unwrap();
    if !db.is_postgres() {
        // SQLite: one worker per database, the role is always granted.
        assert!(second.is_some());
        return;
    }
    assert!(second.is_none(), "a second process may not lead the keeper too");
    // Another role is independent.
    assert!(other.lead("watcher/1001").unwrap().is_some());
    // The leader goes (its connection closes, as when its process dies): the other
    // process takes over.
    drop(first);
    let mut taken = other.lead("keeper").unwrap().expect("the lead is free again");
    assert!(taken.holds());
    assert!(store.lead("keeper").unwrap().is_none());
}

#[tokio::test]
async fn write_rolls_back_on_error() {
    let (_db, store) = fresh();
    #[derive(Debug)]
    enum E {
        Store,
        Refused,
    }
    impl From<StoreError> for E {
        fn from(_: StoreError) -> Self {
            Self::Store
        }
    }
    impl From<bitfox_store::diesel::result::Error> for E {
        fn from(_: bitfox_store::diesel::result::Error) -> Self {
            Self::Store
        }
    }
    let result: Result<(), E> = store
        .write(|c| {
            gpu::insert(c, &new_gpu(A, 5))?;
            Err(E::Refused)
        })
        .await;
    assert!(matches!(result, Err(E::Refused)));
    let count: Vec<Number> = store
        .read(|c| sql_query("SELECT count(*) AS n FROM gpus").load(c).map_err(|_| E::Store))
        .await
        .unwrap();
    assert_eq!(count[0].n, 0);
}

#[test]
fn opening_an_impossible_path_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&file.join("sub/db.sqlite"), 1).unwrap_err();
    assert!(matches!(err, StoreError::Connection(_)), "{err}");
}

#[tokio::test]
async fn checkpoints_move_the_log_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = Store::open(&path, 2).unwrap();
    store.migrate().unwrap();
    store.checkpoint().unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    for i in 0..200 {
        store
            .write(move |c| {
                gpu::insert(c, &new_gpu(A, 1 + i)).map(|_| ()).map_err(StoreError::Query)
            })
            .await
            .unwrap();
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), before, "automatic checkpoints are off");
    store.checkpoint().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > before, "the checkpoint wrote the rows");
}

#[tokio::test]
async fn only_writes_that_change_rows_run_the_commit_hooks() {
    let (_db, store) = fresh();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    store.on_commit(std::sync::Arc::new(move |c| {
        let last = gpu::changed_since(c, 0).unwrap().last().map(|(seq, _)| *seq);
        log.lock().unwrap().push(last);
    }));
    let idle: Option<_> =
        store.write(|c| job::claim_next(c, 0, LEASE).map_err(StoreError::from)).await.unwrap();
    assert!(idle.is_none());
    assert!(seen.lock().unwrap().is_empty(), "an idle claim changes nothing");
    store
        .write_unlisted(|c| gpu::insert(c, &new_gpu(A, 1)).map_err(StoreError::from))
        .await
        .unwrap();
    assert!(seen.lock().unwrap().is_empty(), "an unlisted write runs no hook");
    store.write(|c| gpu::insert(c, &new_gpu(A, 2)).map_err(StoreError::from)).await.unwrap();
    // The hook ran after the commit, on a connection that sees it: both listings, the
    // second stamped after the first.
    assert_eq!(*seen.lock().unwrap(), vec![Some(2)]);
}

#[test]
fn every_listing_change_is_stamped_in_commit_order() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let a = gpu::insert(&mut conn, &new_gpu(A, 10)).unwrap();
    let b = gpu::insert(&mut conn, &new_gpu(A, 20)).unwrap();
    let stamps = |conn: &mut _, after| {
        gpu::changed_since(conn, after)
            .unwrap()
            .into_iter()
            .map(|(seq, row)| (seq, row.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(stamps(&mut conn, 0), vec![(1, a.id), (2, b.id)]);
    // Any update is a change, whichever column (and path) it touches.
    gpu::heartbeat(&mut conn, a.id, 5).unwrap();
    gpu::record_outcome(&mut conn, b.id, true).unwrap();
    assert_eq!(stamps(&mut conn, 2), vec![(3, a.id), (4, b.id)]);
    sql_query("UPDATE gpus SET region = 'x'").execute(&mut conn).unwrap();
    let all = stamps(&mut conn, 4);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|(seq, _)| *seq > 4), "{all:?}");
    assert!(stamps(&mut conn, 6).is_empty());
}

#[test]
fn amounts_that_do_not_fit_are_errors_never_zero() {
    let (_db, store) = fresh();
    let mut conn = store.conn().unwrap();
    let g = gpu::insert(&mut conn, &new_gpu(A, 1000)).unwrap();
    // A deposit beyond the signed 64-bit column is refused when written.
    let too_big = NewRental { deposit: MicroAlgos(u64::MAX), ..new_rental(g.id) };
    let err = rental::insert(&mut conn, &too_big).unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
    // A stored amount that is negative is an error when read back (the schema's CHECKs
    // keep most columns sane; the settlement figures are the mapping's to check).
    let r = rental::insert(&mut conn, &new_rental(g.id)).unwrap();
    sql_query("UPDATE rentals SET cost = -5").execute(&mut conn).unwrap();
    let err = rental::find(&mut conn, r.id).unwrap_err();
    assert!(format!("{err:?}").contains("stored amount -5 is negative"), "{err:?}");
}

#[tokio::test]
async fn a_job_queued_or_ended_in_one_process_wakes_the_listeners_of_another() {
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::Notify;
    use tokio::time::timeout;

    let (db, store) = fresh();
    let other = db.store(1);
    let wake = Arc::new(Notify::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listening = tokio::spawn({
        let (store, wake) = (store.clone(), wake.clone());
        async move {
            store
                .notify_on(bitfox_store::JOBS_CHANNEL, wake, async {
                    let _ = stopped.await;
                })
                .await;
        }
    });
    if !db.is_postgres() {
        // SQLite: every writer is in this process; there is nothing to listen to.
        timeout(Duration::from_secs(5), listening).await.expect("returns at once").unwrap();
        drop(stop);
        return;
    }
    let woken = |what: &'static str| {
        let wake = wake.clone();
        async move {
            timeout(Duration::from_secs(10), wake.notified())
                .await
                .unwrap_or_else(|_| panic!("no wake-up for {what}"));
        }
    };
    let quiet = || {
        let wake = wake.clone();
        async move { timeout(Duration::from_millis(300), wake.notified()).await.is_err() }
    };
    woken("connecting (whatever was queued before)").await;
    assert!(quiet().await, "nothing happened");

    let g = other.write(|c| gpu::insert(c, &new_gpu(A, 100)).map_err(StoreError::from)).await;
    let g = g.unwrap();
    assert!(quiet().await, "a listing is no job");
    let queued = other
        .write(move |c| job::insert(c, &update_job(g.id)).map_err(StoreError::from))
        .await
        .unwrap();
    woken("a job queued by another process").await;

    let claimed =
        other.write(|c| job::claim_due(c, 10, 1, LEASE).map_err(StoreError::from)).await.unwrap();
    assert_eq!(claimed[0].id, queued.id);
    assert!(quiet().await, "a claim frees nothing");

    other
        .write(move |c| {
            job::set_state(c, queued.id, JobState::Succeeded, None, None, 11)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    woken("a job ended (the next of its GPU may run)").await;

    stop.send(()).unwrap();
    timeout(Duration::from_secs(10), listening).await.expect("stops when told").unwrap();
}
