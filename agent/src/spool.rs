//! The spool is the appliance's memory of what it has not delivered yet: every report is
//! written to `DIR/spool/<seq>-<report_id>.json` before the first attempt to send it, and
//! deleted only once the cloud has answered 202. A report's bytes never change after
//! that, so a retry is always the same request and the cloud's idempotency by
//! `report_id` makes "at least once" delivery exactly-once storage. Whatever was in the
//! spool when the agent stopped (killed, cloud unreachable) is sent by the next run.
//!
//! Files are written to a dot-named temporary and renamed into place, so a crash never
//! leaves a half-written report for the sender to pick up. One agent process owns a state
//! directory at a time.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use domain::report::{Id, Report};

/// One spooled report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub report_id: String,
    pub path: PathBuf,
}

#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    rejected: PathBuf,
    next: AtomicU64,
}

/// A report id unique per device and fixed at spooling time: `r-<unix ms>-<seq>`. The
/// millisecond part keeps ids unique across restarts even when the sequence starts over.
pub fn report_id(now: DateTime<Utc>, seq: u64) -> Id {
    Id::parse(&format!("r-{}-{seq}", now.timestamp_millis()))
        .expect("r-, digits and - are id characters and fit in 64")
}

impl Spool {
    /// Opens (creating) `state_dir/spool` and `state_dir/rejected`, and drops temporaries a
    /// crash left behind: they were never renamed into place, so nobody relied on them.
    pub fn open(state_dir: &Path) -> io::Result<Spool> {
        let dir = state_dir.join("spool");
        let rejected = state_dir.join("rejected");
        fs::create_dir_all(&dir)?;
        fs::create_dir_all(&rejected)?;
        for item in fs::read_dir(&dir)? {
            let item = item?;
            if item.file_name().to_string_lossy().starts_with('.') {
                fs::remove_file(item.path())?;
            }
        }
        let spool = Spool {
            dir,
            rejected,
            next: AtomicU64::new(0),
        };
        let last = spool.entries()?.last().map_or(0, |e| e.seq);
        spool.next.store(last + 1, Ordering::SeqCst);
        Ok(spool)
    }

    /// The sequence number for the next report: higher than every report in the spool.
    pub fn next_seq(&self) -> u64 {
        self.next.fetch_add(1, Ordering::SeqCst)
    }

    /// Writes `report` durably under `seq`. Returns the entry and its exact bytes.
    pub fn put(&self, seq: u64, report: &Report) -> io::Result<Entry> {
        let body = serde_json::to_vec(report).map_err(io::Error::other)?;
        let report_id = report.report_id.as_str().to_owned();
        let name = format!("{seq:012}-{report_id}.json");
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        // Make the rename itself durable; failure here only weakens crash safety.
        if let Ok(dir) = fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(Entry {
            seq,
            report_id,
            path,
        })
    }

    /// Every spooled report, oldest (lowest sequence) first.
    pub fn entries(&self) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for item in fs::read_dir(&self.dir)? {
            let path = item?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let Some((seq, report_id)) = stem.split_once('-') else {
                continue;
            };
            let Ok(seq) = seq.parse() else {
                continue;
            };
            entries.push(Entry {
                seq,
                report_id: report_id.to_owned(),
                path,
            });
        }
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }

    pub fn len(&self) -> usize {
        self.entries().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cloud stored it: forget it.
    pub fn remove(&self, entry: &Entry) -> io::Result<()> {
        fs::remove_file(&entry.path)
    }

    /// The cloud refused it for good: move it to `rejected/`, with the answer beside it in
    /// `<name>.answer.txt`, for a person to look at.
    pub fn reject(&self, entry: &Entry, answer: &str) -> io::Result<PathBuf> {
        let name = entry
            .path
            .file_name()
            .ok_or_else(|| io::Error::other("spool entry without a file name"))?;
        let target = self.rejected.join(name);
        fs::rename(&entry.path, &target)?;
        let mut note = target.clone().into_os_string();
        note.push(".answer.txt");
        fs::write(note, answer)?;
        Ok(target)
    }

    pub fn rejected_dir(&self) -> &Path {
        &self.rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(seq: u64) -> Report {
        Report {
            report_id: report_id(DateTime::from_timestamp(1_764_032_400, 0).unwrap(), seq),
            sent_at: DateTime::from_timestamp(1_764_032_400, 0).unwrap(),
            firmware: None,
            definitions: None,
            clients: None,
            events: vec![],
        }
    }

    #[test]
    fn entries_come_out_oldest_first_even_past_ten_thousand() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        for seq in [10_000, 9, 2, 100] {
            spool.put(seq, &heartbeat(seq)).unwrap();
        }
        let seqs: Vec<u64> = spool.entries().unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 9, 100, 10_000]);
        assert_eq!(spool.entries().unwrap()[0].report_id, "r-1764032400000-2");
    }

    #[test]
    fn a_reopened_spool_continues_after_its_newest_report() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(spool.next_seq(), 1);
        spool.put(41, &heartbeat(41)).unwrap();
        let again = Spool::open(dir.path()).unwrap();
        assert_eq!(again.next_seq(), 42);
    }

    #[test]
    fn leftover_temporaries_are_dropped_and_never_listed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        spool.put(1, &heartbeat(1)).unwrap();
        fs::write(
            dir.path().join("spool/.000000000002-r-x.json.tmp"),
            b"{half",
        )
        .unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(spool.len(), 1);
        assert_eq!(fs::read_dir(dir.path().join("spool")).unwrap().count(), 1);
    }

    #[test]
    fn the_spooled_bytes_are_the_report_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let entry = spool.put(7, &heartbeat(7)).unwrap();
        let bytes = fs::read(&entry.path).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&heartbeat(7)).unwrap());
        let now = DateTime::from_timestamp(1_764_032_400, 0).unwrap();
        assert!(domain::report::parse_report(&bytes, now).is_ok());
    }

    #[test]
    fn a_rejected_report_moves_aside_with_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let entry = spool.put(3, &heartbeat(3)).unwrap();
        let moved = spool.reject(&entry, "400 invalid_field").unwrap();
        assert!(spool.is_empty());
        assert!(moved.exists());
        let note = fs::read_dir(spool.rejected_dir())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().ends_with(".answer.txt"))
            .unwrap();
        assert_eq!(
            fs::read_to_string(note.path()).unwrap(),
            "400 invalid_field"
        );
    }
}
