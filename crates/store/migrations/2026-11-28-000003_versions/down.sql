PRAGMA foreign_keys = OFF;
BEGIN;

DELETE FROM jobs WHERE kind = 'announce_retirement';
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

ALTER TABLE chain_listings DROP COLUMN retirement_effective;
ALTER TABLE clusters DROP COLUMN app_id;
ALTER TABLE rentals DROP COLUMN app_id;
ALTER TABLE gpus DROP COLUMN retirement_effective;
ALTER TABLE gpus DROP COLUMN app_id;

COMMIT;
PRAGMA foreign_keys = ON;
