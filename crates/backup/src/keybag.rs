//! The backup keybag (Manifest.plist → BackupKeyBag): TLV records, header then class keys.

use crate::error::KeybagError;

/// `WRAP` bit: the class key is wrapped with the password-derived key.
pub const WRAP_PASSWORD: u32 = 2;
/// `WRAP` bit: the class key is also encrypted with the device's own key (0x835).
pub const WRAP_DEVICE: u32 = 1;

/// One protection class key as stored in the keybag (still wrapped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassKey {
    pub uuid: Vec<u8>,
    pub class: u32,
    pub wrap: u32,
    pub key_type: u32,
    pub wpky: Vec<u8>,
    pub pbky: Option<Vec<u8>>,
}

impl ClassKey {
    /// Wrapped with the password (the only layer Sesame can remove).
    pub fn password_wrapped(&self) -> bool {
        self.wrap & WRAP_PASSWORD != 0
    }
    /// Also needs the device key: usable only on the device that made the backup.
    pub fn device_only(&self) -> bool {
        self.wrap & WRAP_DEVICE != 0
    }
}

/// Length of SALT and DPSL in every backup keybag.
pub const SALT_LEN: usize = 20;
/// Upper bounds on the iteration counts (ITER is 10,000 and DPIC 10,000,000 in every backup
/// known): a damaged or crafted keybag with billions would make one guess take hours, and every
/// measurement of it hang.
pub const MAX_ITER: u32 = 10_000_000;
pub const MAX_DPIC: u32 = 1_000_000_000;

/// A parsed backup keybag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keybag {
    pub version: u32,
    pub kind: u32,
    pub uuid: Vec<u8>,
    pub hmck: Option<Vec<u8>>,
    pub wrap: u32,
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub dpwt: Option<u32>,
    pub dpic: Option<u32>,
    pub dpsl: Option<Vec<u8>>,
    pub class_keys: Vec<ClassKey>,
}

struct Record<'a> {
    tag: [u8; 4],
    value: &'a [u8],
}

fn records(data: &[u8]) -> Result<Vec<Record<'_>>, KeybagError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let left = data.len() - pos;
        if left < 8 {
            return Err(KeybagError::Truncated {
                offset: pos,
                needed: 8,
                available: left,
            });
        }
        let tag: [u8; 4] = data[pos..pos + 4].try_into().expect("4 bytes");
        let len = u32::from_be_bytes(data[pos + 4..pos + 8].try_into().expect("4 bytes")) as usize;
        if len > left - 8 {
            return Err(KeybagError::Truncated {
                offset: pos,
                needed: len.saturating_add(8),
                available: left,
            });
        }
        out.push(Record {
            tag,
            value: &data[pos + 8..pos + 8 + len],
        });
        pos += 8 + len;
    }
    Ok(out)
}

fn int(tag: &[u8; 4], value: &[u8]) -> Result<u32, KeybagError> {
    match value.len() {
        4 => Ok(u32::from_be_bytes(value.try_into().expect("4 bytes"))),
        // Some writers use 8-byte integers; accept them when they fit.
        8 => {
            let v = u64::from_be_bytes(value.try_into().expect("8 bytes"));
            u32::try_from(v).map_err(|_| KeybagError::BadIterations(v))
        }
        len => Err(KeybagError::BadLength {
            tag: String::from_utf8_lossy(tag).into_owned(),
            len,
            expected: 4,
        }),
    }
}

