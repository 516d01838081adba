use super::*;

fn days(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("11/{:02}", 25 + i)).collect()
}

fn peers() -> Chart {
    Chart {
        id: "per-day".into(),
        title: "1日ごとの検知件数".into(),
        description: "11/25〜12/01 の自社の検知件数と参加企業平均".into(),
        unit: "件".into(),
        labels: days(7),
        series: vec![
            Series {
                name: "自社".into(),
                values: vec![3.0, 0.0, 12.0, 5.0, 7.0, 1.0, 4.0],
                mark: Mark::Bars,
            },
            Series {
                name: "参加企業平均".into(),
                values: vec![2.5, 2.0, 3.1, 4.0, 2.2, 1.5, 3.0],
                mark: Mark::Line,
            },
        ],
    }
}

#[test]
fn a_comparison_is_bars_and_a_line_with_its_texts_written_out() {
    insta::assert_snapshot!(render(&peers()));
}

#[test]
fn names_from_people_are_escaped() {
    let mut c = peers();
    c.id = "a\"b".into();
    c.series[0].name = "<script>alert('本社')</script> & 支店".into();
    c.title = "検知 <b>件数</b>".into();
    let svg = render(&c);
    assert!(!svg.contains("<script>"));
    assert!(!svg.contains("<b>"));
    insta::assert_snapshot!(svg);
}

#[test]
fn every_text_is_written_by_us_and_plotters_writes_none() {
    let svg = render(&peers());
    // The legend and the labels.
    for s in ["自社", "参加企業平均", "11/25", "11/31", "（件）"] {
        assert!(svg.contains(&format!(">{s}<")), "{s}");
    }
    assert_eq!(svg.matches("<svg").count(), 1, "one svg element");
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("<title id=\"per-day-title\">1日ごとの検知件数</title>"));
}

#[track_caller]
fn check_scale(max: f64, expected: (f64, f64)) {
    assert_eq!(scale(max), expected, "{max}");
}

#[test]
fn the_value_axis_ends_at_a_round_number_over_the_largest_value() {
    check_scale(0.0, (4.0, 1.0));
    check_scale(0.3, (4.0, 1.0));
    check_scale(3.0, (4.0, 1.0));
    check_scale(12.0, (20.0, 5.0));
    check_scale(40.0, (40.0, 10.0));
    check_scale(41.0, (80.0, 20.0));
    check_scale(950.0, (1000.0, 250.0));
    check_scale(1001.0, (2000.0, 500.0));
}

#[test]
fn many_days_write_at_most_seven_labels() {
    let mut c = peers();
    c.labels = (0..90).map(|i| format!("d{i}")).collect();
    for s in &mut c.series {
        s.values = vec![1.0; 90];
    }
    let svg = render(&c);
    let labels = (0..90).filter(|i| svg.contains(&format!(">d{i}<"))).count();
    assert!(labels <= 7, "{labels}");
    assert!(svg.contains(">d0<"));
}
