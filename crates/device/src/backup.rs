//! A new full backup from the phone, written through Sesame's output folder
//! ([`sesame_backup::outdir::OutDir`]): every file created anew under a temporary name and
//! renamed when complete, links never followed, and the `.sesame-unfinished` marker until the
//! phone said the backup is done. The folder given is the backup folder itself (the one
//! named after the UDID in Apple's layout), so `sesame files DIR` opens it at once.
//!
//! idevice runs the DeviceLink file loop (DLMessageUploadFiles and the rest, as
//! idevicebackup2.c handles them); [`OutDelegate`] is its file system, mapping the phone's
//! `<udid>/...` paths into the output folder.

use crate::error::{DeviceError, Result};
use crate::{block_on, check_reply, pick, provider, session, will_encrypt, Event, OnEvent, Waits};
use idevice::mobilebackup2::{BackupDelegate, BackupProgress, DirEntryInfo, MobileBackup2Client};
use idevice::{IdeviceError, IdeviceService};
use sesame_backup::outdir::{OutDir, PartialFile};
use std::future::Future;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a finished backup holds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BackupReport {
    pub udid: String,
    /// The backup folder written.
    pub folder: PathBuf,
    pub files: u32,
    pub bytes: u64,
    /// The phone encrypts its backups (WillEncrypt): this one needs its password.
    pub encrypted: bool,
}

/// Options of a backup.
#[derive(Clone, Debug, Default)]
pub struct BackupOptions {
    /// Write into a folder that is not empty (or that an earlier run did not finish).
    pub force: bool,
    /// At most this many bytes of files; more is reported as a full disk (a cap on the
    /// space a backup may take).
    pub max_bytes: Option<u64>,
    /// Set (by a Ctrl-C handler) to stop: the file being written is removed and the folder
    /// stays marked unfinished.
    pub cancel: Option<Arc<AtomicBool>>,
}

type Slot = Arc<Mutex<Option<DeviceError>>>;

fn keep_first(slot: &Slot, e: DeviceError) {
    if let Ok(mut s) = slot.lock() {
        if s.is_none() {
            *s = Some(e);
        }
    }
}

fn internal(e: impl std::fmt::Display) -> IdeviceError {
    IdeviceError::InternalError(e.to_string())
}

/// The file system idevice's DeviceLink loop writes through: the output folder.
pub(crate) struct OutDelegate<'a> {
    out: &'a OutDir,
    /// The root idevice joins the phone's paths to.
    base: PathBuf,
    /// The first component of every path the phone names (its UDID).
    source: String,
    slot: Slot,
    bytes: Arc<AtomicU64>,
    files: AtomicU32,
    max_bytes: Option<u64>,
    cancel: Option<Arc<AtomicBool>>,
    on: OnEvent<'a>,
}

/// A file being received: committed when idevice drops it after its last block, removed if
/// a write failed.
struct OutFile {
    file: Option<PartialFile>,
    failed: bool,
    slot: Slot,
    bytes: Arc<AtomicU64>,
    max_bytes: Option<u64>,
    cancel: Option<Arc<AtomicBool>>,
}

fn cancelled(c: &Option<Arc<AtomicBool>>) -> bool {
    c.as_ref().is_some_and(|c| c.load(Ordering::SeqCst))
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(f) = self.file.as_mut() else {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        };
        if cancelled(&self.cancel) {
            self.failed = true;
            keep_first(&self.slot, DeviceError::Cancelled);
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let total = self.bytes.load(Ordering::Relaxed) + buf.len() as u64;
        let r = if self.max_bytes.is_some_and(|m| total > m) {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        } else {
            f.write(buf)
        };
        match r {
            Ok(n) => {
                self.bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                self.failed = true;
                let err = if matches!(
                    e.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                ) {
                    DeviceError::DiskFull {
                        path: f.dest().to_path_buf(),
                    }
                } else {
                    DeviceError::Backup(f.error(std::io::Error::new(e.kind(), e.to_string())))
                };
                keep_first(&self.slot, err);
                Err(e)
            }
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            if self.failed {
                drop(f); // removes the temporary file
            } else if let Err(e) = f.commit(None) {
                keep_first(&self.slot, DeviceError::Backup(e));
            }
        }
    }
}

