//! Fixed-window rate counters as stored: one row per key (`rate_hits`), counted up in one
//! statement that also restarts a row whose window has passed, so parallel requests each
//! get their own count. Which keys exist and how many uses a window allows is the
//! Worker's and `domain::window`'s; keys naming an address are hashed by the Worker.

use chrono::{DateTime, Utc};
use domain::window::Window;
use serde::Deserialize;

use crate::{Db, Error, Query};

#[derive(Deserialize)]
struct Row {
    hits: f64,
}

/// Counts one use of `key` in `window` as of `now`; `Err(retry_after_s)` when it is over
/// the window's limit (the use is counted all the same).
pub async fn take(
    db: &Db,
    key: &str,
    window: Window,
    now: DateTime<Utc>,
) -> Result<Result<(), u32>, Error> {
    let row: Option<Row> = db
        .first(
            Query::new(
                "INSERT INTO rate_hits (key, window_start, hits) VALUES (:key, :start, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                   hits = CASE WHEN rate_hits.window_start = excluded.window_start \
                     THEN rate_hits.hits + 1 ELSE 1 END, \
                   window_start = excluded.window_start \
                 RETURNING hits",
            )
            .bind("key", key)
            .bind("start", window.start(now)),
        )
        .await?;
    let hits = row.map_or(1, |r| r.hits as u32);
    Ok(window.admit(hits, now))
}

/// Deletes counters whose window started more than a day before `now` (no window is
/// longer than an hour); returns how many.
pub async fn sweep(db: &Db, now: DateTime<Utc>) -> Result<usize, Error> {
    db.run(
        Query::new("DELETE FROM rate_hits WHERE window_start < :before")
            .bind("before", now - chrono::TimeDelta::days(1)),
    )
    .await
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::testing::{block_on, db};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_key_gets_max_uses_a_window_and_starts_again_in_the_next() {
        let db = db();
        let w = Window::new(3, TimeDelta::minutes(1));
        let now = at("2026-12-02T05:00:10Z");
        for _ in 0..3 {
            assert_eq!(block_on(take(&db, "k", w, now)).unwrap(), Ok(()));
        }
        assert_eq!(block_on(take(&db, "k", w, now)).unwrap(), Err(50));
        // Another key is counted apart.
        assert_eq!(block_on(take(&db, "other", w, now)).unwrap(), Ok(()));
        let next = at("2026-12-02T05:01:00Z");
        assert_eq!(block_on(take(&db, "k", w, next)).unwrap(), Ok(()));
    }

    #[test]
    fn the_sweep_deletes_counters_a_day_old() {
        let db = db();
        let w = Window::new(3, TimeDelta::hours(1));
        block_on(take(&db, "old", w, at("2026-12-01T03:00:00Z")))
            .unwrap()
            .unwrap();
        block_on(take(&db, "new", w, at("2026-12-02T05:00:00Z")))
            .unwrap()
            .unwrap();
        assert_eq!(block_on(sweep(&db, at("2026-12-02T05:30:00Z"))).unwrap(), 1);
        // The kept key still counts on.
        let w1 = Window::new(1, TimeDelta::hours(1));
        assert!(
            block_on(take(&db, "new", w1, at("2026-12-02T05:30:00Z")))
                .unwrap()
                .is_err()
        );
    }
}
