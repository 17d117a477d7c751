//! Where the exporters read files from: a backup (through its Manifest.db), or memory (tests).

use crate::{ExportError, Result};
use sesame_backup::manifest::{EntryKind, Manifest};
use sesame_backup::{Backup, UnlockedKeys};
use std::collections::BTreeMap;
use std::io::Write;

/// One file of the backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub domain: String,
    pub path: String,
    /// Size from the file's record (may be wrong; the contents are authoritative).
    pub size: u64,
    /// Last modified, seconds since 1970, when recorded.
    pub mtime: Option<i64>,
    /// Creation time, seconds since 1970, when recorded.
    pub birth: Option<i64>,
}

/// Read access to a backup's files.
pub trait Source {
    /// The regular file at exactly `domain` / `path`.
    fn find(&self, domain: &str, path: &str) -> Option<FileInfo>;
    /// Regular files in `domain` whose path starts with `prefix`, sorted by path.
    fn files_under(&self, domain: &str, prefix: &str) -> Vec<FileInfo>;
    /// Domains whose name starts with `prefix`.
    fn domains(&self, prefix: &str) -> Vec<String>;
    /// The whole contents (decrypted).
    fn read(&self, f: &FileInfo) -> Result<Vec<u8>>;
    /// Streams the contents (decrypted) into `w`.
    fn copy(&self, f: &FileInfo, w: &mut dyn Write) -> Result<()>;
    /// Free-form description for the index page (device, date).
    fn description(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The backup folder this data comes from, which no output may be inside.
    fn origin(&self) -> Option<&std::path::Path> {
        None
    }
}

/// A backup folder, opened and (when encrypted) unlocked.
pub struct BackupSource<'a> {
    backup: &'a Backup,
    keys: Option<&'a UnlockedKeys>,
    manifest: Manifest,
}

impl<'a> BackupSource<'a> {
    pub fn open(backup: &'a Backup, keys: Option<&'a UnlockedKeys>) -> Result<Self> {
        if backup.needs_password() && keys.is_none() {
            return Err(ExportError::data(
                backup.root.display().to_string(),
                "the backup is encrypted: the password is needed",
            ));
        }
        let manifest = backup.open_manifest(keys)?;
        Ok(BackupSource {
            backup,
            keys,
            manifest,
        })
    }

    fn entry(&self, f: &FileInfo) -> Result<&sesame_backup::manifest::ManifestEntry> {
        self.manifest.find(&f.domain, &f.path).ok_or_else(|| {
            ExportError::data(format!("{}/{}", f.domain, f.path), "not in Manifest.db")
        })
    }
}

fn info_of(e: &sesame_backup::manifest::ManifestEntry) -> FileInfo {
    FileInfo {
        domain: e.domain.clone(),
        path: e.relative_path.clone(),
        size: e.size(),
        mtime: e.meta.as_ref().map(|m| m.last_modified).filter(|t| *t > 0),
        birth: e.meta.as_ref().map(|m| m.birth).filter(|t| *t > 0),
    }
}

impl Source for BackupSource<'_> {
    fn origin(&self) -> Option<&std::path::Path> {
        Some(&self.backup.root)
    }

    fn find(&self, domain: &str, path: &str) -> Option<FileInfo> {
        self.manifest
            .find(domain, path)
            .filter(|e| e.kind == EntryKind::File)
            .map(info_of)
    }

    fn files_under(&self, domain: &str, prefix: &str) -> Vec<FileInfo> {
        let mut v: Vec<FileInfo> = self
            .manifest
            .entries()
            .iter()
            .filter(|e| {
                e.kind == EntryKind::File
                    && e.domain == domain
                    && e.relative_path.starts_with(prefix)
            })
            .map(info_of)
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    fn domains(&self, prefix: &str) -> Vec<String> {
        let mut d: Vec<String> = self
            .manifest
            .entries()
            .iter()
            .filter(|e| e.domain.starts_with(prefix))
            .map(|e| e.domain.clone())
            .collect();
        d.sort();
        d.dedup();
        d
    }

    fn read(&self, f: &FileInfo) -> Result<Vec<u8>> {
        let e = self.entry(f)?;
        let bytes = self.backup.read_file(e, self.keys)?;
        Ok(bytes.to_vec())
    }

    fn copy(&self, f: &FileInfo, w: &mut dyn Write) -> Result<()> {
        let e = self.entry(f)?;
        let _ = self.backup.copy_file(e, self.keys, w)?;
        Ok(())
    }

    fn description(&self) -> Vec<(String, String)> {
        let info = self.backup.info();
        let mut v = Vec::new();
        let mut put = |k: &str, val: Option<String>| {
            if let Some(val) = val {
                v.push((k.to_string(), val));
            }
        };
        put("Device", info.device_name);
        put("Model", info.product_type);
        put("iOS", info.ios_version);
        put("Backup date", info.last_backup_date);
        put("Backup folder", Some(info.path));
        put(
            "Encrypted",
            Some(if self.backup.encrypted { "yes" } else { "no" }.to_string()),
        );
        v
    }
}

/// Files held in memory: tests of the exporters without a backup.
#[derive(Default)]
pub struct MemorySource {
    pub files: BTreeMap<(String, String), (Vec<u8>, Option<i64>)>,
}

impl MemorySource {
    pub fn add(&mut self, domain: &str, path: &str, bytes: Vec<u8>, mtime: Option<i64>) {
        self.files
            .insert((domain.to_string(), path.to_string()), (bytes, mtime));
    }
    fn info(&self, k: &(String, String), v: &(Vec<u8>, Option<i64>)) -> FileInfo {
        FileInfo {
            domain: k.0.clone(),
            path: k.1.clone(),
            size: v.0.len() as u64,
            mtime: v.1,
            birth: None,
        }
    }
}

impl Source for MemorySource {
    fn find(&self, domain: &str, path: &str) -> Option<FileInfo> {
        let k = (domain.to_string(), path.to_string());
        self.files.get(&k).map(|v| self.info(&k, v))
    }
    fn files_under(&self, domain: &str, prefix: &str) -> Vec<FileInfo> {
        self.files
            .iter()
            .filter(|(k, _)| k.0 == domain && k.1.starts_with(prefix))
            .map(|(k, v)| self.info(k, v))
            .collect()
    }
    fn domains(&self, prefix: &str) -> Vec<String> {
        let mut d: Vec<String> = self
            .files
            .keys()
            .filter(|k| k.0.starts_with(prefix))
            .map(|k| k.0.clone())
            .collect();
        d.dedup();
        d
    }
    fn read(&self, f: &FileInfo) -> Result<Vec<u8>> {
        self.files
            .get(&(f.domain.clone(), f.path.clone()))
            .map(|v| v.0.clone())
            .ok_or_else(|| ExportError::data(&f.path, "no such file"))
    }
    fn copy(&self, f: &FileInfo, w: &mut dyn Write) -> Result<()> {
        let b = self.read(f)?;
        w.write_all(&b).map_err(|e| ExportError::io(&f.path, e))
    }
}
