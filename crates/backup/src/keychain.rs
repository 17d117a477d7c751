//! The backup's keychain: `KeychainDomain/keychain-backup.plist`.
//!
//! Decrypted as a file, it is a plist with lists `genp` (generic passwords, Wi-Fi networks among
//! them), `inet` (internet passwords), `cert` and `keys`. Each item carries `v_Data`: a small
//! header, a per-item key wrapped with a class key of the backup keybag, and the item encrypted
//! with that key:
//! - version 2 and 3: u32 LE version, u32 LE class (low 4 bits), u32 LE length L, L bytes of
//!   wrapped key, then AES-256-GCM with an empty IV and a 16-byte tag at the end. Version 2 holds
//!   a plist dict, version 3 a DER SET of SEQUENCE { UTF8String key, value }.
//! - version 0: u32 LE version, u32 LE class, 40 bytes of wrapped key, then AES-256-CBC (zero IV,
//!   PKCS#7) of the secret itself.
//!
//! Every parser here treats its input as hostile: errors, never panics. Secrets are zeroized on
//! drop and never shown by `Debug`.

use crate::backup::UnlockedKeys;
use crate::error::{BackupError, Result};
use aes::cipher::{
    block_padding::Pkcs7, generic_array::GenericArray, BlockDecryptMut, BlockEncrypt,
    BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher,
};
use aes::Aes256;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use plist::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use zeroize::{Zeroize, Zeroizing};

/// Where the keychain lives in a backup.
pub const KEYCHAIN_DOMAIN: &str = "KeychainDomain";
pub const KEYCHAIN_PATH: &str = "keychain-backup.plist";

/// Keychain items above this count are not read (a real keychain has a few thousand).
const MAX_ITEMS: usize = 1_000_000;
/// Attributes per item above this count are refused (real items have a few dozen).
const MAX_ATTRIBUTES: usize = 10_000;

/// The four tables of a keychain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemClass {
    /// `genp`: generic passwords (apps, Wi-Fi, the backup password).
    GenericPassword,
    /// `inet`: internet passwords (websites, mail accounts).
    InternetPassword,
    /// `cert`: certificates.
    Certificate,
    /// `keys`: cryptographic keys.
    Key,
}

impl ItemClass {
    pub const ALL: [ItemClass; 4] = [
        ItemClass::GenericPassword,
        ItemClass::InternetPassword,
        ItemClass::Certificate,
        ItemClass::Key,
    ];

    /// The plist key of this table.
    pub fn table(self) -> &'static str {
        match self {
            ItemClass::GenericPassword => "genp",
            ItemClass::InternetPassword => "inet",
            ItemClass::Certificate => "cert",
            ItemClass::Key => "keys",
        }
    }
}

/// What an item is, for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// genp with svce "AirPort": acct is the SSID.
    WifiNetwork,
    /// genp with svce "BackupAgent": the device's own copy of the backup password.
    BackupPassword,
    /// inet: a website or server password.
    InternetPassword,
    /// Any other genp: an app's password or token.
    GenericPassword,
    Certificate,
    Key,
}

impl ItemKind {
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::WifiNetwork => "Wi-Fi",
            ItemKind::BackupPassword => "backup password",
            ItemKind::InternetPassword => "internet",
            ItemKind::GenericPassword => "generic",
            ItemKind::Certificate => "certificate",
            ItemKind::Key => "key",
        }
    }
}

/// One attribute value, as the plist or DER gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attr {
    Text(String),
    Data(Vec<u8>),
    Int(i64),
    /// Seconds since 1970-01-01 UTC.
    Date(i64),
    Bool(bool),
    /// A value of a type this reader does not interpret, described.
    Other(String),
}

impl Attr {
    /// The value as text: strings, UTF-8 data, numbers; dates as ISO 8601.
    pub fn to_text(&self) -> String {
        match self {
            Attr::Text(s) => s.clone(),
            Attr::Data(d) => match std::str::from_utf8(d) {
                Ok(s) => s.to_string(),
                Err(_) => hex::encode(d),
            },
            Attr::Int(i) => i.to_string(),
            Attr::Date(t) => crate::info::format_unix(*t),
            Attr::Bool(b) => b.to_string(),
            Attr::Other(s) => s.clone(),
        }
    }
}

/// An item's secret (`v_Data`). Zeroized on drop; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(Zeroizing::new(bytes))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The secret as text when it is UTF-8, else None.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
    /// The secret for display: its text, or `hex:...` when it is not UTF-8 text.
    pub fn reveal(&self) -> Zeroizing<String> {
        match self.as_str() {
            Some(s) if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                Zeroizing::new(s.to_string())
            }
            _ => Zeroizing::new(format!("hex:{}", hex::encode(&*self.0))),
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Whether an item's contents could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemState {
    /// Decrypted: attributes and secret are known.
    Decrypted,
    /// Encrypted with a key only the device has (a ThisDeviceOnly class, or the keychain of an
    /// unencrypted backup): only the attributes in the clear are known.
    DeviceOnly,
    /// Could not be decrypted or parsed; why.
    Failed(String),
}

