use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::TimeDelta::days(i64::from(n))
}

/// A day's figures from every participant's total (the viewer's at `viewer`, if any).
fn peer_day(d: NaiveDate, totals: &[u64]) -> PeerDay {
    PeerDay {
        day: d,
        companies: totals.len() as u32,
        detections: totals.iter().sum(),
        cuts: Cuts::of(totals),
    }
}

/// The comparison of one day where the viewer (first) and the others have `totals`.
fn one_day(viewer: u64, others: &[u64], min: u32) -> Result<Comparison, Withheld> {
    let mut all = vec![viewer];
    all.extend_from_slice(others);
    let d = day(0);
    compare(
        &[d],
        &[peer_day(d, &all)],
        &[],
        &[(
            d,
            Own {
                took_part: true,
                detections: viewer,
            },
        )],
        &[],
        min,
    )
}

#[track_caller]
fn check_cuts(totals: &[u64], expected: [u64; 4]) {
    let c = Cuts::of(totals);
    assert_eq!([c.p25, c.p50, c.p75, c.p90], expected, "{totals:?}");
}

#[test]
fn cut_points_are_nearest_ranks() {
    check_cuts(&[], [0, 0, 0, 0]);
    check_cuts(&[7], [7, 7, 7, 7]);
    check_cuts(&[1, 2, 3, 4], [1, 2, 3, 4]);
    check_cuts(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1], [3, 5, 8, 9]);
    check_cuts(&(1..=20).collect::<Vec<_>>(), [5, 10, 15, 18]);
    check_cuts(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 50], [0, 0, 0, 0]);
}

#[track_caller]
fn check_band(own: u64, cuts: [u64; 4], expected: Band) {
    let [p25, p50, p75, p90] = cuts;
    let cuts = Cuts { p25, p50, p75, p90 };
    assert_eq!(Band::of(own, cuts), expected, "{own} against {cuts:?}");
}

#[test]
fn above_the_ninetieth_cut_is_the_top_ten_percent() {
    check_band(91, [10, 20, 50, 90], Band::Top10);
    check_band(90, [10, 20, 50, 90], Band::Top25);
    check_band(51, [10, 20, 50, 90], Band::Top25);
}

#[test]
fn around_the_median_is_typical() {
    check_band(50, [10, 20, 50, 90], Band::Typical);
    check_band(20, [10, 20, 50, 90], Band::Typical);
    check_band(11, [10, 20, 50, 90], Band::Typical);
}

#[test]
fn at_or_below_the_twenty_fifth_cut_is_fewer() {
    check_band(10, [10, 20, 50, 90], Band::Fewer);
    check_band(0, [10, 20, 50, 90], Band::Fewer);
}

#[test]
fn none_when_most_have_none_is_typical_not_fewer() {
    check_band(0, [0, 0, 0, 3], Band::Typical);
    check_band(4, [0, 0, 0, 3], Band::Top10);
}

#[test]
fn the_headline_names_the_top_ten_percent() {
    assert_eq!(Band::Top10.label(), "上位 10% に入る多さです");
}

#[test]
fn the_average_leaves_the_viewer_out() {
    let c = one_day(1000, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10).unwrap();
    assert_eq!(c.days[0].average, Tenths(55));
    assert_eq!(c.average, 6, "5.5 rounds half away from zero");
    assert_eq!(c.own, 1000);
    assert_eq!(c.band, Band::Top10);
    assert_eq!(c.companies, 10);
}

#[test]
fn a_viewer_that_did_not_report_is_not_taken_out() {
    let d = day(0);
    let others: Vec<u64> = (1..=10).collect();
    let c = compare(
        &[d],
        &[peer_day(d, &others)],
        &[],
        &[(d, Own::default())],
        &[],
        10,
    )
    .unwrap();
    assert_eq!(c.days[0].average, Tenths(55));
    assert_eq!(c.own, 0);
}

#[test]
fn fewer_others_than_the_minimum_withhold_the_average() {
    assert_eq!(one_day(5, &[1; 9], 10), Err(Withheld));
    assert!(one_day(5, &[1; 10], 10).is_ok());
}

#[test]
fn one_day_below_the_minimum_withholds_the_whole_period() {
    let days = [day(0), day(1)];
    let full: Vec<u64> = vec![3; 12];
    let thin: Vec<u64> = vec![3; 5];
    let c = compare(
        &days,
        &[peer_day(days[0], &full), peer_day(days[1], &thin)],
        &[],
        &[],
        &[],
        10,
    );
    assert_eq!(c, Err(Withheld));
}

