-- On-chain identities: a GPU's listing id in the contract, a rental's rental id.
ALTER TABLE gpus ADD COLUMN listing_id BIGINT;
ALTER TABLE gpus ADD COLUMN register_txid TEXT;
CREATE UNIQUE INDEX gpus_listing ON gpus (listing_id) WHERE listing_id IS NOT NULL;
ALTER TABLE rentals ADD COLUMN chain_rental_id BIGINT;

-- Jobs gain the listing kinds, a GPU link (listing jobs have no rental), the journal of
-- the signed group — stored before it is sent, so a retry or a restart resends the same
-- bytes (same transaction id) instead of signing a second transaction — and, for groups
-- a wallet must sign, the unsigned group (JSON) while the job awaits the signature.
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (
        'register', 'rent', 'settle', 'update_price', 'delist',
        'create_cluster', 'join_cluster', 'opt_in', 'buy_shares', 'transfer_shares', 'claim',
        'claim_unsold')),
    rental_id BIGINT REFERENCES rentals (id),
    gpu_id BIGINT REFERENCES gpus (id),
    -- Cluster jobs: the cluster (clusters.id) and the call's parameters (JSON).
    cluster_id BIGINT,
    payload TEXT,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'awaiting_signature', 'succeeded', 'failed')),
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
INSERT INTO jobs_new (id, kind, rental_id, gpu_id, state, attempts, last_error, run_after,
                      created_at, updated_at)
    SELECT j.id, j.kind, j.rental_id, r.gpu_id, j.state, j.attempts, j.last_error, j.run_after,
           j.created_at, j.updated_at
    FROM jobs j LEFT JOIN rentals r ON r.id = j.rental_id;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs (state, run_after, id);
CREATE INDEX jobs_rental ON jobs (rental_id);
CREATE INDEX jobs_gpu ON jobs (gpu_id);
CREATE INDEX jobs_cluster ON jobs (cluster_id);