impl Keybag {
    /// Parses keybag bytes. Header records run until the second `UUID`; each later `UUID` starts a class key.
    pub fn parse(data: &[u8]) -> Result<Keybag, KeybagError> {
        let recs = records(data)?;
        let mut kb = Keybag {
            version: 0,
            kind: 0,
            uuid: Vec::new(),
            hmck: None,
            wrap: 0,
            salt: Vec::new(),
            iterations: 0,
            dpwt: None,
            dpic: None,
            dpsl: None,
            class_keys: Vec::new(),
        };
        let mut seen_uuid = false;
        let mut current: Option<ClassKey> = None;
        let mut have_salt = false;
        let mut have_iter = false;
        for r in recs {
            if &r.tag == b"UUID" {
                if !seen_uuid {
                    seen_uuid = true;
                    kb.uuid = r.value.to_vec();
                    continue;
                }
                if let Some(ck) = current.take() {
                    kb.class_keys.push(ck);
                }
                current = Some(ClassKey {
                    uuid: r.value.to_vec(),
                    class: 0,
                    wrap: 0,
                    key_type: 0,
                    wpky: Vec::new(),
                    pbky: None,
                });
                continue;
            }
            match current.as_mut() {
                None => match &r.tag {
                    b"VERS" => kb.version = int(&r.tag, r.value)?,
                    b"TYPE" => kb.kind = int(&r.tag, r.value)?,
                    b"HMCK" => kb.hmck = Some(r.value.to_vec()),
                    b"WRAP" => kb.wrap = int(&r.tag, r.value)?,
                    b"SALT" => {
                        kb.salt = r.value.to_vec();
                        have_salt = true;
                    }
                    b"ITER" => {
                        kb.iterations = int(&r.tag, r.value)?;
                        have_iter = true;
                    }
                    b"DPWT" => kb.dpwt = Some(int(&r.tag, r.value)?),
                    b"DPIC" => kb.dpic = Some(int(&r.tag, r.value)?),
                    b"DPSL" => kb.dpsl = Some(r.value.to_vec()),
                    _ => {} // unknown header records are tolerated
                },
                Some(ck) => match &r.tag {
                    b"CLAS" => ck.class = int(&r.tag, r.value)?,
                    b"WRAP" => ck.wrap = int(&r.tag, r.value)?,
                    b"KTYP" => ck.key_type = int(&r.tag, r.value)?,
                    b"WPKY" => ck.wpky = r.value.to_vec(),
                    b"PBKY" => ck.pbky = Some(r.value.to_vec()),
                    _ => {}
                },
            }
        }
        if let Some(ck) = current.take() {
            kb.class_keys.push(ck);
        }
        if !seen_uuid {
            return Err(KeybagError::Missing("UUID"));
        }
        if !have_salt {
            return Err(KeybagError::Missing("SALT"));
        }
        if !have_iter {
            return Err(KeybagError::Missing("ITER"));
        }
        if kb.iterations == 0 || kb.iterations > MAX_ITER {
            return Err(KeybagError::BadIterations(kb.iterations.into()));
        }
        if let Some(d) = kb.dpic.filter(|&d| d == 0 || d > MAX_DPIC) {
            return Err(KeybagError::BadIterations(d.into()));
        }
        // A salt of another length is no backup's: hashcat's and John's lines (and `verify`)
        // take 20 bytes only, so a keybag must not give a line that nothing reads.
        if kb.salt.len() != SALT_LEN {
            return Err(KeybagError::BadLength {
                tag: "SALT".into(),
                len: kb.salt.len(),
                expected: SALT_LEN,
            });
        }
        if let Some(d) = kb.dpsl.as_ref().filter(|d| d.len() != SALT_LEN) {
            return Err(KeybagError::BadLength {
                tag: "DPSL".into(),
                len: d.len(),
                expected: SALT_LEN,
            });
        }
        if kb.dpic.is_some() != kb.dpsl.is_some() {
            return Err(KeybagError::Missing(if kb.dpic.is_some() {
                "DPSL"
            } else {
                "DPIC"
            }));
        }
        Ok(kb)
    }

    /// Serialises the keybag back to TLV records (used by the builder and by change-password).
    pub fn to_bytes(&self) -> Vec<u8> {
        fn put(out: &mut Vec<u8>, tag: &[u8; 4], value: &[u8]) {
            out.extend_from_slice(tag);
            out.extend_from_slice(&(value.len() as u32).to_be_bytes());
            out.extend_from_slice(value);
        }
        let mut out = Vec::new();
        put(&mut out, b"VERS", &self.version.to_be_bytes());
        put(&mut out, b"TYPE", &self.kind.to_be_bytes());
        put(&mut out, b"UUID", &self.uuid);
        if let Some(h) = &self.hmck {
            put(&mut out, b"HMCK", h);
        }
        put(&mut out, b"WRAP", &self.wrap.to_be_bytes());
        put(&mut out, b"SALT", &self.salt);
        put(&mut out, b"ITER", &self.iterations.to_be_bytes());
        if let Some(v) = self.dpwt {
            put(&mut out, b"DPWT", &v.to_be_bytes());
        }
        if let Some(v) = self.dpic {
            put(&mut out, b"DPIC", &v.to_be_bytes());
        }
        if let Some(v) = &self.dpsl {
            put(&mut out, b"DPSL", v);
        }
        for ck in &self.class_keys {
            put(&mut out, b"UUID", &ck.uuid);
            put(&mut out, b"CLAS", &ck.class.to_be_bytes());
            put(&mut out, b"WRAP", &ck.wrap.to_be_bytes());
            put(&mut out, b"KTYP", &ck.key_type.to_be_bytes());
            put(&mut out, b"WPKY", &ck.wpky);
            if let Some(p) = &ck.pbky {
                put(&mut out, b"PBKY", p);
            }
        }
        out
    }

