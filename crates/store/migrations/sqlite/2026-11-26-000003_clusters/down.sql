ALTER TABLE gpus DROP COLUMN listing_cluster_id;
DROP INDEX gpus_cluster;
ALTER TABLE gpus DROP COLUMN cluster_id;
DROP TABLE clusters;
