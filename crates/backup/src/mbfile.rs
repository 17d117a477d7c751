//! MBFile records: the NSKeyedArchiver binary plists in `Manifest.db` `Files.file`.
//!
//! `$top.root` is a UID into `$objects`; the root is a dict whose fields are integers or UIDs
//! pointing at strings, data, or `{NS.data: ...}` dicts. Writers differ in how deep they nest, so
//! UIDs are resolved recursively, with a depth limit. Input is hostile: errors, never panics.

use crate::error::{BackupError, Result};
use plist::{Dictionary, Uid, Value};

/// How many UID hops a field may take before it is called a loop.
const MAX_DEPTH: usize = 16;

/// One file's metadata as the backup records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MbFile {
    pub size: u64,
    pub mode: u32,
    /// Signed: real records carry -2 (nobody).
    pub user_id: i64,
    pub group_id: i64,
    /// Seconds since 1970.
    pub last_modified: i64,
    pub last_status_change: i64,
    pub birth: i64,
    pub inode: u64,
    pub flags: u32,
    pub protection_class: u32,
    pub relative_path: Option<String>,
    /// 4-byte LE protection class + 40-byte wrapped file key (encrypted backups only).
    pub encryption_key: Option<Vec<u8>>,
    pub digest: Option<Vec<u8>>,
    /// Symlink target.
    pub target: Option<String>,
    /// The raw bytes of `ExtendedAttributes` (itself a binary plist), kept as found.
    pub extended_attributes: Option<Vec<u8>>,
}

impl MbFile {
    /// The class the file key is wrapped with, from `EncryptionKey` (else `ProtectionClass`).
    pub fn key_class(&self) -> u32 {
        match &self.encryption_key {
            Some(k) if k.len() >= 4 => u32::from_le_bytes([k[0], k[1], k[2], k[3]]),
            _ => self.protection_class,
        }
    }
}

fn bad(what: impl Into<String>) -> BackupError {
    BackupError::Manifest(format!("MBFile record: {}", what.into()))
}

struct Archive<'a> {
    objects: &'a [Value],
}

impl<'a> Archive<'a> {
    /// Follows UIDs until a non-UID value; errors on dangling UIDs and loops.
    fn resolve(&self, mut v: &'a Value) -> Result<&'a Value> {
        for _ in 0..MAX_DEPTH {
            match v {
                Value::Uid(u) => {
                    let i = usize::try_from(u.get()).map_err(|_| bad("UID out of range"))?;
                    v = self
                        .objects
                        .get(i)
                        .ok_or_else(|| bad(format!("UID {i} points past $objects")))?;
                }
                other => return Ok(other),
            }
        }
        Err(bad("UIDs nest too deep (a loop?)"))
    }

    /// A field resolved; `$null` counts as absent.
    fn field(&self, d: &'a Dictionary, key: &str) -> Result<Option<&'a Value>> {
        match d.get(key) {
            None => Ok(None),
            Some(v) => {
                let r = self.resolve(v)?;
                match r {
                    Value::String(s) if s == "$null" => Ok(None),
                    _ => Ok(Some(r)),
                }
            }
        }
    }

    fn int(&self, d: &'a Dictionary, key: &str) -> Result<Option<i128>> {
        match self.field(d, key)? {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(i
                .as_signed()
                .map(i128::from)
                .or_else(|| i.as_unsigned().map(i128::from))),
            Some(Value::Real(r)) if r.is_finite() => Ok(Some(*r as i128)),
            Some(Value::Boolean(b)) => Ok(Some(i128::from(*b))),
            Some(other) => Err(bad(format!("{key} is {}, not a number", kind(other)))),
        }
    }

    fn string(&self, d: &'a Dictionary, key: &str) -> Result<Option<String>> {
        match self.field(d, key)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Dictionary(inner)) => match self.field(inner, "NS.string")? {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Data(b)) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
                _ => Err(bad(format!("{key} is a dict without NS.string"))),
            },
            Some(Value::Data(b)) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
            Some(other) => Err(bad(format!("{key} is {}, not a string", kind(other)))),
        }
    }

    fn data(&self, d: &'a Dictionary, key: &str) -> Result<Option<Vec<u8>>> {
        match self.field(d, key)? {
            None => Ok(None),
            Some(Value::Data(b)) => Ok(Some(b.clone())),
            Some(Value::Dictionary(inner)) => match self.field(inner, "NS.data")? {
                Some(Value::Data(b)) => Ok(Some(b.clone())),
                Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
                None => Ok(None),
                Some(other) => Err(bad(format!("{key}.NS.data is {}", kind(other)))),
            },
            Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
            Some(other) => Err(bad(format!("{key} is {}, not data", kind(other)))),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Dictionary(_) => "a dict",
        Value::Boolean(_) => "a boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "a date",
        Value::Real(_) => "a real",
        Value::Integer(_) => "an integer",
        Value::String(_) => "a string",
        Value::Uid(_) => "a UID",
        _ => "an unknown value",
    }
}

