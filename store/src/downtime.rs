//! What the cron remembers about appliances that went silent (`device_down`): every
//! watched appliance (enabled, of a running contract) with its last report and its down
//! state, and the new state written together with the notice it queues, so a notice is
//! never lost or sent twice.

use chrono::{DateTime, Utc};
use domain::downtime::Down;
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

/// Every enabled appliance of a running contract, across customers.
pub async fn watched(db: &Db, _cron: &Cron) -> Result<Vec<Watched>, Error> {
    let rows: Vec<Row> = db
        .all(Query::new(
            "SELECT d.id, d.name, d.customer_id, c.name AS company, d.last_seen_at, \
               s.last_seen AS down_last_seen, s.first_notice_at, s.last_notice_at, s.daily_done \
             FROM devices d JOIN customers c ON c.id = d.customer_id \
             LEFT JOIN device_down s ON s.device_id = d.id \
             WHERE d.disabled = 0 AND c.contract_ended_at IS NULL",
        ))
        .await?;
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

/// `device` is up: forgets its down state, and queues `notices` (a recovery) with it.
pub async fn up(
    db: &Db,
    device: &Watched,
    notices: &[Outgoing],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let forget = Query::new("DELETE FROM device_down WHERE device_id = :device")
        .bind("device", device.device_id.as_str());
    save(db, forget, notices, now).await
}

/// `device` is down in `state`; queues `notices` (first or daily) with it.
pub async fn down(
    db: &Db,
    device: &Watched,
    state: &Down,
    notices: &[Outgoing],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let keep = Query::new(
        "INSERT INTO device_down (device_id, last_seen, first_notice_at, last_notice_at, daily_done) \
         VALUES (:device, :last_seen, :first, :last, :daily) ON CONFLICT (device_id) DO UPDATE SET \
         last_seen = excluded.last_seen, first_notice_at = excluded.first_notice_at, \
         last_notice_at = excluded.last_notice_at, daily_done = excluded.daily_done",
    )
    .bind("device", device.device_id.as_str())
    .bind("last_seen", state.last_seen)
    .bind("first", state.first_notice_at)
    .bind("last", state.last_notice_at)
    .bind("daily", state.daily_done);
    save(db, keep, notices, now).await
}

async fn save(
    db: &Db,
    state: Query,
    notices: &[Outgoing],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut batch = vec![state];
    batch.extend(notices.iter().map(|n| mails::queue(n, now)));
    db.batch(batch).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron;
    use crate::mails::Kind;
    use crate::testing::{block_on, fixture};
    use domain::mail::Mail;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("in range")
    }

    #[test]
    fn only_enabled_appliances_of_running_contracts_are_watched_and_their_state_kept() {
        let f = fixture();
        f.db.execute_script(
            "UPDATE customers SET contract_ended_at = 1 WHERE id = 'c-a2';
             UPDATE devices SET last_seen_at = 5 WHERE id = 'd0000000a001';
             INSERT INTO alert_recipients VALUES ('c-a1', 1, 'a@example.jp');",
        )
        .expect("set up");
        let cron = cron::tick();
        let all = block_on(watched(&f.db, &cron)).expect("reads");
        let ids: Vec<&str> = all.iter().map(|w| w.device_id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert!(!ids.contains(&"d0000000a002"));
        let a1 = all
            .iter()
            .find(|w| w.device_id == "d0000000a001")
            .expect("watched");
        assert_eq!((a1.last_seen, a1.state), (Some(at(5)), None));
        let state = Down {
            last_seen: Some(at(5)),
            first_notice_at: at(10),
            last_notice_at: at(10),
            daily_done: None,
        };
        let notice = Outgoing {
            id: "ml_1".into(),
            owner: a1.owner.clone(),
            kind: Kind::ApplianceDown,
            mail: Mail {
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
            },
        };
        block_on(down(
            &f.db,
            a1,
            &state,
            std::slice::from_ref(&notice),
            at(10),
        ))
        .expect("saves");
        let again = block_on(watched(&f.db, &cron)).expect("reads");
        let a1 = again
            .iter()
            .find(|w| w.device_id == "d0000000a001")
            .expect("watched");
        assert_eq!(a1.state, Some(state));
        let queued = block_on(mails::queued(&f.db, "ml_1"))
            .expect("reads")
            .expect("queued");
        assert_eq!(queued.recipients(), ["a@example.jp"]);
        block_on(up(&f.db, a1, &[], at(20))).expect("saves");
        let after = block_on(watched(&f.db, &cron)).expect("reads");
        assert!(after.iter().all(|w| w.state.is_none()));
    }
}
