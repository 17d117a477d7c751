//! File contents: `<root>/<first two hex>/<fileID>` (`<root>/<fileID>` before iOS 10),
//! AES-256-CBC with a zero IV and PKCS#7 padding under a per-file key (encrypted backups), or
//! plain (unencrypted ones, and copies that mvt or iOSbackup decrypted in place but left marked
//! encrypted: told by content, see `copy_file_with` and [`looks_plain`]).
//!
//! Decryption streams in chunks, so memory stays flat in the size of the file; a chunk can be
//! decrypted on several threads at once, since CBC block i needs only ciphertext block i-1.

use crate::backup::{Backup, UnlockedKeys};
use crate::error::{BackupError, Result};
use crate::manifest::{pkcs7_len, EntryKind, ManifestEntry};
use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

/// Bytes read, decrypted and written at a time.
pub const CHUNK: usize = 4 << 20;
/// Below this, a chunk is decrypted on one thread.
const PARALLEL_MIN: usize = 1 << 20;
/// How much of a blob is looked at to tell plain from encrypted (a multiple of 16).
const HEAD: usize = 256;

/// What copying one file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Bytes written to the output.
    pub bytes_written: u64,
    /// Bytes of the blob on disk.
    pub blob_len: u64,
    /// Set when the contents disagree with the recorded Size (the bytes are kept).
    pub warning: Option<String>,
}

/// Is this a fileID that names a blob (ASCII letters and digits only, 2..=128 of them)?
/// fileIDs come from the backup and are untrusted: anything else could name another path.
pub fn is_valid_file_id(id: &str) -> bool {
    (2..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// AES-256-CBC decryption in place (`data.len()` a multiple of 16), no padding removed.
pub fn cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    debug_assert!(data.len() & 15 == 0);
    let n = data.len() - data.len() % 16;
    let _ =
        Aes256CbcDec::new(key.into(), iv.into()).decrypt_padded_mut::<NoPadding>(&mut data[..n]);
}

/// AES-256-CBC decryption in place on up to `threads` threads.
pub fn cbc_decrypt_parallel(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8], threads: usize) {
    let blocks = data.len() / 16;
    if threads <= 1 || data.len() < PARALLEL_MIN {
        return cbc_decrypt(key, iv, data);
    }
    let per = blocks.div_ceil(threads).max(1) * 16;
    let mut ivs = vec![*iv];
    let mut at = per;
    while at < data.len() {
        ivs.push(data[at - 16..at].try_into().expect("16 bytes"));
        at += per;
    }
    std::thread::scope(|s| {
        for (part, iv) in data.chunks_mut(per).zip(ivs) {
            s.spawn(move || cbc_decrypt(key, &iv, part));
        }
    });
}

/// AES-256-CBC encryption with a zero IV and PKCS#7 padding (the builder's side).
pub fn cbc_encrypt_pkcs7(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
    let mut buf = data.to_vec();
    pkcs7_pad(&mut buf);
    cbc_encrypt_in_place(key, &[0u8; 16], &mut buf);
    buf
}

/// Appends PKCS#7 padding (1..=16 bytes).
pub fn pkcs7_pad(buf: &mut Vec<u8>) {
    let pad = 16 - buf.len() % 16;
    buf.resize(buf.len() + pad, pad as u8);
}

/// AES-256-CBC encryption in place, no padding (`data.len()` a multiple of 16).
pub fn cbc_encrypt_in_place(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let n = data.len() - data.len() % 16;
    let _ =
        Aes256CbcEnc::new(key.into(), iv.into()).encrypt_padded_mut::<NoPadding>(&mut data[..n], n);
}

