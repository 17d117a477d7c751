//! Opening a backup folder (read-only) and unlocking its keys with a password.

use crate::error::{BackupError, KeybagError, Result};
use crate::hashline::HashLine;
use crate::info::{self, BackupInfo};
use crate::kdf;
use crate::keybag::Keybag;
use plist::{Dictionary, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The file in a Sesame-decrypted copy that keeps the original keybag aside: the copy's
/// keychain items stay encrypted with its class keys, and other tools ignore this file.
pub const ORIGINAL_KEYBAG: &str = "SesameOriginalKeybag.plist";

/// A backup folder (or a lone Manifest.plist), opened read-only.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The backup folder.
    pub root: PathBuf,
    pub manifest_plist: Option<Dictionary>,
    pub info_plist: Option<Dictionary>,
    pub status_plist: Option<Dictionary>,
    pub encrypted: bool,
    pub keybag: Option<Keybag>,
    /// ManifestKey: 4-byte LE class, then the wrapped key of Manifest.db (iOS 10.2+).
    pub manifest_key: Option<Vec<u8>>,
    /// Problems that did not stop opening (damaged Info.plist, ...).
    pub warnings: Vec<String>,
    /// Why it cannot be told whether the backup is encrypted (Manifest.plist missing or
    /// damaged); None when Manifest.plist says.
    pub encryption_unknown: Option<String>,
    /// Which file list the backup keeps (and so where its blobs lie): Manifest.mbdb when it
    /// has one and no Manifest.db, else Manifest.db.
    pub era: crate::manifest::Era,
}

/// The class keys a password unlocked. Zeroized on drop.
#[derive(Default)]
pub struct UnlockedKeys {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    /// Classes whose keys also need the device's own key (WRAP=3): not usable off the device.
    device_only: Vec<u32>,
}

impl std::fmt::Debug for UnlockedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockedKeys")
            .field("classes", &self.keys.keys().collect::<Vec<_>>())
            .field("device_only", &self.device_only)
            .finish()
    }
}

impl UnlockedKeys {
    /// Unwraps every password-wrapped class key with `key`. Err(WrongPassword) if the check key fails.
    pub fn from_keybag(kb: &Keybag, key: &[u8; 32]) -> Result<UnlockedKeys> {
        let check = kb.check_key().ok_or(KeybagError::NoPasswordWrappedKey)?;
        if crate::aeskw::unwrap(key, &check.wpky).is_none() {
            return Err(BackupError::WrongPassword);
        }
        let mut out = UnlockedKeys::default();
        for ck in kb.class_keys.iter().filter(|c| c.password_wrapped()) {
            if ck.device_only() {
                out.device_only.push(ck.class);
                continue;
            }
            if let Some(k) = crate::aeskw::unwrap_key(key, &ck.wpky) {
                out.keys.insert(ck.class, k);
            }
        }
        Ok(out)
    }

    /// Builds from known class keys (tests and the builder).
    pub fn from_class_keys(keys: impl IntoIterator<Item = (u32, [u8; 32])>) -> UnlockedKeys {
        UnlockedKeys {
            keys: keys
                .into_iter()
                .map(|(c, k)| (c, Zeroizing::new(k)))
                .collect(),
            device_only: Vec::new(),
        }
    }

    pub fn class_key(&self, class: u32) -> Option<&[u8; 32]> {
        self.keys.get(&class).map(|k| &**k)
    }

