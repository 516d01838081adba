//! The `mimamori-agent` binary end to end against the fake cloud: enrolling, forwarding
//! the sample eve.json (twice: the second time everything is a duplicate), a simulation
//! killed while the cloud is down and restarted, and a small bench.

// Helpers here are test code too: a panic is a failed test, as in `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod fake;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fake::{CODE, DEVICE_TOKEN, FakeCloud, OPERATOR_TOKEN, Parked};
use serde_json::Value;

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mimamori-agent"))
        .args(args)
        .env_remove("OPERATOR_TOKEN")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn enroll(url: &str, dir: &Path) -> Output {
    agent(&[
        "enroll",
        "--url",
        url,
        "--device-id",
        "c025a28b0a41",
        "--code",
        CODE,
        "--firmware",
        "1.4.2",
        "--state",
        dir.to_str().unwrap(),
    ])
}

/// The number after `label` in a forward-eve summary.
fn figure(summary: &str, label: &str) -> u64 {
    summary
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in\n{summary}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn enrolling_saves_a_private_state_file_and_never_prints_the_token() {
    let cloud = FakeCloud::start();
    let dir = tempfile::tempdir().unwrap();
    let out = enroll(&format!("{}/", cloud.url()), dir.path());
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("enrolled c025a28b0a41"));
    assert!(!stdout(&out).contains(DEVICE_TOKEN));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(DEVICE_TOKEN));
    let path = dir.path().join("agent.json");
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let state: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(state["url"], cloud.url());
    assert_eq!(state["device_id"], "c025a28b0a41");
    assert_eq!(state["device_token"], DEVICE_TOKEN);
    assert_eq!(state["report_interval_s"], 60);
}

