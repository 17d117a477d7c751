//! The app behind the page: routes, and what each does with the libraries.
//!
//! Backups are named by an id (a digest of their path) that only the list hands out, so a
//! request can act only on a folder the list found; "look in another folder" adds a folder to
//! the list. Passwords travel only in request bodies and replies that are never cached, and
//! are never logged.

use crate::jobs::{self, Job, Work};
use crate::search::{self, SavedSearch, SearchJob, SearchSettings};
use crate::{Config, Reply};
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_backup::keychain::{read_keychain, ItemKind, ItemState};
use sesame_backup::{locate, Backup, HashLine};
use sesame_crack::{GpuDevice, Potfile, Target};
use sesame_guess::Plan;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::sync::Mutex;
use zeroize::Zeroizing;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const ICON_SVG: &str = include_str!("../assets/icon.svg");

pub struct App {
    cfg: Config,
    roots: Mutex<Vec<PathBuf>>,
    /// id -> folder, of every backup the list has shown.
    known: Mutex<BTreeMap<String, PathBuf>>,
    search: Mutex<Option<SearchJob>>,
    job: Mutex<Option<Job>>,
    /// The folders of the exports made in this run, served under `/export/N/` to read them.
    exports: Mutex<Vec<PathBuf>>,
    /// The GPUs that passed their self-check, found once (discovery takes seconds).
    gpus: std::sync::OnceLock<Vec<Arc<GpuDevice>>>,
    pub quit: AtomicBool,
}

/// An error reply: status and words for the person.
struct Fail(u16, String);

type Result<T> = std::result::Result<T, Fail>;

fn bad(msg: impl Into<String>) -> Fail {
    Fail(400, msg.into())
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn id_of(path: &Path) -> String {
    let d = sha2::Sha256::digest(path.as_os_str().as_encoded_bytes());
    hex::encode(&d[..8])
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| bad(format!("bad request: {e}")))
}

#[derive(Deserialize)]
struct IdIn {
    id: String,
}

#[derive(Deserialize)]
struct UdidIn {
    udid: String,
}

#[derive(Deserialize)]
struct TryIn {
    id: String,
    password: String,
}

#[derive(Deserialize)]
struct PathIn {
    path: Option<String>,
}

/// What the owner remembers, a list per question: the library's questionnaire answers, as
/// the page sends them (one list per field, named as [`sesame_guess::hints::Question::key`]).
pub use sesame_guess::hints::Answers as HintsIn;

#[derive(Deserialize)]
struct PlanIn {
    id: String,
    #[serde(default)]
    hints: HintsIn,
    /// Resume the saved search of this backup instead.
    #[serde(default)]
    resume: bool,
    /// The wider search, after the likeliest guesses.
    #[serde(default)]
    wider: bool,
}

#[derive(Deserialize)]
struct OutIn {
    id: String,
    out: Option<String>,
    new_password: Option<String>,
}

impl App {
    pub fn new(cfg: Config) -> App {
        App {
            roots: Mutex::new(cfg.roots.clone()),
            cfg,
            known: Mutex::new(BTreeMap::new()),
            search: Mutex::new(None),
            job: Mutex::new(None),
            gpus: std::sync::OnceLock::new(),
            exports: Mutex::new(Vec::new()),
            quit: AtomicBool::new(false),
        }
    }

    /// Stops the search (checkpoint saved) and any write (marked unfinished).
    pub fn stop_all(&self) {
        if let Ok(mut s) = self.search.lock() {
            if let Some(j) = s.as_mut() {
                j.stop();
            }
        }
        if let Ok(mut j) = self.job.lock() {
            if let Some(j) = j.as_mut() {
                j.stop();
            }
        }
    }

