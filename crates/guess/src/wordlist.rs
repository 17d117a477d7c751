//! Wordlists: one guess per line, streamed, any size.
//!
//! Lines end at `\n`; one `\r` before it (or at the end of the file) is dropped, so files
//! written on Windows read the same. Bytes are kept as they are: a wordlist need not be UTF-8.
//! Empty lines and lines longer than [`crate::MAX_LEN`] bytes are skipped (an empty password
//! cannot protect a backup, and hashcat skips over-long lines too); skipping them also keeps
//! memory flat on a hostile file with no newlines at all.
//!
//! A file is counted in one streaming pass when opened, so its length is exact; if the file
//! then changes, reading it fails with [`GuessError::Changed`] instead of shifting every index.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::{GuessError, GuessIter, Source, MAX_LEN};

/// Reads accepted lines one at a time into a reused buffer.
struct Lines<R> {
    reader: BufReader<R>,
    /// The current line, at most `MAX_LEN + 1` bytes of it (room for a trailing `\r`).
    buf: Vec<u8>,
    /// Lines read so far, accepted or not (for error messages).
    line: u64,
    eof: bool,
}

impl<R: Read> Lines<R> {
    fn new(inner: R) -> Self {
        Lines {
            reader: BufReader::with_capacity(1 << 16, inner),
            buf: Vec::with_capacity(MAX_LEN + 1),
            line: 0,
            eof: false,
        }
    }

    /// Advance to the next accepted line (left in `self.buf`); `false` at the end.
    fn advance(&mut self) -> io::Result<bool> {
        loop {
            if self.eof {
                return Ok(false);
            }
            self.buf.clear();
            let mut raw_len = 0usize;
            let mut got_any = false;
            loop {
                let chunk = match self.reader.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if chunk.is_empty() {
                    self.eof = true;
                    break;
                }
                got_any = true;
                let (part, used, ended) = match chunk.iter().position(|&b| b == b'\n') {
                    Some(p) => (&chunk[..p], p + 1, true),
                    None => (chunk, chunk.len(), false),
                };
                // Keep only what could still make an acceptable line; count the rest.
                let room = (MAX_LEN + 1).saturating_sub(self.buf.len());
                self.buf.extend_from_slice(&part[..part.len().min(room)]);
                raw_len = raw_len.saturating_add(part.len());
                self.reader.consume(used);
                if ended {
                    break;
                }
            }
            if !got_any {
                // End of input right after a '\n' (or an empty input): no further line.
                return Ok(false);
            }
            self.line += 1;
            if raw_len != self.buf.len() {
                continue; // longer than MAX_LEN + 1: over-long whatever its ending
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if !self.buf.is_empty() && self.buf.len() <= MAX_LEN {
                return Ok(true);
            }
        }
    }
}

/// What a wordlist file looked like when it was counted.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    size: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &Path) -> Result<Stamp, GuessError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    if meta.is_dir() {
        return Err(io_err(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a folder, not a wordlist file",
            ),
        ));
    }
    Ok(Stamp {
        size: meta.len(),
        modified: meta.modified().ok(),
    })
}

fn io_err(path: &Path, source: io::Error) -> GuessError {
    GuessError::Io {
        path: path.to_path_buf(),
        source,
    }
}

enum Kind {
    File {
        path: PathBuf,
        stamp: Stamp,
        count: u64,
    },
    /// A stream that can be read once (stdin); taken by the first `iter_from`.
    Stream {
        label: String,
        reader: Mutex<Option<Box<dyn Read + Send>>>,
    },
}

/// A wordlist file, or stdin.
pub struct Wordlist {
    kind: Kind,
}

