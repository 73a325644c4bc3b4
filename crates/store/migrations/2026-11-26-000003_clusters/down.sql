DROP INDEX gpus_cluster;
ALTER TABLE gpus DROP COLUMN cluster_id;
DROP TABLE clusters;
