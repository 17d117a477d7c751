//! Writing out: a decrypted copy that reads as an unencrypted backup, a readable
//! Domain/path tree, and a copy re-keyed with a new password.
//!
//! The source backup is only read. Every output file is written under a temporary name and
//! renamed when complete; the top-level Manifest.plist of a copy is written last, so an
//! interrupted run leaves nothing that looks like a complete backup.

use crate::backup::{Backup, UnlockedKeys};
use crate::error::{BackupError, Result};
use crate::file::is_valid_file_id;
use crate::manifest::{EntryKind, Manifest, ManifestEntry};
use crate::mbfile::{decode_mbfile, encode_mbfile};
use crate::paths;
use plist::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The suffix of files still being written.
pub const PARTIAL: &str = ".sesame-partial";

/// Options shared by the writers.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Write into a folder that is not empty.
    pub force: bool,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
}

impl WriteOptions {
    fn threads(&self) -> usize {
        if self.threads == 0 {
            crate::file::default_threads()
        } else {
            self.threads
        }
    }
}

/// Progress of a long write, as bytes of the source consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: u64,
    pub files_total: u64,
}

/// Called from worker threads as the work advances.
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Sync);

/// A file that could not be written, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFailure {
    pub domain: String,
    pub relative_path: String,
    pub file_id: String,
    pub error: String,
}

/// An entry refused because its path would leave the output folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub domain: String,
    pub relative_path: String,
    pub reason: String,
}

/// What `decrypt_backup` did.
#[derive(Clone, Debug, Default)]
pub struct DecryptReport {
    pub out_dir: PathBuf,
    pub files: u64,
    /// Plaintext bytes written (file contents).
    pub bytes: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub warnings: Vec<String>,
    pub failed: Vec<FileFailure>,
    /// The copy holds a keychain (KeychainDomain/keychain-backup.plist) that stays encrypted.
    pub keychain_stays_encrypted: bool,
}

/// What `extract` did.
#[derive(Clone, Debug, Default)]
pub struct ExtractReport {
    pub out_dir: PathBuf,
    pub files: u64,
    pub bytes: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub refused: Vec<Refused>,
    pub failed: Vec<FileFailure>,
    pub warnings: Vec<String>,
}

/// What `rekey_backup` did.
#[derive(Clone, Debug, Default)]
pub struct RekeyReport {
    pub out_dir: PathBuf,
    pub files: u64,
    pub bytes: u64,
    /// Class keys re-wrapped with the new password.
    pub class_keys: usize,
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Creates `out` or checks it is an empty folder (unless `force`), and not inside the source.
fn prepare_out(backup: &Backup, out: &Path, force: bool) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() || (m.file_type().is_symlink() && out.is_dir()) => {
            let mut rd = std::fs::read_dir(out).map_err(|e| BackupError::io(out, e))?;
            if rd.next().is_some() && !force {
                return Err(BackupError::OutputNotEmpty { path: out.into() });
            }
        }
        Ok(_) => {
            return Err(BackupError::io(
                out,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "exists and is not a folder",
                ),
            ))
        }
        Err(_) => std::fs::create_dir_all(out).map_err(|e| BackupError::io(out, e))?,
    }
    let (o, r) = (canonical(out), canonical(&backup.root));
    if o.starts_with(&r) {
        return Err(BackupError::OutputInsideSource { path: out.into() });
    }
    Ok(())
}

/// Writes `bytes` to `dest` through a temporary name.
fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = partial_name(dest);
    std::fs::write(&tmp, bytes).map_err(|e| BackupError::io(&tmp, e))?;
    std::fs::rename(&tmp, dest).map_err(|e| BackupError::io(dest, e))
}

fn partial_name(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(PARTIAL);
    PathBuf::from(s)
}

