//! The received mails and text messages, oldest first, and where they live: in memory,
//! and with `--store` also one JSON line each in a file that is read back at startup. A
//! line says its `kind`, `"mail"` or `"sms"`; a line without one is a mail written before
//! the sink took text messages. Anything is written to the file before it counts as
//! received, so everything the sink answered 2xx for survives a restart. The mails also
//! answer for idempotency keys: a key used within the last 24 hours names its mail, across
//! restarts too.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::mail::Mail;
use crate::sms::Message;

/// How long an idempotency key stays bound to its mail, as with Resend.
const IDEMPOTENCY_WINDOW: TimeDelta = TimeDelta::hours(24);

#[derive(Debug)]
pub struct Mailbox {
    mails: Vec<Mail>,
    messages: Vec<Message>,
    file: Option<File>,
}

/// One line of the store file.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record {
    Mail(Mail),
    Sms(Message),
}

impl Record {
    fn parse(line: &[u8]) -> serde_json::Result<Record> {
        let mut value: Value = serde_json::from_slice(line)?;
        if let Some(fields) = value.as_object_mut() {
            fields.entry("kind").or_insert_with(|| Value::from("mail"));
        }
        serde_json::from_value(value)
    }

    fn line(&self) -> serde_json::Result<Vec<u8>> {
        let mut line = serde_json::to_vec(self)?;
        line.push(b'\n');
        Ok(line)
    }
}

impl Mailbox {
    pub fn in_memory() -> Mailbox {
        Mailbox {
            mails: Vec::new(),
            messages: Vec::new(),
            file: None,
        }
    }

