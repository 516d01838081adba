//! `--replay`: a file logged long ago is forwarded as if it were happening now. Every time
//! moves by whole hours (so hourly usage records keep their ids on every replay) so that
//! the newest *event* lands within the last hour. The anchor is the newest alert,
//! anomaly, fileinfo, http, tls or dns line: stats and flow records carry the wall clock of
//! the run that wrote the file, often years after the packets of a replayed capture.
//!
//! api-v1 takes events of the last 7 days only. A file whose events span more is fitted
//! in, in two steps:
//! 1. **Compress**: every quiet gap between events longer than [`KEEP_GAP`] is shortened
//!    by whole hours to at most `KEEP_GAP` + 1 hour. The bursts themselves keep their
//!    timing, so repeats still compact and group as they did.
//! 2. **Take the most recent part**: if it still does not fit, what lies before the
//!    window is left out, and the forwarder names every alert it left out.

use chrono::{DateTime, TimeDelta, Utc};
use domain::report::MAX_AGE;
use serde_json::Value;

use super::mapping::{FORWARDED, SAFETY, timestamp};

/// Quiet gaps up to this long are kept as they are.
pub const KEEP_GAP: TimeDelta = TimeDelta::hours(1);

/// What the forwarded events must fit into: api-v1's window less the spool's safety
/// margin and the hour that whole-hour shifts may add.
pub fn window() -> TimeDelta {
    MAX_AGE - SAFETY - TimeDelta::hours(1)
}

/// How far a logged time moves: a whole number of hours per stretch of the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    /// `(from, shift)`, `from` ascending: a logged time at or after `from` (and before
    /// the next piece) moves by `shift`. Empty: times stay as logged.
    pieces: Vec<(DateTime<Utc>, TimeDelta)>,
}

impl Timeline {
    /// Times as logged (forwarding a live file).
    pub fn as_logged() -> Timeline {
        Timeline::default()
    }

    /// Every time moved by `shift`.
    pub fn shifted(shift: TimeDelta) -> Timeline {
        Timeline {
            pieces: vec![(DateTime::<Utc>::MIN_UTC, shift)],
        }
    }

    pub fn shift_at(&self, logged: DateTime<Utc>) -> TimeDelta {
        self.pieces
            .iter()
            .rev()
            .find(|(from, _)| *from <= logged)
            .or(self.pieces.first())
            .map_or(TimeDelta::zero(), |(_, shift)| *shift)
    }
}

/// What `--replay` does to a file, to be told in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub timeline: Timeline,
    /// The newest event as logged, which lands within the last hour.
    pub newest: DateTime<Utc>,
    /// From the oldest to the newest event, as logged.
    pub span: TimeDelta,
    /// The same after compression.
    pub fitted_span: TimeDelta,
    /// Gaps that were shortened.
    pub gaps_shortened: usize,
}

impl Plan {
    /// One line saying what was done.
    pub fn describe(&self) -> String {
        let hours = |d: TimeDelta| d.num_minutes() as f64 / 60.0;
        let mut s = format!(
            "replay: newest event {} moved to now; events span {:.1} h",
            self.newest.format("%Y-%m-%d %H:%M:%S UTC"),
            hours(self.span)
        );
        if self.gaps_shortened > 0 {
            s.push_str(&format!(
                ", compressed to {:.1} h by shortening {} quiet gap{} to about {} h",
                hours(self.fitted_span),
                self.gaps_shortened,
                if self.gaps_shortened == 1 { "" } else { "s" },
                KEEP_GAP.num_hours()
            ));
        }
        if self.fitted_span > window() {
            s.push_str(&format!(
                "; still longer than the {} h window: the oldest part is left out (named below)",
                window().num_hours()
            ));
        }
        s
    }
}

/// The replay of a file's `lines` at `now`; `None` when no event line has a timestamp.
pub fn plan<'a>(lines: impl IntoIterator<Item = &'a str>, now: DateTime<Utc>) -> Option<Plan> {
    let mut times: Vec<DateTime<Utc>> = lines
        .into_iter()
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).ok()?;
            let event_type = v.get("event_type")?.as_str()?;
            FORWARDED.contains(&event_type).then(|| timestamp(&v))?
        })
        .collect();
    times.sort_unstable();
    times.dedup();
    let (&oldest, &newest) = (times.first()?, times.last()?);
    let base = whole_hours(now - newest);
    let span = newest - oldest;
    if span <= window() {
        return Some(Plan {
            timeline: Timeline::shifted(base),
            newest,
            span,
            fitted_span: span,
            gaps_shortened: 0,
        });
    }
    // Newest first: a shortened gap moves everything before it later by whole hours, so
    // each stretch between shortened gaps is a piece with a shift of its own.
    let mut timeline: Vec<(DateTime<Utc>, TimeDelta)> = Vec::new();
    let (mut shift, mut removed, mut gaps) = (base, TimeDelta::zero(), 0);
    for pair in times.windows(2).rev() {
        let (earlier, later) = (pair[0], pair[1]);
        let cut = whole_hours(later - earlier - KEEP_GAP);
        if cut > TimeDelta::zero() {
            timeline.push((later, shift));
            shift += cut;
            removed += cut;
            gaps += 1;
        }
    }
    timeline.push((DateTime::<Utc>::MIN_UTC, shift));
    timeline.reverse();
    Some(Plan {
        timeline: Timeline { pieces: timeline },
        newest,
        span,
        fitted_span: span - removed,
        gaps_shortened: gaps,
    })
}

