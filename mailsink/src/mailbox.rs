//! The received mails, oldest first, and where they live: in memory, and with `--store`
//! also one JSON line each in a file that is read back at startup. A mail is written to the
//! file before it counts as received, so every mail the sink answered 200 for survives a
//! restart. The mails also answer for idempotency keys: a key used within the last 24 hours
//! names its mail, across restarts too.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};

use crate::mail::Mail;

/// How long an idempotency key stays bound to its mail, as with Resend.
const IDEMPOTENCY_WINDOW: TimeDelta = TimeDelta::hours(24);

#[derive(Debug)]
pub struct Mailbox {
    mails: Vec<Mail>,
    file: Option<File>,
}

impl Mailbox {
    pub fn in_memory() -> Mailbox {
        Mailbox {
            mails: Vec::new(),
            file: None,
        }
    }

    /// Opens (or creates) the JSON Lines file at `path` and reads its mails. Lines that are
    /// not a mail (a write cut short by a crash) are skipped and reported by number.
    pub fn open(path: &Path) -> io::Result<(Mailbox, Vec<String>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut mails = Vec::new();
        let mut skipped = Vec::new();
        for (index, line) in BufReader::new(&file).split(b'\n').enumerate() {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Mail>(&line) {
                Ok(mail) => mails.push(mail),
                Err(e) => skipped.push(format!("line {}: {e}", index + 1)),
            }
        }
        // `split` hides whether the last line ended in a newline; look at the last byte.
        let broken_end = match file.metadata()?.len().checked_sub(1) {
            None => false,
            Some(last) => {
                let mut byte = [0];
                file.seek(SeekFrom::Start(last))?;
                file.read_exact(&mut byte)?;
                byte != *b"\n"
            }
        };
        if broken_end {
            // Otherwise the next mail would be glued to the broken line and lost with it.
            file.write_all(b"\n")?;
        }
        Ok((
            Mailbox {
                mails,
                file: Some(file),
            },
            skipped,
        ))
    }

    /// Oldest first.
    pub fn mails(&self) -> &[Mail] {
        &self.mails
    }

    pub fn get(&self, id: &str) -> Option<&Mail> {
        self.mails.iter().find(|m| m.id == id)
    }

    /// The mail received under `key` within the last 24 hours before `now`.
    pub fn by_idempotency_key(&self, key: &str, now: DateTime<Utc>) -> Option<&Mail> {
        self.mails.iter().rev().find(|m| {
            m.idempotency_key.as_deref() == Some(key) && now - m.received_at < IDEMPOTENCY_WINDOW
        })
    }

    pub fn add(&mut self, mail: Mail) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            let mut line = serde_json::to_vec(&mail)?;
            line.push(b'\n');
            // One write of an unbuffered file: once it returns, the line is the kernel's and
            // survives the sink being killed.
            file.write_all(&line)?;
        }
        self.mails.push(mail);
        Ok(())
    }

    /// Forgets every mail, in the file too; returns how many there were.
    pub fn clear(&mut self) -> io::Result<usize> {
        if let Some(file) = &self.file {
            file.set_len(0)?;
        }
        Ok(std::mem::take(&mut self.mails).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Submission;

    fn mail(id: &str, key: Option<&str>, received_at: DateTime<Utc>) -> Mail {
        let body = br#"{"from":"a@example.com","to":"b@example.com","subject":"s"}"#;
        let submission = Submission::parse(body).unwrap();
        Mail::received(submission, id.into(), received_at, key.map(str::to_owned))
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    #[test]
    fn an_idempotency_key_names_its_mail_for_24_hours() {
        let mut mailbox = Mailbox::in_memory();
        mailbox
            .add(mail("m1", Some("k"), at("2025-04-01T00:00:00Z")))
            .unwrap();
        let found = |now| {
            mailbox
                .by_idempotency_key("k", at(now))
                .map(|m| m.id.clone())
        };
        assert_eq!(found("2025-04-01T23:59:59Z").as_deref(), Some("m1"));
        assert_eq!(found("2025-04-02T00:00:00Z"), None);
        assert_eq!(
            mailbox.by_idempotency_key("other", at("2025-04-01T00:00:01Z")),
            None
        );
    }

    #[test]
    fn mails_in_the_file_are_read_back_and_a_broken_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mails.jsonl");
        {
            let (mut mailbox, skipped) = Mailbox::open(&path).unwrap();
            assert!(skipped.is_empty());
            mailbox.add(mail("m1", None, Utc::now())).unwrap();
            mailbox.add(mail("m2", Some("k"), Utc::now())).unwrap();
        }
        // A crash in the middle of writing a third line.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"id":"m3","rec"#).unwrap();

        let (mut mailbox, skipped) = Mailbox::open(&path).unwrap();
        let ids: Vec<_> = mailbox.mails().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2"]);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].starts_with("line 3: "), "{skipped:?}");
        mailbox.add(mail("m4", None, Utc::now())).unwrap();

        let (mailbox, skipped) = Mailbox::open(&path).unwrap();
        let ids: Vec<_> = mailbox.mails().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m4"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(
            mailbox.get("m2").unwrap().idempotency_key.as_deref(),
            Some("k")
        );
    }

    #[test]
    fn clearing_empties_the_file_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mails.jsonl");
        let (mut mailbox, _) = Mailbox::open(&path).unwrap();
        mailbox.add(mail("m1", None, Utc::now())).unwrap();
        assert_eq!(mailbox.clear().unwrap(), 1);
        mailbox.add(mail("m2", None, Utc::now())).unwrap();
        let (reopened, _) = Mailbox::open(&path).unwrap();
        let ids: Vec<_> = reopened.mails().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m2"]);
    }
}