/// One keychain item.
#[derive(Clone, Debug)]
pub struct KeychainItem {
    pub class: ItemClass,
    /// Position in its table.
    pub index: usize,
    /// The `v_Data` format version (0, 2, 3), when the header was readable.
    pub version: Option<u32>,
    /// The protection class (low 4 bits of the header's class word).
    pub protection_class: Option<u32>,
    /// Attributes: those in the clear, then (overriding) those decrypted. Never holds `v_Data`.
    pub attributes: BTreeMap<String, Attr>,
    pub secret: Option<Secret>,
    pub state: ItemState,
}

impl KeychainItem {
    /// An attribute as text.
    pub fn text(&self, key: &str) -> Option<String> {
        self.attributes
            .get(key)
            .map(Attr::to_text)
            .filter(|s| !s.is_empty())
    }

    pub fn date(&self, key: &str) -> Option<i64> {
        match self.attributes.get(key)? {
            Attr::Date(t) => Some(*t),
            _ => None,
        }
    }

    pub fn kind(&self) -> ItemKind {
        match self.class {
            ItemClass::GenericPassword => match self.text("svce").as_deref() {
                Some("AirPort") => ItemKind::WifiNetwork,
                Some("BackupAgent") => ItemKind::BackupPassword,
                _ => ItemKind::GenericPassword,
            },
            ItemClass::InternetPassword => ItemKind::InternetPassword,
            ItemClass::Certificate => ItemKind::Certificate,
            ItemClass::Key => ItemKind::Key,
        }
    }

    pub fn account(&self) -> Option<String> {
        self.text("acct")
    }
    pub fn service(&self) -> Option<String> {
        self.text("svce")
    }
    pub fn server(&self) -> Option<String> {
        self.text("srvr")
    }
    pub fn label(&self) -> Option<String> {
        self.text("labl")
    }
    pub fn access_group(&self) -> Option<String> {
        self.text("agrp")
    }
    /// Creation date (`cdat`), seconds since 1970.
    pub fn created(&self) -> Option<i64> {
        self.date("cdat")
    }
    /// Modification date (`mdat`), seconds since 1970.
    pub fn modified(&self) -> Option<i64> {
        self.date("mdat")
    }
    /// The protocol (`ptcl`): a four-character code such as "htps", or a number.
    pub fn protocol(&self) -> Option<String> {
        match self.attributes.get("ptcl")? {
            Attr::Int(i) if *i > 0 && *i <= u32::MAX as i64 => {
                let b = (*i as u32).to_be_bytes();
                if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
                    Some(String::from_utf8_lossy(&b).trim().to_string())
                } else {
                    Some(i.to_string())
                }
            }
            other => Some(other.to_text()),
        }
    }
    /// What the item is for: the SSID of a network, the server of a website, the service of an
    /// app password, the label of a certificate or key.
    pub fn name(&self) -> Option<String> {
        match self.kind() {
            ItemKind::WifiNetwork => self.account(),
            ItemKind::InternetPassword => {
                let server = self.server()?;
                let mut s = match self.protocol().as_deref() {
                    Some("htps") => format!("https://{server}"),
                    Some("http") => format!("http://{server}"),
                    _ => server,
                };
                if let Some(Attr::Int(p)) = self.attributes.get("port") {
                    if *p > 0 {
                        s.push_str(&format!(":{p}"));
                    }
                }
                if let Some(path) = self.text("path") {
                    if !path.starts_with('/') {
                        s.push('/');
                    }
                    s.push_str(&path);
                }
                Some(s)
            }
            ItemKind::BackupPassword | ItemKind::GenericPassword => {
                self.service().or_else(|| self.label())
            }
            ItemKind::Certificate | ItemKind::Key => self.label().or_else(|| self.access_group()),
        }
    }
}

/// A whole decrypted keychain.
#[derive(Clone, Debug, Default)]
pub struct Keychain {
    pub items: Vec<KeychainItem>,
}

impl Keychain {
    pub fn count(&self, state: &ItemState) -> usize {
        self.items.iter().filter(|i| &i.state == state).count()
    }
}

/// Why one item's `v_Data` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("v_Data is truncated: {0}")]
    Truncated(&'static str),
    #[error("v_Data version {0} is not one this reader knows (0, 2, 3)")]
    UnknownVersion(u32),
    #[error("protection class {0} can only be decrypted on the device that made the backup")]
    DeviceOnly(u32),
    #[error("the keychain of an unencrypted backup is encrypted with the device's own key")]
    NotEncryptedBackup,
    #[error("no key for protection class {0}")]
    NoClassKey(u32),
    #[error("the item key does not unwrap with the class {0} key")]
    Unwrap(u32),
    #[error("wrapped item key is {0} bytes, expected 40")]
    WrappedKeyLength(usize),
    #[error("the item does not authenticate (damaged, or encrypted with another key)")]
    Authentication,
    #[error("the item's padding is wrong (damaged, or encrypted with another key)")]
    Padding,
    #[error("decrypted item is not readable: {0}")]
    Payload(String),
}

