//! The spool and the sender against a fake cloud that is down, busy, picky or fine:
//! nothing spooled is lost, nothing is sent with different bytes, and a report the cloud
//! refuses for good does not hold up the ones behind it.

// Helpers here are test code too: a panic is a failed test, as in `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod fake;

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use agent::bench::bench_report;
use agent::progress::{Counters, Ui};
use agent::send::{self, Backoff, Delivery, End};
use agent::spool::{self, Entry, Spool};
use agent::state::Secret;
use chrono::Utc;
use fake::{DEVICE_TOKEN, FakeCloud, Parked};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Short waits so the tests run in seconds; the schedule itself is unit-tested.
const FAST: Backoff = Backoff {
    initial: Duration::from_millis(20),
    max: Duration::from_millis(100),
};

fn delivery(dir: &Path, cloud: &str) -> Delivery {
    Delivery {
        spool: Arc::new(Spool::open(dir).unwrap()),
        reports_url: format!("{cloud}/api/v1/device/reports"),
        token: Secret::new(DEVICE_TOKEN),
        backoff: FAST,
        http: send::http_client(),
        line: Ui::quiet().line("c025a28b0a41"),
    }
}

/// Spools a report of `events` threat events and returns its entry and bytes.
fn spool_one(spool: &Spool, events: usize) -> (Entry, Vec<u8>) {
    let now = Utc::now();
    let seq = spool.next_seq();
    let mut report = bench_report(
        &mut StdRng::seed_from_u64(seq),
        "spool",
        0,
        seq as usize,
        events,
        now,
    );
    report.report_id = spool::report_id(now, seq);
    let entry = spool.put(seq, &report).unwrap();
    let bytes = fs::read(&entry.path).unwrap();
    (entry, bytes)
}

/// A wake channel whose producer is already done: deliver what is spooled, then return.
fn nothing_more() -> mpsc::Receiver<()> {
    mpsc::channel().1
}

#[test]
fn a_report_spooled_while_the_cloud_is_down_arrives_once_it_is_up_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let parked = Parked::new();
    let d = delivery(dir.path(), &parked.url());
    let (entry, bytes) = spool_one(&d.spool, 5);

    let sender = {
        let d = d.clone();
        thread::spawn(move || send::deliver(&d, &nothing_more(), &AtomicBool::new(false)))
    };
    thread::sleep(Duration::from_millis(400));
    assert!(!sender.is_finished(), "connection refused is retried");
    assert!(Counters::get(&d.line.counters.retries) >= 2);
    assert_eq!(d.spool.len(), 1);

    let cloud = parked.listen();
    cloud.script(&[(503, None), (429, Some(1))]);
    assert_eq!(sender.join().unwrap(), End::Drained);

    let got = cloud.reports_received();
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 202]);
    for r in &got {
        assert_eq!(r.body, bytes, "every attempt sends the spooled bytes");
        assert_eq!(r.report_id(), entry.report_id);
        assert_eq!(
            r.authorization.as_deref(),
            Some(&*format!("Bearer {DEVICE_TOKEN}"))
        );
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(r.user_agent.as_deref(), Some("mimamori-agent/0.1.0"));
    }
    assert!(
        got[2].at - got[1].at >= Duration::from_millis(950),
        "429 waits Retry-After: {:?}",
        got[2].at - got[1].at
    );
    assert!(d.spool.is_empty());
    assert_eq!(Counters::get(&d.line.counters.delivered), 1);
    assert_eq!(Counters::get(&d.line.counters.accepted), 5);
}

