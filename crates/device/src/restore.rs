//! Restoring a backup to the phone (mobilebackup2 "Restore", as idevicebackup2's `restore`
//! sends it). Any backup folder Sesame can open will do, a decrypted or re-keyed copy
//! included: the phone names the files it wants as `<source>/<path>`, and [`ReadOnly`]
//! serves them from the folder given, never writing to it.

use crate::error::{DeviceError, Result};
use crate::{block_on, check_reply, pick, provider, session_with_record, Event, OnEvent, Waits};
use idevice::mobilebackup2::{
    BackupDelegate, BackupProgress, DirEntryInfo, MobileBackup2Client, RestoreOptions,
};
use idevice::{IdeviceError, IdeviceService};
use std::future::Future;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use zeroize::Zeroizing;

/// What a restore would replace: shown before asking.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RestorePlan {
    /// The phone that will be overwritten.
    pub device_udid: String,
    pub device_name: Option<String>,
    pub device_ios: Option<String>,
    /// The backup.
    pub backup: PathBuf,
    pub backup_device_name: Option<String>,
    pub backup_ios: Option<String>,
    pub backup_date: Option<String>,
    pub backup_encrypted: bool,
    /// Status.plist says the backup finished (None: it cannot tell).
    pub backup_complete: Option<bool>,
    /// The UDID the backup was made from (the phone asks for its files under it).
    pub source_udid: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct RestoreReport {
    pub files_sent: u32,
}

/// Reads the backup and the phone: what [`restore`] would do.
pub fn plan(
    addr: &crate::MuxAddr,
    udid: Option<&str>,
    backup: &Path,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<RestorePlan> {
    let b = sesame_backup::Backup::open(backup)?;
    let bi = b.info();
    let dev = crate::info(addr, udid, waits, on)?;
    Ok(RestorePlan {
        source_udid: bi.udid.clone().unwrap_or_else(|| dev.udid.clone()),
        device_udid: dev.udid,
        device_name: dev.name,
        device_ios: dev.ios,
        backup: backup.to_path_buf(),
        backup_device_name: bi.device_name.clone(),
        backup_ios: bi.ios_version.clone(),
        backup_date: bi.last_backup_date.clone(),
        backup_encrypted: b.encrypted,
        backup_complete: bi.complete,
    })
}

/// Serves the backup's files to the phone; whatever the phone would write is dropped.
struct ReadOnly<'a> {
    base: PathBuf,
    source: String,
    folder: PathBuf,
    sent: AtomicU32,
    on: OnEvent<'a>,
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl ReadOnly<'_> {
    fn path(&self, p: &Path) -> std::result::Result<PathBuf, IdeviceError> {
        let bad = || IdeviceError::InternalError("a path outside the backup".into());
        let r = p.strip_prefix(&self.base).map_err(|_| bad())?;
        let mut c = r.components();
        match c.next() {
            Some(Component::Normal(first)) if first == self.source.as_str() => {}
            _ => return Err(bad()),
        }
        let mut at = self.folder.clone();
        for x in c {
            let Component::Normal(n) = x else {
                return Err(bad());
            };
            at.push(n);
            if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(bad());
            }
        }
        Ok(at)
    }
}

