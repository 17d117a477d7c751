//! Writing out: a decrypted copy that reads as an unencrypted backup, a readable
//! Domain/path tree, and a copy re-keyed with a new password.
//!
//! The source backup is only read. Every output file is written under a temporary name and
//! renamed when complete; the top-level Manifest.plist of a copy is written last, so an
//! interrupted run leaves nothing that looks like a complete backup.

use crate::backup::{Backup, UnlockedKeys};
use crate::error::{BackupError, Result};
use crate::file::is_valid_file_id;
use crate::manifest::{EntryKind, Era, Manifest, ManifestEntry};
use crate::outdir::OutDir;
pub use crate::outdir::PARTIAL;
use crate::paths;
use plist::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Options shared by the writers.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Write into a folder that is not empty.
    pub force: bool,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Set from another thread to stop: the file in flight is removed, the output folder
    /// stays marked unfinished, and the writer returns `BackupError::Cancelled`.
    pub cancel: Option<CancelFlag>,
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
    /// The output could not be written (a full disk, a link in the way): the copy is then
    /// incomplete. False when the source could not give the file (a key only the device
    /// has, a damaged blob): no copy could hold it.
    pub in_output: bool,
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
    /// Blobs in the source that no Manifest.db row names, copied as they are.
    pub orphan_blobs: u64,
    /// Every file the source could give is in, and the copy is marked as a complete backup
    /// (Manifest.plist and Status.plist written). False when a file could not be written:
    /// the copy is then not a backup.
    pub complete: bool,
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

/// Stops a long write from another thread (the CLI wires Ctrl-C to it; the web app a button).
pub type CancelFlag = Arc<AtomicBool>;

fn cancelled(opts: &WriteOptions) -> bool {
    opts.cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::Relaxed))
}

/// A writer that fails once the cancel flag is set (so a file in flight stops at its next
/// chunk and is removed; not with ErrorKind::Interrupted, which `write_all` retries forever), and remembers the first error of the file under it, so that an
/// error can name the file that could not be written rather than the one being read.
struct Guarded<'a, W: Write> {
    inner: W,
    cancel: Option<&'a AtomicBool>,
    error: Option<std::io::ErrorKind>,
    was_cancelled: bool,
}

impl<W: Write> Write for Guarded<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            self.was_cancelled = true;
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.write(buf).inspect_err(|e| {
            self.error.get_or_insert(e.kind());
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.error.get_or_insert(e.kind());
        })
    }
}

/// Streams one entry into a new file at `rel` below `out`, with its modification time.
#[allow(clippy::too_many_arguments)]
fn write_entry(
    backup: &Backup,
    entry: &ManifestEntry,
    keys: Option<&UnlockedKeys>,
    out: &OutDir,
    rel: &Path,
    opts: &WriteOptions,
    threads: usize,
    set_mtime: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<crate::file::CopyReport, (BackupError, bool)> {
    let output = |e| (e, true);
    let mut pf = out.create(rel).map_err(output)?;
    let mut g = Guarded {
        inner: std::io::BufWriter::with_capacity(256 << 10, &mut pf),
        cancel: opts.cancel.as_deref(),
        error: None,
        was_cancelled: false,
    };
    let copied = backup
        .copy_file_with(entry, keys, &mut g, threads, progress)
        .and_then(|rep| {
            g.flush().map_err(|e| BackupError::io(rel, e))?;
            Ok(rep)
        });
    let (was_cancelled, out_error) = (g.was_cancelled, g.error);
    drop(g);
    let rep = match copied {
        Ok(rep) => rep,
        Err(_) if was_cancelled => return Err((BackupError::Cancelled, true)),
        Err(BackupError::Io { source, .. }) if out_error.is_some() => {
            return Err((pf.error(source), true));
        }
        Err(e) => return Err((e, false)),
    };
    let mtime = if set_mtime {
        entry.meta.as_ref().and_then(|m| unix_time(m.last_modified))
    } else {
        None
    };
    pf.commit(mtime).map_err(output)?;
    Ok(rep)
}

/// Copies one file of the source byte for byte to `rel` below `out`; errors name the side
/// that failed.
fn copy_plain(src: &Path, out: &OutDir, rel: &Path, opts: &WriteOptions) -> Result<()> {
    use std::io::Read;
    let mut from = std::fs::File::open(src).map_err(|e| BackupError::io(src, e))?;
    let mut pf = out.create(rel)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if cancelled(opts) {
            return Err(BackupError::Cancelled);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BackupError::io(src, e)),
        };
        pf.write_all(&buf[..n]).map_err(|e| pf.error(e))?;
    }
    pf.commit(None)
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
        in_output: false,
    }
}

