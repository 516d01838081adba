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
