//! Chunked deletes: at most a chunk per statement, only rows before the cutoff.

use chrono::{DateTime, Utc};
use domain::retention::cutoffs;

use super::*;
use crate::sample::{at, count};
use crate::testing::{block_on, fixture};

fn insert_threats(f: &crate::testing::Fixture, n: usize, last_at: i64) {
    let mut sql = String::new();
    for i in 0..n {
        sql.push_str(&format!(
            "INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action, direction, \
               function, day, first_event_id, first_at, last_at, count, name, vendor_severity) \
             VALUES ('c-a1', 'd0000000a001', {i}, 's{last_at}', '', 'blocked', 'inbound', 'ips', \
               '2026-01-01', 'e', {last_at}, {last_at}, 1, 'n', 'low');"
        ));
    }
    f.db.execute_script(&sql).expect("threats");
}

fn now() -> DateTime<Utc> {
    at("2026-12-01T00:00:00Z")
}

#[test]
fn each_statement_deletes_at_most_a_chunk_of_rows_older_than_the_cutoff() {
    let f = fixture();
    let c = cutoffs(90, now()).expect("keeps something");
    let old = (c.raw_before.timestamp_millis()) - 1;
    let kept = c.raw_before.timestamp_millis();
    insert_threats(&f, 7, old);
    insert_threats(&f, 2, kept);
    let threats = RULES.iter().find(|r| r.table == "threats").expect("a rule");
    let deleted = block_on(f.db.run(chunk_query(threats, &c, 3))).expect("deletes");
    assert_eq!(deleted, 3);
    assert_eq!(count(&f, "SELECT count(*) AS n FROM threats"), 6);
    let config = Retention {
        days: 90,
        chunk: 3,
        max_chunks: 2,
    };
    // Two chunks this tick: 3 + 1, and the rows at the cutoff stay.
    assert_eq!(
        block_on(sweep(&f.db, &crate::cron::tick(), &c, config)).expect("sweeps"),
        4
    );
    assert_eq!(
        count(
            &f,
            &format!("SELECT count(*) AS n FROM threats WHERE last_at = {kept}")
        ),
        2
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM threats"), 2);
}

#[test]
fn a_tick_stops_after_its_chunks_and_the_rest_goes_next_time() {
    let f = fixture();
    let c = cutoffs(90, now()).expect("keeps something");
    insert_threats(&f, 10, 1);
    let config = Retention {
        days: 90,
        chunk: 2,
        max_chunks: 3,
    };
    assert_eq!(
        block_on(sweep(&f.db, &crate::cron::tick(), &c, config)).expect("sweeps"),
        6
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM threats"), 4);
}

#[test]
fn every_chunk_walks_an_index() {
    let f = fixture();
    let c = cutoffs(90, now()).expect("keeps something");
    let mut queries: Vec<(&str, Query, bool)> = RULES
        .iter()
        .map(|r| {
            (
                r.table,
                chunk_query(r, &c, 100),
                matches!(r.cutoff, Cutoff::Erased),
            )
        })
        .collect();
    queries.push(("erased_customers", buried_query(), true));
    for (table, query, erased) in queries {
        let plan = f.db.plan(&query).expect("plans");
        assert!(
            !plan
                .iter()
                .any(|l| l.starts_with("SCAN ") && !l.starts_with("SCAN erased_customers")),
            "{table}: {plan:?}"
        );
        // (The tombstones themselves are a handful, read whole.)
        assert!(
            table == "erased_customers"
                || plan
                    .iter()
                    .any(|l| l.starts_with(&format!("SEARCH {table}"))),
            "{table}: {plan:?}"
        );
        // The rows due are found by a range on an index, not by reading every row.
        if !erased {
            assert!(plan.iter().any(|l| l.contains("<?)")), "{table}: {plan:?}");
        }
    }
}

#[test]
fn the_tier_rollup_keeps_the_days_from_the_cutoff_on() {
    let f = fixture();
    let c = cutoffs(90, now()).expect("keeps something");
    assert_eq!(c.day_before, "2026-09-02");
    f.db.execute_script(
        "INSERT INTO threat_tier_days VALUES
           ('c-a1', '2026-09-01', 'd0000000a001', 'ips', 'high', 3),
           ('c-a1', '2026-09-02', 'd0000000a001', 'ips', 'high', 4),
           ('c-b1', '2026-08-01', 'd0000000b001', 'ips', 'low', 5);",
    )
    .expect("rollup");
    let config = Retention {
        days: 90,
        chunk: 10,
        max_chunks: 1,
    };
    block_on(sweep(&f.db, &crate::cron::tick(), &c, config)).expect("sweeps");
    assert_eq!(
        count(&f, "SELECT sum(events) AS n FROM threat_tier_days"),
        4,
        "only the cutoff's own day is left"
    );
}

/// An incident of `c-a1` last active at `last_at`, with a notification claimed by a mail
/// of that time, a review, and the appliance's down state noticed then.
fn incident_with_mail(f: &crate::testing::Fixture, id: i64, last_at: i64) {
    f.db.execute_script(&format!(
        "INSERT INTO incidents (id, customer_id, device_id, sig_key, host, name, function, action,
           direction, severity_rank, rule, rules_version, first_at, last_at, count, batch, created_at)
         VALUES ({id}, 'c-a1', 'd0000000a001', 's{id}', '', 'n', 'ips', 'blocked', 'inbound', 1, '',
           1, {last_at}, {last_at}, 1, 1, {last_at});
         INSERT INTO mails (id, customer_id, kind, recipients, status, next_attempt_at, created_at)
           VALUES ('ml_{id}', 'c-a1', 'alert', '[]', 'sent', {last_at}, {last_at});
         INSERT INTO notifications (customer_id, incident_id, rank, due_at, mail_id, created_at)
           VALUES ('c-a1', {id}, 1, {last_at}, 'ml_{id}', {last_at});
         INSERT INTO incident_reviews (incident_id, finding, old_rank, new_rank, reviewer, mail_id, created_at)
           VALUES ({id}, '調査結果', 3, 1, 'op', 'ml_{id}', {last_at});"
    ))
    .expect("incident");
}

fn left(f: &crate::testing::Fixture) -> [i64; 5] {
    [
        "incidents",
        "notifications",
        "incident_reviews",
        "mails",
        "device_down",
    ]
    .map(|t| count(f, &format!("SELECT count(*) AS n FROM {t}")))
}

fn drain(f: &crate::testing::Fixture, c: &Cutoffs) {
    let config = Retention {
        days: 90,
        chunk: 1,
        max_chunks: 1,
    };
    for _ in 0..10 {
        block_on(sweep(&f.db, &crate::cron::tick(), c, config)).expect("sweeps");
    }
}

#[test]
fn old_incidents_go_after_their_notifications_and_reviews_and_old_mails_and_down_states_go() {
    let f = fixture();
    f.db.execute_script("PRAGMA foreign_keys = ON;")
        .expect("as D1 does");
    let c = cutoffs(90, now()).expect("keeps something");
    let (old, kept) = (
        c.raw_before.timestamp_millis() - 1,
        c.raw_before.timestamp_millis(),
    );
    incident_with_mail(&f, 1, old);
    incident_with_mail(&f, 2, old);
    incident_with_mail(&f, 3, kept);
    f.db.execute_script(&format!(
        "INSERT INTO device_down VALUES ('d0000000a001', NULL, {old}, {old}, NULL);
         INSERT INTO device_down VALUES ('d0000000b001', NULL, {old}, {kept}, NULL);"
    ))
    .expect("down");
    assert_eq!(left(&f), [3, 3, 3, 3, 2]);
    // One row per statement: the notifications and reviews go before their incidents.
    let config = Retention {
        days: 90,
        chunk: 1,
        max_chunks: 1,
    };
    block_on(sweep(&f.db, &crate::cron::tick(), &c, config)).expect("sweeps");
    // Incident 1 went after its notification and review; incident 2 waits for its own.
    assert_eq!(left(&f), [2, 2, 2, 2, 1]);
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM notifications WHERE incident_id = 2"
        ),
        1
    );
    drain(&f, &c);
    assert_eq!(left(&f), [1, 1, 1, 1, 1]);
    assert_eq!(count(&f, "SELECT id AS n FROM incidents"), 3);
}