impl std::fmt::Debug for Wordlist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Wordlist {
    /// Open and count a wordlist file (one streaming pass).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GuessError> {
        let path = path.as_ref().to_path_buf();
        let before = stamp(&path)?;
        let file = File::open(&path).map_err(|e| io_err(&path, e))?;
        let mut lines = Lines::new(file);
        let mut count = 0u64;
        while lines
            .advance()
            .map_err(|e| read_err(&path, lines.line, e))?
        {
            count += 1;
        }
        let after = stamp(&path)?;
        if before != after {
            return Err(GuessError::Changed {
                source_name: format!("wordlist {}", path.display()),
                msg: "the file changed while it was being counted".into(),
            });
        }
        Ok(Wordlist {
            kind: Kind::File {
                path,
                stamp: after,
                count,
            },
        })
    }

    /// Standard input: length unknown, can be read only once.
    pub fn stdin() -> Self {
        Self::from_reader("stdin", Box::new(io::stdin()))
    }

    /// Any one-shot stream, like stdin (used for tests, and for pipes the caller opens).
    pub fn from_reader(label: &str, reader: Box<dyn Read + Send>) -> Self {
        Wordlist {
            kind: Kind::Stream {
                label: label.to_string(),
                reader: Mutex::new(Some(reader)),
            },
        }
    }

    /// The file's path (`None` for stdin).
    pub fn path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::File { path, .. } => Some(path),
            Kind::Stream { .. } => None,
        }
    }

    fn label(&self) -> String {
        match &self.kind {
            Kind::File { path, .. } => path.display().to_string(),
            Kind::Stream { label, .. } => label.clone(),
        }
    }
}

fn read_err(path: &Path, line: u64, source: io::Error) -> GuessError {
    // Name the line the failure came after, so a bad sector or dropped share is findable.
    io_err(
        path,
        io::Error::new(source.kind(), format!("after line {line}: {source}")),
    )
}

/// A one-shot stream, taken by the first iterator that reads from it.
type Shared = Mutex<Option<Box<dyn Read + Send>>>;

/// Iterator over a wordlist's lines, checking the count of a file as it goes. Nothing is read
/// (and a stream is not taken) until the first `next`, so an iterator opened only to check
/// that the source opens costs nothing and leaves stdin for the real pass.
struct WordIter<'a> {
    lines: Option<Lines<Box<dyn Read + Send>>>,
    /// Where to take the reader from on the first `next` (streams).
    stream: Option<&'a Shared>,
    /// Lines to pass over before the first one handed out.
    skip: u64,
    label: PathBuf,
    /// Lines still expected (files only).
    remaining: Option<u64>,
    done: bool,
}

impl WordIter<'_> {
    fn changed(&self, msg: &str) -> GuessError {
        GuessError::Changed {
            source_name: format!("wordlist {}", self.label.display()),
            msg: msg.to_string(),
        }
    }

    /// The next line, counted against the file's length.
    fn read(&mut self) -> Option<Result<Vec<u8>, GuessError>> {
        if self.done {
            return None;
        }
        let lines = match &mut self.lines {
            Some(l) => l,
            None => {
                let taken = self
                    .stream
                    .and_then(|m| m.lock().map(|mut r| r.take()).unwrap_or(None));
                self.done = true;
                let Some(reader) = taken else {
                    return Some(Err(GuessError::Unsupported {
                        source_name: format!("wordlist {}", self.label.display()),
                        msg: "it can be read only once".into(),
                    }));
                };
                self.done = false;
                self.lines.insert(Lines::new(reader))
            }
        };
        match lines.advance() {
            Ok(true) => {
                let word = lines.buf.clone();
                if let Some(r) = &mut self.remaining {
                    if *r == 0 {
                        self.done = true;
                        return Some(Err(
                            self.changed("it has more lines than when it was counted")
                        ));
                    }
                    *r -= 1;
                }
                Some(Ok(word))
            }
            Ok(false) => {
                self.done = true;
                match self.remaining {
                    Some(r) if r > 0 => Some(Err(
                        self.changed("it has fewer lines than when it was counted")
                    )),
                    _ => None,
                }
            }
            Err(e) => {
                self.done = true;
                let line = lines.line;
                Some(Err(read_err(&self.label, line, e)))
            }
        }
    }
}

impl Iterator for WordIter<'_> {
    type Item = Result<Vec<u8>, GuessError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Skip by reading: a line's position in the file is only known by counting newlines.
        // Skipped lines are checked against the count like the others.
        while self.skip > 0 {
            self.skip -= 1;
            match self.read()? {
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        self.read()
    }
}

