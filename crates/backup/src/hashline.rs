//! `$itunes_backup$*VER*WPKY*ITER*SALT*DPIC*DPSL`: the line hashcat (-m 14700/14800) and John read.

use crate::error::HashLineError;
use crate::kdf::KdfParams;
use crate::keybag::Keybag;
use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "$itunes_backup$";

/// One backup's password check, detached from the backup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HashLine {
    /// 9 (before iOS 10.2) or 10 (iOS 10.2+).
    pub version: u8,
    /// The 40-byte wrapped class key whose unwrap proves the password.
    pub wpky: [u8; 40],
    pub iterations: u32,
    pub salt: Vec<u8>,
    /// (DPIC, DPSL), present exactly when version is 10.
    pub dp: Option<(u32, Vec<u8>)>,
}

impl HashLine {
    /// The hash line of a keybag: the first password-wrapped class key, as other tools choose it.
    pub fn from_keybag(kb: &Keybag) -> Result<HashLine, crate::error::KeybagError> {
        let ck = kb
            .check_key()
            .ok_or(crate::error::KeybagError::NoPasswordWrappedKey)?;
        let wpky: [u8; 40] = ck
            .wpky
            .as_slice()
            .try_into()
            .expect("check_key is 40 bytes");
        Ok(HashLine {
            version: if kb.dpsl.is_some() { 10 } else { 9 },
            wpky,
            iterations: kb.iterations,
            salt: kb.salt.clone(),
            dp: kb.dpsl.clone().zip(kb.dpic).map(|(s, i)| (i, s)),
        })
    }

    pub fn kdf_params(&self) -> KdfParams {
        KdfParams {
            salt: self.salt.clone(),
            iterations: self.iterations,
            dp: self.dp.as_ref().map(|(i, s)| (s.clone(), *i)),
        }
    }

    /// Is `key` (the derived key) the one that unwraps this line's WPKY?
    pub fn key_matches(&self, key: &[u8; 32]) -> bool {
        crate::aeswrap_check(key, &self.wpky)
    }

    /// Full check of a password (runs the whole key derivation: seconds for iOS 10.2+ lines).
    pub fn verify(&self, password: &[u8]) -> bool {
        let key = crate::kdf::derive_fast(password, &self.kdf_params());
        self.key_matches(&key)
    }

    /// hashcat's mode for this line.
    pub fn hashcat_mode(&self) -> u32 {
        if self.version == 10 {
            14800
        } else {
            14700
        }
    }
}

impl fmt::Display for HashLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}*{}*{}*{}*{}*",
            self.version,
            hex::encode(self.wpky),
            self.iterations,
            hex::encode(&self.salt)
        )?;
        match &self.dp {
            Some((dpic, dpsl)) => write!(f, "{}*{}", dpic, hex::encode(dpsl)),
            None => write!(f, "*"),
        }
    }
}

fn hex_field(field: &'static str, s: &str, len: usize) -> Result<Vec<u8>, HashLineError> {
    let v = hex::decode(s).map_err(|e| HashLineError::Field {
        field,
        reason: format!("not hex ({e})"),
    })?;
    if v.len() != len {
        return Err(HashLineError::Field {
            field,
            reason: format!("{} bytes, expected {len}", v.len()),
        });
    }
    Ok(v)
}

fn count_field(field: &'static str, s: &str, max: u32) -> Result<u32, HashLineError> {
    let n: u32 = s.parse().map_err(|_| HashLineError::Field {
        field,
        reason: format!("{s:?} is not a number"),
    })?;
    if n == 0 {
        return Err(HashLineError::Field {
            field,
            reason: "must be at least 1".into(),
        });
    }
    if n > max {
        return Err(HashLineError::Field {
            field,
            reason: format!("{n} is more than any backup uses (at most {max})"),
        });
    }
    Ok(n)
}

impl FromStr for HashLine {
    type Err = HashLineError;
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let line = line.trim();
        let rest = line.strip_prefix(PREFIX).ok_or(HashLineError::Prefix)?;
        let rest = rest.strip_prefix('*').ok_or(HashLineError::Prefix)?;
        let fields: Vec<&str> = rest.split('*').collect();
        if fields.len() != 6 {
            return Err(HashLineError::FieldCount(fields.len() + 1));
        }
        let version: u8 = match fields[0] {
            "9" => 9,
            "10" => 10,
            v => return Err(HashLineError::Version(v.chars().take(10).collect())),
        };
        let wpky: [u8; 40] = hex_field("WPKY", fields[1], 40)?
            .try_into()
            .expect("length checked");
        let iterations = count_field("ITER", fields[2], crate::keybag::MAX_ITER)?;
        let salt = hex_field("SALT", fields[3], 20)?;
        let dp = if version == 10 {
            let dpic = count_field("DPIC", fields[4], crate::keybag::MAX_DPIC)?;
            let dpsl = hex_field("DPSL", fields[5], 20)?;
            Some((dpic, dpsl))
        } else {
            if !fields[4].is_empty() || !fields[5].is_empty() {
                return Err(HashLineError::Field {
                    field: "DPIC",
                    reason: "version 9 lines end with '**'".into(),
                });
            }
            None
        };
        Ok(HashLine {
            version,
            wpky,
            iterations,
            salt,
            dp,
        })
    }
}

