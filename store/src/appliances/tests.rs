//! The appliance status page against the portal data set: what 本社 reported, when it was
//! enrolled (through the real enrollment), its outages newest first, one customer at a
//! time, along indexes.

use domain::device::DeviceId;

use super::*;
use crate::devices::{self, Details};
use crate::sample::at;
use crate::sample::portal::{portal, tenant};
use crate::testing::{Fixture, block_on};

fn id(s: &str) -> DeviceId {
    DeviceId::parse(s).expect("a device id")
}

/// 本社 re-enrolled on 11-20 with its details, connected clients reported, and three
/// outages recorded by the cron: two closed, one of 支店 still open.
fn with_history(f: &Fixture) {
    f.db.execute_script(
        "INSERT INTO enrollment_codes (code_hash, device_id, expires_at, created_at)
           VALUES ('code-1', 'd0000000a001', 9999999999999, 0);
         UPDATE devices SET definitions = '2026.12.01.01', clients = 104 WHERE id = 'd0000000a001';
         INSERT INTO device_outages (customer_id, device_id, down_since, noticed_at, back_at) VALUES
           ('c-a1', 'd0000000a001', 1764200000000, 1764200300000, 1764203000000),
           ('c-a1', 'd0000000a001', 1764400000000, 1764400300000, 1764401000000),
           ('c-a1', 'd0000000a011', 1764579600000, 1764579900000, NULL),
           ('c-a2', 'd0000000a002', 1764500000000, 1764500300000, NULL);",
    )
    .expect("history");
    let enrolled = block_on(devices::enroll(
        &f.db,
        "code-1",
        "h-new",
        &id("d0000000a001"),
        &Details {
            model: Some("UTM-S100"),
            firmware: Some("1.4.2"),
        },
        at("2026-11-20T01:00:00Z"),
    ))
    .expect("enrolls");
    assert!(enrolled);
}

#[test]
fn an_appliance_shows_what_it_reported_its_enrollment_and_its_outages_newest_first() {
    let f = portal();
    with_history(&f);
    let d = block_on(detail(&f.db, &tenant(&f, "c-a1"), &id("d0000000a001"), 10))
        .expect("reads")
        .expect("c-a1's appliance");
    assert_eq!(
        d.appliance,
        Appliance {
            id: "d0000000a001".into(),
            name: "本社".into(),
            model: Some("UTM-S100".into()),
            firmware: Some("1.4.2".into()),
            definitions: Some("2026.12.01.01".into()),
            clients: Some(104),
            disabled: false,
            last_seen_at: Some(at("2026-12-01T10:00:00Z")),
            // The token of the latest enrollment, not the revoked one issued at 0.
            enrolled_at: Some(at("2026-11-20T01:00:00Z")),
            registered_at: at("1970-01-01T00:00:00Z"),
        }
    );
    let ms = |ms: i64| DateTime::from_timestamp_millis(ms).expect("in range");
    assert_eq!(
        d.outages,
        [
            Outage {
                down_since: Some(ms(1_764_400_000_000)),
                noticed_at: ms(1_764_400_300_000),
                back_at: Some(ms(1_764_401_000_000)),
            },
            Outage {
                down_since: Some(ms(1_764_200_000_000)),
                noticed_at: ms(1_764_200_300_000),
                back_at: Some(ms(1_764_203_000_000)),
            },
        ]
    );
    let latest = block_on(detail(&f.db, &tenant(&f, "c-a1"), &id("d0000000a001"), 1))
        .expect("reads")
        .expect("c-a1's appliance");
    assert_eq!(latest.outages, d.outages[..1]);
    let shiten = block_on(detail(&f.db, &tenant(&f, "c-a1"), &id("d0000000a011"), 10))
        .expect("reads")
        .expect("c-a1's appliance");
    assert_eq!(
        shiten.appliance.enrolled_at,
        Some(at("1970-01-01T00:00:00Z"))
    );
    assert_eq!(shiten.appliance.model, None);
    assert_eq!(shiten.outages.len(), 1);
    assert_eq!(shiten.outages[0].back_at, None, "still down");
}

#[test]
fn an_appliance_never_enrolled_has_no_enrollment_time_and_no_outages() {
    let f = portal();
    f.db.execute_script(
        "INSERT INTO devices (id, customer_id, name, created_at) VALUES ('d0000000a0ff', 'c-a1', '倉庫', 1764500000000);",
    )
    .expect("registered");
    let d = block_on(detail(&f.db, &tenant(&f, "c-a1"), &id("d0000000a0ff"), 10))
        .expect("reads")
        .expect("c-a1's appliance");
    assert_eq!(d.appliance.enrolled_at, None);
    assert_eq!(d.appliance.last_seen_at, None);
    assert_eq!(
        d.appliance.registered_at,
        DateTime::from_timestamp_millis(1_764_500_000_000).expect("in range")
    );
    assert!(d.outages.is_empty());
}

#[test]
fn another_customers_appliance_is_none_and_never_listed() {
    let f = portal();
    with_history(&f);
    let a2 = tenant(&f, "c-a2");
    assert_eq!(
        block_on(detail(&f.db, &a2, &id("d0000000a001"), 10)).expect("reads"),
        None
    );
    assert_eq!(
        block_on(detail(&f.db, &tenant(&f, "c-b1"), &id("d0000000a002"), 10)).expect("reads"),
        None
    );
    let own = block_on(detail(&f.db, &a2, &id("d0000000a002"), 10))
        .expect("reads")
        .expect("its own");
    assert_eq!(own.outages.len(), 1, "its own outage, not c-a1's");
    let listed = block_on(list(&f.db, &tenant(&f, "c-a1"))).expect("reads");
    let names: Vec<(&str, &str)> = listed
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    assert_eq!(names, [("d0000000a011", "支店"), ("d0000000a001", "本社")]);
    assert_eq!(listed[1].clients, Some(104));
}

#[test]
fn the_appliance_reads_walk_indexes() {
    let f = portal();
    let (t, d) = (tenant(&f, "c-a1"), id("d0000000a001"));
    let plans = [
        (list_query(&t), "devices_by_customer"),
        (
            appliance_query(&t, &d),
            "USING INDEX sqlite_autoindex_devices_1",
        ),
        (outages_query(&t, &d, 10), "device_outages_by_device"),
    ];
    for (q, index) in plans {
        let plan = f.db.plan(&q).expect("plans").join("\n");
        assert!(
            !plan.lines().any(|l| l.starts_with("SCAN ")),
            "{}\n{plan}",
            q.sql()
        );
        assert!(plan.contains(index), "{}\n{plan}", q.sql());
        // The live token is found by its device.
        assert!(
            plan.contains("device_tokens_by_device") || !q.sql().contains("device_tokens"),
            "{plan}"
        );
    }
    let outages =
        f.db.plan(&outages_query(&t, &d, 10))
            .expect("plans")
            .join("\n");
    assert!(
        !outages.contains("TEMP B-TREE"),
        "newest first along the index: {outages}"
    );
}
