//! The sample eve.json file as a whole, through the mapping the forwarder runs.

use super::*;

/// The sample file as a whole: what is forwarded, what is skipped and why, and that
/// the cloud's own parser accepts the result.
#[test]
fn the_sample_file_maps_to_threats_usage_and_named_skips() {
    let text = include_str!("../../../testdata/eve-sample.json");
    let clock = Clock {
        now: now(),
        timeline: &Timeline::as_logged(),
        home: &HomeNet::default(),
    };
    let mut threats = Vec::new();
    let mut usage = Usage::default();
    let mut observations = 0;
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    for line in text.lines() {
        match map_line(line, clock) {
            Mapped::Threat(t) => threats.push(Event::Threat(*t)),
            Mapped::Usage(o) => {
                observations += 1;
                usage.add(o);
            }
            Mapped::Skipped(why) => *skipped.entry(why.to_string()).or_default() += 1,
        }
    }
    assert_eq!(text.lines().count(), 63);
    assert_eq!(threats.len(), 16, "14 alerts, 1 anomaly, 1 executable");
    assert_eq!(
        observations, 30,
        "19 tls, 6 http, 5 dns lookups of applications"
    );
    let expected: BTreeMap<String, u64> = [
        ("dns answer", 6),
        ("dns query for no known application", 1),
        ("event_type flow ignored", 7),
        ("event_type stats ignored", 2),
        ("fileinfo of a file that is not executable", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(skipped, expected);

    let records = usage.close_all(clock.now);
    assert_eq!(records.iter().map(|u| u.hits).sum::<u64>(), 30);
    let zoom_9 = records
        .iter()
        .find(|u| u.name == "zoom" && u.period_start == at("2026-11-25T09:00:00+09:00"))
        .unwrap();
    assert_eq!(zoom_9.hits, 2, "the lookup and the connection");
    let events: Vec<Event> = threats
        .into_iter()
        .chain(records.into_iter().map(Event::Usage))
        .collect();
    let report = Report {
        report_id: Id::parse("r-1").unwrap(),
        sent_at: clock.now,
        firmware: None,
        definitions: None,
        clients: Some(4),
        events,
    };
    let body = serde_json::to_vec(&report).unwrap();
    assert_eq!(parse_report(&body, clock.now).unwrap(), report);
}

#[test]
fn identical_threat_lines_get_ids_of_their_own_the_same_on_every_run() {
    let line = alert_line(json!({})).to_string();
    let id = |copies: &mut Copies| match map(&line) {
        Mapped::Threat(t) => copies.id(t.event_id),
        other => panic!("{other:?}"),
    };
    let mut run = Copies::default();
    let ids: Vec<Id> = (0..3).map(|_| id(&mut run)).collect();
    assert!(ids[1].as_str().ends_with("-c2") && ids[2].as_str().ends_with("-c3"));
    assert_ne!(ids[0], ids[1]);
    let mut again = Copies::default();
    let second: Vec<Id> = (0..3).map(|_| id(&mut again)).collect();
    assert_eq!(ids, second);
}
