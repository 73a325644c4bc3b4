DROP TABLE chain_anomalies;
