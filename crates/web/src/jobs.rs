//! The long writes a person starts once the password is known: a decrypted copy, the readable
//! export, a copy with a new password. One at a time, on its own thread, through the same
//! library calls as `sesame decrypt`, `sesame export` and `sesame change-password` (so the same
//! output-folder rules hold: nothing half-written looks complete).

use sesame_backup::write::{decrypt_backup, rekey_backup, WriteOptions};
use sesame_backup::{Backup, BackupError};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use zeroize::Zeroizing;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    Decrypt,
    Export,
    ChangePassword,
    /// A new backup of the connected phone.
    PhoneBackup,
}

/// What the page shows of a job.
#[derive(Clone, Debug, serde::Serialize)]
pub struct JobStatus {
    pub kind: JobKind,
    pub backup: String,
    /// running, done, failed, cancelled
    pub state: String,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub out: String,
    /// The result in words (what was written, what failed).
    pub lines: Vec<String>,
    /// For the export: index.html, to open in the browser.
    pub index: Option<String>,
    /// For the export: where this server shows it (`/export/N/index.html`).
    pub view: Option<String>,
    pub error: Option<String>,
}

impl JobStatus {
    /// A job that has just started, shared with its thread.
    fn running(kind: JobKind, backup: &str, out: &std::path::Path) -> Arc<Mutex<JobStatus>> {
        Arc::new(Mutex::new(JobStatus {
            kind,
            backup: backup.to_string(),
            state: "running".into(),
            bytes_done: 0,
            bytes_total: 0,
            out: out.display().to_string(),
            lines: Vec::new(),
            index: None,
            view: None,
            error: None,
        }))
    }
}

pub struct Job {
    pub status: Arc<Mutex<JobStatus>>,
    pub cancel: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
}

impl Job {
    /// Still at work. A job's thread sets its final state as its last act, so a job whose state
    /// is final is over even while its thread is still returning: the page that saw "done" may
    /// start the next copy at once.
    pub fn running(&self) -> bool {
        let alive = self.thread.as_ref().is_some_and(|t| !t.is_finished());
        alive && self.status.lock().map_or(true, |s| s.state == "running")
    }

    pub fn snapshot(&self) -> Option<JobStatus> {
        self.status.lock().ok().map(|s| s.clone())
    }

