//! What the cron remembers about appliances that went silent (`device_down`): the watched
//! appliances (enabled, of a running contract) that a check would change now
//! (`domain::downtime::Due`), a bounded page at a time, with their last report and down
//! state; and the new states written together with the notices they queue, so a notice
//! is never lost or sent twice.

use chrono::{DateTime, Utc};
use domain::downtime::{Down, Due};
use serde::Deserialize;

use crate::cron::Cron;
use crate::mails::{self, Outgoing};
use crate::{Db, Error, Owner, Query};

/// An appliance the downtime check looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub device_id: String,
    pub name: String,
    pub owner: Owner,
    pub company: String,
    pub last_seen: Option<DateTime<Utc>>,
    /// `None`: not down when last checked.
    pub state: Option<Down>,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    name: String,
    customer_id: String,
    company: String,
    #[serde(with = "crate::time::ms_opt", default)]
    last_seen_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::ms_opt", default)]
    down_last_seen: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::ms_opt", default)]
    first_notice_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::ms_opt", default)]
    last_notice_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::ms_opt", default)]
    daily_done: Option<DateTime<Utc>>,
}

pub(crate) fn due_query(due: &Due, limit: usize) -> Query {
    // `Due::includes` in SQL: not down yet but silent; down and reporting again; down and
    // the latest daily check not dealt with.
    Query::new(
        "SELECT d.id, d.name, d.customer_id, c.name AS company, d.last_seen_at, \
           s.last_seen AS down_last_seen, s.first_notice_at, s.last_notice_at, s.daily_done \
         FROM devices d JOIN customers c ON c.id = d.customer_id \
         LEFT JOIN device_down s ON s.device_id = d.id \
         WHERE d.disabled = 0 AND c.contract_ended_at IS NULL AND ( \
           (s.device_id IS NULL AND d.last_seen_at < :offline_before) \
           OR (s.device_id IS NOT NULL AND d.last_seen_at >= :offline_before) \
           OR (s.device_id IS NOT NULL AND (d.last_seen_at IS NULL OR d.last_seen_at < :offline_before) \
               AND (s.daily_done IS NULL OR s.daily_done < :daily))) \
         ORDER BY d.id LIMIT :limit",
    )
    .bind("offline_before", due.offline_before)
    .bind("daily", due.daily)
    .bind("limit", limit)
}

/// The watched appliances (enabled, of a running contract, across customers) that a check
/// as of `due` would change, `limit` at most: what is left is due at the next tick.
pub async fn due(db: &Db, _cron: &Cron, due: &Due, limit: usize) -> Result<Vec<Watched>, Error> {
    let rows: Vec<Row> = db.all(due_query(due, limit)).await?;
    Ok(rows
        .into_iter()
        .map(|r| Watched {
            state: match (r.first_notice_at, r.last_notice_at) {
                (Some(first_notice_at), Some(last_notice_at)) => Some(Down {
                    last_seen: r.down_last_seen,
                    first_notice_at,
                    last_notice_at,
                    daily_done: r.daily_done,
                }),
                _ => None,
            },
            device_id: r.id,
            name: r.name,
            owner: Owner::trusted(r.customer_id),
            company: r.company,
            last_seen: r.last_seen_at,
        })
        .collect())
}

/// What one check decided for one appliance: the state to keep (`None`: it is up, forget
/// it) and the notice to queue with it.
#[derive(Debug, Clone)]
pub struct Change {
    pub device_id: String,
    pub state: Option<Down>,
    pub notice: Option<Outgoing>,
}

/// Appliances whose changes go into one D1 batch (two statements each).
const CHANGES_PER_BATCH: usize = 50;

/// Stores `changes` with the notices they queue: each appliance's state and its mail in
/// the same transaction, [`CHANGES_PER_BATCH`] appliances per batch.
pub async fn save(db: &Db, changes: &[Change], now: DateTime<Utc>) -> Result<(), Error> {
    for page in changes.chunks(CHANGES_PER_BATCH) {
        let mut batch = Vec::new();
        for change in page {
            batch.push(match &change.state {
                None => forget(&change.device_id),
                Some(down) => keep(&change.device_id, down),
            });
            batch.extend(change.notice.iter().map(|n| mails::queue(n, now)));
        }
        db.batch(batch).await?;
    }
    Ok(())
}

