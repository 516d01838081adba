//! Which device a token belongs to (its `store::devices::Reporter`), remembered by this
//! isolate for a minute, with the device's report-rate bucket. It saves a D1 round trip on
//! every report after the first; it never decides alone: the report's batch
//! (`store::reports`) stores nothing unless the token is still valid (not revoked, device
//! enabled, contract running) at that moment, so revoking a token or ending a contract
//! takes effect at once. The bucket is written back to the
//! device row with every report, so another isolate (or this one after a minute) starts
//! from where this one left off.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use domain::ratelimit::Bucket;
use store::devices::Reporter;

/// How long a token's device is remembered.
const TTL: TimeDelta = TimeDelta::seconds(60);
/// Entries kept at most; past this the cache starts afresh (a fleet this large per
/// isolate is far beyond one Worker's share).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Known {
    pub reporter: Reporter,
    pub bucket: Option<Bucket>,
    loaded_at: DateTime<Utc>,
}

impl Known {
    pub fn new(reporter: Reporter, bucket: Option<Bucket>, now: DateTime<Utc>) -> Known {
        Known {
            reporter,
            bucket,
            loaded_at: now,
        }
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Known>> = RefCell::new(HashMap::new());
}

/// The device of `token_hash`, if loaded within the last minute.
pub fn get(token_hash: &str, now: DateTime<Utc>) -> Option<Known> {
    CACHE.with_borrow(|c| {
        c.get(token_hash)
            .filter(|k| now >= k.loaded_at && now - k.loaded_at < TTL)
            .cloned()
    })
}

pub fn put(token_hash: &str, known: Known) {
    CACHE.with_borrow_mut(|c| {
        if c.len() >= MAX_ENTRIES {
            c.clear();
        }
        c.insert(token_hash.to_owned(), known);
    });
}

/// Records the bucket after a report took a token from it.
pub fn set_bucket(token_hash: &str, bucket: Bucket) {
    CACHE.with_borrow_mut(|c| {
        if let Some(k) = c.get_mut(token_hash) {
            k.bucket = Some(bucket);
        }
    });
}

pub fn forget(token_hash: &str) {
    CACHE.with_borrow_mut(|c| {
        c.remove(token_hash);
    });
}
