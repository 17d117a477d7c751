//! The password search behind the web app: one at a time, on its own thread, over
//! [`sesame_crack::recover`], with a status the page polls. The search survives the page (it
//! runs in the server) and the computer's restart (the recovery session's checkpoints, plus the
//! hints saved here so that the same plan can be built again and resume where it stopped).

use crate::WebError;
use sesame_crack::{
    DeviceOptions, DeviceRate, GpuChoice, GpuDevice, Potfile, RecoveryEvent, RecoveryHandle,
    RecoveryOutcome, RecoveryRequest, SessionOptions, Target,
};
use sesame_guess::hints::{self, Hints};
use sesame_guess::Plan;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the page shows of a search.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SearchStatus {
    /// The backup's id.
    pub backup: String,
    /// starting, running, paused, found, exhausted, stopped, error
    pub state: String,
    pub stages: Vec<StageView>,
    /// The stage being worked on.
    pub stage: Option<usize>,
    /// Seconds left in that stage, at the current rate.
    pub stage_seconds_left: Option<f64>,
    pub done: u64,
    pub total: Option<u64>,
    pub rate: f64,
    pub devices: Vec<DeviceRate>,
    pub seconds_left: Option<f64>,
    pub elapsed: f64,
    /// The guess number (1-based) at which the password was found.
    pub found_at: Option<u64>,
    /// Resumed from a saved session: guesses done before.
    pub resumed_from: u64,
    pub kernel: String,
    pub error: Option<String>,
}