impl<'a> OutDelegate<'a> {
    fn new(out: &'a OutDir, source: &str, opts: &BackupOptions, on: OnEvent<'a>) -> Self {
        OutDelegate {
            out,
            base: out.root().to_path_buf(),
            source: source.to_string(),
            slot: Arc::new(Mutex::new(None)),
            bytes: Arc::new(AtomicU64::new(0)),
            files: AtomicU32::new(0),
            max_bytes: opts.max_bytes,
            cancel: opts.cancel.clone(),
            on,
        }
    }

    /// The phone's path (joined to `base` by idevice) relative to the output folder. Only
    /// `<udid>/...` is accepted; idevice already dropped `..` and root components.
    fn rel(&self, p: &Path) -> std::result::Result<PathBuf, IdeviceError> {
        let r = p
            .strip_prefix(&self.base)
            .map_err(|_| internal("a path outside the backup"))?;
        let mut c = r.components();
        match c.next() {
            None => Ok(PathBuf::new()),
            Some(Component::Normal(first)) if first == self.source.as_str() => {
                let rest: PathBuf = c
                    .map(|x| match x {
                        Component::Normal(n) => Ok(n),
                        _ => Err(internal("not a plain path")),
                    })
                    .collect::<std::result::Result<_, _>>()?;
                Ok(rest)
            }
            _ => Err(internal("a path outside this device's backup")),
        }
    }

    /// The absolute path of `rel`, refusing any link on the way (the last part included).
    fn checked(&self, p: &Path) -> std::result::Result<PathBuf, IdeviceError> {
        let rel = self.rel(p)?;
        let mut at = self.out.root().to_path_buf();
        for c in rel.components() {
            at.push(c);
            if let Ok(m) = std::fs::symlink_metadata(&at) {
                if m.file_type().is_symlink() {
                    return Err(internal(format!("{} is a link", at.display())));
                }
            }
        }
        Ok(at)
    }

    fn take_error(&self) -> Option<DeviceError> {
        self.slot.lock().ok().and_then(|mut s| s.take())
    }
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

fn io_to_idevice(e: std::io::Error) -> IdeviceError {
    if e.kind() == std::io::ErrorKind::NotFound {
        IdeviceError::NotFound
    } else {
        internal(e)
    }
}

impl BackupDelegate for OutDelegate<'_> {
    fn get_free_disk_space(&self, _path: &Path) -> u64 {
        // Measuring a volume needs platform calls (statvfs) outside safe Rust: say "plenty",
        // as idevice does when it cannot tell; a full disk is caught when writing.
        match self.max_bytes {
            Some(m) => m.saturating_sub(self.bytes.load(Ordering::Relaxed)),
            None => 1 << 50,
        }
    }