    pub fn stop(&mut self) {
        self.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a job does.
pub enum Work {
    Decrypt,
    Export,
    ChangePassword { new_password: Zeroizing<Vec<u8>> },
}

/// Starts a new backup of the phone `udid` into `out` (through sesame-device, so the same
/// output-folder rules hold: unfinished until the phone says it is done).
pub fn start_phone_backup(addr: sesame_device::MuxAddr, udid: String, out: PathBuf) -> Job {
    let status = JobStatus::running(JobKind::PhoneBackup, &udid, &out);
    let cancel = Arc::new(AtomicBool::new(false));
    let (st, c) = (status.clone(), cancel.clone());
    let thread = std::thread::spawn(move || {
        let opts = sesame_device::BackupOptions {
            cancel: Some(c),
            ..Default::default()
        };
        let on = |e: &sesame_device::Event| {
            if let Ok(mut s) = st.lock() {
                match e {
                    sesame_device::Event::Progress {
                        bytes,
                        percent,
                        files,
                    } => {
                        s.bytes_done = *bytes;
                        // The phone reports a percentage, not a total: scale to it.
                        s.bytes_total = match percent {
                            Some(p) if *p > 0.0 => ((*bytes as f64) * 100.0 / p) as u64,
                            _ => 0,
                        };
                        s.lines = vec![format!("{files} files so far")];
                    }
                    sesame_device::Event::TrustPrompt | sesame_device::Event::UnlockToTrust => {
                        s.lines = vec![
                            "On the phone: unlock it, tap Trust and enter its passcode.".into(),
                        ];
                    }
                    _ => {}
                }
            }
        };
        let waits = sesame_device::Waits::default();
        let r = sesame_device::backup(&addr, Some(&udid), &out, &opts, &waits, &on);
        if let Ok(mut s) = st.lock() {
            match r {
                Ok(rep) => {
                    s.state = "done".into();
                    s.lines = vec![format!(
                        "{} files from the phone{}",
                        rep.files,
                        if rep.encrypted {
                            ", encrypted with its backup password"
                        } else {
                            ""
                        }
                    )];
                }
                Err(sesame_device::DeviceError::Cancelled) => {
                    s.state = "cancelled".into();
                    s.error = Some(format!("stopped: {} is not complete", out.display()));
                }
                Err(e) => {
                    s.state = "failed".into();
                    s.error = Some(e.to_string());
                }
            }
        }
    });
    Job {
        status,
        cancel,
        thread: Some(thread),
    }
}

/// Starts `work` on `backup` (unlocked with `password`) into `out`.
pub fn start(
    backup_id: &str,
    backup_path: PathBuf,
    password: Option<Zeroizing<Vec<u8>>>,
    out: PathBuf,
    work: Work,
) -> Job {
    let kind = match work {
        Work::Decrypt => JobKind::Decrypt,
        Work::Export => JobKind::Export,
        Work::ChangePassword { .. } => JobKind::ChangePassword,
    };
    let status = JobStatus::running(kind, backup_id, &out);
    let cancel = Arc::new(AtomicBool::new(false));
    let (st, c) = (status.clone(), cancel.clone());
    let thread = std::thread::spawn(move || {
        let result = run(&backup_path, password, &out, work, &st, &c);
        if let Ok(mut s) = st.lock() {
            match result {
                Ok(()) => s.state = "done".into(),
                Err(Failure::Cancelled) => {
                    s.state = "cancelled".into();
                    s.error = Some(format!(
                        "stopped: {} is not complete (it says so inside); start again to redo it",
                        out.display()
                    ));
                }
                Err(Failure::Said(msg)) => {
                    s.state = "failed".into();
                    s.error = Some(msg);
                }
            }
        }
    });
    Job {
        status,
        cancel,
        thread: Some(thread),
    }
}

enum Failure {
    Cancelled,
    Said(String),
}

fn said(e: BackupError, out: &std::path::Path) -> Failure {
    match e {
        BackupError::Cancelled => Failure::Cancelled,
        BackupError::OutputUnfinished { .. } => Failure::Said(format!(
            "{} holds an unfinished copy from an earlier run; choose another folder",
            out.display()
        )),
        e => Failure::Said(e.to_string()),
    }
}

fn run(
    path: &std::path::Path,
    password: Option<Zeroizing<Vec<u8>>>,
    out: &std::path::Path,
    work: Work,
    st: &Mutex<JobStatus>,
    cancel: &Arc<AtomicBool>,
) -> Result<(), Failure> {
    let backup = Backup::open(path).map_err(|e| said(e, out))?;
    let progress = |p: &sesame_backup::write::Progress| {
        if let Ok(mut s) = st.lock() {
            s.bytes_done = p.bytes_done;
            s.bytes_total = p.bytes_total;
        }
    };
    let opts = WriteOptions {
        force: false,
        threads: 0,
        cancel: Some(cancel.clone()),
    };
    let keys = match (&password, backup.needs_password()) {
        (Some(pw), true) => Some(backup.unlock(pw).map_err(|e| said(e, out))?),
        _ => None,
    };
    let mut lines = Vec::new();
    match work {
        Work::Decrypt => {
            let r = decrypt_backup(&backup, keys.as_ref(), out, &opts, &progress)
                .map_err(|e| said(e, out))?;
            lines.push(format!(
                "{} files decrypted into {}",
                r.files,
                out.display()
            ));
            for f in &r.failed {
                let side = if f.in_output {
                    "could not write"
                } else {
                    "could not read from the backup"
                };
                lines.push(format!(
                    "{side} {}/{}: {}",
                    f.domain, f.relative_path, f.error
                ));
            }
            let unwritten = r.failed.iter().filter(|f| f.in_output).count();
            if unwritten > 0 {
                if let Ok(mut s) = st.lock() {
                    s.lines = lines;
                }
                return Err(Failure::Said(format!(
                    "{unwritten} files could not be written: the copy in {} is NOT complete",
                    out.display()
                )));
            }
        }
        Work::Export => {
            let opts = sesame_export::Options {
                only: None,
                force: false,
                cancel: Some(cancel.clone()),
            };
            let report =
                sesame_export::export_backup(&backup, keys.as_ref(), out, &opts).map_err(|e| {
                    match e {
                        sesame_export::ExportError::Cancelled => Failure::Cancelled,
                        e => Failure::Said(e.to_string()),
                    }
                })?;
            for s in &report.sections {
                if s.found && s.failed > 0 {
                    // The export page opens either way; this line says what it lacks.
                    lines.push(format!(
                        "{}: {}, NOT complete: {} part(s) could not be exported (the index page says why)",
                        s.title, s.items, s.failed
                    ));
                } else if s.found {
                    lines.push(format!("{}: {}", s.title, s.items));
                }
            }
            if let Ok(mut s) = st.lock() {
                s.index = Some(out.join("index.html").display().to_string());
            }
        }
        Work::ChangePassword { new_password } => {
            let old = password.ok_or_else(|| {
                Failure::Said("the backup is not encrypted: there is no password to change".into())
            })?;
            let r = rekey_backup(&backup, &old, &new_password, out, &opts, &progress)
                .map_err(|e| said(e, out))?;
            lines.push(format!(
                "{} files copied into {}, encrypted with the new password",
                r.files,
                out.display()
            ));
        }
    }
    if let Ok(mut s) = st.lock() {
        s.lines = lines;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_whose_state_is_final_is_not_running_while_its_thread_returns() {
        let status = JobStatus::running(JobKind::Decrypt, "b", std::path::Path::new("/x"));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let job = Job {
            status: status.clone(),
            cancel: Arc::default(),
            // A thread that stays alive until told: as one between its last state and its end.
            thread: Some(std::thread::spawn(move || {
                let _ = rx.recv();
            })),
        };
        assert!(job.running());
        status.lock().unwrap().state = "done".into();
        assert!(!job.running(), "a done job blocked the next one");
        status.lock().unwrap().state = "running".into();
        assert!(job.running());
        tx.send(()).unwrap();
        let mut job = job;
        job.stop();
        assert!(!job.running(), "a job without a thread runs nothing");
    }
}
