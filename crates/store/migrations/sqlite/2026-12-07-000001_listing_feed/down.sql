DROP TRIGGER gpus_feed_update;
DROP TRIGGER gpus_feed_insert;
DROP INDEX gpus_change_seq;
ALTER TABLE gpus DROP COLUMN change_seq;
DROP TABLE listing_clock;