    fn open_file_read<'a>(
        &'a self,
        path: &'a Path,
    ) -> Fut<'a, Result<Box<dyn Read + Send>, IdeviceError>> {
        Box::pin(async move {
            let p = self.checked(path)?;
            let f = std::fs::File::open(&p).map_err(io_to_idevice)?;
            Ok(Box::new(f) as Box<dyn Read + Send>)
        })
    }

    fn create_file_write<'a>(
        &'a self,
        path: &'a Path,
    ) -> Fut<'a, Result<Box<dyn Write + Send>, IdeviceError>> {
        Box::pin(async move {
            let rel = match self.rel(path) {
                Ok(r) => r,
                Err(e) => {
                    keep_first(
                        &self.slot,
                        DeviceError::Protocol(format!(
                            "the device sent a file outside its backup ({}); nothing was written there",
                            path.strip_prefix(&self.base).unwrap_or(path).display()
                        )),
                    );
                    return Err(e);
                }
            };
            if cancelled(&self.cancel) {
                keep_first(&self.slot, DeviceError::Cancelled);
                return Err(internal("cancelled"));
            }
            let f = match self.out.create(&rel) {
                Ok(f) => f,
                Err(e) => {
                    let msg = e.to_string();
                    keep_first(&self.slot, DeviceError::Backup(e));
                    return Err(internal(msg));
                }
            };
            Ok(Box::new(OutFile {
                file: Some(f),
                failed: false,
                slot: self.slot.clone(),
                bytes: self.bytes.clone(),
                max_bytes: self.max_bytes,
                cancel: self.cancel.clone(),
            }) as Box<dyn Write + Send>)
        })
    }

    fn create_dir_all<'a>(&'a self, path: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move {
            let rel = self.rel(path)?;
            self.out.ensure_dir(&rel).map(|_| ()).map_err(internal)
        })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move {
            let p = self.checked(path)?;
            if p == self.out.root() {
                return Err(internal("the backup folder itself"));
            }
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p).map_err(internal),
                Ok(_) => std::fs::remove_file(&p).map_err(internal),
                Err(e) => Err(io_to_idevice(e)),
            }
        })
    }

    fn rename<'a>(&'a self, from: &'a Path, to: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move {
            let src = self.checked(from)?;
            let rel_to = self.rel(to)?;
            if let Some(parent) = rel_to.parent() {
                self.out.ensure_dir(parent).map_err(internal)?;
            }
            let dst = self.checked(to)?;
            std::fs::rename(&src, &dst).map_err(internal)
        })
    }

    fn copy<'a>(&'a self, src: &'a Path, dst: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move {
            let s = self.checked(src)?;
            let rel_to = self.rel(dst)?;
            if std::fs::symlink_metadata(&s).is_ok_and(|m| m.is_dir()) {
                return self.out.ensure_dir(&rel_to).map(|_| ()).map_err(internal);
            }
            let mut from = std::fs::File::open(&s).map_err(io_to_idevice)?;
            let mut to = self.out.create(&rel_to).map_err(internal)?;
            std::io::copy(&mut from, &mut to).map_err(internal)?;
            to.commit(None).map_err(internal)
        })
    }

    fn exists<'a>(&'a self, path: &'a Path) -> Fut<'a, bool> {
        Box::pin(async move {
            self.checked(path)
                .is_ok_and(|p| std::fs::symlink_metadata(p).is_ok())
        })
    }

    fn is_dir<'a>(&'a self, path: &'a Path) -> Fut<'a, bool> {
        Box::pin(async move {
            self.checked(path)
                .is_ok_and(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        })
    }

    fn list_dir<'a>(&'a self, path: &'a Path) -> Fut<'a, Result<Vec<DirEntryInfo>, IdeviceError>> {
        Box::pin(async move {
            let p = self.checked(path)?;
            let mut v = Vec::new();
            for e in std::fs::read_dir(&p).map_err(io_to_idevice)? {
                let e = e.map_err(internal)?;
                let m = std::fs::symlink_metadata(e.path()).ok();
                v.push(DirEntryInfo {
                    name: e.file_name().to_string_lossy().into_owned(),
                    is_dir: m.as_ref().is_some_and(|m| m.is_dir()),
                    is_file: m.as_ref().is_some_and(|m| m.is_file()),
                    size: m.as_ref().map_or(0, |m| m.len()),
                    modified: m.and_then(|m| m.modified().ok()),
                });
            }
            Ok(v)
        })
    }

    fn on_file_received(&self, _path: &str, _file_count: u32) {
        let files = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        (self.on)(&Event::Progress {
            bytes: self.bytes.load(Ordering::Relaxed),
            percent: None,
            files,
        });
    }

    fn on_progress(&self, p: BackupProgress) {
        (self.on)(&Event::Progress {
            bytes: self.bytes.load(Ordering::Relaxed),
            percent: (p.overall_progress >= 0.0).then_some(p.overall_progress),
            files: self.files.load(Ordering::Relaxed),
        });
    }
}

/// The Info.plist a computer writes beside a backup (the phone does not send it): the
/// keys libimobiledevice's `mobilebackup_factory_info_plist_new` fills from lockdown.
fn info_plist(values: &[(&str, Option<String>)]) -> Result<Vec<u8>> {
    let mut d = plist::Dictionary::new();
    for (k, v) in values {
        if let Some(v) = v {
            d.insert((*k).into(), v.clone().into());
        }
    }
    d.insert("Target Type".into(), "Device".into());
    d.insert(
        "Last Backup Date".into(),
        plist::Value::Date(std::time::SystemTime::now().into()),
    );
    let mut buf = Vec::new();
    plist::Value::Dictionary(d)
        .to_writer_xml(&mut buf)
        .map_err(|e| DeviceError::Protocol(format!("writing Info.plist: {e}")))?;
    Ok(buf)
}