#[test]
fn the_rows_of_a_deleted_customer_go_whatever_their_age_and_then_its_tombstone() {
    let f = fixture();
    let c = cutoffs(90, now()).expect("keeps something");
    let recent = now().timestamp_millis();
    incident_with_mail(&f, 1, recent);
    insert_threats(&f, 3, recent);
    // Deleted behind the store's back (its appliance first, as the foreign key wants).
    f.db.execute_script(
        "DELETE FROM devices WHERE customer_id = 'c-a1'; DELETE FROM customers WHERE id = 'c-a1';",
    )
    .expect("deletes");
    assert_eq!(count(&f, "SELECT count(*) AS n FROM erased_customers"), 1);
    drain(&f, &c);
    assert_eq!(left(&f), [0, 0, 0, 0, 0]);
    assert_eq!(count(&f, "SELECT count(*) AS n FROM threats"), 0);
    assert_eq!(count(&f, "SELECT count(*) AS n FROM erased_customers"), 0);
}

/// One customer's rows in every table that holds any: the fixture's appliance `device`
/// of customer `customer`, and `tag` to keep keys apart.
fn everything(f: &crate::testing::Fixture, customer: &str, device: &str, tag: &str) {
    f.db.execute_script(&format!(
        "INSERT INTO alert_recipients VALUES ('{customer}', 1, '{tag}@example.jp');
         INSERT INTO enrollment_codes (code_hash, device_id, expires_at, created_at) VALUES ('code-{tag}', '{device}', 9, 0);
         INSERT INTO device_tokens (token_hash, device_id, issued_at) VALUES ('tok-{tag}', '{device}', 0);
         INSERT INTO device_report_hours VALUES ('{device}', 0, 1);
         INSERT INTO device_reports VALUES ('{device}', 'r-1', 1, 0, 1);
         INSERT INTO device_events VALUES ('{device}', 'e-1', 1, 0);
         INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action, direction,
           function, day, first_event_id, first_at, last_at, count, name, vendor_severity)
           VALUES ('{customer}', '{device}', 0, 's', '', 'blocked', 'inbound', 'ips', '2026-01-01', 'e', 0, 0, 1, 'n', 'low');
         INSERT INTO usage_records VALUES ('{device}', 'u-1', '{customer}', 0, 0, 'web_category', 'sns', 1, 1, NULL, NULL);
         INSERT INTO threat_days VALUES ('{customer}', '2026-01-01', '{device}', 'ips', 'low', 1);
         INSERT INTO threat_tier_days VALUES ('{customer}', '2026-01-01', '{device}', 'ips', 'low', 1);
         INSERT INTO usage_days VALUES ('{customer}', '2026-01-01', '{device}', 'web_category', 'sns', 1, 1);
         INSERT INTO device_down VALUES ('{device}', NULL, 0, 0, NULL);
         INSERT INTO device_outages (customer_id, device_id, down_since, noticed_at, back_at)
           VALUES ('{customer}', '{device}', 0, 0, 1);
         INSERT INTO usage_host_days VALUES ('{customer}', '2026-01-01', '{device}', '192.168.1.5', 'web_category', 'sns', 1, 1);
         INSERT INTO peer_members VALUES ('{customer}', '2026-01-01', '', 1);
         INSERT INTO monthly_reports VALUES ('{customer}', '2026-01', '{{}}', NULL, 0);
         INSERT INTO customer_changes (customer_id, at, field, old_value, new_value)
           VALUES ('{customer}', 0, 'name', 'a', 'b');
         INSERT INTO accounts (id, role, customer_id, email, login_id, password_hash, created_at)
           VALUES ('acc-{tag}', 'customer', '{customer}', '{tag}@example.jp', 'login-{tag}', 'h', 0);
         INSERT INTO sessions (id_hash, account_id, stage, created_at, last_seen_at, expires_at)
           VALUES ('sess-{tag}', 'acc-{tag}', 'full', 0, 0, 0);
         INSERT INTO sms_challenges (account_id, phone, code_hash, sent_at, expires_at)
           VALUES ('acc-{tag}', '+819000000000', 'h', 0, 0);
         INSERT INTO recovery_codes VALUES ('acc-{tag}', 'h', NULL);
         INSERT INTO audit_log (at, event, customer_id) VALUES (0, 'signin', '{customer}');"
    ))
    .expect("everything");
}

