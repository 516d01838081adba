//! mimamori's storage layer: every SQL statement of the product, grouped by the tables
//! they touch, taking and returning `domain` types. The Worker (`functions`) and the
//! portal's server code (`app`, ssr) call these functions and write no SQL themselves.
//!
//! - [`Db`] is one small interface over two backends: D1 on wasm32, SQLite natively, so
//!   `cargo test -p store` runs every statement against the real `migrations/`.
//! - [`access`]: a customer's data is reached only through a [`Tenant`], which only the
//!   resolvers here can build.
//! - Times are integer milliseconds (UTC) in every table, converted in [`time`] and
//!   `Arg::from(DateTime<Utc>)` only.
//! - No statement joins two customers' rows, except the all-company aggregates, which
//!   read tables of their own: a customer's data can live in any of several databases.

pub mod access;
pub mod audit;
mod backend;
mod db;
pub mod directory;
mod error;
pub mod rates;
pub mod sessions;
pub mod time;
pub mod tokens;
// Identity and sign-in (issue 11, part A).
pub mod accounts;
pub mod managed;
pub mod recovery;
pub mod resellers;
pub mod sms;
pub mod throttle;

// Appliances, ingest, alerts and the cron (issue 11, part B).
pub mod cron;
pub mod customers;
pub mod devices;
pub mod downtime;
pub mod health;
pub mod incidents;
pub mod mails;
pub mod notifications;
mod owner;
pub mod profile;
pub mod reports;
pub mod retention;
pub mod reviews;
pub mod roster;

// The customer portal's reads (issue 13).
pub mod alerts;
pub mod appliances;
pub mod mail_history;
pub mod problems;
pub mod status;
pub mod usage;

// Comparisons and monthly reports (issue 14).
pub mod appliance_figures;
pub mod monthly;
pub mod peers;

#[cfg(test)]
pub(crate) mod sample;
#[cfg(test)]
pub(crate) mod testing;

pub use access::{Access, Operator, Tenant};
pub use db::{Arg, Db, Query};
pub use directory::Databases;
pub use error::Error;
pub use owner::Owner;
