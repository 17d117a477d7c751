//! Writes real-format backups (encrypted or not) from files, folders and symlinks: for tests,
//! benchmarks and the demo.
//!
//! ```no_run
//! # use sesame_backup::builder::BackupBuilder;
//! BackupBuilder::new()
//!     .password("1234")
//!     .iterations(10, Some(100))
//!     .device("Anna's iPhone", "iPhone14,2", "17.1")
//!     .file("HomeDomain", "Library/SMS/sms.db", b"...".to_vec())
//!     .write(std::path::Path::new("/tmp/backup"))
//!     .unwrap();
//! ```

use crate::aeskw;
use crate::error::{BackupError, Result};
use crate::file::{cbc_encrypt_in_place, pkcs7_pad};
use crate::keybag::{ClassKey, Keybag};
use crate::manifest::Era;
use crate::mbfile::{encode_mbfile, MbFile};
use plist::{Dictionary, Value};
use rand::RngCore;
use sha1::{Digest, Sha1};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Classes whose keys real keybags also wrap with the device key (WRAP=3, "ThisDeviceOnly").
/// keychain-backup.plist's own protection class in the builder's backups.
const KEYCHAIN_FILE_CLASS: u32 = 3;

pub const DEVICE_ONLY_CLASSES: [u32; 4] = [5, 9, 10, 11];
/// The class real backups put most files and Manifest.db in.
pub const DEFAULT_CLASS: u32 = 4;

/// Where a file's contents come from.
#[derive(Clone, Debug)]
pub enum Contents {
    Bytes(Vec<u8>),
    /// Read (streamed) from this file when the backup is written.
    Path(PathBuf),
}

#[derive(Clone, Debug)]
enum Item {
    File {
        domain: String,
        path: String,
        contents: Contents,
        class: u32,
    },
    Dir {
        domain: String,
        path: String,
    },
    Symlink {
        domain: String,
        path: String,
        target: String,
    },
    Raw {
        file_id: String,
        domain: Option<String>,
        path: Option<String>,
        flags: Option<i64>,
        blob: Option<Vec<u8>>,
        contents: Option<Vec<u8>>,
    },
}

/// A synthetic backup, written in the real format.
#[derive(Clone, Debug)]
pub struct BackupBuilder {
    password: Option<Zeroizing<Vec<u8>>>,
    sha1_iterations: u32,
    sha256_iterations: Option<u32>,
    device_name: String,
    product_type: String,
    ios_version: String,
    build_version: String,
    udid: String,
    serial: String,
    modified: i64,
    items: Vec<Item>,
    keychain: Option<Vec<crate::keychain::ItemSpec>>,
    era: Era,
    mbdx: bool,
    /// (domain, path, uid, gid) for entries whose owner is not 501:501.
    owners: Vec<(String, String, i64, i64)>,
    /// (domain, path, name, value): extended attributes, in order.
    xattrs: Vec<(String, String, String, Vec<u8>)>,
}

impl Default for BackupBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// What the builder wrote (tests use the class keys to check things directly).
#[derive(Debug)]
pub struct BuiltBackup {
    pub root: PathBuf,
    /// Usable class keys (not the device-only ones), when encrypted.
    pub class_keys: Vec<(u32, [u8; 32])>,
    /// fileIDs of the files written, in order.
    pub file_ids: Vec<String>,
}