    pub fn route(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        if method == "GET" {
            if let Some(rest) = path.strip_prefix("/export/") {
                return self.export_file(rest);
            }
        }
        let asset = |ct: &'static str, s: &str| Reply {
            status: 200,
            content_type: ct,
            body: s.as_bytes().to_vec(),
            headers: Vec::new(),
        };
        let result = match (method, path) {
            ("GET", "/") => return asset("text/html; charset=utf-8", INDEX_HTML),
            ("GET", "/app.js") => return asset("text/javascript; charset=utf-8", APP_JS),
            ("GET", "/app.css") => return asset("text/css; charset=utf-8", APP_CSS),
            ("GET", "/icon.svg") => return asset("image/svg+xml", ICON_SVG),
            ("GET", "/api/backups") => self.backups(),
            ("POST", "/api/roots") => self.add_root(body),
            ("POST", "/api/folders") => self.folders(body),
            ("POST", "/api/backup") => self.backup(body),
            ("POST", "/api/try") => self.try_password(body),
            ("POST", "/api/keychain-lookup") => self.keychain_lookup(body),
            ("POST", "/api/plan") => self.plan(body),
            ("POST", "/api/search/start") => self.start_search(body),
            ("GET", "/api/search") => self.search_status(),
            ("POST", "/api/search/pause") => self.search_control("pause"),
            ("POST", "/api/search/resume") => self.search_control("resume"),
            ("POST", "/api/search/stop") => self.search_control("stop"),
            ("POST", "/api/password") => self.password(body),
            ("POST", "/api/decrypt") => self.start_job(body, "decrypt"),
            ("POST", "/api/export") => self.start_job(body, "export"),
            ("POST", "/api/change-password") => self.start_job(body, "change-password"),
            ("GET", "/api/job") => self.job_status(),
            ("POST", "/api/job/stop") => self.job_stop(),
            ("POST", "/api/keychain") => self.keychain(body),
            ("GET", "/api/phones") => self.phones(),
            ("POST", "/api/phone/trust") => self.phone_trust(body),
            ("POST", "/api/phone/encryption-off") => self.phone_encryption_off(body),
            ("POST", "/api/phone/backup") => self.phone_backup(body),
            ("POST", "/api/quit") => {
                self.quit.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(json!({ "quitting": true }))
            }
            _ => Err(Fail(404, "no such page".into())),
        };
        match result {
            Ok(v) => Reply::json(200, &v),
            Err(Fail(status, msg)) => Reply::error(status, &msg),
        }
    }

    fn all_roots(&self) -> Vec<PathBuf> {
        let mut r = if self.cfg.default_roots {
            locate::default_roots()
        } else {
            Vec::new()
        };
        if let Ok(extra) = self.roots.lock() {
            r.extend(extra.iter().cloned());
        }
        r
    }

    fn path_of(&self, id: &str) -> Result<PathBuf> {
        let known = self.known.lock().map_err(|_| Fail(500, "busy".into()))?;
        known.get(id).cloned().ok_or_else(|| {
            Fail(
                404,
                "that backup is not in the list any more: go back to the list".into(),
            )
        })
    }

    fn open(&self, id: &str) -> Result<(PathBuf, Backup)> {
        let path = self.path_of(id)?;
        let b = Backup::open(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        Ok((path, b))
    }

    /// The GPUs to compute on (none unless the config allows them).
    fn gpus(&self) -> Vec<Arc<GpuDevice>> {
        if !self.cfg.gpus {
            return Vec::new();
        }
        self.gpus
            .get_or_init(|| {
                sesame_crack::gpu::discover_checked()
                    .0
                    .into_iter()
                    .map(Arc::new)
                    .collect()
            })
            .clone()
    }

    fn potfile(&self) -> Potfile {
        Potfile::new(&self.cfg.potfile)
    }

    /// The password remembered for this backup, checked against it.
    fn known_password(&self, line: &HashLine) -> Option<Zeroizing<Vec<u8>>> {
        self.potfile().lookup_verified(line).ok()?.0
    }

    fn saved_file(&self, id: &str) -> PathBuf {
        SavedSearch::file_for(&self.cfg.searches_dir, id)
    }

    /// How far the saved search of a backup got (after a restart, or a stop).
    fn saved_progress(&self, id: &str) -> Option<Value> {
        let (_, session, wider) = SavedSearch::load(&self.saved_file(id))?;
        let state = session
            .and_then(|name| {
                sesame_crack::Session::load(&sesame_crack::Session::path_in(
                    &self.cfg.sessions_dir,
                    &name,
                ))
                .ok()
                .flatten()
            })
            .map(|s| json!({ "done": s.done, "total": s.total, "finished": s.finished, "wider": wider }));
        Some(state.unwrap_or_else(
            || json!({ "done": 0, "total": null, "finished": null, "wider": wider }),
        ))
    }

    fn view(&self, id: &str, b: &Backup) -> Value {
        let info = b.info();
        let mut v = serde_json::to_value(&info).unwrap_or(json!({}));
        v["id"] = json!(id);
        v["needs_password"] = json!(b.needs_password());
        v["password_known"] = json!(b
            .hash_line()
            .ok()
            .is_some_and(|l| self.known_password(&l).is_some()));
        v["saved_search"] = self.saved_progress(id).unwrap_or(Value::Null);
        v
    }

    fn backups(&self) -> Result<Value> {
        let roots = self.all_roots();
        let mut list = Vec::new();
        let mut unreadable = Vec::new();
        let mut known = BTreeMap::new();
        for root in &roots {
            let scan = locate::scan(root);
            for (p, e) in scan.unreadable {
                unreadable.push(unreadable_view(&p, &e));
            }
            for dir in scan.backups {
                let id = id_of(&dir);
                match Backup::open(&dir) {
                    Ok(b) => list.push(self.view(&id, &b)),
                    Err(e) => list.push(json!({
                        "id": id,
                        "path": dir.display().to_string(),
                        "warnings": [e.to_string()],
                        "encrypted": null,
                        "size_on_disk": sesame_backup::info::size_on_disk(&dir),
                    })),
                }
                known.insert(id, dir);
            }
        }
        if let Ok(mut k) = self.known.lock() {
            k.extend(known);
        }
        Ok(json!({
            "backups": list,
            "unreadable": unreadable,
            "looked_in": roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>(),
            "platform": std::env::consts::OS,
            "keychain_lookup": self.cfg.security_tool.is_some(),
            "output_dir": self.cfg.output_dir.display().to_string(),
        }))
    }

    fn add_root(&self, body: &[u8]) -> Result<Value> {
        let p: PathIn = parse(body)?;
        let path = PathBuf::from(p.path.ok_or_else(|| bad("give a folder"))?);
        if !path.is_dir() {
            return Err(bad(format!("{} is not a folder", path.display())));
        }
        if let Ok(mut r) = self.roots.lock() {
            if !r.contains(&path) {
                r.push(path);
            }
        }
        self.backups()
    }

    /// The folder picker: the subfolders of a folder (hidden ones left out), each marked when
    /// it is a backup.
    fn folders(&self, body: &[u8]) -> Result<Value> {
        let p: PathIn = parse(body)?;
        let dir = p
            .path
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.cfg.home.clone());
        let rd = std::fs::read_dir(&dir).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                bad(permission_text(&dir))
            } else {
                bad(format!("cannot open {}: {e}", dir.display()))
            }
        })?;
        let mut folders: Vec<(String, PathBuf)> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .filter(|(n, _)| !n.starts_with('.'))
            .take(5000)
            .collect();
        folders.sort_by_key(|(n, _)| n.to_lowercase());
        Ok(json!({
            "path": dir.display().to_string(),
            "parent": dir.parent().map(|p| p.display().to_string()),
            "is_backup": locate::is_backup_dir(&dir),
            "folders": folders.iter().map(|(n, p)| json!({
                "name": n,
                "path": p.display().to_string(),
                "is_backup": locate::is_backup_dir(p),
            })).collect::<Vec<_>>(),
        }))
    }

    fn backup(&self, body: &[u8]) -> Result<Value> {
        let r: IdIn = parse(body)?;
        let (_, b) = self.open(&r.id)?;
        Ok(self.view(&r.id, &b))
    }

    fn target(&self, b: &Backup, path: &Path) -> Result<Target> {
        b.require_known_encryption()
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        if !b.needs_password() {
            return Err(bad(
                "this backup is not encrypted (or was already decrypted): no password is needed",
            ));
        }
        let line = b
            .hash_line()
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        Ok(Target {
            label: b
                .info()
                .device_name
                .unwrap_or_else(|| path.display().to_string()),
            line,
        })
    }

    fn remember(&self, line: &HashLine, pw: &[u8]) {
        if self.known_password(line).is_none() {
            let _ = self.potfile().append(line, pw);
        }
    }

    fn try_password(&self, body: &[u8]) -> Result<Value> {
        let r: TryIn = parse(body)?;
        let pw = Zeroizing::new(r.password.into_bytes());
        let (path, b) = self.open(&r.id)?;
        let t = self.target(&b, &path)?;
        let right = t.line.verify(&pw);
        if right {
            self.remember(&t.line, &pw);
        }
        Ok(json!({ "right": right }))
    }

    fn keychain_lookup(&self, body: &[u8]) -> Result<Value> {
        use sesame_crack::macos_keychain::{lookup, KeychainAnswer};
        let r: IdIn = parse(body)?;
        let (path, b) = self.open(&r.id)?;
        let t = self.target(&b, &path)?;
        let Some(tool) = &self.cfg.security_tool else {
            return Ok(json!({ "result": "unavailable",
                "message": "Only a Mac keeps this item: on this computer there is no Keychain to look in." }));
        };
        let udid = b.info().udid;
        Ok(match lookup(tool, udid.as_deref(), &t.line) {
            Ok(KeychainAnswer::Opens(pw)) => {
                self.remember(&t.line, &pw);
                json!({ "result": "opens", "message": "The Keychain had the password, and it opens this backup." })
            }
            Ok(KeychainAnswer::Wrong(n)) => json!({ "result": "wrong",
                "message": format!("The Keychain holds {n} backup password(s), but none opens this backup. Add them to \"passwords you used\": they may be close.") }),
            Ok(KeychainAnswer::None) => json!({ "result": "none",
                "message": "The Keychain has no \"iOS Backup\" or \"iPhone Backup\" item: the password was not saved on this Mac." }),
            Err(e) => {
                json!({ "result": "refused", "message": format!("{e}. If macOS asked for your Mac password, allow it to try again.") })
            }
        })
    }

    /// The backup, its target, the plan, and what to save to resume it.
    fn plan_for(&self, r: &PlanIn) -> Result<(Target, Plan, SavedSearch, bool)> {
        let (path, b) = self.open(&r.id)?;
        let t = self.target(&b, &path)?;
        let (hints, wider) = if r.resume {
            SavedSearch::load(&self.saved_file(&r.id))
                .map(|(h, _, w)| (h, w))
                .ok_or_else(|| bad("there is no saved search for this backup"))?
        } else {
            (r.hints.to_hints().map_err(|e| bad(e.msg))?, r.wider)
        };
        let plan = search::plan_of(&hints, wider);
        if plan.is_empty() {
            return Err(bad(
                "the wider search puts digits after the names and words you gave: add some first",
            ));
        }
        let saved = SavedSearch {
            file: self.saved_file(&r.id),
            backup_path: path,
            hints_toml: hints.to_toml(),
            wider,
        };
        Ok((t, plan, saved, !hints.is_empty()))
    }

    fn plan(&self, body: &[u8]) -> Result<Value> {
        let r: PlanIn = parse(body)?;
        let (t, plan, saved, hints_given) = self.plan_for(&r)?;
        let e = sesame_crack::estimate(
            &[t],
            &plan,
            self.cfg.threads,
            &self.gpus(),
            self.cfg.measure,
            Some(&self.cfg.kernel_cache),
        )
        .map_err(|e| Fail(500, e.to_string()))?;
        Ok(json!({
            "stages": e.stages,
            "total": e.total,
            "seconds": e.seconds,
            "rate": e.rate,
            "seconds_per_guess": if e.rate > 0.0 { 1.0 / e.rate } else { 0.0 },
            "seconds_per_guess_per_thread": e.seconds_per_guess_per_thread,
            "threads": e.threads,
            "devices": e.devices.iter().map(|(n, r)| json!({ "name": n, "rate": r })).collect::<Vec<_>>(),
            "kernel": e.kernel.kernel.name(),
            "hints_given": hints_given,
            "wider": saved.wider,
        }))
    }

    fn start_search(&self, body: &[u8]) -> Result<Value> {
        let r: PlanIn = parse(body)?;
        let mut slot = self.search.lock().map_err(|_| Fail(500, "busy".into()))?;
        if let Some(job) = slot.as_mut() {
            if job.running() {
                return Err(Fail(
                    409,
                    "a search is already running: pause or stop it first".into(),
                ));
            }
            job.finish();
        }
        let (t, plan, saved, _) = self.plan_for(&r)?;
        saved
            .write(None)
            .map_err(|e| Fail(500, format!("cannot save the search: {e}")))?;
        let settings = SearchSettings {
            sessions_dir: self.cfg.sessions_dir.clone(),
            potfile: self.cfg.potfile.clone(),
            threads: self.cfg.threads,
            gpus: self.gpus(),
            progress_interval: self.cfg.progress_interval,
            checkpoint_interval: self.cfg.checkpoint_interval,
            measure: self.cfg.measure,
            kernel_cache: self.cfg.kernel_cache.clone(),
        };
        let job = search::start(&r.id, t, Arc::new(plan), &settings, saved);
        let status = job.snapshot();
        *slot = Some(job);
        Ok(serde_json::to_value(status).unwrap_or(Value::Null))
    }

    fn search_status(&self) -> Result<Value> {
        let slot = self.search.lock().map_err(|_| Fail(500, "busy".into()))?;
        Ok(slot
            .as_ref()
            .map(|s| serde_json::to_value(s.snapshot()).unwrap_or(Value::Null))
            .unwrap_or(Value::Null))
    }

    fn search_control(&self, what: &str) -> Result<Value> {
        let mut slot = self.search.lock().map_err(|_| Fail(500, "busy".into()))?;
        let job = slot
            .as_mut()
            .filter(|j| j.running())
            .ok_or_else(|| Fail(409, "no search is running".into()))?;
        match what {
            "pause" => job.handle.pause(),
            "resume" => job.handle.resume(),
            _ => job.stop(),
        }
        // The state the page shows at once (the search confirms it within a moment), unless
        // the search reached its outcome in the meantime: "found" must not turn into "paused".
        if let Ok(mut s) = job.status.lock() {
            match what {
                _ if s.is_over() => {}
                "pause" => s.state = "paused".into(),
                "resume" => s.state = "running".into(),
                _ => {}
            }
        }
        Ok(serde_json::to_value(job.snapshot()).unwrap_or(Value::Null))
    }

    fn unlock_password(&self, b: &Backup, path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>> {
        if !b.needs_password() {
            return Ok(None);
        }
        let t = self.target(b, path)?;
        self.known_password(&t.line)
            .map(Some)
            .ok_or_else(|| Fail(409, "the password of this backup is not known yet".into()))
    }

    fn password(&self, body: &[u8]) -> Result<Value> {
        let r: IdIn = parse(body)?;
        let (path, b) = self.open(&r.id)?;
        let pw = self
            .unlock_password(&b, &path)?
            .ok_or_else(|| bad("this backup has no password"))?;
        Ok(json!({ "password": String::from_utf8_lossy(&pw) }))
    }

    /// A new folder under the output folder, named after the backup and what it holds.
    fn default_out(&self, b: &Backup, what: &str) -> PathBuf {
        let info = b.info();
        let name: String = info
            .device_name
            .unwrap_or_else(|| "iPhone".into())
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || " -_'.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = name.trim_matches(['.', ' ']).to_string();
        let base = format!("{name} {what}");
        let mut n = 1;
        loop {
            let candidate = if n == 1 {
                self.cfg.output_dir.join(&base)
            } else {
                self.cfg.output_dir.join(format!("{base} {n}"))
            };
            if !candidate.exists() {
                return candidate;
            }
            n += 1;
        }
    }

    fn start_job(&self, body: &[u8], kind: &str) -> Result<Value> {
        let r: OutIn = parse(body)?;
        let mut slot = self.job.lock().map_err(|_| Fail(500, "busy".into()))?;
        if slot.as_ref().is_some_and(|j| j.running()) {
            return Err(Fail(
                409,
                "another copy is being written: wait for it or stop it".into(),
            ));
        }
        let (path, b) = self.open(&r.id)?;
        let password = self.unlock_password(&b, &path)?;
        let (what, work) = match kind {
            "decrypt" => ("decrypted", Work::Decrypt),
            "export" => ("messages and photos", Work::Export),
            _ => {
                let np = r
                    .new_password
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| bad("give the new password"))?;
                if password.is_none() {
                    return Err(bad(
                        "this backup is not encrypted: there is no password to change",
                    ));
                }
                (
                    "new password",
                    Work::ChangePassword {
                        new_password: Zeroizing::new(np.into_bytes()),
                    },
                )
            }
        };
        let out = match r.out.filter(|s| !s.trim().is_empty()) {
            Some(o) => PathBuf::from(o.trim()),
            None => self.default_out(&b, what),
        };
        let view = if kind == "export" {
            let mut ex = self.exports.lock().map_err(|_| Fail(500, "busy".into()))?;
            ex.push(out.clone());
            Some(format!("/export/{}/index.html", ex.len() - 1))
        } else {
            None
        };
        let job = jobs::start(&r.id, path, password, out, work);
        if let Ok(mut s) = job.status.lock() {
            s.view = view;
        }
        let status = job.snapshot();
        *slot = Some(job);
        Ok(serde_json::to_value(status).unwrap_or(Value::Null))
    }

    fn job_status(&self) -> Result<Value> {
        let slot = self.job.lock().map_err(|_| Fail(500, "busy".into()))?;
        Ok(slot
            .as_ref()
            .and_then(|j| j.snapshot())
            .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
            .unwrap_or(Value::Null))
    }

    fn job_stop(&self) -> Result<Value> {
        let mut slot = self.job.lock().map_err(|_| Fail(500, "busy".into()))?;
        let job = slot
            .as_mut()
            .filter(|j| j.running())
            .ok_or_else(|| Fail(409, "nothing is being written".into()))?;
        job.stop();
        Ok(serde_json::to_value(job.snapshot()).unwrap_or(Value::Null))
    }

    /// The passwords in the backup's keychain: Wi-Fi networks, websites, apps.
    fn keychain(&self, body: &[u8]) -> Result<Value> {
        let r: IdIn = parse(body)?;
        let (path, b) = self.open(&r.id)?;
        let pw = self.unlock_password(&b, &path)?;
        let keys = match &pw {
            Some(p) => Some(b.unlock(p).map_err(|e| bad(e.to_string()))?),
            None => None,
        };
        let kc = read_keychain(&b, keys.as_ref())
            .map_err(|e| bad(format!("cannot read the keychain: {e}")))?;
        let mut items: Vec<Value> = Vec::new();
        let mut device_only = 0;
        for i in &kc.items {
            match (&i.state, i.kind()) {
                (ItemState::DeviceOnly, _) => device_only += 1,
                (
                    ItemState::Decrypted,
                    ItemKind::WifiNetwork
                    | ItemKind::InternetPassword
                    | ItemKind::GenericPassword
                    | ItemKind::BackupPassword,
                ) => {
                    let Some(secret) = &i.secret else { continue };
                    let Some(text) = secret.as_str() else {
                        continue;
                    };
                    items.push(json!({
                        "kind": i.kind().label(),
                        "name": match i.kind() {
                            ItemKind::BackupPassword => "this iPhone's backup password".to_string(),
                            _ => i.name().unwrap_or_default(),
                        },
                        "account": i.account().unwrap_or_default(),
                        "secret": text,
                    }));
                }
                _ => {}
            }
        }
        let rank = |k: &str| match k {
            "Wi-Fi" => 0,
            "internet" => 1,
            _ => 2,
        };
        items.sort_by(|a, b| {
            let ka = a["kind"].as_str().unwrap_or("");
            let kb = b["kind"].as_str().unwrap_or("");
            (rank(ka), a["name"].as_str().unwrap_or("").to_lowercase())
                .cmp(&(rank(kb), b["name"].as_str().unwrap_or("").to_lowercase()))
        });
        Ok(json!({ "items": items, "device_only": device_only, "total": kc.items.len() }))
    }
}

