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
    for rule in RULES {
        let plan = f.db.plan(&chunk_query(rule, &c, 100)).expect("plans");
        let table = rule.table;
        assert!(
            !plan.iter().any(|l| l.starts_with(&format!("SCAN {table}"))),
            "{table}: {plan:?}"
        );
        // The rows due are found by a range on an index, not by reading every row.
        assert!(
            plan.iter()
                .any(|l| l.starts_with(&format!("SEARCH {table}")) && l.contains("<?)")),
            "{table}: {plan:?}"
        );
    }
}
