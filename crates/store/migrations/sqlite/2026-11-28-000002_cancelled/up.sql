-- A rental stopped before its deposit group was ever sent is `cancelled` (nothing
-- happened on chain), and so is its rent job.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE rentals_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    gpu_id BIGINT NOT NULL REFERENCES gpus (id),
    renter_address TEXT NOT NULL CHECK (length(renter_address) = 58),
    provider_address TEXT NOT NULL CHECK (length(provider_address) = 58),
    price_per_minute BIGINT NOT NULL CHECK (price_per_minute > 0),
    max_minutes BIGINT NOT NULL CHECK (max_minutes > 0),
    deposit BIGINT NOT NULL CHECK (deposit > 0),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'settling', 'settled', 'failed', 'expired', 'cancelled')),
    stop_requested_at BIGINT,
    started_at BIGINT,
    ended_at BIGINT,
    cost BIGINT,
    fee BIGINT,
    provider_amount BIGINT,
    refund BIGINT,
    failure_reason TEXT,
    rent_txid TEXT,
    settle_txid TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    chain_rental_id BIGINT
);
INSERT INTO rentals_new (id, gpu_id, renter_address, provider_address, price_per_minute, max_minutes, deposit, status, stop_requested_at, started_at, ended_at, cost, fee, provider_amount, refund, failure_reason, rent_txid, settle_txid, created_at, updated_at, chain_rental_id)
    SELECT id, gpu_id, renter_address, provider_address, price_per_minute, max_minutes, deposit, status, stop_requested_at, started_at, ended_at, cost, fee, provider_amount, refund, failure_reason, rent_txid, settle_txid, created_at, updated_at, chain_rental_id FROM rentals;
DROP TABLE rentals;
ALTER TABLE rentals_new RENAME TO rentals;
CREATE UNIQUE INDEX rentals_one_live_per_gpu ON rentals (gpu_id)
    WHERE status IN ('pending', 'active', 'settling');
CREATE INDEX rentals_renter ON rentals (renter_address, id);
CREATE INDEX rentals_provider ON rentals (provider_address, id);
CREATE INDEX rentals_status ON rentals (status, id);

CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'register', 'rent', 'settle', 'update_price', 'delist',
        'create_cluster', 'join_cluster', 'opt_in', 'buy_shares', 'transfer_shares', 'claim',
        'claim_unsold')),
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
