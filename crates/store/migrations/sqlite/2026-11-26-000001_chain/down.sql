CREATE TABLE jobs_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('rent', 'settle')),
    rental_id BIGINT REFERENCES rentals (id),
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    run_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO jobs_old (id, kind, rental_id, state, attempts, last_error, run_after, created_at,
                      updated_at)
    SELECT id, kind, rental_id, state, attempts, last_error, run_after, created_at, updated_at
    FROM jobs WHERE kind IN ('rent', 'settle') AND state <> 'awaiting_signature';
DROP TABLE jobs;
ALTER TABLE jobs_old RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs (state, run_after, id);
CREATE INDEX jobs_rental ON jobs (rental_id);

ALTER TABLE rentals DROP COLUMN chain_rental_id;
DROP INDEX gpus_listing;
ALTER TABLE gpus DROP COLUMN register_txid;
ALTER TABLE gpus DROP COLUMN listing_id;
