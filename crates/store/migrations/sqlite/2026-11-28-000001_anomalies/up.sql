-- Logs of the contract that the watcher could not mirror (they do not decode, or their
-- values break the mirror's arithmetic): recorded with their origin and skipped, so that
-- nothing a stranger puts on chain can stop the watcher.
CREATE TABLE chain_anomalies (
    id INTEGER PRIMARY KEY,
    app_id BIGINT NOT NULL,
    round BIGINT NOT NULL,
    txid TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    reason TEXT NOT NULL,
    log BLOB NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (app_id, round, txid, log_index)
);