    pub fn classes(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    pub fn is_device_only(&self, class: u32) -> bool {
        self.device_only.contains(&class)
    }

    /// Unwraps a per-file or Manifest.db key given as 4-byte LE class + 40-byte wrapped key.
    pub fn unwrap_class_wrapped(&self, blob: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        if blob.len() != 44 {
            return Err(BackupError::Crypto(format!(
                "wrapped key is {} bytes, expected 44 (class + 40)",
                blob.len()
            )));
        }
        let class = u32::from_le_bytes(blob[..4].try_into().expect("4 bytes"));
        let ck = self.class_key(class).ok_or_else(|| {
            if self.is_device_only(class) {
                BackupError::Crypto(format!(
                    "protection class {class} can only be decrypted on the device that made the backup"
                ))
            } else {
                BackupError::Crypto(format!("no key for protection class {class}"))
            }
        })?;
        crate::aeskw::unwrap_key(ck, &blob[4..])
            .ok_or_else(|| BackupError::Crypto(format!("a class {class} key does not unwrap")))
    }
}

impl Backup {
    /// Opens a backup folder, or a Manifest.plist alone. Reads only; never writes.
    ///
    /// Nothing else is taken for a backup: another file (Info.plist, say) is an error naming
    /// the folder to give instead. A folder without a readable Manifest.plist opens, but with
    /// `encryption_unknown` set: whether it is encrypted cannot be told, and `keybag` says so.
    pub fn open(path: &Path) -> Result<Backup> {
        let meta = std::fs::metadata(path).map_err(|e| BackupError::io(path, e))?;
        let is_dir = meta.is_dir();
        let (root, manifest_path) = if is_dir {
            (path.to_path_buf(), path.join("Manifest.plist"))
        } else {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            // A Manifest.plist, by name or (for one saved under another name) by the keys
            // only a Manifest.plist has. Info.plist and the rest say nothing about encryption.
            let named = path.file_name().is_some_and(|n| n == "Manifest.plist");
            if !named && !Self::looks_like_manifest_plist(path) {
                return Err(BackupError::NotABackupFile {
                    path: path.into(),
                    folder,
                });
            }
            (folder, path.to_path_buf())
        };
        let mut warnings = Vec::new();
        let mut encryption_unknown = None;
        let manifest_plist = match info::read_plist_dict(&manifest_path) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                encryption_unknown = Some("Manifest.plist is missing".to_string());
                None
            }
            // A folder we may not read is "permission denied", never "no backup".
            Err(e @ BackupError::Io { .. }) => return Err(e),
            Err(e) => {
                if !is_dir {
                    return Err(e);
                }
                encryption_unknown = Some(format!("Manifest.plist is damaged ({e})"));
                None
            }
        };
        let mut soft = |p: PathBuf| match info::read_plist_dict(&p) {
            Ok(d) => d,
            Err(e) => {
                warnings.push(e.to_string());
                None
            }
        };
        let (info_plist, status_plist) = if is_dir {
            (
                soft(root.join("Info.plist")),
                soft(root.join("Status.plist")),
            )
        } else {
            (None, None)
        };
        let looks_like_backup =
            manifest_plist.is_some() || info_plist.is_some() || crate::locate::is_backup_dir(&root);
        if !looks_like_backup {
            return Err(BackupError::NotABackup { path: path.into() });
        }
        // Decided by the files, not by the iOS version a plist claims: the files are what has
        // to be read. A folder with both is taken for the newer layout.
        let era = if !root.join("Manifest.db").exists() && root.join("Manifest.mbdb").is_file() {
            crate::manifest::Era::Mbdb
        } else {
            crate::manifest::Era::ManifestDb
        };
        let mut encrypted = false;
        let mut keybag = None;
        let mut manifest_key = None;
        if let Some(m) = &manifest_plist {
            if let Some(Value::Data(kb)) = m.get("BackupKeyBag") {
                let parsed = Keybag::parse(kb).map_err(|e| {
                    BackupError::malformed(&manifest_path, format!("BackupKeyBag: {e}"))
                })?;
                keybag = Some(parsed);
            }
            if let Some(Value::Data(k)) = m.get("ManifestKey") {
                manifest_key = Some(k.clone());
            }
            // The flag alone is not trusted: a missing, damaged or contradicted IsEncrypted
            // must never become "not encrypted" over files that are encrypted.
            let db_encrypted = era == crate::manifest::Era::ManifestDb
                && manifest_db_is_encrypted(&root.join("Manifest.db"));
            match m.get("IsEncrypted") {
                Some(Value::Boolean(true)) => encrypted = true,
                Some(Value::Boolean(false)) => {
                    if db_encrypted && keybag.is_some() {
                        encrypted = true;
                        warnings.push(
                            "Manifest.plist says the backup is not encrypted, but its Manifest.db \
                             is encrypted: taken as encrypted"
                                .to_string(),
                        );
                    } else if manifest_key.is_some() {
                        encryption_unknown = Some(
                            "Manifest.plist says the backup is not encrypted but holds a \
                             ManifestKey, which only encrypted backups have"
                                .to_string(),
                        );
                    }
                }
                flag => {
                    let what = if flag.is_some() {
                        "IsEncrypted in Manifest.plist is not a yes/no value"
                    } else {
                        "Manifest.plist has no IsEncrypted entry"
                    };
                    if keybag.is_some() && (manifest_key.is_some() || db_encrypted) {
                        encrypted = true;
                        warnings.push(format!(
                            "{what}; it holds a keybag and its files are encrypted: taken as encrypted"
                        ));
                    } else {
                        encryption_unknown = Some(what.to_string());
                    }
                }
            }
            if encrypted && keybag.is_none() {
                return Err(BackupError::malformed(
                    &manifest_path,
                    "IsEncrypted is true but there is no BackupKeyBag",
                ));
            }
        }
        Ok(Backup {
            root,
            manifest_plist,
            info_plist,
            status_plist,
            encrypted,
            keybag,
            manifest_key,
            warnings,
            encryption_unknown,
            era,
        })
    }

    /// Does this file hold what only a Manifest.plist holds (IsEncrypted, BackupKeyBag)?
    fn looks_like_manifest_plist(path: &Path) -> bool {
        matches!(
            info::read_plist_dict(path),
            Ok(Some(d)) if d.contains_key("IsEncrypted") || d.contains_key("BackupKeyBag")
        )
    }

    /// Err(EncryptionUnknown) when Manifest.plist is missing or damaged: then "not
    /// encrypted" would be a guess, and a guess here is a lie.
    pub fn require_known_encryption(&self) -> Result<()> {
        match &self.encryption_unknown {
            Some(reason) => Err(BackupError::EncryptionUnknown {
                path: self.root.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The keybag of an encrypted backup.
    pub fn keybag(&self) -> Result<&Keybag> {
        self.require_known_encryption()?;
        match (&self.keybag, self.encrypted) {
            (Some(kb), true) => Ok(kb),
            _ => Err(BackupError::NotEncrypted),
        }
    }

    /// The keybag whose class keys open this backup's keychain items: the backup's own when
    /// it is encrypted, else the original's that a Sesame-decrypted copy keeps aside.
    pub fn keychain_keybag(&self) -> Option<Keybag> {
        if self.encrypted {
            return self.keybag.clone();
        }
        let d = info::read_plist_dict(&self.root.join(ORIGINAL_KEYBAG)).ok()??;
        match d.get("BackupKeyBag") {
            Some(Value::Data(kb)) => Keybag::parse(kb).ok(),
            _ => None,
        }
    }

    /// The hashcat/John line of this backup.
    pub fn hash_line(&self) -> Result<HashLine> {
        Ok(HashLine::from_keybag(self.keybag()?)?)
    }

    /// Derives the key from `password` (seconds for iOS 10.2+) and unlocks the class keys.
    pub fn unlock(&self, password: &[u8]) -> Result<UnlockedKeys> {
        let kb = self.keybag()?;
        let key = kdf::derive_fast(password, &kb.kdf_params());
        UnlockedKeys::from_keybag(kb, &key)
    }

    /// The Manifest.db key, for iOS 10.2+ encrypted backups.
    pub fn manifest_db_key(&self, keys: &UnlockedKeys) -> Result<Option<Zeroizing<[u8; 32]>>> {
        match &self.manifest_key {
            Some(mk) => keys.unwrap_class_wrapped(mk).map(Some),
            None => Ok(None),
        }
    }

    /// What `list` and `info` show.
    pub fn info(&self) -> BackupInfo {
        let mut bi = BackupInfo {
            path: self.root.display().to_string(),
            warnings: self.warnings.clone(),
            ..Default::default()
        };
        if let Some(i) = &self.info_plist {
            bi.device_name =
                info::get_str(i, "Device Name").or_else(|| info::get_str(i, "Display Name"));
            bi.product_type = info::get_str(i, "Product Type");
            bi.ios_version = info::get_str(i, "Product Version");
            bi.build_version = info::get_str(i, "Build Version");
            bi.serial_number = info::get_str(i, "Serial Number");
            bi.udid = info::get_str(i, "Unique Identifier")
                .or_else(|| info::get_str(i, "Target Identifier"));
            bi.last_backup_date = info::get_date(i, "Last Backup Date");
        }
        if let Some(m) = &self.manifest_plist {
            bi.encrypted = Some(self.encrypted);
            bi.was_passcode_set = info::get_bool(m, "WasPasscodeSet");
            if let Some(Value::Dictionary(l)) = m.get("Lockdown") {
                bi.device_name = bi.device_name.or_else(|| info::get_str(l, "DeviceName"));
                bi.product_type = bi.product_type.or_else(|| info::get_str(l, "ProductType"));
                bi.ios_version = bi
                    .ios_version
                    .or_else(|| info::get_str(l, "ProductVersion"));
                bi.build_version = bi
                    .build_version
                    .or_else(|| info::get_str(l, "BuildVersion"));
                bi.serial_number = bi
                    .serial_number
                    .or_else(|| info::get_str(l, "SerialNumber"));
                bi.udid = bi.udid.or_else(|| info::get_str(l, "UniqueDeviceID"));
            }
            bi.last_backup_date = bi.last_backup_date.or_else(|| info::get_date(m, "Date"));
        }
        if let Some(s) = &self.status_plist {
            bi.complete = info::snapshot_complete(s);
            bi.last_backup_date = bi.last_backup_date.or_else(|| info::get_date(s, "Date"));
        }
        // A copy Sesame was still writing (interrupted, or a file failed) is not complete,
        // whatever the plists it copied say.
        if std::fs::symlink_metadata(self.root.join(crate::outdir::UNFINISHED)).is_ok() {
            bi.complete = Some(false);
            bi.warnings.push(
                "Sesame did not finish writing this copy: run the command that made it again with --force"
                    .into(),
            );
        }
        if let Some(kb) = self.keybag.as_ref().filter(|_| self.encrypted) {
            bi.key_scheme = Some(
                if kb.dpsl.is_some() {
                    "ios10.2"
                } else {
                    "legacy"
                }
                .into(),
            );
            bi.sha1_iterations = Some(kb.iterations);
            bi.sha256_iterations = kb.dpic;
        }
        if self.root.join(self.era.list_file()).is_file() {
            bi.era = Some(self.era.id().into());
            bi.era_description = Some(self.era.describe().into());
        }
        bi.already_decrypted = self.already_decrypted();
        bi.size_on_disk = info::size_on_disk(&self.root);
        bi
    }
}

/// Does this Manifest.db exist and not start with the SQLite header? Then it is encrypted (or
/// damaged, which reading it will say).
fn manifest_db_is_encrypted(path: &Path) -> bool {
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => match std::io::Read::read_exact(&mut f, &mut head) {
            Ok(()) => &head != crate::manifest::SQLITE_HEADER,
            Err(_) => false,
        },
        Err(_) => false,
    }
}