#[test]
fn a_day_the_cron_has_not_counted_yet_withholds_it() {
    let days = [day(0), day(1)];
    let c = compare(&days, &[peer_day(days[0], &[3; 12])], &[], &[], &[], 10);
    assert_eq!(c, Err(Withheld));
}

#[test]
fn the_period_sums_the_daily_averages_and_the_viewers_days() {
    let days = [day(0), day(1), day(2)];
    let all: Vec<PeerDay> = days
        .iter()
        .map(|&d| peer_day(d, &[[2; 10].as_slice(), &[8]].concat()))
        .collect();
    let own: Vec<(NaiveDate, Own)> = days
        .iter()
        .map(|&d| {
            (
                d,
                Own {
                    took_part: true,
                    detections: 8,
                },
            )
        })
        .collect();
    let c = compare(&days, &all, &[], &own, &[], 10).unwrap();
    assert_eq!(c.average, 6);
    assert_eq!(c.own, 24);
    assert_eq!(c.days.len(), 3);
    assert!(c.days.iter().all(|r| r.average == Tenths(20) && r.own == 8));
}

#[test]
fn each_function_is_averaged_over_the_days_cohort() {
    let d = day(0);
    // Eleven companies; two of the others saw 10 IPS detections each, the viewer 4.
    let all = peer_day(d, &[[4, 10, 10].as_slice(), &[0; 8]].concat());
    let ips = PeerDay {
        day: d,
        companies: 3,
        detections: 24,
        cuts: Cuts::default(),
    };
    let c = compare(
        &[d],
        &[all],
        &[(Function::Ips, ips)],
        &[(
            d,
            Own {
                took_part: true,
                detections: 4,
            },
        )],
        &[(Function::Ips, d, 4)],
        10,
    )
    .unwrap();
    assert_eq!(
        c.by_function,
        vec![FunctionRow {
            function: Function::Ips,
            own: 4,
            average: 2
        }]
    );
}

#[test]
fn tenths_read_as_a_person_writes_them() {
    assert_eq!(Tenths(123).text(), "12.3");
    assert_eq!(Tenths(5).text(), "0.5");
    assert_eq!(Tenths(40).text(), "4");
}

#[test]
fn the_count_of_companies_is_rounded_down_to_ten() {
    assert_eq!(companies_text(10), "10社以上");
    assert_eq!(companies_text(19), "10社以上");
    assert_eq!(companies_text(230), "230社以上");
}

proptest! {
    /// Below the minimum nothing is shown, at or above it always.
    #[test]
    fn withheld_exactly_below_the_minimum(others in prop::collection::vec(0u64..1000, 0..30), min in 1u32..20) {
        let shown = one_day(7, &others, min).is_ok();
        prop_assert_eq!(shown, others.len() as u32 >= min);
    }

    /// The viewer's own detections never move the average it is shown.
    #[test]
    fn the_viewer_does_not_move_its_average(others in prop::collection::vec(0u64..1000, 10..20), a in 0u64..5000, b in 0u64..5000) {
        let x = one_day(a, &others, 10).unwrap();
        let y = one_day(b, &others, 10).unwrap();
        prop_assert_eq!(x.average, y.average);
        prop_assert_eq!(x.days[0].average, y.days[0].average);
    }

    /// At the threshold, what is shown depends on the others' sum only: moving detections
    /// from one company to another changes nothing, so no one company's value can be told
    /// (which of the others holds how many is not recoverable).
    #[test]
    fn at_the_threshold_no_one_companys_value_shows(
        others in prop::collection::vec(0u64..1000, 10..=10),
        from in 0usize..10, to in 0usize..10, moved in 0u64..1000,
    ) {
        let mut shifted = others.clone();
        let moved = moved.min(shifted[from]);
        shifted[from] -= moved;
        shifted[to] += moved;
        let x = one_day(3, &others, 10).unwrap();
        let y = one_day(3, &shifted, 10).unwrap();
        prop_assert_eq!(x.average, y.average);
        prop_assert_eq!(x.days[0].average, y.days[0].average);
        prop_assert_eq!(x.companies, y.companies);
    }
}