/// hex SHA-1 of `domain-relativePath`: a file's ID.
pub fn file_id(domain: &str, path: &str) -> String {
    let mut h = Sha1::new();
    h.update(domain.as_bytes());
    h.update(b"-");
    h.update(path.as_bytes());
    hex::encode(h.finalize())
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

impl BackupBuilder {
    /// Unencrypted until `password` is called; real iteration counts (10,000 and 10,000,000).
    pub fn new() -> Self {
        BackupBuilder {
            password: None,
            sha1_iterations: 10_000,
            sha256_iterations: Some(10_000_000),
            device_name: "iPhone".into(),
            product_type: "iPhone14,2".into(),
            ios_version: "17.1".into(),
            build_version: "21B80".into(),
            udid: "00008110-000A1B2C3D4E5F60".into(),
            serial: "F2LXK0ABCDEF".into(),
            modified: 1_700_000_000,
            items: Vec::new(),
            keychain: None,
            era: Era::ManifestDb,
            mbdx: false,
            owners: Vec::new(),
            xattrs: Vec::new(),
        }
    }

    /// A backup of iOS 4 to 9: Manifest.mbdb, blobs flat in the folder, the keybag without
    /// DPSL/DPIC (PBKDF2-SHA1 only), no ManifestKey. The device becomes an iPhone 6 on iOS
    /// 9.3.5 (call `device` after this to change it).
    pub fn era_mbdb(mut self) -> Self {
        self.era = Era::Mbdb;
        self.sha256_iterations = None;
        self.product_type = "iPhone7,2".into();
        self.ios_version = "9.3.5".into();
        self.build_version = "13G36".into();
        self
    }

    /// An iOS 4 backup: `era_mbdb` plus the Manifest.mbdx index. The device becomes an
    /// iPhone 4 on iOS 4.3.5 (call `device` after this to change it).
    pub fn mbdx(mut self) -> Self {
        self = self.era_mbdb();
        self.mbdx = true;
        self.product_type = "iPhone3,1".into();
        self.ios_version = "4.3.5".into();
        self.build_version = "8L1".into();
        self
    }

    /// The owner of one entry (default 501:501); real backups have -2 (nobody) too.
    pub fn owner(mut self, domain: &str, path: &str, uid: i64, gid: i64) -> Self {
        self.owners.push((domain.into(), path.into(), uid, gid));
        self
    }

    /// An extended attribute of one entry (Manifest.db: in `ExtendedAttributes`;
    /// Manifest.mbdb: a record property).
    pub fn xattr(
        mut self,
        domain: &str,
        path: &str,
        name: &str,
        value: impl Into<Vec<u8>>,
    ) -> Self {
        self.xattrs
            .push((domain.into(), path.into(), name.into(), value.into()));
        self
    }

    /// Encrypt with this password.
    pub fn password(self, password: &str) -> Self {
        self.password_bytes(password.as_bytes())
    }
    pub fn password_bytes(mut self, password: &[u8]) -> Self {
        self.password = Some(Zeroizing::new(password.to_vec()));
        self
    }
    /// PBKDF2-SHA1 iterations, and PBKDF2-SHA256 iterations for the iOS 10.2+ scheme (None:
    /// legacy; never used by Manifest.mbdb backups, which predate the scheme).
    pub fn iterations(mut self, sha1: u32, sha256: Option<u32>) -> Self {
        self.sha1_iterations = sha1;
        self.sha256_iterations = sha256;
        self
    }
    pub fn device(mut self, name: &str, product_type: &str, ios_version: &str) -> Self {
        self.device_name = name.into();
        self.product_type = product_type.into();
        self.ios_version = ios_version.into();
        self
    }
    pub fn udid(mut self, udid: &str) -> Self {
        self.udid = udid.into();
        self
    }
    /// Modification time (seconds since 1970) given to every entry.
    pub fn modified(mut self, secs: i64) -> Self {
        self.modified = secs;
        self
    }
    /// A file in the default protection class (4).
    pub fn file(self, domain: &str, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.file_with_class(domain, path, bytes, DEFAULT_CLASS)
    }
    pub fn file_with_class(
        mut self,
        domain: &str,
        path: &str,
        bytes: impl Into<Vec<u8>>,
        class: u32,
    ) -> Self {
        self.items.push(Item::File {
            domain: domain.into(),
            path: path.into(),
            contents: Contents::Bytes(bytes.into()),
            class,
        });
        self
    }
    /// A file whose contents are streamed from `source` (large files).
    pub fn file_from_path(mut self, domain: &str, path: &str, source: &Path) -> Self {
        self.items.push(Item::File {
            domain: domain.into(),
            path: path.into(),
            contents: Contents::Path(source.to_path_buf()),
            class: DEFAULT_CLASS,
        });
        self
    }
    pub fn dir(mut self, domain: &str, path: &str) -> Self {
        self.items.push(Item::Dir {
            domain: domain.into(),
            path: path.into(),
        });
        self
    }
    pub fn symlink(mut self, domain: &str, path: &str, target: &str) -> Self {
        self.items.push(Item::Symlink {
            domain: domain.into(),
            path: path.into(),
            target: target.into(),
        });
        self
    }
    /// A raw `Files` row for hostile tests: any column may be NULL; `blob` is the `file`
    /// column as is; `contents`, when given, is stored (encrypted when the backup is) at
    /// `<2>/<file_id>` with a default MBFile when `blob` is None.
    pub fn raw_row(
        mut self,
        file_id: &str,
        domain: Option<&str>,
        path: Option<&str>,
        flags: Option<i64>,
        blob: Option<Vec<u8>>,
        contents: Option<Vec<u8>>,
    ) -> Self {
        self.items.push(Item::Raw {
            file_id: file_id.into(),
            domain: domain.map(Into::into),
            path: path.map(Into::into),
            flags,
            blob,
            contents,
        });
        self
    }

    /// A keychain (KeychainDomain/keychain-backup.plist) holding these items, encrypted with the
    /// backup's own class keys; items of device-only classes stay undecryptable, as in life.
    pub fn keychain(mut self, items: Vec<crate::keychain::ItemSpec>) -> Self {
        self.keychain = Some(items);
        self
    }

    /// Writes the backup into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<BuiltBackup> {
        let io = |p: &Path, e| BackupError::io(p, e);
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let encrypted = self.password.is_some();
        let mbdb = self.era == Era::Mbdb;
        if mbdb && self.items.iter().any(|i| matches!(i, Item::Raw { .. })) {
            return Err(BackupError::Manifest(
                "raw rows are Manifest.db rows: a Manifest.mbdb backup cannot hold them".into(),
            ));
        }

        // Class keys: the real ones, and what the keybag stores.
        let mut class_keys: Vec<(u32, Zeroizing<[u8; 32]>)> = Vec::new();
        let mut keybag = None;
        if let Some(pw) = &self.password {
            let salt = random::<20>().to_vec();
            // Manifest.mbdb backups predate the iOS 10.2 scheme: their keybags have no DPSL.
            let dp = self
                .sha256_iterations
                .filter(|_| !mbdb)
                .map(|n| (random::<20>().to_vec(), n));
            let mut kb = Keybag {
                version: 3,
                kind: 1,
                uuid: random::<16>().to_vec(),
                hmck: Some(random::<40>().to_vec()),
                wrap: 0,
                salt: salt.clone(),
                iterations: self.sha1_iterations,
                dpwt: dp.as_ref().map(|_| 1),
                dpic: dp.as_ref().map(|d| d.1),
                dpsl: dp.as_ref().map(|d| d.0.clone()),
                class_keys: Vec::new(),
            };
            let k = crate::kdf::derive_fast(pw, &kb.kdf_params());
            for class in (1..=11u32).rev() {
                let key = Zeroizing::new(random::<32>());
                let device_only = DEVICE_ONLY_CLASSES.contains(&class);
                // A device-only class key is stored encrypted with a key that never leaves the
                // device: here, a random stand-in, so off the device it is useless, as in life.
                let stored = if device_only {
                    Zeroizing::new(random::<32>())
                } else {
                    key.clone()
                };
                kb.class_keys.push(ClassKey {
                    uuid: random::<16>().to_vec(),
                    class,
                    wrap: if device_only { 3 } else { 2 },
                    key_type: 0,
                    wpky: aeskw::wrap(&k, stored.as_ref()),
                    pbky: None,
                });
                class_keys.push((class, key));
            }
            keybag = Some(kb);
        }
        let key_of = |class: u32| class_keys.iter().find(|(c, _)| *c == class).map(|(_, k)| k);

        // Blobs and rows.
        struct Row {
            file_id: String,
            domain: Option<String>,
            path: Option<String>,
            flags: Option<i64>,
            /// The `file` column as given (raw rows).
            blob: Option<Vec<u8>>,
            /// The record of a built entry, encoded for the era when the list is written.
            meta: Option<MbFile>,
        }
        let mut rows = Vec::new();
        let mut file_ids = Vec::new();
        let mut inode = 1000u64;
        let base = |domain: &str, path: &str, mode: u32, inode: u64, modified: i64| {
            let (user_id, group_id) = self
                .owners
                .iter()
                .rev()
                .find(|o| o.0 == domain && o.1 == path)
                .map_or((501, 501), |o| (o.2, o.3));
            let xattrs: Vec<(String, Vec<u8>)> = self
                .xattrs
                .iter()
                .filter(|x| x.0 == domain && x.1 == path)
                .map(|x| (x.2.clone(), x.3.clone()))
                .collect();
            MbFile {
                mode,
                user_id,
                group_id,
                last_modified: modified,
                last_status_change: modified,
                birth: modified,
                inode,
                relative_path: Some(path.to_owned()),
                extended_attributes: (!xattrs.is_empty())
                    .then(|| crate::mbfile::xattr_plist(xattrs)),
                ..Default::default()
            }
        };
        // The keychain can only be encrypted once the class keys exist: add it as one more file.
        let keychain_item = self.keychain.as_ref().map(|specs| {
            let usable = crate::UnlockedKeys::from_class_keys(
                class_keys
                    .iter()
                    .filter(|(c, _)| !DEVICE_ONLY_CLASSES.contains(c))
                    .map(|(c, k)| (*c, **k)),
            );
            Item::File {
                domain: crate::keychain::KEYCHAIN_DOMAIN.to_owned(),
                path: crate::keychain::KEYCHAIN_PATH.to_owned(),
                contents: Contents::Bytes(crate::keychain::build_keychain_plist(specs, &usable)),
                class: KEYCHAIN_FILE_CLASS,
            }
        });
        for item in self.items.iter().chain(keychain_item.as_ref()) {
            inode += 1;
            match item {
                Item::File {
                    domain,
                    path,
                    contents,
                    class,
                } => {
                    let id = file_id(domain, path);
                    let mut meta = base(domain, path, 0o100644, inode, self.modified);
                    meta.protection_class = *class;
                    let (size, digest, ek) =
                        self.write_blob(dir, &id, contents, *class, key_of(*class))?;
                    meta.size = size;
                    meta.digest = Some(digest);
                    meta.encryption_key = ek;
                    rows.push(Row {
                        file_id: id.clone(),
                        domain: Some(domain.clone()),
                        path: Some(path.clone()),
                        flags: Some(1),
                        blob: None,
                        meta: Some(meta),
                    });
                    file_ids.push(id);
                }
                Item::Dir { domain, path } => rows.push(Row {
                    file_id: file_id(domain, path),
                    domain: Some(domain.clone()),
                    path: Some(path.clone()),
                    flags: Some(2),
                    blob: None,
                    meta: Some(base(domain, path, 0o040755, inode, self.modified)),
                }),
                Item::Symlink {
                    domain,
                    path,
                    target,
                } => {
                    let mut meta = base(domain, path, 0o120755, inode, self.modified);
                    meta.target = Some(target.clone());
                    rows.push(Row {
                        file_id: file_id(domain, path),
                        domain: Some(domain.clone()),
                        path: Some(path.clone()),
                        flags: Some(4),
                        blob: None,
                        meta: Some(meta),
                    })
                }
                Item::Raw {
                    file_id,
                    domain,
                    path,
                    flags,
                    blob,
                    contents,
                } => {
                    let mut blob = blob.clone();
                    if let Some(c) = contents {
                        let prefix = file_id.get(..2).unwrap_or(file_id);
                        let (size, digest, ek) = self.write_blob_at(
                            &dir.join(prefix),
                            file_id,
                            &Contents::Bytes(c.clone()),
                            DEFAULT_CLASS,
                            key_of(DEFAULT_CLASS),
                        )?;
                        if blob.is_none() {
                            let mut meta = base(
                                domain.as_deref().unwrap_or(""),
                                path.as_deref().unwrap_or(""),
                                0o100644,
                                inode,
                                self.modified,
                            );
                            meta.size = size;
                            meta.digest = Some(digest);
                            meta.encryption_key = ek;
                            meta.protection_class = DEFAULT_CLASS;
                            blob = Some(encode_mbfile(&meta));
                        }
                    }
                    rows.push(Row {
                        file_id: file_id.clone(),
                        domain: domain.clone(),
                        path: path.clone(),
                        flags: *flags,
                        blob,
                        meta: None,
                    })
                }
            }
        }

        let mut manifest_key = None;
        if mbdb {
            // Manifest.mbdb (never encrypted), records in the order the entries were given.
            let records: Vec<crate::mbdb::Record> = rows
                .iter()
                .map(|r| {
                    crate::mbdb::Record::from_entry(&crate::ManifestEntry {
                        file_id: r.file_id.clone(),
                        domain: r.domain.clone().unwrap_or_default(),
                        relative_path: r.path.clone().unwrap_or_default(),
                        kind: crate::EntryKind::from_flags(r.flags.unwrap_or(0)),
                        meta: r.meta.clone(),
                    })
                })
                .collect();
            let m = crate::mbdb::Mbdb {
                version: crate::mbdb::VERSION,
                records,
                ..Default::default()
            };
            let (bytes, offsets) = m.to_bytes()?;
            let p = dir.join(crate::mbdb::MBDB_NAME);
            std::fs::write(&p, bytes).map_err(|e| io(&p, e))?;
            if self.mbdx {
                let x = crate::mbdb::Mbdx::for_records(&m.records, &offsets)?;
                let p = dir.join(crate::mbdb::MBDX_NAME);
                std::fs::write(&p, x.to_bytes()).map_err(|e| io(&p, e))?;
            }
        } else {
            // Manifest.db, built in a temporary file, then encrypted for the iOS 10.2+ scheme.
            let db_path = dir.join("Manifest.db");
            let tmp_db = dir.join("Manifest.db.sesame-build");
            let _ = std::fs::remove_file(&tmp_db);
            {
                let sql = |e: rusqlite::Error| BackupError::Manifest(e.to_string());
                let mut conn = rusqlite::Connection::open(&tmp_db).map_err(sql)?;
                conn.execute_batch(
                    "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
                     CREATE INDEX FilesDomainIdx ON Files(domain);
                     CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
                     CREATE INDEX FilesFlagsIdx ON Files(flags);
                     CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);",
                )
                .map_err(sql)?;
                let tx = conn.transaction().map_err(sql)?;
                {
                    let mut st = tx
                        .prepare("INSERT OR REPLACE INTO Files VALUES (?1, ?2, ?3, ?4, ?5)")
                        .map_err(sql)?;
                    for r in &rows {
                        let blob = r
                            .blob
                            .clone()
                            .or_else(|| r.meta.as_ref().map(encode_mbfile));
                        st.execute(rusqlite::params![
                            r.file_id, r.domain, r.path, r.flags, blob
                        ])
                        .map_err(sql)?;
                    }
                }
                tx.commit().map_err(sql)?;
            }
            match (self.sha256_iterations, key_of(DEFAULT_CLASS)) {
                (Some(_), Some(ck)) => {
                    let mut db =
                        Zeroizing::new(std::fs::read(&tmp_db).map_err(|e| io(&tmp_db, e))?);
                    let mk = Zeroizing::new(random::<32>());
                    pkcs7_pad(&mut db);
                    cbc_encrypt_in_place(&mk, &[0; 16], &mut db);
                    std::fs::write(&db_path, &*db).map_err(|e| io(&db_path, e))?;
                    std::fs::remove_file(&tmp_db).map_err(|e| io(&tmp_db, e))?;
                    let mut v = DEFAULT_CLASS.to_le_bytes().to_vec();
                    v.extend(aeskw::wrap(ck, mk.as_ref()));
                    manifest_key = Some(v);
                }
                _ => std::fs::rename(&tmp_db, &db_path).map_err(|e| io(&db_path, e))?,
            }
        }

        // The plists.
        // Whole seconds: pyiosbackup, iOSbackup and mvt reject fractional plist dates.
        let now = whole_seconds(plist::Date::from(std::time::SystemTime::now()));
        let mut lockdown = Dictionary::new();
        lockdown.insert("ProductVersion".into(), self.ios_version.clone().into());
        lockdown.insert("ProductType".into(), self.product_type.clone().into());
        lockdown.insert("BuildVersion".into(), self.build_version.clone().into());
        lockdown.insert("UniqueDeviceID".into(), self.udid.clone().into());
        lockdown.insert("SerialNumber".into(), self.serial.clone().into());
        lockdown.insert("DeviceName".into(), self.device_name.clone().into());
        let mut m = Dictionary::new();
        if let Some(kb) = &keybag {
            m.insert("BackupKeyBag".into(), Value::Data(kb.to_bytes()));
        }
        // Manifest.plist's Version is the backup format's: 9.1 for the last Manifest.mbdb
        // backups (iOS 9), 7.0 for iOS 4's; 10.0 from Manifest.db on.
        let version = match (mbdb, self.mbdx) {
            (false, _) => "10.0",
            (true, false) => "9.1",
            (true, true) => "7.0",
        };
        m.insert("Version".into(), version.into());
        m.insert("Date".into(), Value::Date(now));
        m.insert("SystemDomainsVersion".into(), "24.0".into());
        if let Some(mk) = manifest_key {
            m.insert("ManifestKey".into(), Value::Data(mk));
        }
        m.insert("WasPasscodeSet".into(), Value::Boolean(true));
        m.insert("Lockdown".into(), Value::Dictionary(lockdown));
        m.insert("Applications".into(), Value::Dictionary(Dictionary::new()));
        m.insert("IsEncrypted".into(), Value::Boolean(encrypted));
        write_plist(&dir.join("Manifest.plist"), &Value::Dictionary(m), true)?;

        let mut info = Dictionary::new();
        info.insert("Build Version".into(), self.build_version.clone().into());
        info.insert("Device Name".into(), self.device_name.clone().into());
        info.insert("Display Name".into(), self.device_name.clone().into());
        info.insert("GUID".into(), hex::encode_upper(random::<16>()).into());
        info.insert("Last Backup Date".into(), Value::Date(now));
        info.insert("Product Name".into(), "iPhone".into());
        info.insert("Product Type".into(), self.product_type.clone().into());
        info.insert("Product Version".into(), self.ios_version.clone().into());
        info.insert("Serial Number".into(), self.serial.clone().into());
        info.insert("Target Identifier".into(), self.udid.clone().into());
        info.insert("Target Type".into(), "Device".into());
        info.insert("Unique Identifier".into(), self.udid.to_uppercase().into());
        info.insert("iTunes Version".into(), "12.13".into());
        write_plist(&dir.join("Info.plist"), &Value::Dictionary(info), false)?;

        let mut status = Dictionary::new();
        status.insert("BackupState".into(), "new".into());
        status.insert("Date".into(), Value::Date(now));
        status.insert("IsFullBackup".into(), Value::Boolean(false));
        status.insert("SnapshotState".into(), "finished".into());
        status.insert("UUID".into(), hex::encode_upper(random::<16>()).into());
        status.insert("Version".into(), if mbdb { "2.4" } else { "3.3" }.into());
        write_plist(&dir.join("Status.plist"), &Value::Dictionary(status), true)?;

        Ok(BuiltBackup {
            root: dir.to_path_buf(),
            class_keys: class_keys
                .iter()
                .filter(|(c, _)| !DEVICE_ONLY_CLASSES.contains(c))
                .map(|(c, k)| (*c, **k))
                .collect(),
            file_ids,
        })
    }

    fn write_blob(
        &self,
        dir: &Path,
        id: &str,
        contents: &Contents,
        class: u32,
        class_key: Option<&Zeroizing<[u8; 32]>>,
    ) -> Result<(u64, Vec<u8>, Option<Vec<u8>>)> {
        // Blobs lie flat before iOS 10, in two-letter folders from then on.
        let sub = match self.era {
            Era::Mbdb => dir.to_path_buf(),
            Era::ManifestDb => dir.join(&id[..2]),
        };
        self.write_blob_at(&sub, id, contents, class, class_key)
    }

    /// Writes one blob (encrypted when there is a class key); returns (size, SHA-1, EncryptionKey).
    fn write_blob_at(
        &self,
        sub: &Path,
        id: &str,
        contents: &Contents,
        class: u32,
        class_key: Option<&Zeroizing<[u8; 32]>>,
    ) -> Result<(u64, Vec<u8>, Option<Vec<u8>>)> {
        std::fs::create_dir_all(sub).map_err(|e| BackupError::io(sub, e))?;
        let path = sub.join(id);
        let io = |e| BackupError::io(&path, e);
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).map_err(io)?);
        let mut reader: Box<dyn Read> = match contents {
            Contents::Bytes(b) => Box::new(std::io::Cursor::new(b.as_slice())),
            Contents::Path(p) => {
                Box::new(std::fs::File::open(p).map_err(|e| BackupError::io(p, e))?)
            }
        };
        let file_key = Zeroizing::new(random::<32>());
        let encrypt = self.password.is_some();
        let mut sha = Sha1::new();
        let mut size = 0u64;
        let mut iv = [0u8; 16];
        let mut buf = vec![0u8; crate::file::CHUNK];
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| BackupError::io(format!("contents of {id}"), e))?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
            size += n as u64;
            if !encrypt {
                out.write_all(&buf[..n]).map_err(io)?;
                continue;
            }
            carry.extend_from_slice(&buf[..n]);
            let whole = carry.len() - carry.len() % 16;
            // Keep at least one partial or whole block back for the padding at the end.
            let take = if whole == carry.len() {
                whole.saturating_sub(16)
            } else {
                whole
            };
            if take > 0 {
                cbc_encrypt_in_place(&file_key, &iv, &mut carry[..take]);
                iv.copy_from_slice(&carry[take - 16..take]);
                out.write_all(&carry[..take]).map_err(io)?;
                carry.drain(..take);
            }
        }
        let mut ek = None;
        if encrypt {
            pkcs7_pad(&mut carry);
            cbc_encrypt_in_place(&file_key, &iv, &mut carry);
            out.write_all(&carry).map_err(io)?;
            // Without a usable class key (device-only classes) the file is wrapped with a key
            // nobody has: exactly what happens to such files off the device.
            let kek = class_key.map(|k| **k).unwrap_or_else(random::<32>);
            let mut v = class.to_le_bytes().to_vec();
            v.extend(aeskw::wrap(&kek, file_key.as_ref()));
            ek = Some(v);
        }
        out.flush().map_err(io)?;
        Ok((size, sha.finalize().to_vec(), ek))
    }
}

