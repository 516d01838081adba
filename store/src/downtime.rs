//! What the cron remembers about appliances that went silent (`device_down`): the watched
//! appliances (enabled, of a running contract) that a check would change now
//! (`domain::downtime::Due`), a bounded page at a time, with their last report and down
//! state; and the new states written together with the notices they queue, so a notice
//! is never lost or sent twice.
//!
//! The same transaction keeps the appliance's outage history (`device_outages`, read by
//! `store::appliances`): the first notice opens an outage, the recovery closes it, so the
//! portal's history and the mails never disagree.

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
    /// The appliance's customer (`Watched::owner`): whose outage history it adds to.
    pub owner: Owner,
    pub state: Option<Down>,
    pub notice: Option<Outgoing>,
}

/// Appliances whose changes go into one D1 batch (three statements each).
const CHANGES_PER_BATCH: usize = 50;

/// Stores `changes` with the notices they queue: each appliance's state, its outage and
/// its mail in the same transaction, [`CHANGES_PER_BATCH`] appliances per batch.
pub async fn save(db: &Db, changes: &[Change], now: DateTime<Utc>) -> Result<(), Error> {
    for page in changes.chunks(CHANGES_PER_BATCH) {
        let mut batch = Vec::new();
        for change in page {
            match &change.state {
                None => batch.extend([forget(&change.device_id), close(change, now)]),
                Some(down) => batch.extend([keep(&change.device_id, down), open(change, down)]),
            }
            batch.extend(change.notice.iter().map(|n| mails::queue(n, now)));
        }
        db.batch(batch).await?;
    }
    Ok(())
}

fn forget(device: &str) -> Query {
    Query::new("DELETE FROM device_down WHERE device_id = :device").bind("device", device)
}

/// The appliance is up: its open outage (if any) ends now.
fn close(change: &Change, now: DateTime<Utc>) -> Query {
    Query::new(
        "UPDATE device_outages SET back_at = :now \
         WHERE device_id = :device AND back_at IS NULL AND customer_id = :customer",
    )
    .bind("device", change.device_id.as_str())
    .bind("customer", change.owner.id())
    .bind("now", now)
}

