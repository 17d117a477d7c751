//! Manifest.mbdb (and iOS 4's Manifest.mbdx): the file list of backups from iOS 4 to 9.
//!
//! `mbdb` and two version bytes (`05 00`), then records to the end of the file. Integers are
//! big-endian; a string is a u16 length and that many bytes, where the length 0xFFFF stands for
//! "no value". A record: domain, relativePath, link target, data hash, encryption key (4-byte
//! LE class + wrapped file key), mode u16, inode u64, uid u32, gid u32, three times u32, size
//! u64, protection class u8, property count u8, then that many (name, value) string pairs.
//!
//! The parser keeps every byte: a [`Record`] written back gives the bytes it was read from,
//! which is how a decrypted copy keeps every field but the encryption key exactly. The file is
//! hostile input: every length is checked against what is left before anything is allocated
//! (so a claimed length can never allocate more than the file holds), and damage stops the
//! parse at the record that has it, keeping the records before it.

use crate::error::{BackupError, Result};
use crate::manifest::{EntryKind, ManifestEntry};
use crate::mbfile::MbFile;
use sha1::{Digest, Sha1};

/// The first four bytes of every Manifest.mbdb.
pub const MAGIC: &[u8; 4] = b"mbdb";
/// The version bytes iOS 4 to 9 write after the magic.
pub const VERSION: [u8; 2] = [5, 0];
/// Magic and version.
pub const HEADER_LEN: usize = 6;
/// The string length that means "no value".
const NONE_LEN: u16 = 0xFFFF;
/// The file's name in the backup folder.
pub const MBDB_NAME: &str = "Manifest.mbdb";
/// iOS 4's index beside it.
pub const MBDX_NAME: &str = "Manifest.mbdx";
/// Bigger than any real Manifest.mbdb (300,000 files make about 60 MB); reading a bigger
/// file into memory would only serve someone trying to exhaust it.
pub const MAX_FILE_LEN: u64 = 256 << 20;

/// One string field as stored: None when written as length 0xFFFF, else the bytes as found
/// (UTF-8 in practice, in Unicode normalization form D; not promised, so kept as bytes).
pub type Field = Option<Vec<u8>>;

/// One Manifest.mbdb record, every field as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub domain: Field,
    pub path: Field,
    /// Symlink target.
    pub target: Field,
    /// SHA-1 of the contents (some files only).
    pub digest: Field,
    /// 4-byte little-endian protection class + wrapped file key; None when unencrypted.
    pub encryption_key: Field,
    pub mode: u16,
    pub inode: u64,
    pub user_id: u32,
    pub group_id: u32,
    /// The three times in the order stored (other readers call them mtime, atime, ctime;
    /// they carry what MBFile later calls LastModified, LastStatusChange and Birth).
    pub last_modified: u32,
    pub last_status_change: u32,
    pub birth: u32,
    pub size: u64,
    pub protection_class: u8,
    /// (name, value) pairs; values may be binary.
    pub properties: Vec<(Field, Field)>,
}

/// Where a damaged file stopped being read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset of the record that could not be read (everything from here on is unread).
    pub offset: usize,
    pub reason: String,
}

/// A parsed Manifest.mbdb.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mbdb {
    /// The two bytes after the magic (`05 00` in every known backup).
    pub version: [u8; 2],
    pub records: Vec<Record>,
    /// Byte offset of each record in the file (what Manifest.mbdx points at, plus 6).
    pub offsets: Vec<usize>,
    /// Set when a record is truncated or damaged: the records before it are kept.
    pub damage: Option<Damage>,
}

/// hex SHA-1 of `domain-relativePath`, over the bytes as stored: a file's ID and blob name.
pub fn file_id_of(domain: &[u8], path: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(domain);
    h.update(b"-");
    h.update(path);
    hex::encode(h.finalize())
}