/// Tables with no customer's rows, or with a retention of their own.
/// Tables without a customer's rows: kept apart from any one customer, or (`sms_sends`,
/// `rate_hits`) counters that name no customer and are gone within a day anyway.
const NOT_A_CUSTOMERS: [&str; 9] = [
    "resellers",
    "api_tokens",
    "signin_throttle",
    "audit_log",
    "erased_customers",
    "sqlite_sequence",
    "sms_sends",
    "rate_hits",
    "peer_days",
];

#[test]
fn erasing_a_customer_deletes_its_rows_in_every_table_and_no_one_elses() {
    let f = fixture();
    f.db.execute_script("PRAGMA foreign_keys = ON;")
        .expect("as D1 does");
    everything(&f, "c-a1", "d0000000a001", "a1");
    everything(&f, "c-b1", "d0000000b001", "b1");
    incident_with_mail(&f, 1, 0);
    f.db.execute_script(
        "INSERT INTO incidents (id, customer_id, device_id, sig_key, host, name, function, action,
           direction, severity_rank, rule, rules_version, first_at, last_at, count, batch, created_at)
           SELECT 2, 'c-b1', 'd0000000b001', sig_key, host, name, function, action, direction,
             severity_rank, rule, rules_version, first_at, last_at, count, batch, created_at
           FROM incidents WHERE id = 1;
         INSERT INTO mails (id, customer_id, kind, recipients, status, next_attempt_at, created_at)
           VALUES ('ml_2', 'c-b1', 'alert', '[]', 'sent', 0, 0);
         INSERT INTO notifications (customer_id, incident_id, rank, due_at, mail_id, created_at)
           VALUES ('c-b1', 2, 1, 0, 'ml_2', 0);
         INSERT INTO incident_reviews (incident_id, finding, old_rank, new_rank, reviewer, mail_id, created_at)
           VALUES (2, '調査結果', 3, 1, 'op', 'ml_2', 0);",
    )
    .expect("b1's incident");
    #[derive(serde::Deserialize)]
    struct Table {
        name: String,
    }
    let tables: Vec<Table> = block_on(f.db.all(Query::new(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    )))
    .expect("reads");
    let tables: Vec<String> = tables
        .into_iter()
        .map(|t| t.name)
        .filter(|t| !NOT_A_CUSTOMERS.contains(&t.as_str()))
        .collect();
    let rows = |t: &str| count(&f, &format!("SELECT count(*) AS n FROM {t}"));
    let before: Vec<i64> = tables.iter().map(|t| rows(t)).collect();
    for (t, n) in tables.iter().zip(&before) {
        // c-a2 has a customers and a devices row of its own.
        let others = if ["customers", "devices"].contains(&t.as_str()) {
            3
        } else {
            2
        };
        assert_eq!(*n, others, "{t}: a row of each customer to start with");
    }
    let a1 = block_on(crate::access::customer(
        &f.db,
        &crate::Access::granted(domain::access::Scope::Operator),
        "c-a1",
    ))
    .expect("reads")
    .expect("exists");
    for q in erase_queries("c-a1") {
        let plan = f.db.plan(&q).expect("plans");
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN ")),
            "{}: {plan:?}",
            q.sql()
        );
    }
    assert!(block_on(erase_customer(&f.db, a1)).expect("erases") > 0);
    for (t, n) in tables.iter().zip(&before) {
        assert_eq!(rows(t), n - 1, "{t}: exactly c-a1's row is gone");
    }
    assert_eq!(
        count(&f, "SELECT count(*) AS n FROM customers WHERE id = 'c-b1'"),
        1
    );
    assert_eq!(
        count(
            &f,
            "SELECT count(*) AS n FROM threats WHERE customer_id = 'c-b1'"
        ),
        1
    );
    assert_eq!(
        count(&f, "SELECT count(*) AS n FROM audit_log"),
        2,
        "the audit log keeps its own time"
    );
    assert_eq!(count(&f, "SELECT count(*) AS n FROM erased_customers"), 0);
}

