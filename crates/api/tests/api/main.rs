//! API integration tests: the real application builder, on port 0, with a fresh
//! temporary SQLite database per test.

mod helpers;

mod auth;
mod authz;
mod errors;
mod gpus;
mod idempotency;
mod keeper;
mod lifecycle;
mod listing;
mod openapi;
mod rentals;
mod system;