    /// Opens (or creates) the JSON Lines file at `path` and reads its mails and messages.
    /// Lines that are neither (a write cut short by a crash) are skipped and reported by
    /// number.
    pub fn open(path: &Path) -> io::Result<(Mailbox, Vec<String>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut mails = Vec::new();
        let mut messages = Vec::new();
        let mut skipped = Vec::new();
        for (index, line) in BufReader::new(&file).split(b'\n').enumerate() {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match Record::parse(&line) {
                Ok(Record::Mail(mail)) => mails.push(mail),
                Ok(Record::Sms(message)) => messages.push(message),
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
            // Otherwise the next line would be glued to the broken one and lost with it.
            file.write_all(b"\n")?;
        }
        Ok((
            Mailbox {
                mails,
                messages,
                file: Some(file),
            },
            skipped,
        ))
    }

    /// Oldest first.
    pub fn mails(&self) -> &[Mail] {
        &self.mails
    }

    /// The text messages, oldest first.
    pub fn messages(&self) -> &[Message] {
        &self.messages
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
        self.append(&Record::Mail(mail.clone()))?;
        self.mails.push(mail);
        Ok(())
    }

    pub fn add_message(&mut self, message: Message) -> io::Result<()> {
        self.append(&Record::Sms(message.clone()))?;
        self.messages.push(message);
        Ok(())
    }

    /// Forgets every mail and message, in the file too; returns how many there were.
    pub fn clear(&mut self) -> io::Result<usize> {
        if let Some(file) = &self.file {
            file.set_len(0)?;
        }
        Ok(std::mem::take(&mut self.mails).len() + std::mem::take(&mut self.messages).len())
    }

    /// Forgets every mail, in the file too, and keeps the messages; returns how many mails
    /// there were.
    pub fn clear_mails(&mut self) -> io::Result<usize> {
        let kept: Vec<Record> = self.messages.iter().cloned().map(Record::Sms).collect();
        self.rewrite(&kept)?;
        Ok(std::mem::take(&mut self.mails).len())
    }

    /// Forgets every message, in the file too, and keeps the mails; returns how many
    /// messages there were.
    pub fn clear_messages(&mut self) -> io::Result<usize> {
        let kept: Vec<Record> = self.mails.iter().cloned().map(Record::Mail).collect();
        self.rewrite(&kept)?;
        Ok(std::mem::take(&mut self.messages).len())
    }

    fn append(&mut self, record: &Record) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            // One write of an unbuffered file: once it returns, the line is the kernel's and
            // survives the sink being killed.
            file.write_all(&record.line()?)?;
        }
        Ok(())
    }

    /// Replaces the file's lines with `records`. Not crash-safe (a kill in between loses
    /// the kept lines), which is acceptable for a development tool's explicit delete.
    fn rewrite(&mut self, records: &[Record]) -> io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let mut lines = Vec::new();
        for record in records {
            lines.extend(record.line()?);
        }
        file.set_len(0)?;
        // The file is in append mode: this writes from the new end, offset 0.
        file.write_all(&lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Submission;
    use crate::sms;

    fn mail(id: &str, key: Option<&str>, received_at: DateTime<Utc>) -> Mail {
        let body = br#"{"from":"a@example.com","to":"b@example.com","subject":"s"}"#;
        let submission = Submission::parse(body).unwrap();
        Mail::received(submission, id.into(), received_at, key.map(str::to_owned))
    }

    fn message(sid: &str) -> Message {
        let fields = [
            ("To", "+819012345678"),
            ("From", "+815000000000"),
            ("Body", "123456"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        let submission = sms::Submission::parse(&fields).unwrap();
        Message::received(submission, sid.into(), "AC1".into(), Utc::now())
    }

    fn ids(mailbox: &Mailbox) -> (Vec<&str>, Vec<&str>) {
        (
            mailbox.mails().iter().map(|m| m.id.as_str()).collect(),
            mailbox.messages().iter().map(|m| m.sid.as_str()).collect(),
        )
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

    #[test]
    fn mails_and_messages_share_the_file_and_lines_without_a_kind_are_mails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mails.jsonl");
        // A mail line as the sink wrote them before it took text messages.
        let old = mail("m0", None, Utc::now());
        let line = serde_json::to_string(&old).unwrap();
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let (new, first, second) = (
            mail("m1", Some("k"), Utc::now()),
            message("SM1"),
            message("SM2"),
        );
        {
            let (mut mailbox, skipped) = Mailbox::open(&path).unwrap();
            assert!(skipped.is_empty(), "{skipped:?}");
            mailbox.add_message(first.clone()).unwrap();
            mailbox.add(new.clone()).unwrap();
            mailbox.add_message(second.clone()).unwrap();
        }
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"kind\":\"fax\",\"id\":\"f1\"}\n")
            .unwrap();

        let (mailbox, skipped) = Mailbox::open(&path).unwrap();
        assert_eq!(mailbox.mails(), [old, new]);
        assert_eq!(mailbox.messages(), [first, second]);
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].starts_with("line 5: unknown variant `fax`"),
            "{skipped:?}"
        );
        let kinds: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            [
                Value::Null,
                "sms".into(),
                "mail".into(),
                "sms".into(),
                "fax".into()
            ]
        );
    }

    #[test]
    fn clearing_mails_keeps_the_messages_and_clearing_messages_keeps_the_mails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mails.jsonl");
        let (mut mailbox, _) = Mailbox::open(&path).unwrap();
        mailbox.add(mail("m1", None, Utc::now())).unwrap();
        mailbox.add_message(message("SM1")).unwrap();
        mailbox.add(mail("m2", None, Utc::now())).unwrap();
        assert_eq!(mailbox.clear_mails().unwrap(), 2);
        mailbox.add(mail("m3", None, Utc::now())).unwrap();
        let (mut reopened, _) = Mailbox::open(&path).unwrap();
        assert_eq!(ids(&reopened), (vec!["m3"], vec!["SM1"]));

        assert_eq!(reopened.clear_messages().unwrap(), 1);
        let (mut reopened, _) = Mailbox::open(&path).unwrap();
        assert_eq!(ids(&reopened), (vec!["m3"], vec![]));
        reopened.add_message(message("SM2")).unwrap();
        assert_eq!(reopened.clear().unwrap(), 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
