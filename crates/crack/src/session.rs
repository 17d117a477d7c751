//! Sessions: the checkpoint of one recovery, so that running the same command again resumes.
//!
//! A session file (JSON, in [`crate::paths::sessions_dir`]) holds what defines the stream (the
//! plan's fingerprint, the targets, the shard) and the position: the first guess index not yet
//! finished. It is written to a temporary name, flushed to disk and renamed over the old file,
//! so a process killed at any moment leaves either the old or the new checkpoint, never a torn
//! one, and never a position past a guess that was not tried. Passwords are never written here.

use crate::engine::Progress;
use crate::error::CrackError;
use sesame_backup::HashLine;
use sesame_guess::{Chunk, Shard};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bumped when the file's meaning changes.
pub const FORMAT: u32 = 1;

/// What a session file holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionState {
    pub format: u32,
    pub name: String,
    /// [`sesame_guess::Plan::fingerprint`] of the stream.
    pub plan: String,
    /// The sources, for people reading the file.
    pub sources: Vec<String>,
    /// The target hash lines.
    pub targets: Vec<String>,
    /// `K/N`.
    pub shard: String,
    /// `--skip`: the first index of the chunk this session works on (0: the stream's start).
    #[serde(default)]
    pub skip: u64,
    /// `--limit`: index slots in the chunk (`None`: to the stream's end).
    #[serde(default)]
    pub limit: Option<u64>,
    /// First global index not yet finished: resume here.
    pub position: u64,
    /// Guesses of this shard before `position`.
    pub done: u64,
    /// Guesses of this shard in the whole plan, when known.
    pub total: Option<u64>,
    /// Seconds spent in all runs so far.
    pub elapsed_s: f64,
    /// Unix time of the last write.
    pub updated: u64,
    /// "found" or "exhausted" once the run ended that way; None while there is work left.
    pub finished: Option<String>,
}

/// An open session: where its file is and what it last said.
#[derive(Debug)]
pub struct Session {
    path: PathBuf,
    state: SessionState,
    /// Elapsed seconds of earlier runs.
    elapsed_before: f64,
}

/// What [`Session::open`] found.
#[derive(Debug)]
pub enum Resume {
    /// No session file (or `fresh`): start at 0.
    New,
    /// A checkpoint of this stream: continue from `position`.
    From { position: u64, done: u64 },
    /// This stream was already run to its end ("found" or "exhausted").
    Finished { how: String, position: u64 },
}

impl Session {
    /// A name from the targets, the plan, the shard and the chunk: the same command gets the
    /// same name.
    pub fn default_name(
        targets: &[HashLine],
        plan_fingerprint: &str,
        shard: Shard,
        chunk: Chunk,
    ) -> String {
        let mut h = Sha256::new();
        for t in targets {
            h.update(t.to_string().as_bytes());
            h.update(b"\n");
        }
        h.update(plan_fingerprint.as_bytes());
        h.update(b"\n");
        h.update(shard.to_string().as_bytes());
        // The whole stream adds nothing, so names of sessions from before chunks still match.
        if chunk != Chunk::ALL {
            h.update(format!("\nchunk {chunk}").as_bytes());
        }
        format!("recover-{}", &hex::encode(h.finalize())[..16])
    }

