//! Reading a log file line by line, either to its end or following it as `tail -F` does:
//! when the file grows the new lines come out, when it is truncated (copytruncate
//! rotation) reading starts over at the top, and when it is replaced (rename rotation,
//! the usual for Suricata's eve.json) the new file is opened once it appears. A line is
//! only handed out once its newline arrived, so a writer caught mid-line is not split.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Line(String),
    /// Following, and nothing new yet: poll again a little later.
    Idle,
    /// Read to the end (not following).
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    ToEnd,
    Follow,
}

pub struct Tail {
    path: PathBuf,
    reader: BufReader<File>,
    inode: u64,
    pos: u64,
    partial: Vec<u8>,
    mode: Mode,
}

impl Tail {
    /// Reads `path` once, to its end; a last line without a newline counts.
    pub fn to_end(path: &Path) -> io::Result<Tail> {
        Tail::open(path, Mode::ToEnd)
    }

    /// Reads `path` from the top and then follows it.
    pub fn follow(path: &Path) -> io::Result<Tail> {
        Tail::open(path, Mode::Follow)
    }

    fn open(path: &Path, mode: Mode) -> io::Result<Tail> {
        let file = File::open(path)?;
        let inode = file.metadata()?.ino();
        Ok(Tail {
            path: path.to_owned(),
            reader: BufReader::new(file),
            inode,
            pos: 0,
            partial: Vec::new(),
            mode,
        })
    }

    pub fn next_line(&mut self) -> io::Result<Next> {
        loop {
            let n = self.reader.read_until(b'\n', &mut self.partial)?;
            self.pos += n as u64;
            if self.partial.ends_with(b"\n") {
                return Ok(Next::Line(self.take()));
            }
            if n > 0 {
                // A line still being written: see whether the rest is there already.
                continue;
            }
            if self.mode == Mode::ToEnd {
                if self.partial.is_empty() {
                    return Ok(Next::End);
                }
                return Ok(Next::Line(self.take()));
            }
            match fs::metadata(&self.path) {
                Ok(meta) if meta.ino() != self.inode => {
                    // Replaced: the old file is read to its end, so move to the new one.
                    let file = File::open(&self.path)?;
                    self.inode = file.metadata()?.ino();
                    self.reader = BufReader::new(file);
                    self.pos = 0;
                    if !self.partial.is_empty() {
                        return Ok(Next::Line(self.take()));
                    }
                }
                Ok(meta) if meta.len() < self.pos => {
                    // Truncated in place: start over at the top.
                    let file = File::open(&self.path)?;
                    self.reader = BufReader::new(file);
                    self.pos = 0;
                    self.partial.clear();
                }
                // Unchanged, or moved away and not recreated yet.
                _ => return Ok(Next::Idle),
            }
        }
    }

    fn take(&mut self) -> String {
        let mut bytes = std::mem::take(&mut self.partial);
        while matches!(bytes.last(), Some(b'\n' | b'\r')) {
            bytes.pop();
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn lines_until_idle(t: &mut Tail) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            match t.next_line().unwrap() {
                Next::Line(l) => out.push(l),
                Next::Idle | Next::End => return out,
            }
        }
    }

    fn append(path: &Path, text: &str) {
        let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn reading_to_the_end_keeps_a_last_line_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        fs::write(&path, "a\r\nb\nc").unwrap();
        let mut t = Tail::to_end(&path).unwrap();
        assert_eq!(lines_until_idle(&mut t), ["a", "b", "c"]);
        assert_eq!(t.next_line().unwrap(), Next::End);
    }

    #[test]
    fn following_waits_for_the_end_of_a_half_written_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        fs::write(&path, "one\ntw").unwrap();
        let mut t = Tail::follow(&path).unwrap();
        assert_eq!(lines_until_idle(&mut t), ["one"]);
        append(&path, "o\nthree\n");
        assert_eq!(lines_until_idle(&mut t), ["two", "three"]);
    }

    #[test]
    fn following_starts_over_after_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        fs::write(&path, "old line one\nold line two\n").unwrap();
        let mut t = Tail::follow(&path).unwrap();
        assert_eq!(lines_until_idle(&mut t).len(), 2);
        fs::write(&path, "new\n").unwrap();
        assert_eq!(lines_until_idle(&mut t), ["new"]);
    }

    #[test]
    fn following_moves_to_the_new_file_after_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        fs::write(&path, "1\n").unwrap();
        let mut t = Tail::follow(&path).unwrap();
        assert_eq!(lines_until_idle(&mut t), ["1"]);
        append(&path, "2\n");
        fs::rename(&path, dir.path().join("eve.json.1")).unwrap();
        assert_eq!(
            lines_until_idle(&mut t),
            ["2"],
            "the rest of the old file first"
        );
        assert_eq!(t.next_line().unwrap(), Next::Idle, "no new file yet");
        fs::write(&path, "3\n4\n").unwrap();
        assert_eq!(lines_until_idle(&mut t), ["3", "4"]);
    }
}