impl SearchStatus {
    /// The state is an outcome (found, exhausted, stopped, error): nothing changes it after.
    pub fn is_over(&self) -> bool {
        matches!(
            self.state.as_str(),
            "found" | "exhausted" | "stopped" | "error"
        )
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct StageView {
    pub name: String,
    pub guesses: Option<u64>,
    pub seconds: Option<f64>,
}

/// A search in progress or finished.
pub struct SearchJob {
    pub backup: String,
    pub handle: RecoveryHandle,
    pub status: Arc<Mutex<SearchStatus>>,
    pub thread: Option<JoinHandle<()>>,
}

impl SearchJob {
    /// Still searching. The state says "found" as soon as the password is (it is in the
    /// potfile by then), while the thread still closes its session: that search is over.
    pub fn running(&self) -> bool {
        let alive = self.thread.as_ref().is_some_and(|t| !t.is_finished());
        alive && !self.over()
    }

    /// The search has an outcome, whether or not its thread has returned.
    fn over(&self) -> bool {
        self.status.lock().is_ok_and(|s| s.is_over())
    }

    /// Waits for the thread of a search that is over (it is only closing its session), so that
    /// the next search does not open the session files while it does.
    pub fn finish(&mut self) {
        if self.over() {
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    pub fn snapshot(&self) -> SearchStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the search (the session keeps its checkpoint) and waits for it.
    pub fn stop(&mut self) {
        self.handle.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How the search runs.
#[derive(Clone, Debug)]
pub struct SearchSettings {
    pub sessions_dir: PathBuf,
    pub potfile: PathBuf,
    pub threads: usize,
    /// Already self-checked.
    pub gpus: Vec<Arc<GpuDevice>>,
    pub progress_interval: Duration,
    pub checkpoint_interval: Duration,
    pub measure: Duration,
    /// The CPU kernel calibration cache.
    pub kernel_cache: PathBuf,
}

/// Where the stage boundaries are (cumulative guesses), for "time left in this stage".
fn stage_ends(stages: &[StageView]) -> Vec<Option<u64>> {
    let mut acc = Some(0u64);
    stages
        .iter()
        .map(|s| {
            acc = match (acc, s.guesses) {
                (Some(a), Some(g)) => Some(a + g),
                _ => None,
            };
            acc
        })
        .collect()
}

/// Starts the search for `target` with the plan built from `hints`.
pub fn start(
    backup_id: &str,
    target: Target,
    plan: Arc<Plan>,
    settings: &SearchSettings,
    saved: SavedSearch,
) -> SearchJob {
    let status = Arc::new(Mutex::new(SearchStatus {
        backup: backup_id.to_string(),
        state: "starting".into(),
        ..Default::default()
    }));
    let handle = RecoveryHandle::new();
    let mut req = RecoveryRequest::new(vec![target], plan);
    req.potfile = Some(Potfile::new(&settings.potfile));
    req.session = SessionOptions {
        dir: settings.sessions_dir.clone(),
        ..SessionOptions::default()
    };
    req.devices = DeviceOptions {
        threads: settings.threads,
        gpus: if settings.gpus.is_empty() {
            GpuChoice::None
        } else {
            GpuChoice::Given(settings.gpus.clone())
        },
        kernel_cache: Some(settings.kernel_cache.clone()),
        ..DeviceOptions::default()
    };
    req.progress_interval = settings.progress_interval;
    req.checkpoint_interval = settings.checkpoint_interval;
    req.measure = Some(settings.measure);
    let st = status.clone();
    let h = handle.clone();
    let thread = std::thread::spawn(move || run(req, &h, &st, saved));
    SearchJob {
        backup: backup_id.to_string(),
        handle,
        status,
        thread: Some(thread),
    }
}

fn run(
    req: RecoveryRequest,
    handle: &RecoveryHandle,
    st: &Mutex<SearchStatus>,
    saved: SavedSearch,
) {
    let set = |f: &mut dyn FnMut(&mut SearchStatus)| {
        if let Ok(mut s) = st.lock() {
            f(&mut s)
        }
    };
    let mut ends: Vec<Option<u64>> = Vec::new();
    let result = sesame_crack::recover(req, handle, &mut |e| match e {
        RecoveryEvent::Kernel(k) => set(&mut |s| s.kernel = k.kernel.name().to_string()),
        RecoveryEvent::Plan(p) => {
            let stages: Vec<StageView> = p
                .stages
                .iter()
                .map(|x| StageView {
                    name: x.name.clone(),
                    guesses: x.guesses,
                    seconds: x.seconds,
                })
                .collect();
            ends = stage_ends(&stages);
            // The session's name goes with the saved hints: after a restart the list of
            // backups shows how far it got.
            let _ = saved.write(Some(&p.session));
            // The stage the run starts in, and its time at the rate just measured (the
            // progress events refine both).
            let stage = ends
                .iter()
                .position(|e| e.is_some_and(|end| end > p.resume_from))
                .or((!stages.is_empty()).then_some(0));
            let stage_left = stage
                .and_then(|i| ends[i])
                .filter(|_| p.rate > 0.0)
                .map(|end| end.saturating_sub(p.resume_from) as f64 / p.rate);
            set(&mut |s| {
                s.state = "running".into();
                s.stage = stage;
                s.stage_seconds_left = stage_left;
                s.stages = stages.clone();
                s.total = p.total;
                s.done = p.done;
                s.resumed_from = p.done;
                s.rate = p.rate;
                s.seconds_left = p.seconds_left;
            })
        }
        RecoveryEvent::Progress(p) | RecoveryEvent::Checkpoint(p) => set(&mut |s| {
            s.done = p.done;
            s.total = p.total;
            s.devices = p.devices.clone();
            s.elapsed = p.elapsed;
            s.stage = p.source.or(s.stage);
            // Before the first batch is in, the run has measured nothing: the plan's measured
            // rate and times stay on screen instead of "0 guesses a second".
            if p.rate > 0.0 {
                s.rate = p.rate;
                s.seconds_left = p.eta;
                s.stage_seconds_left = p.stage_eta;
            }
        }),
        RecoveryEvent::Paused(_) => set(&mut |s| s.state = "paused".into()),
        RecoveryEvent::Resumed => set(&mut |s| s.state = "running".into()),
        RecoveryEvent::Found(f) | RecoveryEvent::Known(f) => {
            // Found (and already in the potfile): the saved hints are not needed any more.
            saved.remove();
            set(&mut |s| {
                s.state = "found".into();
                s.found_at = f.index.map(|i| i + 1);
            })
        }
        _ => {}
    });
    match result {
        Ok(report) => {
            let state = match report.outcome {
                RecoveryOutcome::Found => "found",
                RecoveryOutcome::Exhausted | RecoveryOutcome::AlreadyExhausted => "exhausted",
                RecoveryOutcome::Interrupted => "stopped",
            };
            if state == "found" {
                saved.remove();
            }
            set(&mut |s| {
                s.state = state.into();
                if let Some(p) = &report.progress {
                    s.done = p.done;
                    s.elapsed = p.elapsed;
                }
                if state != "running" {
                    s.seconds_left = None;
                    s.stage_seconds_left = None;
                }
            })
        }
        Err(e) => set(&mut |s| {
            s.state = "error".into();
            s.error = Some(format!(
                "the search stopped: {e}. What was searched so far is saved; start it again to go on."
            ));
        }),
    }
}

/// The hints of a search, kept in Sesame's data folder (readable by this user only) so that a
/// search can be resumed after a restart. Removed once the password is found.
#[derive(Clone, Debug)]
pub struct SavedSearch {
    pub file: PathBuf,
    pub backup_path: PathBuf,
    pub hints_toml: String,
    /// The wider search (after the likeliest guesses were all tried).
    pub wider: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedFile {
    backup: String,
    hints: String,
    session: Option<String>,
    #[serde(default)]
    wider: bool,
}

impl SavedSearch {
    pub fn file_for(dir: &Path, backup_id: &str) -> PathBuf {
        dir.join(format!("{backup_id}.json"))
    }

    pub fn write(&self, session: Option<&str>) -> Result<(), WebError> {
        let body = serde_json::to_vec_pretty(&SavedFile {
            backup: self.backup_path.display().to_string(),
            hints: self.hints_toml.clone(),
            session: session.map(str::to_string),
            wider: self.wider,
        })
        .map_err(|e| WebError::Internal(e.to_string()))?;
        let io = |e| WebError::Io(self.file.clone(), e);
        if let Some(d) = self.file.parent() {
            std::fs::create_dir_all(d).map_err(io)?;
        }
        let tmp = self.file.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp).map_err(io)?;
        std::io::Write::write_all(&mut f, &body).map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &self.file).map_err(io)
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.file);
    }

    /// The saved hints, session name and kind of search of a backup, when there are some.
    pub fn load(file: &Path) -> Option<(Hints, Option<String>, bool)> {
        let text = std::fs::read(file).ok()?;
        let f: SavedFile = serde_json::from_slice(&text).ok()?;
        let hints = Hints::from_toml(&f.hints, &file.display().to_string()).ok()?;
        Some((hints, f.session, f.wider))
    }
}

/// The plan of a search: the likeliest guesses from the hints (the default plan), or the
/// wider search that follows it.
pub fn plan_of(hints: &Hints, wider: bool) -> Plan {
    if wider {
        hints::wider_plan(hints)
    } else {
        hints::default_plan((!hints.is_empty()).then_some(hints))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_that_found_its_password_is_over_while_its_thread_closes_the_session() {
        let status = Arc::new(Mutex::new(SearchStatus {
            state: "running".into(),
            ..Default::default()
        }));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut job = SearchJob {
            backup: "b".into(),
            handle: RecoveryHandle::new(),
            status: status.clone(),
            // A thread that stays alive until told, as one closing its session after "found".
            thread: Some(std::thread::spawn(move || {
                let _ = rx.recv();
            })),
        };
        assert!(job.running());
        job.finish();
        assert!(
            job.thread.is_some(),
            "finish() waited on a search still running"
        );
        status.lock().unwrap().state = "found".into();
        assert!(
            !job.running(),
            "a search that found its password blocked the next one"
        );
        tx.send(()).unwrap();
        job.finish();
        assert!(
            job.thread.is_none(),
            "finish() did not wait for the closing thread"
        );
    }
}