    /// Checks a session name given with `--session`: letters, digits, `.`, `_`, `-`.
    pub fn check_name(name: &str) -> Result<(), String> {
        let ok = !name.is_empty()
            && name.len() <= 100
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "session name {name:?} is not usable: use up to 100 letters, digits, '.', '_' or '-' (not starting with '.')"
            ))
        }
    }

    /// The file of session `name` in `dir`.
    pub fn path_in(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("{name}.json"))
    }

    /// Opens (or prepares) session `name` in `dir` for this stream. With `fresh`, an existing
    /// file is ignored (and overwritten at the first checkpoint). An existing file made for a
    /// different stream (or another shard or chunk of it) is an error that says so. A resumed
    /// position is never before the chunk's start.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        dir: &Path,
        name: &str,
        targets: &[HashLine],
        plan_fingerprint: &str,
        sources: Vec<String>,
        shard: Shard,
        chunk: Chunk,
        total: Option<u64>,
        fresh: bool,
    ) -> Result<(Session, Resume), CrackError> {
        Session::check_name(name).map_err(|msg| CrackError::Session {
            path: dir.to_path_buf(),
            msg,
        })?;
        let path = Session::path_in(dir, name);
        let mut state = SessionState {
            format: FORMAT,
            name: name.to_string(),
            plan: plan_fingerprint.to_string(),
            sources,
            targets: targets.iter().map(|t| t.to_string()).collect(),
            shard: shard.to_string(),
            skip: chunk.skip,
            limit: chunk.limit,
            position: chunk.skip,
            done: 0,
            total,
            elapsed_s: 0.0,
            updated: now(),
            finished: None,
        };
        if fresh {
            return Ok((
                Session {
                    path,
                    state,
                    elapsed_before: 0.0,
                },
                Resume::New,
            ));
        }
        let old = match Session::load(&path)? {
            None => {
                return Ok((
                    Session {
                        path,
                        state,
                        elapsed_before: 0.0,
                    },
                    Resume::New,
                ))
            }
            Some(old) => old,
        };
        let mismatch = |what: &str| {
            CrackError::Session {
            path: path.clone(),
            msg: format!(
                "it was saved for {what}; use --fresh to start this session over, or --session with another name"
            ),
        }
        };
        if old.format != FORMAT {
            return Err(mismatch("another version of sesame"));
        }
        if old.plan != state.plan {
            return Err(mismatch(
                "other guess sources (or their files changed since)",
            ));
        }
        if old.targets != state.targets {
            return Err(mismatch("other targets"));
        }
        if old.shard != state.shard {
            return Err(mismatch(&format!("shard {}", old.shard)));
        }
        let old_chunk = Chunk::new(old.skip, old.limit);
        if old_chunk != chunk {
            return Err(mismatch(&format!(
                "another part of the stream (--skip {} --limit {})",
                old.skip,
                old.limit.map_or("none".into(), |l| l.to_string())
            )));
        }
        state.position = old.position.max(chunk.skip);
        state.done = old.done;
        state.elapsed_s = old.elapsed_s;
        state.finished = old.finished.clone();
        let resume = match &old.finished {
            Some(how) => Resume::Finished {
                how: how.clone(),
                position: old.position,
            },
            None if state.position == chunk.skip => Resume::New,
            None => Resume::From {
                position: state.position,
                done: old.done,
            },
        };
        Ok((
            Session {
                path,
                elapsed_before: old.elapsed_s,
                state,
            },
            resume,
        ))
    }

    /// Reads a session file; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<SessionState>, CrackError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CrackError::io(path, e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CrackError::Session {
                path: path.to_path_buf(),
                msg: format!("damaged ({e}); use --fresh to start over"),
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// Forgets an earlier end (`--fresh` semantics for a finished session are the caller's).
    pub fn restart(&mut self) {
        self.state.position = self.state.skip;
        self.state.done = 0;
        self.state.elapsed_s = 0.0;
        self.state.finished = None;
        self.elapsed_before = 0.0;
    }

    /// Writes a checkpoint (atomically). The position never moves backwards.
    pub fn save(&mut self, p: &Progress) -> Result<(), CrackError> {
        if p.position >= self.state.position {
            self.state.position = p.position;
            self.state.done = p.done;
        }
        self.state.total = p.total;
        self.state.elapsed_s = self.elapsed_before + p.elapsed;
        self.write()
    }

    /// Marks the session as run to its end ("found" or "exhausted") and writes it.
    pub fn finish(&mut self, how: &str, p: &Progress) -> Result<(), CrackError> {
        self.state.finished = Some(how.to_string());
        self.save(p)
    }

    fn write(&mut self) -> Result<(), CrackError> {
        self.state.updated = now();
        let mut json = serde_json::to_vec_pretty(&self.state).expect("session state serializes");
        json.push(b'\n');
        crate::replace::replace_file(&self.path, &json)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> HashLine {
        HashLine {
            version: 9,
            wpky: [3; 40],
            iterations: 10,
            salt: vec![4; 20],
            dp: None,
        }
    }

    fn progress(position: u64) -> Progress {
        Progress {
            position,
            tried: position,
            done: position,
            total: Some(100),
            rate: 1.0,
            elapsed: 1.0,
            eta: None,
            source: None,
            stage_eta: None,
            devices: Vec::new(),
        }
    }

    #[test]
    fn save_resume_and_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let t = [line()];
        let open = |fp: &str, shard: Shard, fresh: bool| {
            Session::open(
                dir.path(),
                "s1",
                &t,
                fp,
                vec![],
                shard,
                Chunk::ALL,
                Some(100),
                fresh,
            )
        };
        let (mut s, r) = open("plan A", Shard::ALL, false).unwrap();
        assert!(matches!(r, Resume::New));
        s.save(&progress(40)).unwrap();
        s.save(&progress(30)).unwrap(); // never backwards
        let (_, r) = open("plan A", Shard::ALL, false).unwrap();
        assert!(matches!(r, Resume::From { position: 40, .. }), "{r:?}");
        let e = open("plan B", Shard::ALL, false).unwrap_err().to_string();
        assert!(
            e.contains("other guess sources") && e.contains("--fresh"),
            "{e}"
        );
        let e = open("plan A", Shard::new(1, 2).unwrap(), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("shard 1/1"), "{e}");
        let (_, r) = open("plan B", Shard::ALL, true).unwrap();
        assert!(matches!(r, Resume::New));
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["s1.json".to_string()]);
    }

    #[test]
    fn a_chunk_resumes_inside_itself_and_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let t = [line()];
        let open = |chunk: Chunk| {
            Session::open(
                dir.path(),
                "c",
                &t,
                "plan",
                vec![],
                Shard::ALL,
                chunk,
                Some(10),
                false,
            )
        };
        let chunk = Chunk::new(50, Some(10));
        let (mut s, r) = open(chunk).unwrap();
        assert!(matches!(r, Resume::New));
        assert_eq!(s.state().position, 50);
        s.save(&progress(54)).unwrap();
        let (s, r) = open(chunk).unwrap();
        assert!(matches!(r, Resume::From { position: 54, .. }), "{r:?}");
        assert_eq!((s.state().skip, s.state().limit), (50, Some(10)));
        let e = open(Chunk::new(60, Some(10))).unwrap_err().to_string();
        assert!(e.contains("--skip 50 --limit 10"), "{e}");
        // A session file from before chunks (no skip/limit) is the whole stream.
        let path = Session::path_in(dir.path(), "c");
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let obj = v.as_object_mut().unwrap();
        obj.remove("skip");
        obj.remove("limit");
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        let (_, r) = open(Chunk::ALL).unwrap();
        assert!(matches!(r, Resume::From { position: 54, .. }), "{r:?}");
    }

    #[test]
    fn names_are_checked_and_stable() {
        assert!(Session::check_name("my-run_2.b").is_ok());
        assert!(Session::check_name("../x").is_err());
        assert!(Session::check_name("").is_err());
        let a = Session::default_name(&[line()], "p", Shard::ALL, Chunk::ALL);
        assert_eq!(
            a,
            Session::default_name(&[line()], "p", Shard::ALL, Chunk::ALL)
        );
        assert_ne!(
            a,
            Session::default_name(&[line()], "q", Shard::ALL, Chunk::ALL)
        );
        assert_ne!(
            a,
            Session::default_name(&[line()], "p", Shard::ALL, Chunk::new(0, Some(10)))
        );
        assert!(Session::check_name(&a).is_ok());
    }
}
