-- GPU listings. Amounts are microAlgos; they never exceed the Algo supply (1e16), so
-- they fit a signed 64-bit column. Timestamps are Unix seconds.
CREATE TABLE gpus (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    owner_address TEXT NOT NULL CHECK (length(owner_address) = 58),
    gpu_model TEXT NOT NULL,
    vram_gb INTEGER CHECK (vram_gb IS NULL OR vram_gb > 0),
    gpu_count INTEGER NOT NULL DEFAULT 1 CHECK (gpu_count > 0),
    region TEXT,
    price_per_minute BIGINT NOT NULL CHECK (price_per_minute > 0),
    status TEXT NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'renting', 'rented', 'delisted', 'offline')),
    completed_rentals INTEGER NOT NULL DEFAULT 0,
    failed_rentals INTEGER NOT NULL DEFAULT 0,
    last_heartbeat_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX gpus_status_price ON gpus (status, price_per_minute, id);
CREATE INDEX gpus_status_vram ON gpus (status, vram_gb, id);
CREATE INDEX gpus_owner ON gpus (owner_address);

CREATE TABLE rentals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    gpu_id BIGINT NOT NULL REFERENCES gpus (id),
    renter_address TEXT NOT NULL CHECK (length(renter_address) = 58),
    provider_address TEXT NOT NULL CHECK (length(provider_address) = 58),
    price_per_minute BIGINT NOT NULL CHECK (price_per_minute > 0),
    max_minutes BIGINT NOT NULL CHECK (max_minutes > 0),
    deposit BIGINT NOT NULL CHECK (deposit > 0),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'settling', 'settled', 'failed', 'expired')),
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
    updated_at BIGINT NOT NULL
);
-- At most one live rental per GPU: the database itself refuses a second one.
CREATE UNIQUE INDEX rentals_one_live_per_gpu ON rentals (gpu_id)
    WHERE status IN ('pending', 'active', 'settling');
CREATE INDEX rentals_renter ON rentals (renter_address, id);
CREATE INDEX rentals_provider ON rentals (provider_address, id);
CREATE INDEX rentals_status ON rentals (status, id);

-- Durable background work, written in the same transaction as the change it serves.
CREATE TABLE jobs (
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
CREATE INDEX jobs_ready ON jobs (state, run_after, id);
CREATE INDEX jobs_rental ON jobs (rental_id);

-- API keys, stored as SHA-256 digests of the key; the key itself is shown once.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    address TEXT NOT NULL CHECK (length(address) = 58),
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Saved responses of POST requests sent with an Idempotency-Key, per caller.
CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    response_location TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