/// The date cut down to whole seconds (towards the past).
pub fn whole_seconds(d: plist::Date) -> plist::Date {
    let t: std::time::SystemTime = d.into();
    let t = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => std::time::UNIX_EPOCH + std::time::Duration::from_secs(after.as_secs()),
        Err(e) => {
            let before = e.duration();
            let secs = before.as_secs() + u64::from(before.subsec_nanos() > 0);
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(secs)
        }
    };
    t.into()
}

/// Every date inside `v` cut to whole seconds.
fn dates_to_whole_seconds(v: &mut Value) {
    match v {
        Value::Date(d) => *d = whole_seconds(*d),
        Value::Array(a) => a.iter_mut().for_each(dates_to_whole_seconds),
        Value::Dictionary(d) => d.values_mut().for_each(dates_to_whole_seconds),
        _ => {}
    }
}

/// Writes a plist (binary or XML). Dates are written in whole seconds: pyiosbackup, iOSbackup
/// and mvt reject fractional ones (Finder's own Manifest.plist dates carry them).
pub(crate) fn write_plist(path: &Path, v: &Value, binary: bool) -> Result<()> {
    let mut v = v.clone();
    dates_to_whole_seconds(&mut v);
    let mut out = Vec::new();
    let r = if binary {
        v.to_writer_binary(&mut out)
    } else {
        v.to_writer_xml(&mut out)
    };
    r.map_err(|e| BackupError::Plist {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    std::fs::write(path, out).map_err(|e| BackupError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_plist_writes_whole_second_dates() {
        let dir = tempfile::tempdir().unwrap();
        // 2016-12-12T19:40:25.717301Z, as in a real Finder Manifest.plist.
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_481_571_625_717_301);
        let before = std::time::UNIX_EPOCH - std::time::Duration::from_millis(1_500);
        let mut inner = Dictionary::new();
        inner.insert("Before1970".into(), Value::Date(before.into()));
        let mut d = Dictionary::new();
        d.insert("Date".into(), Value::Date(t.into()));
        d.insert(
            "Nested".into(),
            Value::Array(vec![Value::Dictionary(inner)]),
        );
        let v = Value::Dictionary(d);
        for binary in [true, false] {
            let p = dir.path().join(format!("x{binary}.plist"));
            write_plist(&p, &v, binary).unwrap();
            let back = Value::from_file(&p).unwrap();
            let d = back.as_dictionary().unwrap();
            let date: std::time::SystemTime = d["Date"].as_date().unwrap().into();
            let secs = date.duration_since(std::time::UNIX_EPOCH).unwrap();
            assert_eq!(secs, std::time::Duration::from_secs(1_481_571_625));
            let nested = d["Nested"].as_array().unwrap()[0].as_dictionary().unwrap();
            let b: std::time::SystemTime = nested["Before1970"].as_date().unwrap().into();
            assert_eq!(
                std::time::UNIX_EPOCH.duration_since(b).unwrap(),
                std::time::Duration::from_secs(2)
            );
            if !binary {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(text.contains("<date>2016-12-12T19:40:25Z</date>"), "{text}");
            }
        }
    }
}