pub(crate) async fn get_str(ld: &mut idevice::lockdown::LockdownClient, k: &str) -> Option<String> {
    ld.get_value(Some(k), None)
        .await
        .ok()
        .and_then(|v| v.as_string().map(str::to_string))
}

/// A full backup of the phone into `out` (a new or empty folder, or any with `force`).
/// The folder is complete (no `.sesame-unfinished`) only when the phone said the backup
/// succeeded and its Manifest and Status are in.
pub fn backup(
    addr: &crate::MuxAddr,
    udid: Option<&str>,
    out: &Path,
    opts: &BackupOptions,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<BackupReport> {
    block_on(async {
        let (a, d) = pick(addr, udid).await?;
        let p = provider(&a, &d);
        let mut ld = session(addr, &p, waits, on).await?;
        let encrypted = will_encrypt(&mut ld).await?;
        let name = get_str(&mut ld, "DeviceName").await;
        let values = [
            ("Device Name", name.clone()),
            ("Display Name", name),
            ("Product Type", get_str(&mut ld, "ProductType").await),
            ("Product Version", get_str(&mut ld, "ProductVersion").await),
            ("Build Version", get_str(&mut ld, "BuildVersion").await),
            ("Serial Number", get_str(&mut ld, "SerialNumber").await),
            ("Unique Identifier", Some(d.udid.to_ascii_uppercase())),
            ("Target Identifier", Some(d.udid.clone())),
        ];
        drop(ld);
        let info = info_plist(&values)?;
        let dir = OutDir::prepare(out, &[], opts.force)?;
        dir.write_file(Path::new("Info.plist"), &info)?;
        let mut mb = MobileBackup2Client::connect(&p)
            .await
            .map_err(|e| DeviceError::from_idevice(e, "starting mobilebackup2"))?;
        let delegate = OutDelegate::new(&dir, &d.udid, opts, on);
        let mut options = plist::Dictionary::new();
        options.insert("ForceFullBackup".into(), true.into());
        let result = mb
            .backup_from_path(dir.root(), Some(&d.udid), Some(options), &delegate)
            .await;
        if let Some(e) = delegate.take_error() {
            return Err(e);
        }
        match result {
            Ok(Some(reply)) => check_reply(&reply, false).map_err(|e| match e {
                // The phone compares the free space the computer reported with what it will
                // send, and refuses with words about disk space.
                DeviceError::Refused {
                    description: Some(d),
                    ..
                } if d.to_ascii_lowercase().contains("disk space") => DeviceError::DiskFull {
                    path: dir.root().to_path_buf(),
                },
                e => e,
            })?,
            Ok(None) => {
                return Err(DeviceError::Protocol(
                    "the device ended the backup without saying it finished".into(),
                ))
            }
            Err(e) => return Err(DeviceError::from_idevice(e, "backing up")),
        }
        let _ = mb.disconnect().await;
        for must in ["Manifest.plist", "Status.plist"] {
            if std::fs::symlink_metadata(dir.root().join(must)).is_err() {
                return Err(DeviceError::Protocol(format!(
                    "the device said the backup is done but sent no {must}"
                )));
            }
        }
        let folder = dir.root().to_path_buf();
        let report = BackupReport {
            udid: d.udid.clone(),
            folder,
            files: delegate.files.load(Ordering::Relaxed),
            bytes: delegate.bytes.load(Ordering::Relaxed),
            encrypted,
        };
        dir.finish()?;
        Ok(report)
    })
}

/// [`backup`] of a phone that may be restarting (its setting just changed, as after Reset All
/// Settings): while it is away, waits for it, up to `waits.reconnect`, instead of failing.
pub fn backup_when_back(
    addr: &crate::MuxAddr,
    udid: &str,
    out: &Path,
    opts: &BackupOptions,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<BackupReport> {
    let start = std::time::Instant::now();
    loop {
        match backup(addr, Some(udid), out, opts, waits, on) {
            Err(DeviceError::NoDevice { .. }) if start.elapsed() < waits.reconnect => {
                std::thread::sleep(waits.poll)
            }
            r => return r,
        }
    }
}