#[test]
fn a_400_is_not_retried_and_the_report_moves_to_rejected_while_the_next_goes_through() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = FakeCloud::start();
    let d = delivery(dir.path(), &cloud.url());
    let (bad, _) = spool_one(&d.spool, 1);
    let (good, _) = spool_one(&d.spool, 1);
    cloud.script(&[(400, None)]);

    assert_eq!(
        send::deliver(&d, &nothing_more(), &AtomicBool::new(false)),
        End::Drained
    );

    let got: Vec<(String, u16)> = cloud
        .reports_received()
        .iter()
        .map(|r| (r.report_id(), r.status))
        .collect();
    assert_eq!(got, [(bad.report_id.clone(), 400), (good.report_id, 202)]);
    let rejected = dir.path().join("rejected");
    let name = bad.path.file_name().unwrap();
    assert!(rejected.join(name).exists());
    let mut note = name.to_os_string();
    note.push(".answer.txt");
    let note = fs::read_to_string(rejected.join(note)).unwrap();
    assert!(note.starts_with("400 invalid_field"), "{note}");
    assert!(d.spool.is_empty());
    assert_eq!(Counters::get(&d.line.counters.rejected), 1);
}

#[test]
fn an_invalid_report_is_rejected_by_the_clouds_parser_and_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = FakeCloud::start();
    let d = delivery(dir.path(), &cloud.url());
    // Events a week and a day old: the cloud answers 400 invalid_field at occurred_at.
    let then = Utc::now() - chrono::TimeDelta::days(8);
    let mut report = bench_report(&mut StdRng::seed_from_u64(1), "old", 0, 0, 1, then);
    report.report_id = spool::report_id(then, 1);
    d.spool.put(1, &report).unwrap();

    send::deliver(&d, &nothing_more(), &AtomicBool::new(false));

    let got = cloud.reports_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].status, 400);
    assert_eq!(
        fs::read_dir(dir.path().join("rejected")).unwrap().count(),
        2
    );
}

#[test]
fn a_refused_token_stops_sending_and_keeps_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = FakeCloud::start();
    let d = delivery(dir.path(), &cloud.url());
    spool_one(&d.spool, 1);
    spool_one(&d.spool, 1);
    cloud.script(&[(401, None)]);

    assert_eq!(
        send::deliver(&d, &nothing_more(), &AtomicBool::new(false)),
        End::Refused(401)
    );
    assert_eq!(cloud.reports_received().len(), 1);
    assert_eq!(d.spool.len(), 2);
    assert_eq!(
        fs::read_dir(dir.path().join("rejected")).unwrap().count(),
        0
    );
}

#[test]
fn the_spool_survives_a_stopped_sender_and_a_new_one_delivers_everything_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let parked = Parked::new();
    let url = parked.url();
    let first = delivery(dir.path(), &url);
    let (wake_tx, wake_rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (d, stop) = (first.clone(), stop.clone());
        thread::spawn(move || send::deliver(&d, &wake_rx, &stop))
    };
    let mut spooled = Vec::new();
    for _ in 0..3 {
        let (entry, bytes) = spool_one(&first.spool, 2);
        wake_tx.send(()).unwrap();
        spooled.push((entry.report_id, bytes));
        thread::sleep(Duration::from_millis(50));
    }
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let started = Instant::now();
    assert_eq!(sender.join().unwrap(), End::Stopped);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "stopping does not wait out a backoff"
    );
    drop(first);
    drop(wake_tx);

    // A new agent on the same state directory, the cloud back up.
    let cloud = parked.listen();
    let second = delivery(dir.path(), &url);
    assert_eq!(second.spool.len(), 3);
    let (more_tx, more_rx) = mpsc::channel();
    let sender = {
        let d = second.clone();
        thread::spawn(move || send::deliver(&d, &more_rx, &AtomicBool::new(false)))
    };
    // One more report from the new run goes after the old ones.
    let (entry, bytes) = spool_one(&second.spool, 2);
    more_tx.send(()).unwrap();
    spooled.push((entry.report_id, bytes));
    drop(more_tx);
    assert_eq!(sender.join().unwrap(), End::Drained);

    let got: Vec<(String, Vec<u8>)> = cloud
        .reports_received()
        .into_iter()
        .map(|r| {
            assert_eq!(r.status, 202);
            (r.report_id(), r.body)
        })
        .collect();
    assert_eq!(
        got, spooled,
        "each report once, oldest first, byte for byte"
    );
    assert!(second.spool.is_empty());
    assert_eq!(Counters::get(&second.line.counters.accepted), 8);
}