/// An error about Manifest.mbdb (callers that know the folder put the whole path in).
fn bad(what: impl Into<String>) -> BackupError {
    BackupError::malformed(MBDB_NAME, what)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize, what: &str) -> std::result::Result<&'a [u8], String> {
        if n > self.left() {
            return Err(format!(
                "{what} needs {n} bytes, only {} are left (truncated?)",
                self.left()
            ));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> std::result::Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn field(&mut self, what: &str) -> std::result::Result<Field, String> {
        let n = u16::from_be_bytes(self.array(what)?);
        if n == NONE_LEN {
            return Ok(None);
        }
        // Checked against what is left before the copy: a claimed length never allocates
        // more than the file holds.
        Ok(Some(self.take(n.into(), what)?.to_vec()))
    }

    fn record(&mut self) -> std::result::Result<Record, String> {
        let domain = self.field("the domain")?;
        let path = self.field("the path")?;
        let target = self.field("the link target")?;
        let digest = self.field("the data hash")?;
        let encryption_key = self.field("the encryption key")?;
        let mode = u16::from_be_bytes(self.array("the mode")?);
        let inode = u64::from_be_bytes(self.array("the inode")?);
        let user_id = u32::from_be_bytes(self.array("the user id")?);
        let group_id = u32::from_be_bytes(self.array("the group id")?);
        let last_modified = u32::from_be_bytes(self.array("the times")?);
        let last_status_change = u32::from_be_bytes(self.array("the times")?);
        let birth = u32::from_be_bytes(self.array("the times")?);
        let size = u64::from_be_bytes(self.array("the size")?);
        let [protection_class] = self.array("the protection class")?;
        let [count] = self.array("the property count")?;
        let mut properties = Vec::with_capacity(count.into());
        for i in 0..count {
            let name = self.field(&format!("property {} of {count}", i + 1))?;
            let value = self.field(&format!("property {} of {count}", i + 1))?;
            properties.push((name, value));
        }
        Ok(Record {
            domain,
            path,
            target,
            digest,
            encryption_key,
            mode,
            inode,
            user_id,
            group_id,
            last_modified,
            last_status_change,
            birth,
            size,
            protection_class,
            properties,
        })
    }
}

/// Parses Manifest.mbdb bytes. Err only when this is no Manifest.mbdb at all (no `mbdb`
/// header); a damaged record stops the parse with [`Mbdb::damage`] set and the records before
/// it kept. Never panics.
pub fn parse(bytes: &[u8]) -> Result<Mbdb> {
    if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
        return Err(bad(
            "not a Manifest.mbdb file list (it does not start with \"mbdb\")",
        ));
    }
    let mut c = Cursor {
        bytes,
        at: HEADER_LEN,
    };
    let mut m = Mbdb {
        version: [bytes[4], bytes[5]],
        ..Default::default()
    };
    while c.left() > 0 {
        let start = c.at;
        match c.record() {
            Ok(r) => {
                m.records.push(r);
                m.offsets.push(start);
            }
            Err(reason) => {
                m.damage = Some(Damage {
                    offset: start,
                    reason: format!(
                        "record {} (at byte {start}) cannot be read: {reason}",
                        m.records.len() + 1
                    ),
                });
                break;
            }
        }
    }
    Ok(m)
}

fn put_field(out: &mut Vec<u8>, f: &Field, what: &str) -> Result<()> {
    match f {
        None => out.extend_from_slice(&NONE_LEN.to_be_bytes()),
        Some(b) => {
            // 0xFFFF itself means "no value": the longest string is 0xFFFE bytes.
            let n = u16::try_from(b.len())
                .ok()
                .filter(|&n| n != NONE_LEN)
                .ok_or_else(|| {
                    bad(format!(
                        "{what} is {} bytes, more than a record can hold (65,534)",
                        b.len()
                    ))
                })?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(b);
        }
    }
    Ok(())
}