/// Streams one entry into `dest` (through a temporary name), with its modification time.
fn write_entry(
    backup: &Backup,
    entry: &ManifestEntry,
    keys: Option<&UnlockedKeys>,
    dest: &Path,
    threads: usize,
    set_mtime: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<crate::file::CopyReport> {
    let tmp = partial_name(dest);
    let result = (|| {
        // A leftover at the temporary name (even a symlink, with --force) is removed, never
        // followed: the file is created anew.
        let _ = std::fs::remove_file(&tmp);
        let f = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| BackupError::io(&tmp, e))?;
        let mut w = std::io::BufWriter::with_capacity(256 << 10, f);
        let rep = backup.copy_file_with(entry, keys, &mut w, threads, progress)?;
        let f = w
            .into_inner()
            .map_err(|e| BackupError::io(&tmp, e.into_error()))?;
        if set_mtime {
            if let Some(t) = entry.meta.as_ref().and_then(|m| unix_time(m.last_modified)) {
                let _ = f.set_modified(t);
            }
        }
        drop(f);
        std::fs::rename(&tmp, dest).map_err(|e| BackupError::io(dest, e))?;
        Ok(rep)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn unix_time(secs: i64) -> Option<std::time::SystemTime> {
    let d = std::time::Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        std::time::UNIX_EPOCH.checked_add(d)
    } else {
        std::time::UNIX_EPOCH.checked_sub(d)
    }
}

fn failure(e: &ManifestEntry, err: impl ToString) -> FileFailure {
    FileFailure {
        domain: e.domain.clone(),
        relative_path: e.relative_path.clone(),
        file_id: e.file_id.clone(),
        error: err.to_string(),
    }
}

/// Runs `job` over `items` on `threads` workers, largest first.
fn run_pool<T: Sync>(items: &[T], threads: usize, job: &(dyn Fn(&T) + Sync)) {
    let next = AtomicUsize::new(0);
    let workers = threads.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                job(item);
            });
        }
    });
}

/// Files bigger than this are also decrypted on several threads per chunk.
const BIG_FILE: u64 = 32 << 20;

struct Shared<'a> {
    done: AtomicU64,
    files_done: AtomicU64,
    total: u64,
    files_total: u64,
    progress: ProgressFn<'a>,
}

impl Shared<'_> {
    fn advance(&self, bytes: u64, files: u64) {
        let d = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let f = self.files_done.fetch_add(files, Ordering::Relaxed) + files;
        (self.progress)(&Progress {
            bytes_done: d,
            bytes_total: self.total,
            files_done: f,
            files_total: self.files_total,
        });
    }
}

/// What the file workers of decrypt and extract collect, from several threads at once.
#[derive(Default)]
struct Tally {
    files: AtomicU64,
    bytes: AtomicU64,
    warnings: Mutex<Vec<String>>,
    failed: Mutex<Vec<FileFailure>>,
    refused: Mutex<Vec<Refused>>,
}

impl Tally {
    /// Writes one file's contents to `dest`, reporting progress as it goes, and records how it
    /// went. `len` is the blob's size, the unit of progress.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        shared: &Shared<'_>,
        backup: &Backup,
        e: &ManifestEntry,
        keys: Option<&UnlockedKeys>,
        dest: &Path,
        len: u64,
        threads: usize,
        set_mtime: bool,
    ) {
        let inner = if len >= BIG_FILE { threads } else { 1 };
        let mut seen = 0u64;
        let r = write_entry(backup, e, keys, dest, inner, set_mtime, &mut |n| {
            seen += n;
            shared.advance(n, 0);
        });
        shared.advance(len.saturating_sub(seen), 1);
        match r {
            Ok(rep) => {
                self.bytes.fetch_add(rep.bytes_written, Ordering::Relaxed);
                self.files.fetch_add(1, Ordering::Relaxed);
                if let Some(w) = rep.warning {
                    lock(&self.warnings).push(w);
                }
            }
            Err(err) => self.fail(e, err),
        }
    }

    fn fail(&self, e: &ManifestEntry, err: impl ToString) {
        lock(&self.failed).push(failure(e, err));
    }

    fn refuse(&self, r: Refused) {
        lock(&self.refused).push(r);
    }

    /// (files, bytes, warnings, failed, refused)
    fn finish(self) -> (u64, u64, Vec<String>, Vec<FileFailure>, Vec<Refused>) {
        fn take<T>(m: Mutex<Vec<T>>) -> Vec<T> {
            m.into_inner().unwrap_or_else(|p| p.into_inner())
        }
        (
            self.files.into_inner(),
            self.bytes.into_inner(),
            take(self.warnings),
            take(self.failed),
            take(self.refused),
        )
    }
}

/// A poisoned lock still holds good data here (lists of results): keep going with it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn blob_len(backup: &Backup, e: &ManifestEntry) -> u64 {
    std::fs::metadata(backup.blob_path(&e.file_id)).map_or(0, |m| m.len())
}