/// The plain words for a phone that cannot be reached or answered.
fn phone_words(e: &sesame_device::DeviceError) -> String {
    use sesame_device::DeviceError as E;
    match e {
        E::NoUsbmuxd { .. } => {
            "No phone can be reached: connect it with its cable. On Linux Sesame needs usbmuxd (install \
             the usbmuxd package); on Windows, Apple Devices (Microsoft Store) or iTunes."
                .into()
        }
        E::NoDevice { .. } => "No iPhone or iPad is connected.".into(),
        E::NotTrusted { .. } => {
            "The phone does not trust this computer yet: press \"Trust this computer\", then unlock \
             the phone, tap Trust and enter its passcode."
                .into()
        }
        E::TrustDenied => "The phone said Don't Trust. Unplug it and plug it in again to be asked again.".into(),
        E::Locked => "The phone is locked: unlock it and try again.".into(),
        E::TrustTimeout => "Nobody answered \"Trust This Computer?\" on the phone in time.".into(),
        E::PasscodeTimeout => "The phone asked for its passcode, and none was entered in time.".into(),
        E::WrongPassword => "The phone says that password is not its backup password.".into(),
        E::AlreadySo { on } => format!("Backup encryption is already {}.", if *on { "on" } else { "off" }),
        e => format!("The phone: {e}."),
    }
}