impl Record {
    /// The record's bytes, as `parse` reads them.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<()> {
        put_field(out, &self.domain, "a domain")?;
        put_field(out, &self.path, "a path")?;
        put_field(out, &self.target, "a link target")?;
        put_field(out, &self.digest, "a data hash")?;
        put_field(out, &self.encryption_key, "an encryption key")?;
        out.extend_from_slice(&self.mode.to_be_bytes());
        out.extend_from_slice(&self.inode.to_be_bytes());
        out.extend_from_slice(&self.user_id.to_be_bytes());
        out.extend_from_slice(&self.group_id.to_be_bytes());
        out.extend_from_slice(&self.last_modified.to_be_bytes());
        out.extend_from_slice(&self.last_status_change.to_be_bytes());
        out.extend_from_slice(&self.birth.to_be_bytes());
        out.extend_from_slice(&self.size.to_be_bytes());
        out.push(self.protection_class);
        let count = u8::try_from(self.properties.len()).map_err(|_| {
            bad(format!(
                "{} properties, more than a record can hold (255)",
                self.properties.len()
            ))
        })?;
        out.push(count);
        for (name, value) in &self.properties {
            put_field(out, name, "a property name")?;
            put_field(out, value, "a property value")?;
        }
        Ok(())
    }

    /// The fileID (and blob name) of this record.
    pub fn file_id(&self) -> String {
        file_id_of(
            self.domain.as_deref().unwrap_or_default(),
            self.path.as_deref().unwrap_or_default(),
        )
    }

    /// The record as the entry type the rest of the code uses. Names that are not UTF-8
    /// are shown lossily; the fileID is computed from the bytes as stored, so the blob is
    /// still found. Empty target, hash and key fields count as absent.
    pub fn to_entry(&self) -> ManifestEntry {
        let text =
            |f: &Field| String::from_utf8_lossy(f.as_deref().unwrap_or_default()).into_owned();
        let nonempty = |f: &Field| f.clone().filter(|b| !b.is_empty());
        let relative_path = text(&self.path);
        let extended_attributes = (!self.properties.is_empty()).then(|| {
            crate::mbfile::xattr_plist(
                self.properties
                    .iter()
                    .map(|(n, v)| (text(n), v.clone().unwrap_or_default())),
            )
        });
        let meta = MbFile {
            size: self.size,
            mode: self.mode.into(),
            // Stored unsigned; read as signed so that nobody (-2) reads as MBFile has it.
            user_id: (self.user_id as i32).into(),
            group_id: (self.group_id as i32).into(),
            last_modified: self.last_modified.into(),
            last_status_change: self.last_status_change.into(),
            birth: self.birth.into(),
            inode: self.inode,
            flags: 0,
            protection_class: self.protection_class.into(),
            relative_path: Some(relative_path.clone()),
            encryption_key: nonempty(&self.encryption_key),
            digest: nonempty(&self.digest),
            target: nonempty(&self.target).map(|t| String::from_utf8_lossy(&t).into_owned()),
            extended_attributes,
        };
        ManifestEntry {
            file_id: self.file_id(),
            domain: text(&self.domain),
            relative_path,
            // No flags column here: the mode says what the entry is.
            kind: EntryKind::from_mode(meta.mode).unwrap_or(EntryKind::Other(0)),
            meta: Some(meta),
        }
    }

    /// A record for an entry (the builder's side): fields MBFile has are carried over,
    /// numbers cut to the widths the format has, extended attributes become properties.
    pub fn from_entry(e: &ManifestEntry) -> Record {
        let m = e.meta.clone().unwrap_or_default();
        let time = |t: i64| t.clamp(0, u32::MAX.into()) as u32;
        let properties = m
            .extended_attributes
            .as_deref()
            .and_then(crate::mbfile::xattr_pairs)
            .unwrap_or_default()
            .into_iter()
            .map(|(n, v)| (Some(n.into_bytes()), Some(v)))
            .collect();
        Record {
            domain: Some(e.domain.clone().into_bytes()),
            path: Some(e.relative_path.clone().into_bytes()),
            target: m.target.map(String::into_bytes),
            digest: m.digest,
            encryption_key: m.encryption_key,
            mode: m.mode as u16,
            inode: m.inode,
            // -2 (nobody) is stored as 0xFFFFFFFE, as iOS stores it.
            user_id: m.user_id as u32,
            group_id: m.group_id as u32,
            last_modified: time(m.last_modified),
            last_status_change: time(m.last_status_change),
            birth: time(m.birth),
            size: m.size,
            protection_class: m.protection_class.min(255) as u8,
            properties,
        }
    }
}

impl Mbdb {
    /// The file's bytes, and the offset of each record in them. A damaged file's unread
    /// rest is not included (see `Damage::offset` to keep it).
    pub fn to_bytes(&self) -> Result<(Vec<u8>, Vec<usize>)> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.records.len() * 128);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version);
        let mut offsets = Vec::with_capacity(self.records.len());
        for r in &self.records {
            offsets.push(out.len());
            r.write_to(&mut out)?;
        }
        Ok((out, offsets))
    }

    /// What is odd about the file, in words (a version other than 5.0, damage).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.version != VERSION {
            w.push(format!(
                "Manifest.mbdb has version {}.{}, not 5.0: read as 5.0",
                self.version[0], self.version[1]
            ));
        }
        if let Some(d) = &self.damage {
            w.push(format!(
                "Manifest.mbdb is damaged: {}; the {} records before it were read, nothing after",
                d.reason,
                self.records.len()
            ));
        }
        w
    }
}