    /// The class key with this protection class number.
    pub fn class_key(&self, class: u32) -> Option<&ClassKey> {
        self.class_keys.iter().find(|c| c.class == class)
    }

    /// The first password-wrapped class key with a 40-byte WPKY: what tools put in hash lines.
    pub fn check_key(&self) -> Option<&ClassKey> {
        self.class_keys
            .iter()
            .find(|c| c.password_wrapped() && c.wpky.len() == 40)
    }

    /// The key derivation parameters (scheme decided by DPSL/DPIC presence, not the iOS version).
    pub fn kdf_params(&self) -> crate::kdf::KdfParams {
        crate::kdf::KdfParams {
            salt: self.salt.clone(),
            iterations: self.iterations,
            dp: match (&self.dpsl, self.dpic) {
                (Some(s), Some(i)) => Some((s.clone(), i)),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(salt_len: usize, iter: u32, dp: Option<(u32, usize)>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut put = |tag: &[u8; 4], v: &[u8]| {
            out.extend_from_slice(tag);
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v);
        };
        put(b"UUID", &[7u8; 16]);
        put(b"SALT", &vec![1u8; salt_len]);
        put(b"ITER", &iter.to_be_bytes());
        if let Some((dpic, dpsl_len)) = dp {
            put(b"DPIC", &dpic.to_be_bytes());
            put(b"DPSL", &vec![2u8; dpsl_len]);
        }
        out
    }

    #[test]
    fn impossible_salts_and_iteration_counts_are_a_damaged_keybag() {
        // What every backup has parses.
        assert!(Keybag::parse(&header(20, 10_000, None)).is_ok());
        assert!(Keybag::parse(&header(20, 10_000, Some((10_000_000, 20)))).is_ok());
        // A salt that no hash line can carry: hashcat, John and `verify` take 20 bytes only.
        for len in [0, 3, 19, 21, 64] {
            assert!(
                matches!(
                    Keybag::parse(&header(len, 10_000, None)),
                    Err(KeybagError::BadLength { .. })
                ),
                "SALT of {len} bytes"
            );
            assert!(
                matches!(
                    Keybag::parse(&header(20, 10_000, Some((10_000_000, len)))),
                    Err(KeybagError::BadLength { .. })
                ),
                "DPSL of {len} bytes"
            );
        }
        // Counts that would make one guess take hours (and every measurement of it hang).
        assert_eq!(
            Keybag::parse(&header(20, u32::MAX, None)),
            Err(KeybagError::BadIterations(u32::MAX.into()))
        );
        assert_eq!(
            Keybag::parse(&header(20, 10_000, Some((u32::MAX, 20)))),
            Err(KeybagError::BadIterations(u32::MAX.into()))
        );
        assert!(Keybag::parse(&header(20, MAX_ITER, Some((MAX_DPIC, 20)))).is_ok());
    }
    proptest::proptest! {
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(0u8.., 0..400)) {
            let _ = Keybag::parse(&data);
        }
        #[test]
        fn parse_never_panics_on_record_soup(
            recs in proptest::collection::vec(
                (proptest::sample::select(vec![*b"UUID", *b"SALT", *b"ITER", *b"DPIC", *b"DPSL", *b"WPKY", *b"CLAS", *b"WRAP", *b"XXXX"]),
                 proptest::collection::vec(0u8.., 0..48), 0u32..3), 0..30)) {
            let mut data = Vec::new();
            for (tag, val, lenfudge) in recs {
                data.extend_from_slice(&tag);
                data.extend_from_slice(&((val.len() as u32).wrapping_add(lenfudge)).to_be_bytes());
                data.extend_from_slice(&val);
            }
            if let Ok(kb) = Keybag::parse(&data) {
                // Whatever parses must serialise and parse back to the same thing.
                let again = Keybag::parse(&kb.to_bytes()).unwrap();
                proptest::prop_assert_eq!(again, kb);
            }
        }
    }
}