/// How many threads to decrypt one chunk on by default.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Does this start of a file read as plain contents rather than ciphertext? A known file
/// signature, or (from 32 bytes on) at least 3/4 of the bytes text or NUL: ciphertext is
/// uniformly random, and 24 such bytes in 32 happen by chance about once in a million.
pub fn looks_plain(head: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"SQLite format 3\0",
        b"bplist0",
        b"<?xml",
        b"\xFF\xD8\xFF",
        b"\x89PNG\r\n\x1a\n",
        b"GIF87a",
        b"GIF89a",
        b"PK\x03\x04",
        b"%PDF-",
    ];
    if MAGIC.iter().any(|m| head.starts_with(m)) {
        return true;
    }
    // ISO media (HEIC, MOV, MP4, M4A): a box size, then "ftyp".
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return true;
    }
    if head.len() < 32 {
        return false;
    }
    let texty = head
        .iter()
        .filter(|&&b| matches!(b, 0 | b'\t' | b'\n' | b'\r' | 0x20..=0x7e))
        .count();
    texty * 4 >= head.len() * 3
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl Backup {
    /// Where a file's contents live: `<root>/<first 2 chars>/<fileID>`, or `<root>/<fileID>`
    /// in backups from iOS 4 to 9 (Manifest.mbdb), whose blobs lie flat.
    pub fn blob_path(&self, file_id: &str) -> PathBuf {
        self.root.join(self.blob_rel(file_id))
    }

    /// `blob_path` relative to the backup folder: where a copy of the same era puts the blob.
    pub fn blob_rel(&self, file_id: &str) -> PathBuf {
        match self.era {
            crate::manifest::Era::Mbdb => PathBuf::from(file_id),
            crate::manifest::Era::ManifestDb => {
                let prefix = file_id.get(..2).unwrap_or(file_id);
                PathBuf::from(prefix).join(file_id)
            }
        }
    }

    /// Opens a blob without following a link planted in the backup: a blob, or the two-letter
    /// folder it lies in, that is a link would let a crafted backup copy any file of this
    /// computer into the output. A link is refused as `PermissionDenied`, with a reason.
    fn open_blob(&self, path: &Path) -> std::io::Result<std::fs::File> {
        let refuse = |what: &str| {
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{what} is a link, which a backup never holds: not followed"),
            )
        };
        if let Some(dir) = path.parent().filter(|d| *d != self.root) {
            if std::fs::symlink_metadata(dir)?.file_type().is_symlink() {
                return Err(refuse("the folder of this file's blob"));
            }
        }
        let before = std::fs::symlink_metadata(path)?;
        if before.file_type().is_symlink() {
            return Err(refuse("this file's blob"));
        }
        let f = std::fs::File::open(path)?;
        // The same file as the one checked, not one swapped in between.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let after = f.metadata()?;
            if (after.dev(), after.ino()) != (before.dev(), before.ino()) {
                return Err(refuse("this file's blob (replaced while it was opened)"));
            }
        }
        Ok(f)
    }

    /// Writes a file's plain contents to `out` (decrypting when the backup is encrypted).
    pub fn copy_file(
        &self,
        entry: &ManifestEntry,
        keys: Option<&UnlockedKeys>,
        out: &mut dyn Write,
    ) -> Result<CopyReport> {
        self.copy_file_with(entry, keys, out, 1, &mut |_| {})
    }

    /// A small file's plain contents in memory (keychain, sms.db).
    pub fn read_file(&self, entry: &ManifestEntry, keys: Option<&UnlockedKeys>) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.copy_file(entry, keys, &mut v)?;
        Ok(v)
    }

    /// `copy_file` with `threads` threads per chunk and `progress(bytes)` after each chunk
    /// (bytes of the blob consumed since the last call).
    pub fn copy_file_with(
        &self,
        entry: &ManifestEntry,
        keys: Option<&UnlockedKeys>,
        out: &mut dyn Write,
        threads: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<CopyReport> {
        let label = || {
            format!(
                "{}/{} ({})",
                entry.domain, entry.relative_path, entry.file_id
            )
        };
        if entry.kind != EntryKind::File {
            return Err(BackupError::Manifest(format!(
                "{} is a {}, not a file",
                label(),
                entry.kind.name()
            )));
        }
        if !is_valid_file_id(&entry.file_id) {
            return Err(BackupError::UnsafePath {
                domain: entry.domain.clone(),
                path: entry.relative_path.clone(),
                reason: format!("fileID {:?} is not a plain name", entry.file_id),
            });
        }
        let path = self.blob_path(&entry.file_id);
        let recorded = entry.meta.as_ref().map(|m| m.size);
        let mut f = match self.open_blob(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && recorded == Some(0) => {
                // Empty files often have no blob at all.
                return Ok(CopyReport::default());
            }
            Err(e) => return Err(BackupError::io(&path, e)),
        };
        let len = f.metadata().map_err(|e| BackupError::io(&path, e))?.len();
        let io = |e| BackupError::io(&path, e);
        let out_err = |e: std::io::Error| BackupError::io(format!("output for {}", label()), e);

        // Plain: copy every byte; a Size that disagrees is worth a warning, not a failure.
        let copy_plain = |f: &mut std::fs::File,
                          out: &mut dyn Write,
                          progress: &mut dyn FnMut(u64),
                          already: Option<String>|
         -> Result<CopyReport> {
            f.seek(SeekFrom::Start(0)).map_err(io)?;
            let mut buf = vec![0u8; CHUNK.min(len as usize + 1).max(1)];
            let mut done = 0u64;
            loop {
                let n = read_full(f, &mut buf).map_err(io)?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n]).map_err(out_err)?;
                done += n as u64;
                progress(n as u64);
            }
            let mut warnings: Vec<String> = already.into_iter().collect();
            match recorded {
                Some(s) if s != done => warnings.push(format!(
                    "{}: the blob has {done} bytes but Size says {s}; kept all {done}",
                    label()
                )),
                _ => {}
            }
            Ok(CopyReport {
                bytes_written: done,
                blob_len: done,
                warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
            })
        };

        if !self.encrypted {
            return copy_plain(&mut f, out, progress, None);
        }
        if len == 0 {
            let warning = recorded
                .filter(|&s| s != 0)
                .map(|s| format!("{}: the blob is empty but Size says {s}", label()));
            return Ok(CopyReport {
                warning,
                ..Default::default()
            });
        }

        // Copies left by mvt and iOSbackup keep IsEncrypted true over plain blobs: tell by
        // content. In a backup whose Manifest.db is already plain (`already_decrypted`), plain
        // blobs are what is expected and are copied without a word; elsewhere a plain blob is
        // copied as is with a warning that says so.
        let mut already_cache = None;
        let mut already = || *already_cache.get_or_insert_with(|| self.already_decrypted());
        let was_plain = |why: &str| {
            format!(
                "{}: the file was already plain (decrypted by another tool?): copied as is, {why}",
                label()
            )
        };
        let mut head = vec![0u8; (len as usize).min(HEAD)];
        if read_full(&mut f, &mut head).map_err(io)? != head.len() {
            return Err(BackupError::malformed(
                &path,
                "the file became shorter while it was being read",
            ));
        }
        let raw_plain = looks_plain(&head);

        if len % 16 != 0 {
            if already() {
                return copy_plain(&mut f, out, progress, None);
            }
            let why = if recorded == Some(len) {
                Some("not a whole number of AES blocks and exactly its recorded Size")
            } else if raw_plain {
                Some("not a whole number of AES blocks and it reads as a plain file")
            } else {
                None
            };
            return match why {
                Some(why) => copy_plain(&mut f, out, progress, Some(was_plain(why))),
                None => Err(BackupError::malformed(
                    &path,
                    format!("{len} bytes is not a whole number of AES blocks: the file is truncated or damaged"),
                )),
            };
        }
        let Some(keys) = keys else {
            if already() {
                return copy_plain(&mut f, out, progress, None);
            }
            return Err(BackupError::PasswordNeeded);
        };
        let wrapped = entry
            .meta
            .as_ref()
            .and_then(|m| m.encryption_key.as_deref());
        let key = match wrapped {
            Some(w) => keys
                .unwrap_class_wrapped(w)
                .map_err(|e| BackupError::Crypto(format!("{}: {e}", label()))),
            None => Err(BackupError::Crypto(format!(
                "{}: no EncryptionKey in its MBFile record",
                label()
            ))),
        };
        let key = match key {
            Ok(k) => k,
            // Without a file key the blob cannot be decrypted: in an already decrypted copy
            // it is plain anyway; elsewhere only a plain-looking blob is taken as is.
            Err(_) if already() => return copy_plain(&mut f, out, progress, None),
            Err(_) if raw_plain && wrapped.is_none() => {
                return copy_plain(
                    &mut f,
                    out,
                    progress,
                    Some(was_plain(
                        "it has no EncryptionKey and reads as a plain file",
                    )),
                )
            }
            Err(e) => return Err(e),
        };

        // Decide before writing anything: decrypt the first blocks and the last one.
        let mut dec_head = zeroize::Zeroizing::new(head.clone());
        cbc_decrypt(&key, &[0u8; 16], &mut dec_head);
        let dec_plain = looks_plain(&dec_head);
        let padded = {
            let mut tail = [0u8; 32];
            let at = len.saturating_sub(32);
            let n = (len - at) as usize;
            f.seek(SeekFrom::Start(at)).map_err(io)?;
            if read_full(&mut f, &mut tail[..n]).map_err(io)? != n {
                return Err(BackupError::malformed(
                    &path,
                    "the file became shorter while it was being read",
                ));
            }
            let (iv, last) = if n == 32 {
                let (a, b) = tail.split_at_mut(16);
                (<[u8; 16]>::try_from(&*a).expect("16 bytes"), b)
            } else {
                ([0u8; 16], &mut tail[..16])
            };
            cbc_decrypt(&key, &iv, last);
            let p = pkcs7_len(last).map(|p| len - 16 + p as u64);
            zeroize::Zeroize::zeroize(&mut tail);
            p
        };
        f.seek(SeekFrom::Start(0)).map_err(io)?;
        let plain = if already() {
            // Plain unless it plainly decrypts: valid padding, and readable contents or the
            // length Size records.
            let decrypts = padded.is_some()
                && ((dec_plain && !raw_plain)
                    || recorded.is_some_and(|s| Some(s) == padded && s != len));
            !decrypts
        } else {
            (raw_plain && !dec_plain) || (padded.is_none() && !dec_plain && recorded == Some(len))
        };
        if plain {
            let why = if raw_plain {
                "it reads as a plain file and decrypts to garbage"
            } else {
                "it decrypts to bad padding and is exactly its recorded Size"
            };
            let note = (!already()).then(|| was_plain(why));
            return copy_plain(&mut f, out, progress, note);
        }
        let still_encrypted = already().then(|| {
            format!(
                "{}: still encrypted in a backup otherwise already decrypted: decrypted",
                label()
            )
        });
        let mut buf = zeroize::Zeroizing::new(vec![0u8; CHUNK.min(len as usize)]);
        let mut iv = [0u8; 16];
        let mut remaining = len;
        let mut written = 0u64;
        loop {
            let n = (CHUNK as u64).min(remaining) as usize;
            let got = read_full(&mut f, &mut buf[..n]).map_err(io)?;
            if got != n {
                return Err(BackupError::malformed(
                    &path,
                    "the file became shorter while it was being read",
                ));
            }
            let next_iv: [u8; 16] = buf[n - 16..n].try_into().expect("16 bytes");
            cbc_decrypt_parallel(&key, &iv, &mut buf[..n], threads);
            iv = next_iv;
            remaining -= n as u64;
            if remaining > 0 {
                out.write_all(&buf[..n]).map_err(out_err)?;
                written += n as u64;
                progress(n as u64);
                continue;
            }
            // The last chunk: decide how many plaintext bytes the file has.
            let before = len - n as u64;
            let padded = pkcs7_len(&buf[n - 16..n]).map(|p| len - 16 + p as u64);
            let (total, warning) = match (padded, recorded) {
                (Some(p), Some(s)) if s == p => (p, None),
                (Some(p), None) => (p, None),
                (Some(p), Some(s)) => (
                    p,
                    Some(format!(
                        "{}: Size says {s} bytes but the padding says {p}; kept {p}",
                        label()
                    )),
                ),
                (None, Some(s)) if s <= len && s + 16 > len => (
                    s,
                    Some(format!(
                        "{}: the padding is not valid; cut at Size ({s} bytes): the end may be damaged",
                        label()
                    )),
                ),
                (None, _) => {
                    return Err(BackupError::Crypto(format!(
                        "{}: bad padding at the end of {} (damaged file){}",
                        label(),
                        path.display(),
                        recorded.map_or(String::new(), |s| format!("; Size says {s} of {len} bytes")),
                    )))
                }
            };
            let keep = (total - before) as usize;
            out.write_all(&buf[..keep]).map_err(out_err)?;
            written += keep as u64;
            progress(n as u64);
            let warning = match (still_encrypted, warning) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            };
            return Ok(CopyReport {
                bytes_written: written,
                blob_len: len,
                warning,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_matches_serial() {
        let key = [7u8; 32];
        let plain: Vec<u8> = (0..3 * 1024 * 1024 + 48)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let mut ct = plain.clone();
        cbc_encrypt_in_place(&key, &[0; 16], &mut ct);
        for threads in [1, 2, 3, 7] {
            let mut d = ct.clone();
            cbc_decrypt_parallel(&key, &[0; 16], &mut d, threads);
            assert!(d == plain, "threads {threads}");
        }
        let enc = cbc_encrypt_pkcs7(&key, b"hello");
        assert_eq!(enc.len(), 16);
        let mut d = enc.clone();
        cbc_decrypt(&key, &[0; 16], &mut d);
        assert_eq!(&d[..5], b"hello");
        assert_eq!(pkcs7_len(&d), Some(5));
    }

    #[test]
    fn file_ids() {
        assert!(is_valid_file_id("3d0d7e5fb2ce288813306e4d4636395e047a3d28"));
        assert!(!is_valid_file_id("../etc/passwd"));
        assert!(!is_valid_file_id("a"));
        assert!(!is_valid_file_id("ab/cd"));
    }
}