/// Writes a Manifest.mbdb of these records (version 5.0).
pub fn write(records: &[Record]) -> Result<Vec<u8>> {
    let m = Mbdb {
        version: VERSION,
        records: records.to_vec(),
        ..Default::default()
    };
    Ok(m.to_bytes()?.0)
}

// ---------------------------------------------------------------------------------------------
// Manifest.mbdx (iOS 4): `mbdx`, `02 00`, a u32 record count, then 26-byte records: the fileID
// as 20 raw bytes, the u32 offset of its record in Manifest.mbdb counted from the end of the
// 6-byte header, and the u16 mode. An index only: everything in it is also in Manifest.mbdb.

/// The first four bytes of Manifest.mbdx.
pub const MBDX_MAGIC: &[u8; 4] = b"mbdx";
const MBDX_HEADER_LEN: usize = 10;
const MBDX_RECORD_LEN: usize = 26;

/// One Manifest.mbdx entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub file_id: [u8; 20],
    /// Offset of the record in Manifest.mbdb, counted from the end of its 6-byte header.
    pub offset: u32,
    pub mode: u16,
}

/// A parsed Manifest.mbdx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mbdx {
    pub version: [u8; 2],
    /// The count the header claims (it can disagree with the entries there are).
    pub count: u32,
    pub entries: Vec<IndexEntry>,
    /// Bytes after the last whole entry (none in a sound file).
    pub trailing: Vec<u8>,
}

/// Parses Manifest.mbdx bytes; Err when it has no `mbdx` header. Never panics; the number
/// of entries comes from the file's length, never from the claimed count.
pub fn parse_mbdx(bytes: &[u8]) -> Result<Mbdx> {
    if bytes.len() < MBDX_HEADER_LEN || &bytes[..4] != MBDX_MAGIC {
        return Err(BackupError::malformed(
            MBDX_NAME,
            "not a Manifest.mbdx index (it does not start with \"mbdx\")",
        ));
    }
    let body = &bytes[MBDX_HEADER_LEN..];
    let mut chunks = body.chunks_exact(MBDX_RECORD_LEN);
    let entries = chunks
        .by_ref()
        .map(|r| {
            let mut file_id = [0u8; 20];
            file_id.copy_from_slice(&r[..20]);
            IndexEntry {
                file_id,
                offset: u32::from_be_bytes([r[20], r[21], r[22], r[23]]),
                mode: u16::from_be_bytes([r[24], r[25]]),
            }
        })
        .collect();
    Ok(Mbdx {
        version: [bytes[4], bytes[5]],
        count: u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]),
        entries,
        trailing: chunks.remainder().to_vec(),
    })
}

impl Mbdx {
    /// An index of these records at these offsets (of the records in a Manifest.mbdb).
    pub fn for_records(records: &[Record], offsets: &[usize]) -> Result<Mbdx> {
        let mut entries = Vec::with_capacity(records.len());
        for (r, &at) in records.iter().zip(offsets) {
            let mut file_id = [0u8; 20];
            // file_id() is 40 hex digits by construction.
            hex::decode_to_slice(r.file_id(), &mut file_id)
                .map_err(|e| BackupError::malformed(MBDX_NAME, e.to_string()))?;
            entries.push(IndexEntry {
                file_id,
                offset: index_offset(at)?,
                mode: r.mode,
            });
        }
        Ok(Mbdx {
            version: [2, 0],
            count: entries.len() as u32,
            entries,
            trailing: Vec::new(),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MBDX_HEADER_LEN + self.entries.len() * MBDX_RECORD_LEN);
        out.extend_from_slice(MBDX_MAGIC);
        out.extend_from_slice(&self.version);
        out.extend_from_slice(&self.count.to_be_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.file_id);
            out.extend_from_slice(&e.offset.to_be_bytes());
            out.extend_from_slice(&e.mode.to_be_bytes());
        }
        out.extend_from_slice(&self.trailing);
        out
    }

