-- The watcher's mirror of the contract, built from its ARC-28 events alone. Every event
-- is recorded once (UNIQUE round, txid, log index) in the same transaction as the mirror
-- change it causes and the cursor, so a crash or a replayed round changes nothing.

-- The last round whose events are all mirrored, per app.
CREATE TABLE chain_cursors (
    app_id BIGINT PRIMARY KEY NOT NULL,
    round BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE chain_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    app_id BIGINT NOT NULL,
    round BIGINT NOT NULL,
    txid TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (app_id, round, txid, log_index)
);

CREATE TABLE chain_listings (
    app_id BIGINT NOT NULL,
    listing_id BIGINT NOT NULL,
    provider TEXT NOT NULL,
    price_per_minute BIGINT NOT NULL,
    cluster_id BIGINT NOT NULL,
    active_rental_id BIGINT NOT NULL,
    delisted BOOLEAN NOT NULL DEFAULT 0,
    updated_round BIGINT NOT NULL,
    PRIMARY KEY (app_id, listing_id)
);

CREATE TABLE chain_rentals (
    app_id BIGINT NOT NULL,
    rental_id BIGINT NOT NULL,
    listing_id BIGINT NOT NULL,
    renter TEXT NOT NULL,
    provider TEXT NOT NULL,
    price_per_minute BIGINT NOT NULL,
    deposit BIGINT NOT NULL,
    start BIGINT NOT NULL,
    max_end BIGINT NOT NULL,
    fee_bps BIGINT NOT NULL,
    cluster_id BIGINT NOT NULL,
    rent_txid TEXT NOT NULL,
    settled_round BIGINT,
    settle_txid TEXT,
    settled_by TEXT,
    ended_at BIGINT,
    elapsed BIGINT,
    cost BIGINT,
    fee BIGINT,
    provider_amount BIGINT,
    refund BIGINT,
    PRIMARY KEY (app_id, rental_id)
);

-- Clusters: `acc` is the uint128 revenue-per-share accumulator, as decimal text.
CREATE TABLE chain_clusters (
    app_id BIGINT NOT NULL,
    cluster_id BIGINT NOT NULL,
    asset_id BIGINT NOT NULL,
    operator TEXT NOT NULL,
    total_shares BIGINT NOT NULL,
    price_per_share BIGINT NOT NULL,
    url TEXT NOT NULL,
    revenue BIGINT NOT NULL DEFAULT 0,
    acc TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (app_id, cluster_id)
);

-- Share ownership; the app address's row is the operator's unsold shares.
CREATE TABLE chain_holdings (
    app_id BIGINT NOT NULL,
    cluster_id BIGINT NOT NULL,
    holder TEXT NOT NULL,
    shares BIGINT NOT NULL,
    claimed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, cluster_id, holder)
);