impl Source for Wordlist {
    fn name(&self) -> String {
        match &self.kind {
            Kind::File { path, .. } => format!(
                "wordlist {}",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string())
            ),
            Kind::Stream { label, .. } => format!("wordlist {label}"),
        }
    }

    fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::File { count, .. } => Some(*count),
            Kind::Stream { .. } => None,
        }
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let mut iter = WordIter {
            lines: None,
            stream: None,
            skip: start,
            label: PathBuf::from(self.label()),
            remaining: None,
            done: false,
        };
        match &self.kind {
            Kind::File {
                path,
                stamp: s,
                count,
            } => {
                // Open now, so a missing or edited file is reported before any work starts.
                if stamp(path)? != *s {
                    return Err(GuessError::Changed {
                        source_name: self.name(),
                        msg: format!("{} was modified since it was counted", path.display()),
                    });
                }
                let file = File::open(path).map_err(|e| io_err(path, e))?;
                iter.lines = Some(Lines::new(Box::new(file)));
                iter.remaining = Some(*count);
                // Past the end: nothing to read, and no need to read the whole file to know.
                if start >= *count {
                    iter.done = true;
                }
            }
            Kind::Stream { reader, .. } => iter.stream = Some(reader),
        }
        Ok(Box::new(iter))
    }

    fn fingerprint(&self) -> String {
        match &self.kind {
            Kind::File { path, stamp, count } => {
                let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                let mtime = stamp
                    .modified
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
                    .unwrap_or_else(|| "?".into());
                format!(
                    "wordlist {:?} size {} mtime {mtime} lines {count}",
                    full.display().to_string(),
                    stamp.size
                )
            }
            Kind::Stream { label, .. } => format!("wordlist {label} (stream)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        f
    }

    fn all(w: &Wordlist, start: u64) -> Vec<Vec<u8>> {
        w.iter_from(start).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn splits_lines_tolerates_crlf_keeps_bytes() {
        let f = file(b"alpha\r\nbeta\n\n\xff\xfe\ngamma\r\n\r\nlast");
        let w = Wordlist::open(f.path()).unwrap();
        assert_eq!(w.len(), Some(5));
        let expect: Vec<Vec<u8>> = vec![
            b"alpha".to_vec(),
            b"beta".to_vec(),
            b"\xff\xfe".to_vec(),
            b"gamma".to_vec(),
            b"last".to_vec(),
        ];
        assert_eq!(all(&w, 0), expect);
        assert_eq!(all(&w, 3), expect[3..]);
        assert!(all(&w, 5).is_empty());
        assert!(all(&w, 99).is_empty());
    }

    #[test]
    fn skips_overlong_lines_at_the_limit() {
        let mut data = Vec::new();
        data.resize(MAX_LEN, b'a');
        data.extend(b"\r\n");
        data.resize(data.len() + MAX_LEN + 1, b'b');
        data.extend(b"\nok\n");
        data.resize(data.len() + (1 << 20), b'c');
        let f = file(&data);
        let w = Wordlist::open(f.path()).unwrap();
        let words = all(&w, 0);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].len(), MAX_LEN);
        assert_eq!(words[1], b"ok");
    }

    #[test]
    fn detects_a_changed_file() {
        let mut f = file(b"one\ntwo\n");
        let w = Wordlist::open(f.path()).unwrap();
        f.write_all(b"three\n").unwrap();
        f.flush().unwrap();
        let e = w.iter_from(0).err().expect("changed file accepted");
        assert!(e.to_string().contains("modified"), "{e}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let e = Wordlist::open("/nonexistent/words.txt").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/words.txt"), "{e}");
    }

    #[test]
    fn stream_reads_once() {
        let w = Wordlist::from_reader("stdin", Box::new(&b"a\nb\nc\n"[..]));
        assert_eq!(w.len(), None);
        // Opening an iterator without reading leaves the stream for the next one.
        drop(w.iter_from(0).unwrap());
        assert_eq!(all(&w, 1), vec![b"b".to_vec(), b"c".to_vec()]);
        let mut again = w.iter_from(0).unwrap();
        let e = again.next().unwrap().unwrap_err().to_string();
        assert!(e.contains("only once"), "{e}");
        assert!(again.next().is_none());
    }
}