fn forget(device: &str) -> Query {
    Query::new("DELETE FROM device_down WHERE device_id = :device").bind("device", device)
}

fn keep(device: &str, state: &Down) -> Query {
    Query::new(
        "INSERT INTO device_down (device_id, last_seen, first_notice_at, last_notice_at, daily_done) \
         VALUES (:device, :last_seen, :first, :last, :daily) ON CONFLICT (device_id) DO UPDATE SET \
         last_seen = excluded.last_seen, first_notice_at = excluded.first_notice_at, \
         last_notice_at = excluded.last_notice_at, daily_done = excluded.daily_done",
    )
    .bind("device", device)
    .bind("last_seen", state.last_seen)
    .bind("first", state.first_notice_at)
    .bind("last", state.last_notice_at)
    .bind("daily", state.daily_done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron;
    use crate::mails::Kind;
    use crate::testing::{block_on, fixture};
    use domain::downtime::{Policy, decide};
    use domain::mail::Mail;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("in range")
    }

    fn ids(list: &[Watched]) -> Vec<&str> {
        list.iter().map(|w| w.device_id.as_str()).collect()
    }

    const MINUTE: i64 = 60_000;

    #[test]
    fn only_watched_appliances_a_check_would_change_are_due_a_page_at_a_time() {
        let f = fixture();
        f.db.execute_script(
            "UPDATE customers SET contract_ended_at = 1 WHERE id = 'c-a2';
             UPDATE devices SET last_seen_at = 0;
             INSERT INTO devices (id, customer_id, name, last_seen_at, created_at) VALUES
               ('d0000000a0a1', 'c-a1', '支店', 0, 0),
               ('d0000000a0a2', 'c-a1', '倉庫', NULL, 0),
               ('d0000000a0a3', 'c-a1', '工場', 3600000, 0);
             INSERT INTO alert_recipients VALUES ('c-a1', 1, 'a@example.jp');",
        )
        .expect("set up");
        let cron = cron::tick();
        let policy = Policy::default();
        // An hour on, silent for an hour: a001, a0a1 (not a0a2, never seen; not a0a3,
        // reporting; not a002, contract ended).
        let now = at(60 * MINUTE);
        let due_now = Due::at(&policy, now);
        let all = block_on(due(&f.db, &cron, &due_now, 10)).expect("reads");
        assert_eq!(ids(&all), ["d0000000a001", "d0000000a0a1", "d0000000b001"]);
        let page = block_on(due(&f.db, &cron, &due_now, 2)).expect("reads");
        assert_eq!(ids(&page), ["d0000000a001", "d0000000a0a1"]);
        let changes: Vec<Change> = page
            .iter()
            .map(|w| {
                let d = decide(&policy, w.state, w.last_seen, now);
                Change {
                    device_id: w.device_id.clone(),
                    state: d.state,
                    notice: d.notice.map(|n| Outgoing {
                        id: format!("ml_{}", w.device_id),
                        owner: w.owner.clone(),
                        kind: Kind::from(n),
                        mail: Mail {
                            subject: "s".into(),
                            text: "t".into(),
                            html: "h".into(),
                        },
                    }),
                }
            })
            .collect();
        block_on(save(&f.db, &changes, now)).expect("saves");
        // Handled, they leave the set: the next page is the rest.
        let rest = block_on(due(&f.db, &cron, &due_now, 2)).expect("reads");
        assert_eq!(ids(&rest), ["d0000000b001"]);
        let queued = block_on(mails::queued(&f.db, "ml_d0000000a001"))
            .expect("reads")
            .expect("queued");
        assert_eq!(queued.recipients(), ["a@example.jp"]);
        // The state kept is read back; a report after it makes the appliance due again.
        f.db.execute_script("UPDATE devices SET last_seen_at = 7200000 WHERE id = 'd0000000a001';")
            .expect("reports");
        let later = at(121 * MINUTE);
        let back = block_on(due(&f.db, &cron, &Due::at(&policy, later), 10)).expect("reads");
        let a1 = back
            .iter()
            .find(|w| w.device_id == "d0000000a001")
            .expect("due: it reported again");
        assert_eq!(a1.state, changes[0].state);
        assert!(
            decide(&policy, a1.state, a1.last_seen, later)
                .notice
                .is_some()
        );
    }
}
