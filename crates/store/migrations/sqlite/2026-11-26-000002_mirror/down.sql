DROP TABLE chain_holdings;
DROP TABLE chain_clusters;
DROP TABLE chain_rentals;
DROP TABLE chain_listings;
DROP TABLE chain_events;
DROP TABLE chain_cursors;