/// A decrypted `v_Data`: the item's attributes and its secret.
#[derive(Clone, Debug, Default)]
pub struct Decrypted {
    pub version: u32,
    pub protection_class: u32,
    pub attributes: BTreeMap<String, Attr>,
    pub secret: Option<Secret>,
}

/// The version and protection class at the start of a `v_Data`.
pub fn item_header(v_data: &[u8]) -> std::result::Result<(u32, u32), ItemError> {
    if v_data.len() < 8 {
        return Err(ItemError::Truncated("no 8-byte header"));
    }
    Ok((le32(&v_data[0..4]), le32(&v_data[4..8]) & 0xf))
}

fn le32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn class_key(keys: &UnlockedKeys, class: u32) -> std::result::Result<&[u8; 32], ItemError> {
    if keys.is_device_only(class) {
        return Err(ItemError::DeviceOnly(class));
    }
    keys.class_key(class).ok_or(ItemError::NoClassKey(class))
}

fn unwrap_item_key(
    kek: &[u8; 32],
    class: u32,
    wrapped: &[u8],
) -> std::result::Result<Zeroizing<[u8; 32]>, ItemError> {
    if wrapped.len() != 40 {
        return Err(ItemError::WrappedKeyLength(wrapped.len()));
    }
    crate::aeskw::unwrap_key(kek, wrapped).ok_or(ItemError::Unwrap(class))
}

/// Decrypts one item's `v_Data` with the backup's class keys.
pub fn decrypt_item(
    v_data: &[u8],
    keys: &UnlockedKeys,
) -> std::result::Result<Decrypted, ItemError> {
    let (version, class) = item_header(v_data)?;
    match version {
        2 | 3 => {
            if v_data.len() < 12 {
                return Err(ItemError::Truncated("no wrapped-key length"));
            }
            let len = le32(&v_data[8..12]) as usize;
            let rest = &v_data[12..];
            if len > rest.len() {
                return Err(ItemError::Truncated("wrapped key runs past the end"));
            }
            let (wrapped, sealed) = rest.split_at(len);
            let kek = class_key(keys, class)?;
            let item_key = unwrap_item_key(kek, class, wrapped)?;
            if sealed.len() < 16 {
                return Err(ItemError::Truncated("no 16-byte GCM tag"));
            }
            let (ct, tag) = sealed.split_at(sealed.len() - 16);
            let plain = gcm_open(&item_key, &[], ct, tag)?;
            let mut attributes = if version == 2 {
                plist_payload(&plain)?
            } else {
                der_payload(&plain)?
            };
            let secret = match attributes.remove("v_Data") {
                Some(Attr::Data(mut d)) => {
                    let s = Secret::new(std::mem::take(&mut d));
                    Some(s)
                }
                Some(Attr::Text(mut t)) => {
                    let s = Secret::new(t.as_bytes().to_vec());
                    t.zeroize();
                    Some(s)
                }
                Some(other) => Some(Secret::new(other.to_text().into_bytes())),
                None => None,
            };
            Ok(Decrypted {
                version,
                protection_class: class,
                attributes,
                secret,
            })
        }
        0 => {
            if v_data.len() < 48 {
                return Err(ItemError::Truncated("no 40-byte wrapped key"));
            }
            let kek = class_key(keys, class)?;
            let item_key = unwrap_item_key(kek, class, &v_data[8..48])?;
            let ct = &v_data[48..];
            if ct.is_empty() || ct.len() & 15 != 0 {
                return Err(ItemError::Padding);
            }
            let mut buf = Zeroizing::new(ct.to_vec());
            let dec = cbc::Decryptor::<Aes256>::new(
                GenericArray::from_slice(&item_key[..]),
                &GenericArray::from([0u8; 16]),
            );
            let n = dec
                .decrypt_padded_mut::<Pkcs7>(&mut buf)
                .map_err(|_| ItemError::Padding)?
                .len();
            Ok(Decrypted {
                version,
                protection_class: class,
                attributes: BTreeMap::new(),
                secret: Some(Secret::new(buf[..n].to_vec())),
            })
        }
        v => Err(ItemError::UnknownVersion(v)),
    }
}

/// What an item to encrypt holds (tests and the synthetic backup builder).
#[derive(Clone, Debug)]
pub struct ItemSpec {
    pub class: ItemClass,
    /// 0, 2 (plist payload) or 3 (DER payload).
    pub version: u32,
    pub protection_class: u32,
    /// Attributes inside the encrypted payload (ignored by version 0).
    pub attributes: BTreeMap<String, Attr>,
    /// Attributes left in the clear next to `v_Data` (older keychains; device-only items).
    pub clear_attributes: BTreeMap<String, Attr>,
    pub secret: Vec<u8>,
}

impl ItemSpec {
    /// A version-3 item with text attributes.
    pub fn new(
        class: ItemClass,
        protection_class: u32,
        attrs: &[(&str, &str)],
        secret: &[u8],
    ) -> Self {
        ItemSpec {
            class,
            version: 3,
            protection_class,
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), Attr::Text(v.to_string())))
                .collect(),
            clear_attributes: BTreeMap::new(),
            secret: secret.to_vec(),
        }
    }
}