impl App {
    fn mux(&self) -> std::result::Result<sesame_device::MuxAddr, Fail> {
        match &self.cfg.usbmuxd {
            Some(a) => Ok(a.clone()),
            None => sesame_device::MuxAddr::from_env().map_err(|e| bad(e.to_string())),
        }
    }

    /// The listed backup of this phone whose password is known: (backup id, password).
    fn phone_password(&self, udid: &str) -> Option<Zeroizing<Vec<u8>>> {
        let known: Vec<PathBuf> = self.known.lock().ok()?.values().cloned().collect();
        known.iter().find_map(|p| {
            let b = Backup::open(p).ok()?;
            if b.info().udid.as_deref() != Some(udid) || !b.needs_password() {
                return None;
            }
            self.known_password(&b.hash_line().ok()?)
        })
    }

    /// The phones connected now: name, model, iOS, trusted or not, backup encryption.
    fn phones(&self) -> Result<Value> {
        let addr = self.mux()?;
        let list = match sesame_device::list(&addr) {
            Ok(l) => l,
            Err(e) => return Ok(json!({ "phones": [], "message": phone_words(&e) })),
        };
        let waits = sesame_device::Waits {
            pair: false,
            ..Default::default()
        };
        let mut phones = Vec::new();
        for c in list {
            match sesame_device::info(&addr, Some(&c.udid), &waits, &|_| {}) {
                Ok(i) => {
                    let known = self.phone_password(&i.udid).is_some();
                    phones.push(json!({
                        "udid": i.udid, "name": i.name, "model": i.model, "ios": i.ios,
                        "paired": i.paired, "will_encrypt": i.will_encrypt,
                        "password_known": known,
                        "reset_removes_password": sesame_device::reset_removes_backup_password(i.ios.as_deref()),
                        "reset_text": sesame_device::RESET_ALL_SETTINGS,
                    }))
                }
                Err(e) => phones.push(json!({ "udid": c.udid, "message": phone_words(&e) })),
            }
        }
        Ok(json!({ "phones": phones, "message": null }))
    }

