//! Events waiting to go out in one report, within api-v1's limits: at most 1000 events
//! and a body under [`MAX_BODY`].

use std::time::{Duration, Instant};

use domain::report::{Event, MAX_EVENTS};

/// A report body stays under this, well below api-v1's 1 MiB.
pub const MAX_BODY: usize = 900 * 1024;

/// The events of the next report.
#[derive(Debug, Default)]
pub struct Batch {
    events: Vec<Event>,
    bytes: usize,
    since: Option<Instant>,
}

/// Room kept for the report's own fields around the events.
const ENVELOPE: usize = 1024;

impl Batch {
    /// Adds `event`; when it would not fit, first hands back the events so far as a full
    /// report's worth.
    pub fn push(&mut self, event: Event) -> Option<Vec<Event>> {
        let size = serde_json::to_vec(&event).map_or(0, |b| b.len()) + 1;
        let full = !self.events.is_empty()
            && (self.events.len() >= MAX_EVENTS || ENVELOPE + self.bytes + size > MAX_BODY);
        let out = full.then(|| self.take());
        self.since.get_or_insert_with(Instant::now);
        self.events.push(event);
        self.bytes += size;
        out
    }

    pub fn take(&mut self) -> Vec<Event> {
        self.bytes = 0;
        self.since = None;
        std::mem::take(&mut self.events)
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How long the oldest waiting event has waited.
    pub fn age(&self) -> Duration {
        self.since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use domain::report::{Id, Report};
    use serde_json::json;

    use super::*;
    use crate::eve::Usage;
    use crate::eve::tests::{alert_line, at, now, threat_of};
    use crate::eve::usage::tests::obs;

    #[test]
    fn a_batch_holds_at_most_a_thousand_events() {
        let mut batch = Batch::default();
        let mut usage = Usage::default();
        let now = at("2026-11-25T10:30:00+09:00");
        for i in 0..1001u32 {
            let ip = format!("10.0.{}.{}", i / 250, i % 250);
            usage.add(obs("2026-11-25T09:10:00+09:00", &ip, "sns", 1));
        }
        let mut full = Vec::new();
        for u in usage.close_all(now) {
            full.extend(batch.push(Event::Usage(u)));
        }
        assert_eq!(full.len(), 1);
        assert_eq!(full[0].len(), MAX_EVENTS);
        assert_eq!(batch.take().len(), 1);
    }

    #[test]
    fn a_batch_stays_under_the_body_limit() {
        let mut batch = Batch::default();
        let big = threat_of(&alert_line(
            json!({"http": {"url": format!("/{}", "a".repeat(2000))}}),
        ));
        let mut reports = Vec::new();
        for _ in 0..800 {
            reports.extend(batch.push(Event::Threat(big.clone())));
        }
        reports.push(batch.take());
        assert!(reports.len() > 1);
        for events in reports {
            let body = serde_json::to_vec(&Report {
                report_id: Id::parse("r-1").unwrap(),
                sent_at: now(),
                firmware: Some("x".repeat(64)),
                definitions: Some("x".repeat(64)),
                clients: Some(u32::MAX),
                events,
            })
            .unwrap();
            assert!(body.len() <= MAX_BODY, "{} bytes", body.len());
        }
    }
}