/// `d` rounded down to whole hours (never below zero).
pub fn whole_hours(d: TimeDelta) -> TimeDelta {
    TimeDelta::hours(d.num_seconds().div_euclid(3600).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn line(event_type: &str, t: &str) -> String {
        format!(r#"{{"timestamp":"{t}","event_type":"{event_type}"}}"#)
    }

    #[test]
    fn the_anchor_is_the_newest_event_not_the_stats_wall_clock() {
        let lines = [
            line("alert", "2011-01-25T20:53:48.1+0300"),
            line("http", "2011-01-25T20:57:08.0+0300"),
            line("flow", "2011-01-25T20:58:00.0+0300"),
            line("stats", "2026-04-20T15:16:36.774872+0300"),
        ];
        let now = at("2026-12-01T10:30:00+09:00");
        let p = plan(lines.iter().map(String::as_str), now).unwrap();
        assert_eq!(p.newest, at("2011-01-25T20:57:08+03:00"));
        let shift = p.timeline.shift_at(p.newest);
        assert_eq!(shift.num_seconds() % 3600, 0, "whole hours");
        let landed = p.newest + shift;
        assert!(landed <= now && now - landed < TimeDelta::hours(1));
        assert_eq!(p.gaps_shortened, 0);
        assert!(p.describe().contains("moved to now"));
    }

    #[test]
    fn a_file_without_events_has_no_replay() {
        let lines = [line("stats", "2026-04-20T15:16:36.7+0300"), "{".to_owned()];
        assert_eq!(plan(lines.iter().map(String::as_str), Utc::now()), None);
    }

    #[test]
    fn a_long_file_is_compressed_at_its_quiet_gaps_keeping_each_burst_as_it_was() {
        let now = at("2026-12-01T10:30:00+09:00");
        let bursts = [
            "2026-10-01T09:00:00.0+0900",
            "2026-10-01T09:20:00.0+0900",
            "2026-10-15T14:00:00.0+0900",
            "2026-10-15T14:05:00.0+0900",
            "2026-11-20T08:00:00.0+0900",
            "2026-11-20T08:30:00.0+0900",
        ];
        let lines: Vec<String> = bursts.iter().map(|t| line("alert", t)).collect();
        let p = plan(lines.iter().map(String::as_str), now).unwrap();
        assert_eq!(p.gaps_shortened, 2);
        assert!(p.fitted_span <= window(), "{:?}", p.fitted_span);
        let moved: Vec<DateTime<Utc>> = bursts
            .iter()
            .map(|t| {
                let logged = at(&t.replace("+0900", "+09:00"));
                logged + p.timeline.shift_at(logged)
            })
            .collect();
        assert!(moved.windows(2).all(|w| w[0] < w[1]), "order kept");
        assert_eq!(
            moved[1] - moved[0],
            TimeDelta::minutes(20),
            "bursts keep their timing"
        );
        assert_eq!(moved[3] - moved[2], TimeDelta::minutes(5));
        for gap in [moved[2] - moved[1], moved[4] - moved[3]] {
            assert!(
                gap >= KEEP_GAP && gap < KEEP_GAP + TimeDelta::hours(1),
                "{gap:?}"
            );
        }
        assert!(now - moved[5] < TimeDelta::hours(1) && moved[5] <= now);
        assert!(moved[0] > now - window());
        for (t, logged) in moved.iter().zip(bursts) {
            let l = at(&logged.replace("+0900", "+09:00"));
            assert_eq!((*t - l).num_seconds() % 3600, 0, "whole hours");
        }
        assert!(p.describe().contains("shortening 2 quiet gaps"));
    }

    #[test]
    fn a_file_dense_for_longer_than_the_window_keeps_its_most_recent_part() {
        let now = at("2026-12-01T10:30:00+09:00");
        // An event every 30 minutes for ten days: no gap to shorten.
        let start = at("2026-11-01T00:00:00Z");
        let lines: Vec<String> = (0..480)
            .map(|i| {
                let t = start + TimeDelta::minutes(30 * i);
                line("alert", &t.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string())
            })
            .collect();
        let p = plan(lines.iter().map(String::as_str), now).unwrap();
        assert_eq!(p.gaps_shortened, 0);
        assert!(p.fitted_span > window());
        assert!(p.describe().contains("oldest part is left out"));
    }

    #[test]
    fn whole_hours_round_down_and_never_go_negative() {
        let d = TimeDelta::hours(30) + TimeDelta::minutes(59);
        assert_eq!(whole_hours(d), TimeDelta::hours(30));
        assert_eq!(whole_hours(TimeDelta::minutes(5)), TimeDelta::zero());
        assert_eq!(whole_hours(TimeDelta::minutes(-5)), TimeDelta::zero());
    }
}