    fn phone_trust(&self, body: &[u8]) -> Result<Value> {
        let r: UdidIn = parse(body)?;
        let addr = self.mux()?;
        match sesame_device::info(
            &addr,
            Some(&r.udid),
            &sesame_device::Waits::default(),
            &|_| {},
        ) {
            Ok(i) => Ok(json!({ "paired": i.paired, "will_encrypt": i.will_encrypt })),
            Err(e) => Err(Fail(409, phone_words(&e))),
        }
    }

    /// Turns backup encryption off with the password Sesame found for this phone's backup.
    fn phone_encryption_off(&self, body: &[u8]) -> Result<Value> {
        let r: UdidIn = parse(body)?;
        let addr = self.mux()?;
        let pw = self.phone_password(&r.udid).ok_or_else(|| {
            Fail(
                409,
                "Sesame does not know this phone's backup password: find it first from one of its backups.".into(),
            )
        })?;
        let old = Zeroizing::new(String::from_utf8_lossy(&pw).into_owned());
        let change = sesame_device::Encryption::Off { old };
        match sesame_device::set_encryption(
            &addr,
            Some(&r.udid),
            &change,
            &sesame_device::Waits::default(),
            &|_| {},
        ) {
            Ok(on) => Ok(json!({ "will_encrypt": on })),
            Err(e) => Err(Fail(409, phone_words(&e))),
        }
    }

