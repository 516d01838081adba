//! mimamori's pure core: the rules of the service, free of I/O, clocks and randomness,
//! so that they are tested and benchmarked natively and run unchanged on wasm32.

pub mod access;
pub mod account;
pub mod admission;
pub mod bounds;
pub mod config;
pub mod customer;
pub mod delivery;
pub mod device;
pub mod downtime;
pub mod enrollment;
pub mod fields;
pub mod handling;
pub mod id;
pub mod incident;
pub mod ingest;
pub mod jst;
pub mod keyed;
pub mod mail;
pub mod noise;
pub mod offline;
pub mod onetime;
pub mod outbox;
pub mod page;
pub mod password;
pub mod period;
pub mod ratelimit;
pub mod report;
pub mod retention;
pub mod review;
pub mod sealed;
pub mod session;
pub mod severity;
pub mod signin;
pub mod totp;
pub mod window;