fn output_failure(e: &ManifestEntry, err: impl ToString) -> FileFailure {
    FileFailure {
        in_output: true,
        ..failure(e, err)
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

impl<'a> Shared<'a> {
    fn new(total: u64, files_total: u64, progress: ProgressFn<'a>) -> Shared<'a> {
        Shared {
            done: AtomicU64::new(0),
            files_done: AtomicU64::new(0),
            total,
            files_total,
            progress,
        }
    }

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
    cancelled: AtomicBool,
    warnings: Mutex<Vec<String>>,
    failed: Mutex<Vec<FileFailure>>,
    refused: Mutex<Vec<Refused>>,
}

impl Tally {
    /// Writes one file's contents to `rel` below `out`, reporting progress as it goes, and
    /// records how it went. `len` is the blob's size, the unit of progress.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        shared: &Shared<'_>,
        backup: &Backup,
        e: &ManifestEntry,
        keys: Option<&UnlockedKeys>,
        out: &OutDir,
        rel: &Path,
        len: u64,
        opts: &WriteOptions,
        set_mtime: bool,
    ) {
        if cancelled(opts) {
            self.cancelled.store(true, Ordering::Relaxed);
            return;
        }
        let threads = opts.threads();
        let inner = if len >= BIG_FILE { threads } else { 1 };
        let mut seen = 0u64;
        let r = write_entry(
            backup,
            e,
            keys,
            out,
            rel,
            opts,
            inner,
            set_mtime,
            &mut |n| {
                seen += n;
                shared.advance(n, 0);
            },
        );
        shared.advance(len.saturating_sub(seen), 1);
        match r {
            Ok(rep) => {
                self.bytes.fetch_add(rep.bytes_written, Ordering::Relaxed);
                self.files.fetch_add(1, Ordering::Relaxed);
                if let Some(w) = rep.warning {
                    lock(&self.warnings).push(w);
                }
            }
            Err((BackupError::Cancelled, _)) => self.cancelled.store(true, Ordering::Relaxed),
            Err((BackupError::LinkInOutput { path }, _)) => self.refuse(Refused {
                domain: e.domain.clone(),
                relative_path: e.relative_path.clone(),
                reason: format!("{} is a link: refusing to write through it", path.display()),
            }),
            Err((err, true)) => lock(&self.failed).push(output_failure(e, err)),
            Err((err, false)) => self.fail(e, err),
        }
    }

    fn fail(&self, e: &ManifestEntry, err: impl ToString) {
        lock(&self.failed).push(failure(e, err));
    }

    fn refuse(&self, r: Refused) {
        lock(&self.refused).push(r);
    }

    /// (files, bytes, warnings, failed, refused), or Cancelled.
    #[allow(clippy::type_complexity)]
    fn finish(self) -> Result<(u64, u64, Vec<String>, Vec<FileFailure>, Vec<Refused>)> {
        fn take<T>(m: Mutex<Vec<T>>) -> Vec<T> {
            m.into_inner().unwrap_or_else(|p| p.into_inner())
        }
        if self.cancelled.into_inner() {
            return Err(BackupError::Cancelled);
        }
        Ok((
            self.files.into_inner(),
            self.bytes.into_inner(),
            take(self.warnings),
            take(self.failed),
            take(self.refused),
        ))
    }
}

/// A poisoned lock still holds good data here (lists of results): keep going with it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The blob's size, or None when the source has no blob for this entry. A link in the blob's
/// place counts as a blob, so that reading it fails and is reported rather than dropped.
fn blob_len(backup: &Backup, e: &ManifestEntry) -> Option<u64> {
    std::fs::symlink_metadata(backup.blob_path(&e.file_id))
        .ok()
        .filter(|m| m.is_file() || m.file_type().is_symlink())
        .map(|m| m.len())
}

/// Blobs in the source that no file-list entry names: copied as they are, so that nothing of
/// the source is lost in the copy.
fn orphan_blobs(backup: &Backup, named: &std::collections::HashSet<&str>) -> Vec<(PathBuf, u64)> {
    if backup.era == Era::Mbdb {
        return flat_orphan_blobs(backup, named);
    }
    let mut out = Vec::new();
    let Ok(top) = std::fs::read_dir(&backup.root) else {
        return out;
    };
    for d in top.flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        let is_prefix = name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_prefix || !d.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(inner) = std::fs::read_dir(d.path()) else {
            continue;
        };
        for f in inner.flatten() {
            let id = f.file_name().to_string_lossy().into_owned();
            if is_valid_file_id(&id)
                && id.starts_with(&name)
                && !named.contains(id.as_str())
                && f.file_type().is_ok_and(|t| t.is_file())
            {
                let len = f.metadata().map_or(0, |m| m.len());
                out.push((PathBuf::from(&name).join(&id), len));
            }
        }
    }
    out.sort();
    out
}

/// Blobs lying flat in a Manifest.mbdb backup's folder that no record names. Only names of
/// 40 hex digits (SHA-1 fileIDs) are blobs: the plists and the file list lie beside them.
fn flat_orphan_blobs(
    backup: &Backup,
    named: &std::collections::HashSet<&str>,
) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let Ok(top) = std::fs::read_dir(&backup.root) else {
        return out;
    };
    for f in top.flatten() {
        let id = f.file_name().to_string_lossy().into_owned();
        if id.len() == 40
            && id.bytes().all(|b| b.is_ascii_hexdigit())
            && !named.contains(id.as_str())
            && f.file_type().is_ok_and(|t| t.is_file())
        {
            let len = f.metadata().map_or(0, |m| m.len());
            out.push((PathBuf::from(&id), len));
        }
    }
    out.sort();
    out
}