/// Encrypts one item into a `v_Data` (the inverse of `decrypt_item`), with `item_key` wrapped by
/// `class_key`. Panics only on an unknown version (a programming error in a test).
pub fn encrypt_item(spec: &ItemSpec, class_key: &[u8; 32], item_key: &[u8; 32]) -> Vec<u8> {
    let wrapped = crate::aeskw::wrap(class_key, item_key);
    let mut out = Vec::new();
    out.extend_from_slice(&spec.version.to_le_bytes());
    out.extend_from_slice(&spec.protection_class.to_le_bytes());
    match spec.version {
        2 | 3 => {
            out.extend_from_slice(&(wrapped.len() as u32).to_le_bytes());
            out.extend_from_slice(&wrapped);
            let mut attrs = spec.attributes.clone();
            attrs.insert("v_Data".into(), Attr::Data(spec.secret.clone()));
            let mut plain = Zeroizing::new(if spec.version == 2 {
                plist_encode(&attrs)
            } else {
                der_encode(&attrs)
            });
            if let Some(Attr::Data(d)) = attrs.get_mut("v_Data") {
                d.zeroize();
            }
            let tag = gcm_seal(item_key, &[], &mut plain);
            out.extend_from_slice(&plain);
            out.extend_from_slice(&tag);
        }
        0 => {
            out.extend_from_slice(&wrapped);
            let enc = cbc::Encryptor::<Aes256>::new(
                GenericArray::from_slice(item_key),
                &GenericArray::from([0u8; 16]),
            );
            let n = spec.secret.len();
            let mut buf = Zeroizing::new(vec![0u8; (n / 16 + 1) * 16]);
            buf[..n].copy_from_slice(&spec.secret);
            let ct = enc
                .encrypt_padded_mut::<Pkcs7>(&mut buf, n)
                .expect("buffer has room for the padding");
            out.extend_from_slice(ct);
        }
        v => panic!("encrypt_item: unknown v_Data version {v}"),
    }
    out
}

/// A whole keychain-backup.plist (binary) holding `items`, each encrypted with the class key of
/// its protection class from `keys` and a fresh random item key. Items whose class has no key
/// get random bytes as `v_Data` (as a device-only item looks off the device).
pub fn build_keychain_plist(items: &[ItemSpec], keys: &UnlockedKeys) -> Vec<u8> {
    use rand::RngCore;
    let mut tables: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    for spec in items {
        let mut item_key = Zeroizing::new([0u8; 32]);
        rand::thread_rng().fill_bytes(&mut item_key[..]);
        let v_data = match keys.class_key(spec.protection_class) {
            Some(ck) => encrypt_item(spec, ck, &item_key),
            None => {
                let mut throwaway = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut throwaway);
                let v = encrypt_item(spec, &throwaway, &item_key);
                throwaway.zeroize();
                v
            }
        };
        let mut d = plist::Dictionary::new();
        for (k, v) in &spec.clear_attributes {
            d.insert(k.clone(), attr_to_plist(v));
        }
        d.insert("v_Data".into(), Value::Data(v_data));
        let mut pref = vec![0u8; 12];
        rand::thread_rng().fill_bytes(&mut pref);
        d.insert("v_PersistentRef".into(), Value::Data(pref));
        tables
            .entry(spec.class.table())
            .or_default()
            .push(Value::Dictionary(d));
    }
    let mut top = plist::Dictionary::new();
    for (k, v) in tables {
        top.insert(k.into(), Value::Array(v));
    }
    let mut out = Vec::new();
    Value::Dictionary(top)
        .to_writer_binary(&mut out)
        .expect("writing a plist to memory");
    out
}

fn keychain_path() -> PathBuf {
    PathBuf::from(format!("{KEYCHAIN_DOMAIN}/{KEYCHAIN_PATH}"))
}

/// Reads a decrypted keychain-backup.plist and decrypts every item it can with `keys`
/// (None: an unencrypted backup, whose items only the device can decrypt).
/// Errors only when the file as a whole is unreadable; a bad item is reported in its state.
pub fn parse_keychain(bytes: &[u8], keys: Option<&UnlockedKeys>) -> Result<Keychain> {
    let top = match crate::plistsafe::parse(bytes) {
        Ok(Value::Dictionary(d)) => d,
        Ok(_) => {
            return Err(BackupError::malformed(
                keychain_path(),
                "the keychain is not a dictionary",
            ))
        }
        Err(e) => {
            return Err(BackupError::Plist {
                path: keychain_path(),
                reason: e.to_string(),
            })
        }
    };
    let mut kc = Keychain::default();
    for class in ItemClass::ALL {
        let list = match top.get(class.table()) {
            None => continue,
            Some(Value::Array(a)) => a,
            Some(_) => {
                return Err(BackupError::malformed(
                    keychain_path(),
                    format!("`{}` is not a list", class.table()),
                ))
            }
        };
        for (index, v) in list.iter().enumerate() {
            if kc.items.len() >= MAX_ITEMS {
                return Err(BackupError::malformed(
                    keychain_path(),
                    format!("more than {MAX_ITEMS} items"),
                ));
            }
            kc.items.push(read_item(class, index, v, keys));
        }
    }
    Ok(kc)
}

