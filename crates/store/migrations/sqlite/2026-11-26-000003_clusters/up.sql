-- GPU clusters co-owned through share tokens. A cluster is created on chain by a job;
-- until then it is `pending` (its chain id and share ASA id are unknown).
CREATE TABLE clusters (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    operator_address TEXT NOT NULL CHECK (length(operator_address) = 58),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    total_shares BIGINT NOT NULL CHECK (total_shares > 0),
    price_per_share BIGINT NOT NULL CHECK (price_per_share >= 0),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'failed')),
    chain_cluster_id BIGINT UNIQUE,
    asset_id BIGINT,
    create_txid TEXT,
    failure_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX clusters_operator ON clusters (operator_address);

-- The cluster a GPU belongs to: its listing is registered on chain under that cluster,
-- so its rentals' provider share goes to the cluster's holders.
ALTER TABLE gpus ADD COLUMN cluster_id BIGINT REFERENCES clusters (id);
-- The on-chain cluster the current listing was registered under (0: none): what the
-- contract reads at settlement, whatever cluster the GPU is moving to meanwhile.
ALTER TABLE gpus ADD COLUMN listing_cluster_id BIGINT;
CREATE INDEX gpus_cluster ON gpus (cluster_id);