fn clamp_u32(v: Option<i128>) -> u32 {
    v.map(|x| x.clamp(0, u32::MAX as i128) as u32).unwrap_or(0)
}
fn clamp_u64(v: Option<i128>) -> u64 {
    v.map(|x| x.clamp(0, u64::MAX as i128) as u64).unwrap_or(0)
}
fn clamp_i64(v: Option<i128>) -> i64 {
    v.map(|x| x.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
        .unwrap_or(0)
}

/// Decodes an MBFile NSKeyedArchiver blob.
pub fn decode_mbfile(blob: &[u8]) -> Result<MbFile> {
    let value =
        crate::plistsafe::parse(blob).map_err(|e| bad(format!("not a property list ({e})")))?;
    let top = value
        .as_dictionary()
        .ok_or_else(|| bad("the top level is not a dict"))?;
    let objects = top
        .get("$objects")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no $objects array"))?;
    let arch = Archive { objects };
    let root_ref = top
        .get("$top")
        .and_then(Value::as_dictionary)
        .and_then(|t| t.get("root"))
        .ok_or_else(|| bad("no $top.root"))?;
    let root = match arch.resolve(root_ref)? {
        Value::Dictionary(d) => d,
        other => return Err(bad(format!("the root is {}, not a dict", kind(other)))),
    };
    Ok(MbFile {
        size: clamp_u64(arch.int(root, "Size")?),
        mode: clamp_u32(arch.int(root, "Mode")?),
        user_id: clamp_i64(arch.int(root, "UserID")?),
        group_id: clamp_i64(arch.int(root, "GroupID")?),
        last_modified: clamp_i64(arch.int(root, "LastModified")?),
        last_status_change: clamp_i64(arch.int(root, "LastStatusChange")?),
        birth: clamp_i64(arch.int(root, "Birth")?),
        inode: clamp_u64(arch.int(root, "InodeNumber")?),
        flags: clamp_u32(arch.int(root, "Flags")?),
        protection_class: clamp_u32(arch.int(root, "ProtectionClass")?),
        relative_path: arch.string(root, "RelativePath")?,
        encryption_key: arch.data(root, "EncryptionKey")?,
        digest: arch.data(root, "Digest")?,
        target: arch.string(root, "Target")?,
        extended_attributes: arch.data(root, "ExtendedAttributes")?,
    })
}

/// Encodes an MBFile the way iOS writes it (binary NSKeyedArchiver plist).
pub fn encode_mbfile(f: &MbFile) -> Vec<u8> {
    let mut objects: Vec<Value> = vec![Value::String("$null".into())];
    let mut root = Dictionary::new();
    // Slot 1 is the root; filled in at the end.
    objects.push(Value::Boolean(false));
    let push = |objects: &mut Vec<Value>, v: Value| -> Value {
        objects.push(v);
        Value::Uid(Uid::new((objects.len() - 1) as u64))
    };
    let int = |v: i128| {
        Value::Integer(if v < 0 {
            (v as i64).into()
        } else {
            (v as u64).into()
        })
    };
    root.insert("Size".into(), int(f.size as i128));
    root.insert("Mode".into(), int(f.mode as i128));
    root.insert("UserID".into(), int(f.user_id as i128));
    root.insert("GroupID".into(), int(f.group_id as i128));
    root.insert("LastModified".into(), int(f.last_modified as i128));
    root.insert("LastStatusChange".into(), int(f.last_status_change as i128));
    root.insert("Birth".into(), int(f.birth as i128));
    root.insert("InodeNumber".into(), int(f.inode as i128));
    root.insert("Flags".into(), int(f.flags as i128));
    root.insert("ProtectionClass".into(), int(f.protection_class as i128));
    let path = f.relative_path.clone().unwrap_or_default();
    let uid = push(&mut objects, Value::String(path));
    root.insert("RelativePath".into(), uid);
    if let Some(d) = &f.digest {
        let uid = push(&mut objects, Value::Data(d.clone()));
        root.insert("Digest".into(), uid);
    }
    let mut data_class: Option<Value> = None;
    let mut ns_data = |objects: &mut Vec<Value>, bytes: &[u8]| -> Value {
        let class = match &data_class {
            Some(c) => c.clone(),
            None => {
                let mut c = Dictionary::new();
                c.insert("$classname".into(), Value::String("NSMutableData".into()));
                c.insert(
                    "$classes".into(),
                    Value::Array(vec![
                        Value::String("NSMutableData".into()),
                        Value::String("NSData".into()),
                        Value::String("NSObject".into()),
                    ]),
                );
                objects.push(Value::Dictionary(c));
                let uid = Value::Uid(Uid::new((objects.len() - 1) as u64));
                data_class = Some(uid.clone());
                uid
            }
        };
        let mut d = Dictionary::new();
        d.insert("NS.data".into(), Value::Data(bytes.to_vec()));
        d.insert("$class".into(), class);
        objects.push(Value::Dictionary(d));
        Value::Uid(Uid::new((objects.len() - 1) as u64))
    };
    if let Some(k) = &f.encryption_key {
        let uid = ns_data(&mut objects, k);
        root.insert("EncryptionKey".into(), uid);
    }
    if let Some(x) = &f.extended_attributes {
        // iOS stores the embedded binary plist as plain data, not an NSData dict.
        let uid = push(&mut objects, Value::Data(x.clone()));
        root.insert("ExtendedAttributes".into(), uid);
    }
    if let Some(t) = &f.target {
        let uid = push(&mut objects, Value::String(t.clone()));
        root.insert("Target".into(), uid);
    }
    let mut class = Dictionary::new();
    class.insert("$classname".into(), Value::String("MBFile".into()));
    class.insert(
        "$classes".into(),
        Value::Array(vec![
            Value::String("MBFile".into()),
            Value::String("NSObject".into()),
        ]),
    );
    let uid = push(&mut objects, Value::Dictionary(class));
    root.insert("$class".into(), uid);
    objects[1] = Value::Dictionary(root);

    let mut top = Dictionary::new();
    top.insert("root".into(), Value::Uid(Uid::new(1)));
    let mut archive = Dictionary::new();
    archive.insert("$version".into(), Value::Integer(100_000u64.into()));
    archive.insert("$archiver".into(), Value::String("NSKeyedArchiver".into()));
    archive.insert("$top".into(), Value::Dictionary(top));
    archive.insert("$objects".into(), Value::Array(objects));
    let mut out = Vec::new();
    Value::Dictionary(archive)
        .to_writer_binary(&mut out)
        .expect("writing a plist to memory cannot fail");
    out
}

/// The index in `$objects` that a UID (or a chain of them) finally names.
fn resolve_index(objects: &[Value], v: &Value) -> Result<usize> {
    let mut v = v;
    let mut at = None;
    for _ in 0..MAX_DEPTH {
        match v {
            Value::Uid(u) => {
                let i = usize::try_from(u.get()).map_err(|_| bad("UID out of range"))?;
                v = objects
                    .get(i)
                    .ok_or_else(|| bad(format!("UID {i} points past $objects")))?;
                at = Some(i);
            }
            _ => return at.ok_or_else(|| bad("$top.root is not a UID")),
        }
    }
    Err(bad("UIDs nest too deep (a loop?)"))
}

/// Every UID inside `v` (dicts and arrays walked; depth bounded by `plistsafe`).
fn uids_in(v: &Value, out: &mut Vec<usize>) {
    match v {
        Value::Uid(u) => {
            if let Ok(i) = usize::try_from(u.get()) {
                out.push(i);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| uids_in(x, out)),
        Value::Dictionary(d) => d.values().for_each(|x| uids_in(x, out)),
        _ => {}
    }
}

/// Which `$objects` are reachable from `$top` through UIDs (index 0, `$null`, always is).
fn reachable(top: &Value, objects: &[Value]) -> Vec<bool> {
    let mut seen = vec![false; objects.len()];
    if let Some(s) = seen.first_mut() {
        *s = true;
    }
    let mut todo = Vec::new();
    uids_in(top, &mut todo);
    while let Some(i) = todo.pop() {
        match seen.get_mut(i) {
            Some(s) if !*s => {
                *s = true;
                uids_in(&objects[i], &mut todo);
            }
            _ => {}
        }
    }
    seen
}

/// Renumbers every UID inside `v` through `map` (UIDs to dropped or missing objects become
/// `$null`, index 0).
fn remap_uids(v: &mut Value, map: &[Option<u64>]) {
    match v {
        Value::Uid(u) => {
            let new = usize::try_from(u.get())
                .ok()
                .and_then(|i| map.get(i).copied().flatten())
                .unwrap_or(0);
            *u = Uid::new(new);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| remap_uids(x, map)),
        Value::Dictionary(d) => d.values_mut().for_each(|x| remap_uids(x, map)),
        _ => {}
    }
}

/// The MBFile record without its `EncryptionKey`, every other field exactly as it was: the
/// archive's root dict is edited in place (key order kept), the objects only the key used
/// (its NSData dict, and a class entry nothing else names) are dropped and the UIDs
/// renumbered. A record without `EncryptionKey` comes back byte for byte.
pub fn without_encryption_key(blob: &[u8]) -> Result<Vec<u8>> {
    let mut value =
        crate::plistsafe::parse(blob).map_err(|e| bad(format!("not a property list ({e})")))?;
    let archive = value
        .as_dictionary_mut()
        .ok_or_else(|| bad("the top level is not a dict"))?;
    let top = archive.get("$top").cloned().ok_or_else(|| bad("no $top"))?;
    let root_ref = top
        .as_dictionary()
        .and_then(|t| t.get("root"))
        .ok_or_else(|| bad("no $top.root"))?;
    let Some(Value::Array(objects)) = archive.get_mut("$objects") else {
        return Err(bad("no $objects array"));
    };
    let root_at = resolve_index(objects, root_ref)?;
    let Value::Dictionary(root) = &objects[root_at] else {
        return Err(bad("the root is not a dict"));
    };
    if !root.contains_key("EncryptionKey") {
        return Ok(blob.to_vec());
    }
    let before = reachable(&top, objects);
    // Rebuilt rather than `remove`d: `Dictionary::remove` swaps the last key into its place.
    let kept: Dictionary = root
        .iter()
        .filter(|(k, _)| k.as_str() != "EncryptionKey")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    objects[root_at] = Value::Dictionary(kept);
    let after = reachable(&top, objects);
    // Drop what only the key reached; keep anything that was already unreachable.
    let keep: Vec<bool> = before.iter().zip(&after).map(|(&b, &a)| a || !b).collect();
    let mut map = Vec::with_capacity(objects.len());
    let mut next = 0u64;
    for &k in &keep {
        map.push(k.then(|| {
            next += 1;
            next - 1
        }));
    }
    let old = std::mem::take(objects);
    *objects = old
        .into_iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(mut v, _)| {
            remap_uids(&mut v, &map);
            v
        })
        .collect();
    if let Some(t) = archive.get_mut("$top") {
        remap_uids(t, &map);
    }
    let mut out = Vec::new();
    value
        .to_writer_binary(&mut out)
        .map_err(|e| bad(format!("cannot be written back ({e})")))?;
    Ok(out)
}

/// Extended attributes as MBFile's `ExtendedAttributes` holds them: a binary plist dict of
/// name to data, in the order given (Manifest.mbdb keeps them as record properties instead).
pub fn xattr_plist(pairs: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<u8> {
    let d: Dictionary = pairs
        .into_iter()
        .map(|(n, v)| (n, Value::Data(v)))
        .collect();
    let mut out = Vec::new();
    Value::Dictionary(d)
        .to_writer_binary(&mut out)
        .expect("writing a plist to memory cannot fail");
    out
}

/// The (name, value) pairs of an `ExtendedAttributes` plist; None when it is not a dict.
/// String values (some writers use them) come back as their UTF-8 bytes.
pub fn xattr_pairs(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let v = crate::plistsafe::parse(bytes).ok()?;
    let d = v.as_dictionary()?;
    d.iter()
        .map(|(k, v)| match v {
            Value::Data(b) => Some((k.clone(), b.clone())),
            Value::String(s) => Some((k.clone(), s.as_bytes().to_vec())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MbFile {
        MbFile {
            size: 278_528,
            mode: 0o100644,
            user_id: 501,
            group_id: 501,
            last_modified: 1_638_501_497,
            last_status_change: 1_638_559_914,
            birth: 1_566_918_489,
            inode: 45_856,
            flags: 0,
            protection_class: 4,
            relative_path: Some("Library/SMS/sms.db".into()),
            encryption_key: Some(vec![4, 0, 0, 0].into_iter().chain([7u8; 40]).collect()),
            digest: Some(vec![9; 20]),
            target: None,
            extended_attributes: Some(vec![1, 2, 3]),
        }
    }

    #[test]
    fn round_trip() {
        let f = sample();
        assert_eq!(decode_mbfile(&encode_mbfile(&f)).unwrap(), f);
        let mut l = MbFile {
            target: Some("/var/mobile/x".into()),
            mode: 0o120755,
            ..Default::default()
        };
        l.relative_path = Some("a/b".into());
        assert_eq!(decode_mbfile(&encode_mbfile(&l)).unwrap(), l);
        assert_eq!(f.key_class(), 4);
    }

    #[test]
    fn without_encryption_key_drops_only_what_the_key_used() {
        // $objects: $null, root, path, key dict, NSMutableData class (shared with Digest),
        // digest dict, MBFile class, an orphan already unreferenced.
        let uid = |i: u64| Value::Uid(Uid::new(i));
        let ns = |bytes: &[u8]| {
            let mut d = Dictionary::new();
            d.insert("NS.data".into(), Value::Data(bytes.to_vec()));
            d.insert("$class".into(), uid(4));
            Value::Dictionary(d)
        };
        let mut class = Dictionary::new();
        class.insert("$classname".into(), "NSMutableData".into());
        let mut mb = Dictionary::new();
        mb.insert("$classname".into(), "MBFile".into());
        let mut root = Dictionary::new();
        root.insert("UserID".into(), Value::Integer((-2i64).into()));
        root.insert("EncryptionKey".into(), uid(3));
        root.insert("RelativePath".into(), uid(2));
        root.insert("Digest".into(), uid(5));
        root.insert("Extra".into(), Value::Real(1.5));
        root.insert("$class".into(), uid(6));
        let objects = vec![
            Value::String("$null".into()),
            Value::Dictionary(root),
            Value::String("a/b".into()),
            ns(&[4, 0, 0, 0, 0xEE, 0xEE, 0xEE, 0xEE]),
            Value::Dictionary(class),
            ns(&[9; 20]),
            Value::Dictionary(mb),
            Value::String("orphan".into()),
        ];
        let mut top = Dictionary::new();
        top.insert("root".into(), uid(1));
        let mut a = Dictionary::new();
        a.insert("$top".into(), Value::Dictionary(top));
        a.insert("$objects".into(), Value::Array(objects));
        let mut blob = Vec::new();
        Value::Dictionary(a).to_writer_binary(&mut blob).unwrap();

        let out = without_encryption_key(&blob).unwrap();
        let before = decode_mbfile(&blob).unwrap();
        let after = decode_mbfile(&out).unwrap();
        assert_eq!(before.user_id, -2);
        assert_eq!(
            after,
            MbFile {
                encryption_key: None,
                ..before
            }
        );
        let v = Value::from_reader(std::io::Cursor::new(&out)).unwrap();
        let objs = v.as_dictionary().unwrap()["$objects"].as_array().unwrap();
        assert_eq!(objs.len(), 7, "only the key's dict is dropped: {objs:?}");
        assert!(!out.windows(4).any(|w| w == [0xEE; 4]));
        let root = objs[1].as_dictionary().unwrap();
        let keys: Vec<&str> = root.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["UserID", "RelativePath", "Digest", "Extra", "$class"]
        );
        assert_eq!(root["Extra"], Value::Real(1.5));
        assert_eq!(objs[6], Value::String("orphan".into()));
        // No key: the same bytes.
        assert_eq!(without_encryption_key(&out).unwrap(), out);
        assert!(without_encryption_key(b"not a plist").is_err());
    }

    #[test]
    fn uid_loops_are_errors() {
        let mut root = Dictionary::new();
        root.insert("Size".into(), Value::Uid(Uid::new(2)));
        let objects = vec![
            Value::String("$null".into()),
            Value::Dictionary(root),
            Value::Uid(Uid::new(2)),
        ];
        let mut top = Dictionary::new();
        top.insert("root".into(), Value::Uid(Uid::new(1)));
        let mut a = Dictionary::new();
        a.insert("$top".into(), Value::Dictionary(top));
        a.insert("$objects".into(), Value::Array(objects));
        let mut out = Vec::new();
        Value::Dictionary(a).to_writer_binary(&mut out).unwrap();
        assert!(decode_mbfile(&out).is_err());
    }

    proptest::proptest! {
        #[test]
        fn garbled_blobs_never_panic(flips in proptest::collection::vec((0usize..2000, 0u8..), 0..8), cut in 0usize..2000) {
            let mut b = encode_mbfile(&sample());
            for (i, x) in flips {
                let n = b.len();
                b[i % n] ^= x;
            }
            b.truncate(cut.min(b.len()));
            let _ = decode_mbfile(&b);
            let _ = without_encryption_key(&b);
        }
        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(0u8.., 0..300)) {
            let mut x = b"bplist00".to_vec();
            x.extend(b);
            let _ = decode_mbfile(&x);
            let _ = without_encryption_key(&x);
        }
    }
}
