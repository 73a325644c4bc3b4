-- Contract versions: the app is immutable, so a contract change is a new app, and what
-- lives on an older one is still served there. Each GPU, rental and cluster records the
-- app it lives on (NULL: not on chain yet; rows from before versions are adopted by the
-- first app of the manifest at start-up). Contract v2 adds a cluster GPU's retirement
-- notice: the time from which its listing may be delisted, and the job kind that
-- announces it (SQLite cannot change a CHECK in place: jobs is rebuilt, as in
-- 2026-11-28-000002_cancelled).
PRAGMA foreign_keys = OFF;
BEGIN;

ALTER TABLE gpus ADD COLUMN app_id BIGINT;
ALTER TABLE gpus ADD COLUMN retirement_effective BIGINT;
ALTER TABLE rentals ADD COLUMN app_id BIGINT;
-- On-chain ids are per app: unique with the app, not alone (clusters is rebuilt to drop
-- its column-level UNIQUE).
DROP INDEX gpus_listing;
CREATE UNIQUE INDEX gpus_listing ON gpus (app_id, listing_id) WHERE listing_id IS NOT NULL;
CREATE TABLE clusters_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    operator_address TEXT NOT NULL CHECK (length(operator_address) = 58),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    total_shares BIGINT NOT NULL CHECK (total_shares > 0),
    price_per_share BIGINT NOT NULL CHECK (price_per_share >= 0),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'failed')),
    chain_cluster_id BIGINT,
    asset_id BIGINT,
    create_txid TEXT,
    failure_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    app_id BIGINT
);
INSERT INTO clusters_new (id, operator_address, name, description, total_shares, price_per_share, status, chain_cluster_id, asset_id, create_txid, failure_reason, created_at, updated_at)
    SELECT id, operator_address, name, description, total_shares, price_per_share, status, chain_cluster_id, asset_id, create_txid, failure_reason, created_at, updated_at FROM clusters;
DROP TABLE clusters;
ALTER TABLE clusters_new RENAME TO clusters;
CREATE INDEX clusters_operator ON clusters (operator_address);
CREATE UNIQUE INDEX clusters_chain ON clusters (app_id, chain_cluster_id)
    WHERE chain_cluster_id IS NOT NULL;
ALTER TABLE chain_listings ADD COLUMN retirement_effective BIGINT;

CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'register', 'rent', 'settle', 'update_price', 'delist',
        'create_cluster', 'join_cluster', 'opt_in', 'buy_shares', 'transfer_shares', 'claim',
        'claim_unsold', 'announce_retirement')),
    rental_id BIGINT REFERENCES rentals (id),
    gpu_id BIGINT REFERENCES gpus (id),
    cluster_id BIGINT,
    payload TEXT,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'awaiting_signature', 'succeeded', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    run_after BIGINT NOT NULL,
    unsigned_group TEXT,
    signed_group BLOB,
    signed_txid TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((signed_group IS NULL) = (signed_txid IS NULL))
);
INSERT INTO jobs_new (id, kind, rental_id, gpu_id, cluster_id, payload, state, attempts, last_error, run_after, unsigned_group, signed_group, signed_txid, created_at, updated_at)
    SELECT id, kind, rental_id, gpu_id, cluster_id, payload, state, attempts, last_error, run_after, unsigned_group, signed_group, signed_txid, created_at, updated_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs (state, run_after, id);
CREATE INDEX jobs_rental ON jobs (rental_id);
CREATE INDEX jobs_gpu ON jobs (gpu_id);
CREATE INDEX jobs_cluster ON jobs (cluster_id);

COMMIT;
PRAGMA foreign_keys = ON;