impl BackupDelegate for ReadOnly<'_> {
    fn get_free_disk_space(&self, _path: &Path) -> u64 {
        1 << 50
    }
    fn open_file_read<'a>(
        &'a self,
        path: &'a Path,
    ) -> Fut<'a, Result<Box<dyn Read + Send>, IdeviceError>> {
        Box::pin(async move {
            let p = self.path(path)?;
            let f = std::fs::File::open(&p).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    IdeviceError::NotFound
                } else {
                    IdeviceError::InternalError(e.to_string())
                }
            })?;
            let n = self.sent.fetch_add(1, Ordering::Relaxed) + 1;
            (self.on)(&Event::Progress {
                bytes: 0,
                percent: None,
                files: n,
            });
            Ok(Box::new(f) as Box<dyn Read + Send>)
        })
    }
    fn create_file_write<'a>(
        &'a self,
        _path: &'a Path,
    ) -> Fut<'a, Result<Box<dyn Write + Send>, IdeviceError>> {
        Box::pin(async move { Ok(Box::new(std::io::sink()) as Box<dyn Write + Send>) })
    }
    fn create_dir_all<'a>(&'a self, _path: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move { Ok(()) })
    }
    fn remove<'a>(&'a self, _path: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move { Ok(()) })
    }
    fn rename<'a>(&'a self, _from: &'a Path, _to: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move { Ok(()) })
    }
    fn copy<'a>(&'a self, _src: &'a Path, _dst: &'a Path) -> Fut<'a, Result<(), IdeviceError>> {
        Box::pin(async move { Ok(()) })
    }
    fn exists<'a>(&'a self, path: &'a Path) -> Fut<'a, bool> {
        Box::pin(async move {
            if path
                .strip_prefix(&self.base)
                .is_ok_and(|r| r == Path::new(&self.source))
            {
                return true;
            }
            self.path(path)
                .is_ok_and(|p| std::fs::symlink_metadata(p).is_ok())
        })
    }
    fn is_dir<'a>(&'a self, path: &'a Path) -> Fut<'a, bool> {
        Box::pin(async move {
            self.path(path)
                .is_ok_and(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        })
    }
    fn list_dir<'a>(&'a self, path: &'a Path) -> Fut<'a, Result<Vec<DirEntryInfo>, IdeviceError>> {
        Box::pin(async move {
            let p = self.path(path)?;
            let mut v = Vec::new();
            for e in
                std::fs::read_dir(&p).map_err(|e| IdeviceError::InternalError(e.to_string()))?
            {
                let e = e.map_err(|e| IdeviceError::InternalError(e.to_string()))?;
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
    fn on_progress(&self, p: BackupProgress) {
        (self.on)(&Event::Progress {
            bytes: p.session_bytes_done,
            percent: (p.overall_progress >= 0.0).then_some(p.overall_progress),
            files: self.sent.load(Ordering::Relaxed),
        });
    }
}

/// Restores `plan.backup` to the phone. `password`: the backup's password when it is
/// encrypted (the phone needs it to read the backup).
pub fn restore(
    addr: &crate::MuxAddr,
    plan: &RestorePlan,
    password: Option<&Zeroizing<String>>,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<RestoreReport> {
    if plan.backup_complete != Some(true) {
        return Err(DeviceError::Unfinished {
            path: plan.backup.clone(),
        });
    }
    let folder = std::fs::canonicalize(&plan.backup)
        .map_err(|e| sesame_backup::BackupError::io(&plan.backup, e))?;
    block_on(async {
        let (a, d) = pick(addr, Some(&plan.device_udid)).await?;
        let p = provider(&a, &d);
        // As Apple's AMDeviceSecureStartService does for a restore: the escrow bag from the
        // pairing lets the phone write files of every protection class (idevice's
        // start_service_with_escrow documents MBErrorDomain 208 without it).
        let (mut ld, record) = session_with_record(addr, &p, waits, on).await?;
        let (port, ssl) = ld
            .start_service_with_escrow("com.apple.mobilebackup2", record.escrow_bag.clone())
            .await
            .map_err(|e| DeviceError::from_idevice(e, "starting mobilebackup2"))?;
        drop(ld);
        let mut conn = idevice::provider::IdeviceProvider::connect(&p, port)
            .await
            .map_err(|e| DeviceError::from_idevice(e, "connecting to mobilebackup2"))?;
        if ssl {
            conn.start_session(&record, false)
                .await
                .map_err(|e| DeviceError::from_idevice(e, "starting mobilebackup2's TLS"))?;
        }
        conn.set_udid(d.udid.clone());
        let mut mb = MobileBackup2Client::from_stream(conn)
            .await
            .map_err(|e| DeviceError::from_idevice(e, "starting mobilebackup2"))?;
        // A root that does not exist: every path the phone names is mapped onto `folder`.
        let base = PathBuf::from("/sesame-restore");
        let delegate = ReadOnly {
            base: base.clone(),
            source: plan.source_udid.clone(),
            folder,
            sent: AtomicU32::new(0),
            on,
        };
        // idevicebackup2's defaults: reboot after, do not keep a copy, keep settings.
        let mut opts = RestoreOptions::new().with_copy(false);
        if let Some(pw) = password {
            opts = opts.with_password(pw.as_str());
        }
        let result = mb
            .restore_from_path(&base, Some(&plan.source_udid), Some(opts), &delegate)
            .await;
        match result {
            Ok(Some(reply)) => check_reply(&reply, true)?,
            Ok(None) => {}
            Err(e) => return Err(DeviceError::from_idevice(e, "restoring")),
        }
        Ok(RestoreReport {
            files_sent: delegate.sent.load(Ordering::Relaxed),
        })
    })
}