    fn phone_backup(&self, body: &[u8]) -> Result<Value> {
        let r: UdidIn = parse(body)?;
        let addr = self.mux()?;
        let mut slot = self.job.lock().map_err(|_| Fail(500, "busy".into()))?;
        if slot.as_ref().is_some_and(|j| j.running()) {
            return Err(Fail(
                409,
                "another copy is being written: wait for it or stop it".into(),
            ));
        }
        let mut n = 1;
        let out = loop {
            let name = if n == 1 {
                "New iPhone backup".to_string()
            } else {
                format!("New iPhone backup {n}")
            };
            let c = self.cfg.output_dir.join(name).join(&r.udid);
            if !c.exists() {
                break c;
            }
            n += 1;
        };
        // The new backup shows in the list of backups (unfinished until the phone is done).
        if let (Some(parent), Ok(mut roots)) = (out.parent(), self.roots.lock()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| Fail(500, format!("cannot create {}: {e}", parent.display())))?;
            if !roots.iter().any(|r| r == parent) {
                roots.push(parent.to_path_buf());
            }
        }
        let job = jobs::start_phone_backup(addr, r.udid, out);
        let status = job.snapshot();
        *slot = Some(job);
        Ok(serde_json::to_value(status).unwrap_or(Value::Null))
    }
}