#[test]
fn a_wrong_code_fails_with_the_clouds_reason() {
    let cloud = FakeCloud::start();
    let dir = tempfile::tempdir().unwrap();
    let out = agent(&[
        "enroll",
        "--url",
        &cloud.url(),
        "--device-id",
        "c025a28b0a41",
        "--code",
        "WRONG",
        "--state",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401 unauthenticated"));
    assert!(!dir.path().join("agent.json").exists());
}

#[test]
fn forwarding_the_sample_twice_stores_it_once() {
    let cloud = FakeCloud::start();
    let dir = tempfile::tempdir().unwrap();
    assert!(enroll(&cloud.url(), dir.path()).status.success());
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/eve-sample.json");
    let state = dir.path().to_str().unwrap();

    let first = agent(&[
        "forward-eve",
        sample,
        "--state",
        state,
        "--replay",
        "--quiet",
    ]);
    assert!(first.status.success(), "{first:?}");
    let summary = stdout(&first);
    assert_eq!(figure(&summary, "lines read"), 63);
    assert_eq!(figure(&summary, "threats"), 16);
    assert_eq!(figure(&summary, "skipped"), 17);
    assert_eq!(figure(&summary, "reports rejected"), 0);
    assert_eq!(figure(&summary, "left in spool"), 0);
    let usage = figure(&summary, "usage records");
    assert!(usage > 10, "{summary}");
    assert_eq!(figure(&summary, "events accepted"), 16 + usage);

    let again = agent(&[
        "forward-eve",
        sample,
        "--state",
        state,
        "--replay",
        "--quiet",
    ]);
    assert!(again.status.success(), "{again:?}");
    let summary = stdout(&again);
    assert_eq!(figure(&summary, "events accepted"), 0);
    assert_eq!(figure(&summary, "duplicates"), 16 + usage);
    assert!(cloud.reports_received().iter().all(|r| r.status == 202));
}

#[test]
fn without_replay_an_old_file_is_skipped_as_too_old() {
    let cloud = FakeCloud::start();
    let dir = tempfile::tempdir().unwrap();
    assert!(enroll(&cloud.url(), dir.path()).status.success());
    let eve = dir.path().join("old.json");
    fs::write(
        &eve,
        "{\"timestamp\":\"2020-01-01T00:00:00.000000+0900\",\"event_type\":\"alert\",\"alert\":{\"signature\":\"x\"}}\n",
    )
    .unwrap();
    let out = agent(&[
        "forward-eve",
        eve.to_str().unwrap(),
        "--state",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("older than 7 days"),
        "{}",
        stdout(&out)
    );
    assert_eq!(figure(&stdout(&out), "reports spooled"), 0);
}

#[test]
fn a_simulation_killed_while_the_cloud_is_down_delivers_its_spool_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let cloud = FakeCloud::start();
        assert!(enroll(&cloud.url(), dir.path()).status.success());
    }
    // From now on the agent's cloud is a port that refuses connections until it listens.
    let parked = Parked::new();
    let path = dir.path().join("agent.json");
    let mut saved: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    saved["url"] = parked.url().into();
    fs::write(&path, saved.to_string()).unwrap();
    let state = dir.path().to_str().unwrap();
    let spool = dir.path().join("spool");
    let spooled = || -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&spool)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };

    // The cloud is down: the agent spools three reports and keeps retrying.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mimamori-agent"))
        .args([
            "simulate",
            "--state",
            state,
            "--reports",
            "3",
            "--speed",
            "600",
            "--max-backoff",
            "0.2",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while spooled().len() < 3 {
        assert!(Instant::now() < deadline, "three reports spooled in time");
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let before = spooled();
    assert_eq!(before.len(), 3);

    // The cloud is back; a new run that makes no new reports sends what was left.
    let cloud = parked.listen();
    let out = agent(&[
        "simulate",
        "--state",
        state,
        "--reports",
        "0",
        "--max-backoff",
        "0.2",
        "--quiet",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("delivered 3"), "{}", stdout(&out));
    assert!(spooled().is_empty());
    let ids: Vec<String> = cloud
        .reports_received()
        .iter()
        .map(|r| r.report_id())
        .collect();
    let expected: Vec<String> = before
        .iter()
        .map(|n| {
            n.split_once('-')
                .unwrap()
                .1
                .trim_end_matches(".json")
                .to_owned()
        })
        .collect();
    assert_eq!(ids, expected, "each spooled report exactly once, in order");
}

#[test]
fn a_small_bench_provisions_sends_and_reports_its_figures() {
    let cloud = FakeCloud::start();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.jsonl");
    let out = agent(&[
        "bench",
        "--url",
        &cloud.url(),
        "--operator-token",
        OPERATOR_TOKEN,
        "--appliances",
        "2",
        "--reports",
        "3",
        "--events",
        "50",
        "--dump",
        dump.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let figures: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(figures["reports"], 6);
    assert_eq!(figures["events"], 300);
    assert_eq!(figures["non_202"], 0);
    assert!(figures["p99_ms"].as_f64().unwrap() >= figures["p50_ms"].as_f64().unwrap());
    let dumped = fs::read_to_string(&dump).unwrap();
    let sent: Vec<String> = cloud
        .reports_received()
        .into_iter()
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect();
    assert_eq!(dumped.lines().count(), 6);
    for line in dumped.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let device_id = v["device_id"].as_str().unwrap();
        assert_eq!(device_id.len(), 12);
        let body = line
            .strip_prefix(&format!("{{\"device_id\":\"{device_id}\",\"report\":"))
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap();
        assert!(
            sent.iter().any(|s| s == body),
            "the dump holds the bytes as sent"
        );
    }
    let admin: Vec<_> = cloud
        .received()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/admin/"))
        .collect();
    assert_eq!(admin.len(), 3, "one customer, two devices");
    let customer: Value = serde_json::from_slice(&admin[0].body).unwrap();
    assert!(
        customer["name"]
            .as_str()
            .unwrap()
            .starts_with("ベンチ株式会社 ")
    );
}

#[test]
fn a_bench_with_a_wrong_operator_token_fails() {
    let cloud = FakeCloud::start();
    let out = agent(&[
        "bench",
        "--url",
        &cloud.url(),
        "--operator-token",
        "nope",
        "--quiet",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}