/// Writes a decrypted copy of `backup` into `out` that reads as an unencrypted backup of the
/// same era: plain blobs at the same paths (only where the source has a blob), blobs without
/// a row copied as they are, a plain Manifest.db whose MBFile records carry no EncryptionKey
/// (or a Manifest.mbdb whose records have empty encryption keys, for iOS 4 to 9),
/// Manifest.plist with IsEncrypted false, Info/Status copied. Manifest.plist and
/// Status.plist, which make the copy look complete, are written only when every file is in.
pub fn decrypt_backup(
    backup: &Backup,
    keys: Option<&UnlockedKeys>,
    out: &Path,
    opts: &WriteOptions,
    progress: ProgressFn<'_>,
) -> Result<DecryptReport> {
    if backup.needs_password() && keys.is_none() {
        return Err(BackupError::PasswordNeeded);
    }
    // The file list, read once: Manifest.db (decrypted in memory) or Manifest.mbdb (plain).
    let list_path = backup.root.join(backup.era.list_file());
    let named_err = |e| match e {
        BackupError::Manifest(w) => BackupError::malformed(&list_path, w),
        other => other,
    };
    let (list, manifest, every) = match backup.era {
        Era::ManifestDb => {
            let db = backup.manifest_db_bytes(keys)?;
            let manifest = Manifest::from_db_bytes(&db).map_err(named_err)?;
            (FileList::Db(db), manifest, None)
        }
        Era::Mbdb => {
            let raw = backup.mbdb_bytes()?;
            let parsed = crate::mbdb::parse(&raw).map_err(|e| backup.in_folder(e))?;
            let manifest = Manifest::from_mbdb(&parsed);
            // Every record, repeats included: the manifest keeps one entry per name, but
            // each record's blob belongs in the copy.
            let every: Vec<ManifestEntry> = parsed.records.iter().map(|r| r.to_entry()).collect();
            (FileList::Mbdb { raw, parsed }, manifest, Some(every))
        }
    };
    let entries = every.as_deref().unwrap_or(manifest.entries());
    let dir = OutDir::prepare(out, &[&backup.root], opts.force)?;
    let threads = opts.threads();
    let mut report = DecryptReport {
        out_dir: dir.root().to_path_buf(),
        warnings: manifest.warnings.clone(),
        ..Default::default()
    };

    let mut files: Vec<(&ManifestEntry, u64)> = Vec::new();
    let mut named = std::collections::HashSet::new();
    for e in entries {
        match e.kind {
            // A blob named twice is written once: two workers on one output name would race.
            EntryKind::File if is_valid_file_id(&e.file_id) => {
                if named.insert(e.file_id.as_str()) {
                    // A file with no blob in the source (often an empty one) gets none in the copy.
                    if let Some(len) = blob_len(backup, e) {
                        files.push((e, len));
                    }
                }
            }
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
    let orphans = orphan_blobs(backup, &named);
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    let shared = Shared::new(
        files.iter().map(|f| f.1).sum::<u64>() + orphans.iter().map(|o| o.1).sum::<u64>(),
        (files.len() + orphans.len()) as u64,
        progress,
    );
    let tally = Tally::default();
    run_pool(&files, threads, &|&(e, len)| {
        let rel = backup.blob_rel(&e.file_id);
        tally.write(&shared, backup, e, keys, &dir, &rel, len, opts, false);
    });
    let (files, bytes, warnings, failed, refused) = tally.finish()?;
    report.files = files;
    report.bytes = bytes;
    report.failed.extend(failed);
    report
        .failed
        .extend(refused.into_iter().map(|r| FileFailure {
            domain: r.domain,
            relative_path: r.relative_path,
            file_id: String::new(),
            error: r.reason,
            in_output: true,
        }));
    report.warnings.extend(warnings);
    for (rel, len) in &orphans {
        match copy_plain(&backup.root.join(rel), &dir, rel, opts) {
            Ok(()) => report.orphan_blobs += 1,
            Err(BackupError::Cancelled) => return Err(BackupError::Cancelled),
            Err(e) => report.failed.push(FileFailure {
                domain: String::new(),
                relative_path: String::new(),
                file_id: rel.display().to_string(),
                error: e.to_string(),
                in_output: true,
            }),
        }
        shared.advance(*len, 1);
    }
    if cancelled(opts) {
        return Err(BackupError::Cancelled);
    }

    match list {
        FileList::Db(db) => {
            // Manifest.db: the plain database, with EncryptionKey taken out of every MBFile record.
            let mut pf = dir.create(Path::new("Manifest.db"))?;
            pf.write_all(&db).map_err(|e| pf.error(e))?;
            pf.flush().map_err(|e| pf.error(e))?;
            drop(db);
            strip_encryption_keys(pf.temp_path())?;
            pf.commit(None)?;
        }
        FileList::Mbdb { raw, parsed } => {
            write_mbdb_copy(backup, &dir, &raw, parsed, &mut report.warnings)?
        }
    }

    let src = backup.root.join("Info.plist");
    if src.is_file() {
        copy_plain(&src, &dir, Path::new("Info.plist"), opts)?;
    }
    // A file the source cannot give (a key only the device has) could be in no copy; one
    // that could not be written makes this copy incomplete.
    report.complete = !report.failed.iter().any(|f| f.in_output);
    if !report.complete {
        // Without Manifest.plist and Status.plist nothing takes this copy for a backup.
        return Ok(report);
    }
    let src = backup.root.join("Status.plist");
    if src.is_file() {
        copy_plain(&src, &dir, Path::new("Status.plist"), opts)?;
    }
    if let Some(m) = &backup.manifest_plist {
        let mut m = m.clone();
        m.insert("IsEncrypted".into(), Value::Boolean(false));
        let m_keybag = m.remove("BackupKeyBag").filter(|_| backup.encrypted);
        m.remove("ManifestKey");
        let mut pf = dir.create(Path::new("Manifest.plist"))?;
        Value::Dictionary(m)
            .to_writer_binary(&mut pf)
            .map_err(|e| BackupError::malformed(pf.dest(), e.to_string()))?;
        pf.commit(None)?;
        // The keychain's items stay encrypted with the class keys: keep the keybag aside so
        // that Sesame can still read them with the original password.
        if let (true, Some(Value::Data(kb))) = (report.keychain_stays_encrypted, m_keybag) {
            let mut side = plist::Dictionary::new();
            side.insert("BackupKeyBag".into(), Value::Data(kb));
            side.insert(
                "About".into(),
                Value::String(
                    "The keybag of the encrypted backup this copy was decrypted from: the \
                     keychain items in the copy are still encrypted with its class keys."
                        .into(),
                ),
            );
            let mut pf = dir.create(Path::new(crate::backup::ORIGINAL_KEYBAG))?;
            Value::Dictionary(side)
                .to_writer_xml(&mut pf)
                .map_err(|e| BackupError::malformed(pf.dest(), e.to_string()))?;
            pf.commit(None)?;
        }
    }
    dir.finish()?;
    Ok(report)
}

/// A backup's file list as `decrypt_backup` read it.
enum FileList {
    /// The plain bytes of Manifest.db.
    Db(zeroize::Zeroizing<Vec<u8>>),
    /// Manifest.mbdb as read, and parsed.
    Mbdb {
        raw: Vec<u8>,
        parsed: crate::mbdb::Mbdb,
    },
}

/// The copy's Manifest.mbdb: every record exactly as in the source but with its encryption key
/// emptied (length 0xFFFF, as unencrypted backups of that era have it); the rest of a damaged
/// file, which could not be read as records, is kept as it was. iOS 4's Manifest.mbdx, whose
/// offsets shift with the shorter records, is rewritten to point at the same records.
fn write_mbdb_copy(
    backup: &Backup,
    dir: &OutDir,
    raw: &[u8],
    mut parsed: crate::mbdb::Mbdb,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let old_offsets = std::mem::take(&mut parsed.offsets);
    for r in &mut parsed.records {
        r.encryption_key = None;
    }
    let (mut bytes, new_offsets) = parsed.to_bytes().map_err(|e| backup.in_folder(e))?;
    if let Some(d) = &parsed.damage {
        bytes.extend_from_slice(raw.get(d.offset..).unwrap_or_default());
        warnings.push(
            "Manifest.mbdb: the part that could not be read was copied as it was (still with \
             any encryption keys in it)"
                .into(),
        );
    }
    dir.write_file(Path::new("Manifest.mbdb"), &bytes)?;
    let src = backup.root.join("Manifest.mbdx");
    if !src.is_file() {
        return Ok(());
    }
    let index = crate::manifest::read_capped(&src)?;
    match crate::mbdb::parse_mbdx(&index) {
        Ok(x) => {
            let (x, unmatched) = x.remapped(&old_offsets, &new_offsets);
            if unmatched > 0 {
                warnings.push(format!(
                    "Manifest.mbdx: {unmatched} entries point at no Manifest.mbdb record; kept as they were"
                ));
            }
            dir.write_file(Path::new("Manifest.mbdx"), &x.to_bytes())
        }
        Err(e) => {
            warnings.push(format!("Manifest.mbdx: {e}; copied as it was"));
            dir.write_file(Path::new("Manifest.mbdx"), &index)
        }
    }
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
            // Every field but EncryptionKey is kept exactly (ids of -2, extended
            // attributes, fields Sesame does not know); a record without a key is unchanged.
            if let Ok(stripped) = crate::mbfile::without_encryption_key(b) {
                if stripped != b {
                    updates.push((rowid, stripped));
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
    if backup.needs_password() && keys.is_none() {
        return Err(BackupError::PasswordNeeded);
    }
    let dir = OutDir::prepare(out, &[&backup.root], opts.force)?;
    let threads = opts.threads();
    let mut report = ExtractReport {
        out_dir: dir.root().to_path_buf(),
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
                    files.push((e, rel, blob_len(backup, e).unwrap_or(0)));
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
        match dir.ensure_dir(rel) {
            Ok(_) => report.directories += 1,
            Err(why) => report.refused.push(refuse(e, why.to_string())),
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    let shared = Shared::new(
        files.iter().map(|f| f.2).sum(),
        files.len() as u64,
        progress,
    );
    let tally = Tally::default();
    run_pool(&files, threads, &|(e, rel, len)| {
        tally.write(&shared, backup, e, keys, &dir, rel, *len, opts, true)
    });
    let (files, bytes, warnings, failed, refused) = tally.finish()?;
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
        if rel.components().count() < 2 {
            report.refused.push(refuse(
                e,
                "a symlink cannot be the domain folder itself".into(),
            ));
            continue;
        }
        match dir.symlink(rel, &target) {
            Ok(()) => report.symlinks += 1,
            Err(err @ BackupError::LinkInOutput { .. }) => {
                report.refused.push(refuse(e, err.to_string()))
            }
            Err(err) if cfg!(not(unix)) => report.failed.push(failure(e, err)),
            Err(err) => report.refused.push(refuse(e, err.to_string())),
        }
    }
    // Folder times last (writing files into them changed them), deepest first.
    for (e, rel) in dirs.iter().rev() {
        let at = dir.root().join(rel);
        if let Some(t) = e.meta.as_ref().and_then(|m| unix_time(m.last_modified)) {
            if std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
                if let Ok(f) = std::fs::File::open(&at) {
                    let _ = f.set_modified(t);
                }
            }
        }
    }
    if !report.failed.iter().any(|f| f.in_output) {
        dir.finish()?;
    }
    Ok(report)
}

/// Writes a copy of `backup` into `out` whose keybag is re-wrapped for `new_password` (fresh
/// SALT and DPSL, same iteration counts). Everything else is copied byte for byte: nothing
/// else depends on the password. Err(WrongPassword) when `old_password` is wrong. The source
/// must open with the old password (its file list decrypts and reads) before anything is
/// written; Manifest.plist, which makes the copy a backup, is written last.
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
    // Re-wrapping the keybag of a copy whose files are already plain (mvt, iOSbackup) would
    // make a "backup with a new password" that anyone can read.
    if backup.already_decrypted() {
        return Err(BackupError::AlreadyDecrypted {
            path: backup.root.clone(),
        });
    }
    let old_k = crate::kdf::derive_fast(old_password, &kb.kdf_params());
    let old_keys = UnlockedKeys::from_keybag(kb, &old_k)?;
    // A copy of a backup whose file list is missing or unreadable would be no backup at all
    // (Manifest.db must decrypt with the old password; Manifest.mbdb must be one).
    backup.open_manifest(Some(&old_keys))?;
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

    let dir = OutDir::prepare(out, &[&backup.root], opts.force)?;
    // Every file but Manifest.plist, byte for byte; links in the source are not followed.
    // Status.plist is held back with Manifest.plist and copied after every other file: as in
    // a decrypted copy, the files that make a folder look like a finished backup come last.
    let mut list = Vec::new();
    let mut status = None;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let at = backup.root.join(&rel);
        let rd = std::fs::read_dir(&at).map_err(|e| BackupError::io(&at, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| BackupError::io(&at, e))?;
            let ft = ent
                .file_type()
                .map_err(|e| BackupError::io(ent.path(), e))?;
            let r = rel.join(ent.file_name());
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() && r != Path::new("Manifest.plist") {
                let name = ent.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(PARTIAL) || name == crate::outdir::UNFINISHED {
                    continue;
                }
                let len = ent.metadata().map_or(0, |m| m.len());
                if r == Path::new("Status.plist") {
                    status = Some((r, len));
                } else {
                    list.push((r, len));
                }
            }
        }
    }
    list.sort_by_key(|f| std::cmp::Reverse(f.1));
    let files = list.len() as u64 + u64::from(status.is_some());
    let bytes = list.iter().chain(&status).map(|f| f.1).sum();
    let shared = Shared::new(bytes, files, progress);
    let first_err = Mutex::new(None);
    run_pool(&list, opts.threads(), &|(rel, len)| {
        if lock(&first_err).is_some() {
            return;
        }
        let r = copy_plain(&backup.root.join(rel), &dir, rel, opts);
        shared.advance(*len, 1);
        if let Err(e) = r {
            lock(&first_err).get_or_insert(e);
        }
    });
    if let Some(e) = first_err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    if let Some((rel, len)) = &status {
        copy_plain(&backup.root.join(rel), &dir, rel, opts)?;
        shared.advance(*len, 1);
    }
    let mut pf = dir.create(Path::new("Manifest.plist"))?;
    Value::Dictionary(m)
        .to_writer_binary(&mut pf)
        .map_err(|e| BackupError::malformed(pf.dest(), e.to_string()))?;
    pf.commit(None)?;
    let out_dir = dir.root().to_path_buf();
    dir.finish()?;
    Ok(RekeyReport {
        out_dir,
        files: files + 1,
        bytes: shared.total,
        class_keys: rewrapped,
    })
}