fn read_item(
    class: ItemClass,
    index: usize,
    v: &Value,
    keys: Option<&UnlockedKeys>,
) -> KeychainItem {
    let mut item = KeychainItem {
        class,
        index,
        version: None,
        protection_class: None,
        attributes: BTreeMap::new(),
        secret: None,
        state: ItemState::Failed("the item is not a dictionary".into()),
    };
    let Value::Dictionary(d) = v else {
        return item;
    };
    for (k, v) in d.iter() {
        if k == "v_Data" || k == "v_PersistentRef" || item.attributes.len() >= MAX_ATTRIBUTES {
            continue;
        }
        item.attributes.insert(k.clone(), attr_from_plist(v));
    }
    let v_data = match d.get("v_Data") {
        Some(Value::Data(b)) => b,
        Some(_) => {
            item.state = ItemState::Failed("v_Data is not data".into());
            return item;
        }
        None => {
            item.state = ItemState::Failed("the item has no v_Data".into());
            return item;
        }
    };
    if let Ok((version, pclass)) = item_header(v_data) {
        item.version = Some(version);
        item.protection_class = Some(pclass);
    }
    let result = match keys {
        Some(keys) => decrypt_item(v_data, keys),
        None => item_header(v_data).and(Err(ItemError::NotEncryptedBackup)),
    };
    match result {
        Ok(dec) => {
            item.attributes.extend(dec.attributes);
            item.secret = dec.secret;
            item.state = ItemState::Decrypted;
        }
        Err(ItemError::DeviceOnly(_)) | Err(ItemError::NotEncryptedBackup) => {
            item.state = ItemState::DeviceOnly
        }
        Err(e) => item.state = ItemState::Failed(e.to_string()),
    }
    item
}