/// Writes a decrypted copy of `backup` into `out` that reads as an unencrypted backup:
/// plain blobs at the same paths, a plain Manifest.db whose MBFile records carry no
/// EncryptionKey, Manifest.plist with IsEncrypted false and no keys, Info/Status copied.
pub fn decrypt_backup(
    backup: &Backup,
    keys: Option<&UnlockedKeys>,
    out: &Path,
    opts: &WriteOptions,
    progress: ProgressFn<'_>,
) -> Result<DecryptReport> {
    if backup.encrypted && keys.is_none() {
        return Err(BackupError::PasswordNeeded);
    }
    let db = backup.manifest_db_bytes(keys)?;
    let manifest = Manifest::from_db_bytes(&db).map_err(|e| match e {
        BackupError::Manifest(w) => BackupError::malformed(backup.root.join("Manifest.db"), w),
        other => other,
    })?;
    prepare_out(backup, out, opts.force)?;
    let threads = opts.threads();
    let mut report = DecryptReport {
        out_dir: out.to_path_buf(),
        warnings: manifest.warnings.clone(),
        ..Default::default()
    };

    let mut files: Vec<(&ManifestEntry, u64)> = Vec::new();
    for e in manifest.entries() {
        match e.kind {
            EntryKind::File if is_valid_file_id(&e.file_id) => files.push((e, blob_len(backup, e))),
            EntryKind::File => report
                .failed
                .push(failure(e, "the fileID is not a plain name")),
            EntryKind::Directory => report.directories += 1,
            EntryKind::Symlink => report.symlinks += 1,
            EntryKind::Other(_) => {}
        }
        if e.domain == "KeychainDomain" && e.relative_path == "keychain-backup.plist" {
            report.keychain_stays_encrypted = true;
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    let shared = Shared {
        done: AtomicU64::new(0),
        files_done: AtomicU64::new(0),
        total: files.iter().map(|f| f.1).sum(),
        files_total: files.len() as u64,
        progress,
    };
    let tally = Tally::default();
    run_pool(&files, threads, &|&(e, len)| {
        let sub = out.join(&e.file_id[..2]);
        if let Err(err) = std::fs::create_dir_all(&sub) {
            shared.advance(len, 1);
            return tally.fail(e, BackupError::io(&sub, err));
        }
        tally.write(
            &shared,
            backup,
            e,
            keys,
            &sub.join(&e.file_id),
            len,
            threads,
            false,
        );
    });
    let (files, bytes, warnings, failed, _) = tally.finish();
    report.files = files;
    report.bytes = bytes;
    report.failed.extend(failed);
    report.warnings.extend(warnings);

    // Manifest.db: the plain database, with EncryptionKey taken out of every MBFile record.
    let db_dest = out.join("Manifest.db");
    let db_tmp = partial_name(&db_dest);
    std::fs::write(&db_tmp, &*db).map_err(|e| BackupError::io(&db_tmp, e))?;
    drop(db);
    strip_encryption_keys(&db_tmp).inspect_err(|_| {
        let _ = std::fs::remove_file(&db_tmp);
    })?;
    std::fs::rename(&db_tmp, &db_dest).map_err(|e| BackupError::io(&db_dest, e))?;

    for name in ["Info.plist", "Status.plist"] {
        let src = backup.root.join(name);
        if src.is_file() {
            let bytes = std::fs::read(&src).map_err(|e| BackupError::io(&src, e))?;
            write_atomic(&out.join(name), &bytes)?;
        }
    }
    if let Some(m) = &backup.manifest_plist {
        let mut m = m.clone();
        m.insert("IsEncrypted".into(), Value::Boolean(false));
        m.remove("BackupKeyBag");
        m.remove("ManifestKey");
        let dest = out.join("Manifest.plist");
        let tmp = partial_name(&dest);
        crate::builder::write_plist(&tmp, &Value::Dictionary(m), true)?;
        std::fs::rename(&tmp, &dest).map_err(|e| BackupError::io(&dest, e))?;
    }
    Ok(report)
}

/// Rewrites every MBFile record of a Manifest.db file without its EncryptionKey.
fn strip_encryption_keys(path: &Path) -> Result<()> {
    let sql = |e: rusqlite::Error| BackupError::malformed(path, e.to_string());
    let mut conn = rusqlite::Connection::open(path).map_err(sql)?;
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    {
        let mut updates = Vec::new();
        let mut st = tx
            .prepare("SELECT rowid, file FROM Files WHERE file IS NOT NULL")
            .map_err(sql)?;
        let mut rows = st.query([]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let rowid: i64 = row.get(0).map_err(sql)?;
            let Ok(rusqlite::types::ValueRef::Blob(b)) = row.get_ref(1) else {
                continue;
            };
            if let Ok(mut m) = decode_mbfile(b) {
                if m.encryption_key.take().is_some() {
                    updates.push((rowid, encode_mbfile(&m)));
                }
            }
        }
        drop(rows);
        let mut up = tx
            .prepare("UPDATE Files SET file = ?1 WHERE rowid = ?2")
            .map_err(sql)?;
        for (rowid, blob) in updates {
            up.execute(rusqlite::params![blob, rowid]).map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)?;
    conn.close().map_err(|(_, e)| sql(e))
}

/// Copies `entries` out as `out/<domain>/<relativePath>`, with their modification times.
/// Entries whose path would leave `out` are refused and reported, never written.
pub fn extract(
    backup: &Backup,
    keys: Option<&UnlockedKeys>,
    entries: &[&ManifestEntry],
    out: &Path,
    opts: &WriteOptions,
    progress: ProgressFn<'_>,
) -> Result<ExtractReport> {
    if backup.encrypted && keys.is_none() {
        return Err(BackupError::PasswordNeeded);
    }
    prepare_out(backup, out, opts.force)?;
    let threads = opts.threads();
    let mut report = ExtractReport {
        out_dir: out.to_path_buf(),
        ..Default::default()
    };
    let refuse = |e: &ManifestEntry, reason: String| Refused {
        domain: e.domain.clone(),
        relative_path: e.relative_path.clone(),
        reason,
    };
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    let mut links = Vec::new();
    for &e in entries {
        let rel = match paths::safe_relative(&e.domain, &e.relative_path) {
            Ok(r) => r,
            Err(why) => {
                report.refused.push(refuse(e, why));
                continue;
            }
        };
        match e.kind {
            EntryKind::Directory => dirs.push((e, rel)),
            EntryKind::File => {
                if rel.components().count() < 2 {
                    report.refused.push(refuse(
                        e,
                        "a file cannot be the domain folder itself".into(),
                    ));
                } else {
                    files.push((e, rel, blob_len(backup, e)));
                }
            }
            EntryKind::Symlink => links.push((e, rel)),
            EntryKind::Other(n) => report.warnings.push(format!(
                "{}/{}: skipped (flags {n})",
                e.domain, e.relative_path
            )),
        }
    }
    // Folders first, then files (in parallel), then symlinks, then folder times.
    dirs.sort_by(|a, b| a.1.cmp(&b.1));
    for (e, rel) in &dirs {
        match paths::ensure_dirs(out, rel) {
            Ok(()) => report.directories += 1,
            Err(why) => report.refused.push(refuse(e, why)),
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    let shared = Shared {
        done: AtomicU64::new(0),
        files_done: AtomicU64::new(0),
        total: files.iter().map(|f| f.2).sum(),
        files_total: files.len() as u64,
        progress,
    };
    let tally = Tally::default();
    run_pool(&files, threads, &|(e, rel, len)| {
        let parent = rel.parent().unwrap_or(Path::new(""));
        let dest = out.join(rel);
        let why = match paths::ensure_dirs(out, parent) {
            Err(why) => Some(why),
            Ok(()) if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) => {
                Some(format!("{} is already a folder", dest.display()))
            }
            Ok(()) => None,
        };
        match why {
            Some(why) => {
                tally.refuse(refuse(e, why));
                shared.advance(*len, 1);
            }
            None => tally.write(&shared, backup, e, keys, &dest, *len, threads, true),
        }
    });
    let (files, bytes, warnings, failed, refused) = tally.finish();
    report.files = files;
    report.bytes = bytes;
    report.failed.extend(failed);
    report.refused.extend(refused);
    report.warnings.extend(warnings);

    for (e, rel) in &links {
        let target = e
            .meta
            .as_ref()
            .and_then(|m| m.target.clone())
            .unwrap_or_default();
        if let Err(why) = paths::symlink_target_ok(&target) {
            report.refused.push(refuse(e, why));
            continue;
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        if rel.components().count() < 2 {
            report.refused.push(refuse(
                e,
                "a symlink cannot be the domain folder itself".into(),
            ));
            continue;
        }
        if let Err(why) = paths::ensure_dirs(out, parent) {
            report.refused.push(refuse(e, why));
            continue;
        }
        let dest = out.join(rel);
        if std::fs::symlink_metadata(&dest).is_ok() {
            report
                .refused
                .push(refuse(e, format!("{} already exists", dest.display())));
            continue;
        }
        match make_symlink(&target, &dest) {
            Ok(()) => report.symlinks += 1,
            Err(err) => report.failed.push(failure(e, err)),
        }
    }
    // Folder times last (writing files into them changed them), deepest first.
    for (e, rel) in dirs.iter().rev() {
        let dir = out.join(rel);
        if let Some(t) = e.meta.as_ref().and_then(|m| unix_time(m.last_modified)) {
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
                if let Ok(f) = std::fs::File::open(&dir) {
                    let _ = f.set_modified(t);
                }
            }
        }
    }
    Ok(report)
}

#[cfg(unix)]
fn make_symlink(target: &str, dest: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, dest)
}
#[cfg(not(unix))]
fn make_symlink(_target: &str, _dest: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "symlinks are only recreated on Unix",
    ))
}

/// Writes a copy of `backup` into `out` whose keybag is re-wrapped for `new_password` (fresh
/// SALT and DPSL, same iteration counts). Everything else is copied byte for byte: nothing
/// else depends on the password. Err(WrongPassword) when `old_password` is wrong.
pub fn rekey_backup(
    backup: &Backup,
    old_password: &[u8],
    new_password: &[u8],
    out: &Path,
    opts: &WriteOptions,
    progress: ProgressFn<'_>,
) -> Result<RekeyReport> {
    use rand::RngCore;
    let kb = backup.keybag()?;
    let old_k = crate::kdf::derive_fast(old_password, &kb.kdf_params());
    let check = kb
        .check_key()
        .ok_or(crate::error::KeybagError::NoPasswordWrappedKey)?;
    if crate::aeskw::unwrap(&old_k, &check.wpky).is_none() {
        return Err(BackupError::WrongPassword);
    }
    let mut new_kb = kb.clone();
    let mut salt = vec![0u8; kb.salt.len().max(20)];
    rand::thread_rng().fill_bytes(&mut salt);
    new_kb.salt = salt;
    if let Some(dpsl) = &kb.dpsl {
        let mut s = vec![0u8; dpsl.len().max(20)];
        rand::thread_rng().fill_bytes(&mut s);
        new_kb.dpsl = Some(s);
    }
    let new_k = crate::kdf::derive_fast(new_password, &new_kb.kdf_params());
    let mut rewrapped = 0;
    for ck in new_kb
        .class_keys
        .iter_mut()
        .filter(|c| c.password_wrapped())
    {
        let inner = crate::aeskw::unwrap(&old_k, &ck.wpky).ok_or_else(|| {
            BackupError::Crypto(format!(
                "class key {} does not unwrap with the password that unwraps the others: the keybag is damaged",
                ck.class
            ))
        })?;
        ck.wpky = crate::aeskw::wrap(&new_k, &inner);
        rewrapped += 1;
    }
    let manifest_path = backup.root.join("Manifest.plist");
    let mut m = backup
        .manifest_plist
        .clone()
        .ok_or_else(|| BackupError::malformed(&manifest_path, "missing"))?;
    m.insert("BackupKeyBag".into(), Value::Data(new_kb.to_bytes()));

    prepare_out(backup, out, opts.force)?;
    // Every file but Manifest.plist, byte for byte.
    let mut list = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = backup.root.join(&rel);
        let rd = std::fs::read_dir(&dir).map_err(|e| BackupError::io(&dir, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| BackupError::io(&dir, e))?;
            let ft = ent
                .file_type()
                .map_err(|e| BackupError::io(ent.path(), e))?;
            let r = rel.join(ent.file_name());
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() && r != Path::new("Manifest.plist") {
                let name = ent.file_name();
                if name.to_string_lossy().ends_with(PARTIAL) {
                    continue;
                }
                let len = ent.metadata().map_or(0, |m| m.len());
                list.push((r, len));
            }
        }
    }
    list.sort_by_key(|f| std::cmp::Reverse(f.1));
    let shared = Shared {
        done: AtomicU64::new(0),
        files_done: AtomicU64::new(0),
        total: list.iter().map(|f| f.1).sum(),
        files_total: list.len() as u64,
        progress,
    };
    let first_err = Mutex::new(None);
    run_pool(&list, opts.threads(), &|(rel, len)| {
        let src = backup.root.join(rel);
        let dest = out.join(rel);
        let r = (|| {
            if let Some(p) = dest.parent() {
                std::fs::create_dir_all(p).map_err(|e| BackupError::io(p, e))?;
            }
            let tmp = partial_name(&dest);
            std::fs::copy(&src, &tmp).map_err(|e| BackupError::io(&src, e))?;
            std::fs::rename(&tmp, &dest).map_err(|e| BackupError::io(&dest, e))
        })();
        shared.advance(*len, 1);
        if let Err(e) = r {
            first_err
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(e);
        }
    });
    if let Some(e) = first_err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let dest = out.join("Manifest.plist");
    let tmp = partial_name(&dest);
    crate::builder::write_plist(&tmp, &Value::Dictionary(m), true)?;
    std::fs::rename(&tmp, &dest).map_err(|e| BackupError::io(&dest, e))?;
    Ok(RekeyReport {
        out_dir: out.to_path_buf(),
        files: list.len() as u64 + 1,
        bytes: shared.total,
        class_keys: rewrapped,
    })
}