/// What the export's pages may do: show their own text, styles and pictures, nothing else (no
/// scripts, no forms, no frames): a message or a file name from the backup is never code.
const EXPORT_CSP: &str = "default-src 'none'; img-src 'self'; media-src 'self'; \
     style-src 'self' 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(p: &Path) -> &'static str {
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("txt" | "csv" | "vcf" | "ics") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("heic") => "image/heic",
        Some("mov") => "video/quicktime",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

impl App {
    /// A file of an export made in this run: `N/relative/path`, inside that export's folder
    /// only (no `..`, no link out of it), and only once the export is complete.
    fn export_file(&self, rest: &str) -> Reply {
        let refuse = |status, msg: &str| Reply::error(status, msg);
        let Some((n, rel)) = rest.split_once('/') else {
            return refuse(404, "no such page");
        };
        let root = match n
            .parse::<usize>()
            .ok()
            .and_then(|n| self.exports.lock().ok()?.get(n).cloned())
        {
            Some(r) => r,
            None => return refuse(404, "no such export"),
        };
        let Some(rel) = percent_decode(rel) else {
            return refuse(400, "bad path");
        };
        let parts: Vec<&str> = rel.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains(['\\', '\0', ':']))
        {
            return refuse(400, "bad path");
        }
        if root.join(sesame_backup::outdir::UNFINISHED).exists() {
            return refuse(
                409,
                "this export is still being written (or did not finish)",
            );
        }
        let (Ok(root_c), Ok(file)) = (root.canonicalize(), root.join(&rel).canonicalize()) else {
            return refuse(404, "no such file");
        };
        if !file.starts_with(&root_c) || !file.is_file() {
            return refuse(404, "no such file");
        }
        match std::fs::read(&file) {
            Ok(body) => Reply {
                status: 200,
                content_type: content_type(&file),
                body,
                headers: vec![("Content-Security-Policy".into(), EXPORT_CSP.into())],
            },
            Err(_) => refuse(404, "no such file"),
        }
    }
}