    /// The same index for a rewritten Manifest.mbdb whose record `i` moved from `old[i]` to
    /// `new[i]`. Entries that point at no record start are kept as they are; the second value
    /// counts them.
    pub fn remapped(&self, old: &[usize], new: &[usize]) -> (Mbdx, usize) {
        let map: std::collections::HashMap<usize, usize> =
            old.iter().copied().zip(new.iter().copied()).collect();
        let mut unmatched = 0;
        let mut out = self.clone();
        for e in &mut out.entries {
            let at = (e.offset as usize).checked_add(HEADER_LEN);
            match at
                .and_then(|a| map.get(&a))
                .and_then(|&n| index_offset(n).ok())
            {
                Some(n) => e.offset = n,
                None => unmatched += 1,
            }
        }
        (out, unmatched)
    }
}

/// A record's file offset as Manifest.mbdx counts it.
fn index_offset(at: usize) -> Result<u32> {
    at.checked_sub(HEADER_LEN)
        .and_then(|o| u32::try_from(o).ok())
        .ok_or_else(|| BackupError::malformed(MBDX_NAME, "Manifest.mbdb is too big to be indexed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            domain: Some(b"HomeDomain".to_vec()),
            path: Some(b"Library/SMS/sms.db".to_vec()),
            target: None,
            digest: Some(vec![7; 20]),
            encryption_key: Some(vec![4, 0, 0, 0, 9, 9]),
            mode: 0o100644,
            inode: 12345,
            user_id: 501,
            group_id: 0xFFFF_FFFE,
            last_modified: 1,
            last_status_change: 2,
            birth: 3,
            size: 99,
            protection_class: 4,
            properties: vec![(Some(b"n".to_vec()), None), (None, Some(vec![0xFF]))],
        }
    }

    #[test]
    fn a_record_reads_back_byte_for_byte() {
        let bytes = write(&[sample(), Record::default()]).unwrap();
        let m = parse(&bytes).unwrap();
        assert_eq!(m.damage, None);
        assert_eq!(m.records, vec![sample(), Record::default()]);
        assert_eq!(m.offsets[0], HEADER_LEN);
        assert_eq!(m.to_bytes().unwrap().0, bytes);
    }

    #[test]
    fn entries_carry_signed_ids_and_kinds() {
        let e = sample().to_entry();
        assert_eq!(e.kind, EntryKind::File);
        let m = e.meta.as_ref().unwrap();
        assert_eq!(m.group_id, -2);
        assert_eq!(m.key_class(), 4);
        assert_eq!(
            e.file_id,
            crate::builder::file_id("HomeDomain", "Library/SMS/sms.db")
        );
        let back = Record::from_entry(&e);
        assert_eq!(back.group_id, 0xFFFF_FFFE);
        assert_eq!(back.mode, 0o100644);
    }

    #[test]
    fn too_long_fields_are_refused_by_the_writer() {
        let mut r = sample();
        r.path = Some(vec![b'a'; 0xFFFF]);
        assert!(write(&[r.clone()]).is_err());
        r.path = Some(vec![b'a'; 0xFFFE]);
        assert!(write(&[r]).is_ok());
        let mut r = sample();
        r.properties = vec![(None, None); 256];
        assert!(write(&[r]).is_err());
    }

    #[test]
    fn mbdx_round_trip_and_remap() {
        let recs = [sample(), Record::default()];
        let (bytes, offsets) = Mbdb {
            version: VERSION,
            records: recs.to_vec(),
            ..Default::default()
        }
        .to_bytes()
        .unwrap();
        assert!(parse(&bytes).unwrap().damage.is_none());
        let x = Mbdx::for_records(&recs, &offsets).unwrap();
        let xb = x.to_bytes();
        assert_eq!(parse_mbdx(&xb).unwrap(), x);
        assert_eq!(x.entries[0].offset, 0);
        let moved: Vec<usize> = offsets.iter().map(|o| o + 10).collect();
        let (y, unmatched) = x.remapped(&offsets, &moved);
        assert_eq!(unmatched, 0);
        assert_eq!(y.entries[1].offset, x.entries[1].offset + 10);
        assert!(parse_mbdx(b"mbdx").is_err());
        let odd = parse_mbdx(b"mbdx\x02\x00\xff\xff\xff\xffabc").unwrap();
        assert!(odd.entries.is_empty());
        assert_eq!(odd.to_bytes(), b"mbdx\x02\x00\xff\xff\xff\xffabc");
    }
}