#[test]
fn an_outage_goes_a_retention_after_it_ended_and_an_open_one_stays_as_host_usage_goes_by_day() {
    let f = fixture();
    let c = cutoffs(90, now()).expect("keeps something");
    let (old, kept) = (
        c.raw_before.timestamp_millis() - 1,
        c.raw_before.timestamp_millis(),
    );
    f.db.execute_script(&format!(
        "INSERT INTO device_outages (id, customer_id, device_id, down_since, noticed_at, back_at) VALUES
           (1, 'c-a1', 'd0000000a001', 0, 0, {old}),
           (2, 'c-a1', 'd0000000a001', 0, {old}, {kept}),
           (3, 'c-b1', 'd0000000b001', 0, 0, NULL);
         INSERT INTO usage_host_days VALUES
           ('c-a1', '2026-09-01', 'd0000000a001', '192.168.1.5', 'application', 'Zoom', 3, 30),
           ('c-a1', '2026-09-02', 'd0000000a001', '192.168.1.5', 'application', 'Zoom', 4, 40);"
    ))
    .expect("rows");
    drain(&f, &c);
    #[derive(serde::Deserialize)]
    struct Id {
        id: i64,
    }
    let left: Vec<Id> =
        block_on(f.db.all(Query::new("SELECT id FROM device_outages ORDER BY id"))).expect("reads");
    assert_eq!(left.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(count(&f, "SELECT sum(hits) AS n FROM usage_host_days"), 4);
}