fn permission_text(p: &Path) -> String {
    if cfg!(target_os = "macos") {
        format!(
            "{}: macOS does not let Sesame read this folder. Open System Settings > Privacy & \
             Security > Full Disk Access, turn it on for the app you started Sesame from \
             (Terminal, say), then quit that app and start it again.",
            p.display()
        )
    } else {
        format!(
            "{}: permission denied. Make sure your user can read this folder (or give another folder).",
            p.display()
        )
    }
}

fn unreadable_view(p: &Path, e: &std::io::Error) -> Value {
    let why = if e.kind() == std::io::ErrorKind::PermissionDenied {
        permission_text(p)
    } else {
        format!("{}: {e}", p.display())
    };
    json!({ "path": p.display().to_string(), "why": why })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_folder_says_what_to_do() {
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let v = unreadable_view(
            Path::new("/Users/anna/Library/Application Support/MobileSync/Backup"),
            &e,
        );
        let why = v["why"].as_str().unwrap();
        assert!(why.contains("MobileSync"), "{why}");
        if cfg!(target_os = "macos") {
            assert!(why.contains("Full Disk Access"), "{why}");
        } else {
            assert!(why.contains("permission denied"), "{why}");
        }
        let other = unreadable_view(Path::new("/x"), &std::io::Error::other("disk on fire"));
        assert!(other["why"].as_str().unwrap().contains("disk on fire"));
    }

    #[test]
    fn answers_become_hints_one_by_one() {
        let h = HintsIn {
            names: vec![" Rex ".into(), "".into(), "Luna".into()],
            dates: vec!["31/12/1990".into()],
            passcodes: vec!["2580".into()],
            ..Default::default()
        }
        .to_hints()
        .unwrap();
        assert_eq!(h.words, ["Rex", "Luna"]);
        assert!(h.numbers.contains(&"2580".to_string()));
        assert!(h.passwords.contains(&"2580".to_string()));
        assert!(!h.dates.is_empty());
        let bad = HintsIn {
            dates: vec!["the summer".into()],
            ..Default::default()
        }
        .to_hints();
        assert!(bad.unwrap_err().msg.contains("the summer"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
