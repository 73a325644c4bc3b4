-- The listing change feed: every insert or update of a listing stamps the row with the
-- next value of one counter, in the writing transaction. SQLite has one writer at a
-- time, so the stamps follow commit order: a reader that has seen every row stamped up
-- to N has missed nothing committed before it, in this process or another. The API's
-- in-memory listing read model follows the feed (`WHERE change_seq > N`).
CREATE TABLE listing_clock (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO listing_clock (id, seq) VALUES (1, 0);

ALTER TABLE gpus ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;

-- Existing listings get stamps 1..n so a reader starting from 0 loads them all.
UPDATE gpus SET change_seq = id;
UPDATE listing_clock SET seq = (SELECT COALESCE(MAX(id), 0) FROM gpus);

CREATE INDEX gpus_change_seq ON gpus (change_seq);

CREATE TRIGGER gpus_feed_insert AFTER INSERT ON gpus
BEGIN
    UPDATE listing_clock SET seq = seq + 1 WHERE id = 1;
    UPDATE gpus SET change_seq = (SELECT seq FROM listing_clock WHERE id = 1) WHERE id = NEW.id;
END;

-- The stamp itself is not a change (and keeps the trigger from firing on its own update).
CREATE TRIGGER gpus_feed_update AFTER UPDATE ON gpus
WHEN NEW.change_seq = OLD.change_seq
BEGIN
    UPDATE listing_clock SET seq = seq + 1 WHERE id = 1;
    UPDATE gpus SET change_seq = (SELECT seq FROM listing_clock WHERE id = 1) WHERE id = NEW.id;
END;