/// One hash line of a file of hash lines.
#[derive(Clone, Debug)]
pub struct HashFileLine {
    /// Line number in the file, from 1.
    pub number: usize,
    /// The hash as written in the file (without a John-style `name:` or trailing `:::`).
    pub text: String,
    /// John's user name field (`name:hash:::`), when the line has one.
    pub name: Option<String>,
    pub hash: HashLine,
}

/// What [`parse_hash_file`] read: the hash lines, and the lines skipped with the reason.
#[derive(Debug, Default)]
pub struct HashFile {
    pub lines: Vec<HashFileLine>,
    /// (line number from 1, why): lines that hold no valid `$itunes_backup$` hash.
    pub skipped: Vec<(usize, HashLineError)>,
}

/// Reads a file of hash lines as hashcat and John the Ripper do: one hash a line, alone or as
/// `name:hash` or John's `name:hash:::...` (the fields after the hash are ignored); empty lines
/// and `#` comments are passed over; a line that holds no valid hash is skipped (and listed in
/// [`HashFile::skipped`]) instead of failing the file.
pub fn parse_hash_file(text: &str) -> HashFile {
    let mut out = HashFile::default();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some(at) = l.find(PREFIX) else {
            out.skipped.push((i + 1, HashLineError::Prefix));
            continue;
        };
        let rest = &l[at..];
        let end = rest
            .find(|c: char| c == ':' || c.is_whitespace())
            .unwrap_or(rest.len());
        let hash_text = &rest[..end];
        let name = l[..at].trim_end_matches(':').trim();
        match hash_text.parse::<HashLine>() {
            Ok(hash) => out.lines.push(HashFileLine {
                number: i + 1,
                text: hash_text.to_string(),
                name: (!name.is_empty()).then(|| name.to_string()),
                hash,
            }),
            Err(e) => out.skipped.push((i + 1, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_files_as_hashcat_and_john_write_them() {
        let a = "$itunes_backup$*9*".to_string()
            + &"ab".repeat(40)
            + "*10000*"
            + &"cd".repeat(20)
            + "**";
        let text = format!(
            "# my hashes\n{a}\nalice:{a}:::\n\nbob:{a}:1001:1001::/home/bob:\nnot a hash\n$itunes_backup$*9*zz\n"
        );
        let f = parse_hash_file(&text);
        let got: Vec<(usize, Option<&str>)> = f
            .lines
            .iter()
            .map(|l| (l.number, l.name.as_deref()))
            .collect();
        assert_eq!(got, vec![(2, None), (3, Some("alice")), (5, Some("bob"))]);
        assert!(f
            .lines
            .iter()
            .all(|l| l.text == a && l.hash.to_string() == a));
        let skipped: Vec<usize> = f.skipped.iter().map(|s| s.0).collect();
        assert_eq!(skipped, vec![6, 7]);
        assert!(parse_hash_file("junk\n").lines.is_empty());
    }

    #[test]
    fn iteration_counts_beyond_any_backup_are_refused() {
        let line = |iter: &str, dpic: &str| {
            format!(
                "$itunes_backup$*10*{}*{iter}*{}*{dpic}*{}",
                "ab".repeat(40),
                "cd".repeat(20),
                "ef".repeat(20)
            )
        };
        assert!(line("10000", "10000000").parse::<HashLine>().is_ok());
        for (iter, dpic) in [("4294967295", "10000000"), ("10000", "4294967295")] {
            let e = line(iter, dpic).parse::<HashLine>().unwrap_err();
            assert!(e.to_string().contains("more than any backup uses"), "{e}");
        }
    }
    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,250}") {
            let _ = s.parse::<HashLine>();
        }
        #[test]
        fn parse_never_panics_on_near_lines(v in "9|10|x", w in "[0-9a-f]{0,90}", i in "[0-9]{0,12}", s in "[0-9a-fA-F]{0,44}", d in "[0-9]{0,10}") {
            let line = format!("$itunes_backup$*{v}*{w}*{i}*{s}*{d}*{s}");
            if let Ok(h) = line.parse::<HashLine>() {
                proptest::prop_assert_eq!(h.to_string().parse::<HashLine>().unwrap(), h);
            }
        }
    }
}