/// The appliance is down: an outage from its first notice, unless one is open already
/// (a daily re-notice, or a state kept unchanged).
fn open(change: &Change, down: &Down) -> Query {
    Query::new(
        "INSERT INTO device_outages (customer_id, device_id, down_since, noticed_at) \
         VALUES (:customer, :device, :last_seen, :first) \
         ON CONFLICT (device_id) WHERE back_at IS NULL DO NOTHING",
    )
    .bind("customer", change.owner.id())
    .bind("device", change.device_id.as_str())
    .bind("last_seen", down.last_seen)
    .bind("first", down.first_notice_at)
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
    use crate::sample::count;
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

    /// What the cron decides for `w` at `now`, its notice (if any) queued as mail `id`.
    fn decided(policy: &Policy, w: &Watched, now: DateTime<Utc>, id: &str) -> Change {
        let d = decide(policy, w.state, w.last_seen, now);
        Change {
            device_id: w.device_id.clone(),
            owner: w.owner.clone(),
            state: d.state,
            notice: d.notice.map(|n| Outgoing {
                id: id.into(),
                owner: w.owner.clone(),
                kind: Kind::from(n),
                mail: Mail {
                    subject: "s".into(),
                    text: "t".into(),
                    html: "h".into(),
                },
            }),
        }
    }

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
            .map(|w| decided(&policy, w, now, &format!("ml_{}", w.device_id)))
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

    /// Runs the cron's downtime step for every due appliance as of `now`, as
    /// `functions/src/downtime.rs` does (decide, keep what changes, save).
    fn tick(f: &crate::testing::Fixture, now: DateTime<Utc>) {
        let policy = Policy::default();
        let watched =
            block_on(due(&f.db, &cron::tick(), &Due::at(&policy, now), 100)).expect("reads");
        let changes: Vec<Change> = watched
            .iter()
            .filter(|w| decide(&policy, w.state, w.last_seen, now).changes(w.state))
            .map(|w| {
                let id = format!("ml_{}_{}", w.device_id, now.timestamp_millis());
                decided(&policy, w, now, &id)
            })
            .collect();
        block_on(save(&f.db, &changes, now)).expect("saves");
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Outage {
        customer_id: String,
        down_since: Option<i64>,
        noticed_at: i64,
        back_at: Option<i64>,
    }

    fn outages(f: &crate::testing::Fixture, device: &str) -> Vec<Outage> {
        block_on(
            f.db.all(
                Query::new(
                    "SELECT customer_id, down_since, noticed_at, back_at FROM device_outages \
                 WHERE device_id = :device ORDER BY id",
                )
                .bind("device", device),
            ),
        )
        .expect("reads")
    }

    fn outage(down_since: i64, noticed_at: i64, back_at: Option<i64>) -> Outage {
        Outage {
            customer_id: "c-a1".into(),
            down_since: Some(down_since),
            noticed_at,
            back_at,
        }
    }

    #[test]
    fn the_first_notice_opens_an_outage_the_recovery_closes_it_and_a_new_silence_opens_another() {
        let f = fixture();
        let seen = |ms: i64| {
            f.db.execute_script(&format!(
                "UPDATE devices SET last_seen_at = {ms} WHERE id = 'd0000000a001';"
            ))
            .expect("reports");
        };
        let day = 24 * 60 * MINUTE;
        seen(0);
        tick(&f, at(2 * MINUTE));
        assert!(outages(&f, "d0000000a001").is_empty(), "not offline yet");
        // Silent past the threshold: the first notice, and the outage from the last report.
        tick(&f, at(10 * MINUTE));
        assert_eq!(outages(&f, "d0000000a001"), [outage(0, 10 * MINUTE, None)]);
        // The daily re-notice (and every check in between) keeps the one open outage.
        tick(&f, at(11 * MINUTE));
        tick(&f, at(day + 10 * MINUTE));
        assert!(
            count(
                &f,
                "SELECT count(*) AS n FROM mails WHERE kind = 'appliance_still_down'"
            ) >= 1
        );
        assert_eq!(outages(&f, "d0000000a001"), [outage(0, 10 * MINUTE, None)]);
        // Reporting again: the recovery notice closes it when the check sees it.
        seen(day + 20 * MINUTE);
        tick(&f, at(day + 21 * MINUTE));
        assert_eq!(
            outages(&f, "d0000000a001"),
            [outage(0, 10 * MINUTE, Some(day + 21 * MINUTE))]
        );
        tick(&f, at(day + 22 * MINUTE));
        // Silent again: a second outage; the first stays closed.
        tick(&f, at(day + 40 * MINUTE));
        assert_eq!(
            outages(&f, "d0000000a001"),
            [
                outage(0, 10 * MINUTE, Some(day + 21 * MINUTE)),
                outage(day + 20 * MINUTE, day + 40 * MINUTE, None)
            ]
        );
        assert!(
            outages(&f, "d0000000a002").is_empty(),
            "never seen: never down"
        );
        assert_eq!(
            count(
                &f,
                "SELECT count(*) AS n FROM mails WHERE kind = 'appliance_down'"
            ),
            2
        );
    }

    #[test]
    fn a_recovery_is_saved_with_its_notice_even_when_the_clock_went_back() {
        let f = fixture();
        f.db.execute_script("UPDATE devices SET last_seen_at = 0 WHERE id = 'd0000000a001';")
            .expect("reports");
        tick(&f, at(60 * MINUTE));
        f.db.execute_script("UPDATE devices SET last_seen_at = 1800000 WHERE id = 'd0000000a001';")
            .expect("reports again");
        // The next check's clock is earlier than the first notice's.
        tick(&f, at(31 * MINUTE));
        assert_eq!(
            outages(&f, "d0000000a001"),
            [outage(0, 60 * MINUTE, Some(31 * MINUTE))]
        );
        assert_eq!(
            count(
                &f,
                "SELECT count(*) AS n FROM mails WHERE kind = 'appliance_recovered'"
            ),
            1
        );
    }

    #[test]
    fn opening_and_closing_an_outage_walk_the_open_outage_index() {
        let f = fixture();
        let down = Down {
            last_seen: Some(at(0)),
            first_notice_at: at(MINUTE),
            last_notice_at: at(MINUTE),
            daily_done: None,
        };
        let change = Change {
            device_id: "d0000000a001".into(),
            owner: Owner::trusted("c-a1"),
            state: Some(down),
            notice: None,
        };
        for q in [open(&change, &down), close(&change, at(MINUTE))] {
            let plan = f.db.plan(&q).expect("plans").join("\n");
            assert!(
                !plan.lines().any(|l| l.starts_with("SCAN ")),
                "{}\n{plan}",
                q.sql()
            );
        }
        let close =
            f.db.plan(&close(&change, at(MINUTE)))
                .expect("plans")
                .join("\n");
        assert!(close.contains("device_outages_open"), "{close}");
    }

    #[test]
    fn migration_0019_opens_an_outage_for_each_appliance_down_before_it() {
        let db = crate::testing::db_before("0019");
        db.execute_script(
            "INSERT INTO customers (id, name, service_start, created_at) VALUES ('c-1', 'C', '2026-01-01', 0);
             INSERT INTO devices (id, customer_id, name, created_at) VALUES
               ('d00000000001', 'c-1', '本社', 0), ('d00000000002', 'c-1', '支店', 0);
             INSERT INTO device_down VALUES ('d00000000001', 60000, 600000, 700000, NULL);",
        )
        .expect("old rows");
        db.execute_script(&crate::testing::migration(
            "0019_outages_and_host_usage.sql",
        ))
        .expect("0019 applies over stored rows");
        let f = crate::testing::Fixture { db };
        assert_eq!(
            outages(&f, "d00000000001"),
            [Outage {
                customer_id: "c-1".into(),
                down_since: Some(60_000),
                noticed_at: 600_000,
                back_at: None
            }]
        );
        assert!(outages(&f, "d00000000002").is_empty());
    }
}
