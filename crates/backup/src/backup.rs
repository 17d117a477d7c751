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
    pub fn open(path: &Path) -> Result<Backup> {
        let (root, manifest_path) = if path.is_dir() {
            (path.to_path_buf(), path.join("Manifest.plist"))
        } else if path.is_file() {
            let root = path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            (root, path.to_path_buf())
        } else {
            return Err(BackupError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            ));
        };
        let mut warnings = Vec::new();
        let manifest_plist = info::read_plist_dict(&manifest_path)?;
        let mut soft = |p: PathBuf| match info::read_plist_dict(&p) {
            Ok(d) => d,
            Err(e) => {
                warnings.push(e.to_string());
                None
            }
        };
        let (info_plist, status_plist) = if path.is_dir() {
            (
                soft(root.join("Info.plist")),
                soft(root.join("Status.plist")),
            )
        } else {
            (None, None)
        };
        if manifest_plist.is_none() && info_plist.is_none() && !root.join("Manifest.db").is_file() {
            return Err(BackupError::NotABackup { path: path.into() });
        }
        let mut encrypted = false;
        let mut keybag = None;
        let mut manifest_key = None;
        if let Some(m) = &manifest_plist {
            encrypted = info::get_bool(m, "IsEncrypted").unwrap_or(false);
            if let Some(Value::Data(kb)) = m.get("BackupKeyBag") {
                let parsed = Keybag::parse(kb).map_err(|e| {
                    BackupError::malformed(&manifest_path, format!("BackupKeyBag: {e}"))
                })?;
                keybag = Some(parsed);
            }
            if let Some(Value::Data(k)) = m.get("ManifestKey") {
                manifest_key = Some(k.clone());
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
        })
    }

    /// The keybag of an encrypted backup.
    pub fn keybag(&self) -> Result<&Keybag> {
        match (&self.keybag, self.encrypted) {
            (Some(kb), true) => Ok(kb),
            _ => Err(BackupError::NotEncrypted),
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
            bi.complete = Some(info::get_str(s, "SnapshotState").as_deref() == Some("finished"));
            bi.last_backup_date = bi.last_backup_date.or_else(|| info::get_date(s, "Date"));
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
        bi.size_on_disk = info::size_on_disk(&self.root);
        bi
    }
}