/// Finds, decrypts and reads the keychain of a backup. `keys`: the unlocked class keys of an
/// encrypted backup; None for an unencrypted one (its items are then all device-only).
pub fn read_keychain(backup: &crate::Backup, keys: Option<&UnlockedKeys>) -> Result<Keychain> {
    let manifest = backup.open_manifest(keys)?;
    let entry = manifest
        .find(KEYCHAIN_DOMAIN, KEYCHAIN_PATH)
        .ok_or_else(|| {
            BackupError::malformed(
                backup.root.join(backup.era.list_file()),
                "the backup has no keychain (no KeychainDomain/keychain-backup.plist)",
            )
        })?;
    let bytes = Zeroizing::new(backup.read_file(entry, keys)?);
    parse_keychain(&bytes, keys)
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM (NIST SP 800-38D) from AES, CTR and GHASH: the keychain uses an empty IV, which
// common GCM implementations refuse.

type Ctr32 = ctr::Ctr32BE<Aes256>;

/// The GCM pieces for `key` and `iv`: (H, J0).
fn gcm_setup(cipher: &Aes256, iv: &[u8]) -> ([u8; 16], [u8; 16]) {
    let mut h = GenericArray::from([0u8; 16]);
    cipher.encrypt_block(&mut h);
    let h: [u8; 16] = h.into();
    let j0 = if iv.len() == 12 {
        // J0 = IV || 0^31 || 1
        let mut j = [0u8; 16];
        j[..12].copy_from_slice(iv);
        j[15] = 1;
        j
    } else {
        // J0 = GHASH_H(IV || 0^(s+64) || [len(IV)]_64): for an empty IV this is GHASH of one
        // all-zero block, which is zero.
        let mut g = GHash::new(&h.into());
        g.update_padded(iv);
        let mut lens = [0u8; 16];
        lens[8..].copy_from_slice(&((iv.len() as u64) * 8).to_be_bytes());
        g.update(&[lens.into()]);
        g.finalize().into()
    };
    (h, j0)
}

fn gcm_tag(cipher: &Aes256, h: &[u8; 16], j0: &[u8; 16], aad: &[u8], ct: &[u8]) -> [u8; 16] {
    let mut g = GHash::new(&(*h).into());
    g.update_padded(aad);
    g.update_padded(ct);
    let mut lens = [0u8; 16];
    lens[..8].copy_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
    lens[8..].copy_from_slice(&((ct.len() as u64) * 8).to_be_bytes());
    g.update(&[lens.into()]);
    let s: [u8; 16] = g.finalize().into();
    let mut ekj0 = GenericArray::from(*j0);
    cipher.encrypt_block(&mut ekj0);
    let mut tag = [0u8; 16];
    for i in 0..16 {
        tag[i] = s[i] ^ ekj0[i];
    }
    tag
}

fn inc32(j0: &[u8; 16]) -> [u8; 16] {
    let mut c = *j0;
    let n = u32::from_be_bytes([c[12], c[13], c[14], c[15]]).wrapping_add(1);
    c[12..].copy_from_slice(&n.to_be_bytes());
    c
}

/// GCM encryption in place with an arbitrary-length IV; returns the 16-byte tag.
pub fn gcm_seal_iv(key: &[u8; 32], iv: &[u8], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
    let cipher = Aes256::new(GenericArray::from_slice(key));
    let (h, j0) = gcm_setup(&cipher, iv);
    let mut ctr = Ctr32::new(GenericArray::from_slice(key), &inc32(&j0).into());
    ctr.apply_keystream(data);
    gcm_tag(&cipher, &h, &j0, aad, data)
}

/// GCM decryption with an arbitrary-length IV: checks the tag, then decrypts.
pub fn gcm_open_iv(
    key: &[u8; 32],
    iv: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, ItemError> {
    let cipher = Aes256::new(GenericArray::from_slice(key));
    let (h, j0) = gcm_setup(&cipher, iv);
    let expect = gcm_tag(&cipher, &h, &j0, aad, ct);
    // Constant-time comparison.
    let diff = if tag.len() == 16 {
        expect
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
    } else {
        1
    };
    if diff != 0 {
        return Err(ItemError::Authentication);
    }
    let mut out = Zeroizing::new(ct.to_vec());
    let mut ctr = Ctr32::new(GenericArray::from_slice(key), &inc32(&j0).into());
    ctr.apply_keystream(&mut out);
    Ok(out)
}

/// The keychain's GCM: empty IV.
fn gcm_seal(key: &[u8; 32], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
    gcm_seal_iv(key, &[], aad, data)
}

fn gcm_open(
    key: &[u8; 32],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, ItemError> {
    gcm_open_iv(key, &[], aad, ct, tag)
}

// ---------------------------------------------------------------------------------------------
// Payloads: plist (version 2) and DER (version 3).

fn unix_of(date: &plist::Date) -> i64 {
    let t: std::time::SystemTime = (*date).into();
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn attr_from_plist(v: &Value) -> Attr {
    match v {
        Value::String(s) => Attr::Text(s.clone()),
        Value::Data(d) => Attr::Data(d.clone()),
        Value::Integer(i) => match i.as_signed() {
            Some(n) => Attr::Int(n),
            None => Attr::Other(i.to_string()),
        },
        Value::Real(r) => Attr::Other(r.to_string()),
        Value::Boolean(b) => Attr::Bool(*b),
        Value::Date(d) => Attr::Date(unix_of(d)),
        Value::Uid(u) => Attr::Other(format!("uid {}", u.get())),
        Value::Array(a) => Attr::Other(format!("list of {}", a.len())),
        Value::Dictionary(d) => Attr::Other(format!("dictionary of {}", d.len())),
        _ => Attr::Other("unknown value".into()),
    }
}

fn attr_to_plist(a: &Attr) -> Value {
    match a {
        Attr::Text(s) => Value::String(s.clone()),
        Attr::Data(d) => Value::Data(d.clone()),
        Attr::Int(i) => Value::Integer((*i).into()),
        Attr::Date(t) => {
            let st = if *t >= 0 {
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(*t as u64)
            } else {
                std::time::UNIX_EPOCH - std::time::Duration::from_secs(t.unsigned_abs())
            };
            Value::Date(st.into())
        }
        Attr::Bool(b) => Value::Boolean(*b),
        Attr::Other(s) => Value::String(s.clone()),
    }
}

fn plist_payload(plain: &[u8]) -> std::result::Result<BTreeMap<String, Attr>, ItemError> {
    let v = crate::plistsafe::parse(plain)
        .map_err(|e| ItemError::Payload(format!("not a property list ({e})")))?;
    let Value::Dictionary(mut d) = v else {
        return Err(ItemError::Payload(
            "the property list is not a dictionary".into(),
        ));
    };
    if d.len() > MAX_ATTRIBUTES {
        return Err(ItemError::Payload(format!(
            "more than {MAX_ATTRIBUTES} attributes"
        )));
    }
    let mut out = BTreeMap::new();
    for (k, v) in d.iter() {
        out.insert(k.clone(), attr_from_plist(v));
    }
    // Zeroize what plist allocated for the secret.
    if let Some(Value::Data(s)) = d.get_mut("v_Data") {
        s.zeroize();
    }
    Ok(out)
}

fn plist_encode(attrs: &BTreeMap<String, Attr>) -> Vec<u8> {
    let mut d = plist::Dictionary::new();
    for (k, v) in attrs {
        d.insert(k.clone(), attr_to_plist(v));
    }
    let mut out = Vec::new();
    Value::Dictionary(d)
        .to_writer_binary(&mut out)
        .expect("writing a plist to memory");
    out
}

/// A DER element: tag byte and contents.
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// A reader over DER elements that never reads past its slice.
struct Der<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Der<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Der { buf, pos: 0 }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn next(&mut self) -> std::result::Result<Tlv<'a>, ItemError> {
        let bad = |what: &str| ItemError::Payload(format!("DER: {what}"));
        let rest = &self.buf[self.pos..];
        if rest.len() < 2 {
            return Err(bad("truncated element"));
        }
        let tag = rest[0];
        if tag & 0x1f == 0x1f {
            return Err(bad("multi-byte tags are not used by keychain items"));
        }
        let first = rest[1];
        let (len, hdr) = if first < 0x80 {
            (first as usize, 2)
        } else if first == 0x80 {
            return Err(bad("indefinite length is not DER"));
        } else {
            let n = (first & 0x7f) as usize;
            if n > 4 {
                return Err(bad("length field too long"));
            }
            if rest.len() < 2 + n {
                return Err(bad("truncated length"));
            }
            let mut len = 0usize;
            for &b in &rest[2..2 + n] {
                len = (len << 8) | b as usize;
            }
            (len, 2 + n)
        };
        if len > rest.len() - hdr {
            return Err(bad("element runs past the end"));
        }
        self.pos += hdr + len;
        Ok(Tlv {
            tag,
            body: &rest[hdr..hdr + len],
        })
    }
}

fn der_payload(plain: &[u8]) -> std::result::Result<BTreeMap<String, Attr>, ItemError> {
    let mut outer = Der::new(plain);
    let set = outer.next()?;
    if set.tag != 0x31 {
        return Err(ItemError::Payload(format!(
            "DER: expected a SET, found tag 0x{:02x}",
            set.tag
        )));
    }
    let mut out = BTreeMap::new();
    let mut items = Der::new(set.body);
    while !items.at_end() {
        let seq = items.next()?;
        if seq.tag != 0x30 {
            return Err(ItemError::Payload(format!(
                "DER: expected a SEQUENCE, found tag 0x{:02x}",
                seq.tag
            )));
        }
        let mut fields = Der::new(seq.body);
        let key = fields.next()?;
        if key.tag != 0x0c {
            return Err(ItemError::Payload(format!(
                "DER: an attribute name has tag 0x{:02x}, expected UTF8String",
                key.tag
            )));
        }
        let key = std::str::from_utf8(key.body)
            .map_err(|_| ItemError::Payload("DER: an attribute name is not UTF-8".into()))?
            .to_string();
        let value = if fields.at_end() {
            Attr::Other("missing".into())
        } else {
            der_value(&fields.next()?)
        };
        if out.len() >= MAX_ATTRIBUTES {
            return Err(ItemError::Payload(format!(
                "more than {MAX_ATTRIBUTES} attributes"
            )));
        }
        out.insert(key, value);
    }
    Ok(out)
}

fn der_value(t: &Tlv<'_>) -> Attr {
    match t.tag {
        0x0c | 0x13 | 0x16 => match std::str::from_utf8(t.body) {
            Ok(s) => Attr::Text(s.to_string()),
            Err(_) => Attr::Data(t.body.to_vec()),
        },
        0x04 => Attr::Data(t.body.to_vec()),
        0x02 => {
            if t.body.is_empty() || t.body.len() > 8 {
                Attr::Other(format!("integer 0x{}", hex::encode(t.body)))
            } else {
                let mut v: i64 = if t.body[0] & 0x80 != 0 { -1 } else { 0 };
                for &b in t.body {
                    v = (v << 8) | b as i64;
                }
                Attr::Int(v)
            }
        }
        0x01 => Attr::Bool(t.body.first().is_some_and(|b| *b != 0)),
        0x18 | 0x17 => {
            let s = String::from_utf8_lossy(t.body).to_string();
            match parse_der_time(&s, t.tag == 0x17) {
                Some(u) => Attr::Date(u),
                None => Attr::Text(s),
            }
        }
        0x05 => Attr::Other("null".into()),
        tag => Attr::Other(format!("DER tag 0x{tag:02x}, {} bytes", t.body.len())),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// GeneralizedTime `YYYYMMDDHHMMSS[.f*][Z]` or UTCTime `YYMMDDHHMMSSZ`, as seconds since 1970.
fn parse_der_time(s: &str, utc_time: bool) -> Option<i64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let s = s.split('.').next()?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, rest) = if utc_time {
        let yy: i64 = s.get(0..2)?.parse().ok()?;
        (if yy < 50 { 2000 + yy } else { 1900 + yy }, s.get(2..)?)
    } else {
        (s.get(0..4)?.parse().ok()?, s.get(4..)?)
    };
    if rest.len() < 10 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| rest.get(r)?.parse::<i64>().ok();
    let (mo, d, h, mi, se) = (num(0..2)?, num(2..4)?, num(4..6)?, num(6..8)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

fn der_push(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(body);
}

fn der_encode_value(out: &mut Vec<u8>, v: &Attr) {
    match v {
        Attr::Text(s) | Attr::Other(s) => der_push(out, 0x0c, s.as_bytes()),
        Attr::Data(d) => der_push(out, 0x04, d),
        Attr::Int(i) => {
            let b = i.to_be_bytes();
            let mut start = 0;
            while start < 7
                && ((b[start] == 0 && b[start + 1] & 0x80 == 0)
                    || (b[start] == 0xff && b[start + 1] & 0x80 != 0))
            {
                start += 1;
            }
            der_push(out, 0x02, &b[start..]);
        }
        Attr::Bool(b) => der_push(out, 0x01, &[if *b { 0xff } else { 0 }]),
        Attr::Date(t) => {
            let iso = crate::info::format_unix(*t); // YYYY-MM-DDTHH:MM:SSZ
            let digits: String = iso.chars().filter(|c| c.is_ascii_digit()).collect();
            der_push(out, 0x18, format!("{digits}Z").as_bytes());
        }
    }
}

fn der_encode(attrs: &BTreeMap<String, Attr>) -> Vec<u8> {
    let mut seqs: Vec<Vec<u8>> = Vec::new();
    for (k, v) in attrs {
        let mut body = Vec::new();
        der_push(&mut body, 0x0c, k.as_bytes());
        der_encode_value(&mut body, v);
        let mut seq = Vec::new();
        der_push(&mut seq, 0x30, &body);
        body.zeroize();
        seqs.push(seq);
    }
    // DER sorts the elements of a SET by their encodings.
    seqs.sort();
    let mut set_body = Vec::new();
    for mut s in seqs {
        set_body.extend_from_slice(&s);
        s.zeroize();
    }
    let mut out = Vec::new();
    der_push(&mut out, 0x31, &set_body);
    set_body.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // GCM specification test cases 13 and 14 (AES-256, zero key, 96-bit zero IV).
    #[test]
    fn gcm_known_answers_96_bit_iv() {
        let key = [0u8; 32];
        let iv = [0u8; 12];
        let mut empty: [u8; 0] = [];
        assert_eq!(
            gcm_seal_iv(&key, &iv, &[], &mut empty).to_vec(),
            h("530f8afbc74536b9a963b4f1c4cb738b")
        );
        let mut block = [0u8; 16];
        let tag = gcm_seal_iv(&key, &iv, &[], &mut block);
        assert_eq!(block.to_vec(), h("cea7403d4d606b6e074ec5d3baf39d18"));
        assert_eq!(tag.to_vec(), h("d0d1c8a799996bf0265b98b5d48ab919"));
    }

    // A 64-bit IV takes the GHASH route to J0, the same as the keychain's empty IV.
    // Reference: Python `cryptography` 48 (OpenSSL), key 00..1f, IV a0..a7.
    #[test]
    fn gcm_known_answer_64_bit_iv() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let iv: Vec<u8> = (0..8).map(|i| 0xa0 + i).collect();
        let mut data = b"hello keychain item, 37 bytes long!!!".to_vec();
        let tag = gcm_seal_iv(&key, &iv, &[], &mut data);
        assert_eq!(
            data,
            h("fe2b55790b44a99ebe9d0d2a569eb878b4089404d42d60778063d8cdf8d4f4c92bb116e2cd")
        );
        assert_eq!(tag.to_vec(), h("f05308dfb8c7d892c398ee3cd06b43c1"));
        let back = gcm_open_iv(&key, &iv, &[], &data, &tag).unwrap();
        assert_eq!(&back[..], b"hello keychain item, 37 bytes long!!!");
    }

    #[test]
    fn empty_iv_j0_is_zero() {
        let cipher = Aes256::new(GenericArray::from_slice(&[7u8; 32]));
        let (_, j0) = gcm_setup(&cipher, &[]);
        assert_eq!(j0, [0u8; 16]);
    }

    #[test]
    fn der_round_trip_and_times() {
        let mut a = BTreeMap::new();
        a.insert("acct".to_string(), Attr::Text("alice".into()));
        a.insert("port".to_string(), Attr::Int(443));
        a.insert("neg".to_string(), Attr::Int(-129));
        a.insert("big".to_string(), Attr::Int(i64::MAX));
        a.insert("cdat".to_string(), Attr::Date(1_600_000_000));
        a.insert("sync".to_string(), Attr::Bool(true));
        a.insert("v_Data".to_string(), Attr::Data(vec![0u8; 300]));
        let enc = der_encode(&a);
        assert_eq!(der_payload(&enc).unwrap(), a);
        assert_eq!(
            parse_der_time("20200913122640Z", false),
            Some(1_600_000_000)
        );
        assert_eq!(parse_der_time("200913122640Z", true), Some(1_600_000_000));
        assert_eq!(
            parse_der_time("20200913122640.123Z", false),
            Some(1_600_000_000)
        );
        assert_eq!(parse_der_time("2020091312264", false), None);
    }

    #[test]
    fn der_hostile() {
        for bad in [
            &[][..],
            &[0x31],
            &[0x31, 0x80, 0, 0],
            &[0x31, 0x85, 1, 1, 1, 1, 1],
            &[0x31, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x31, 0x02, 0x30, 0x05],
            &[0x31, 0x02, 0x04, 0x00],
            &[0x31, 0x04, 0x30, 0x02, 0x04, 0x00],
            &[0x31, 0x04, 0x30, 0x02, 0x0c, 0x01],
            &[0x1f, 0x01, 0x00],
        ] {
            assert!(der_payload(bad).is_err(), "{bad:02x?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn der_never_panics(data in proptest::collection::vec(0u8.., 0..200)) {
            let _ = der_payload(&data);
        }

        #[test]
        fn decrypt_never_panics(data in proptest::collection::vec(0u8.., 0..200)) {
            let keys = UnlockedKeys::from_class_keys([(6, [1u8; 32]), (7, [2u8; 32])]);
            let _ = decrypt_item(&data, &keys);
        }
    }
}
