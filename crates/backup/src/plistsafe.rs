//! Parsing plists from a backup without trusting their shape.
//!
//! The `plist` crate builds and drops nested values recursively, so a hostile file with a few
//! hundred thousand nested arrays (a few hundred KB) overflows the stack and aborts the process.
//! Real backup plists nest a handful of levels: check the nesting before parsing.

use plist::Value;

/// Deeper than any real backup plist (Info.plist, Manifest.plist, MBFile, keychain items).
pub const MAX_DEPTH: usize = 128;

/// Parses plist bytes (binary or XML) after checking that containers nest at most
/// [`MAX_DEPTH`] levels (and, for binary plists, that references form no cycle and that
/// shared references do not expand the file to many more values than it has bytes).
pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    if bytes.starts_with(b"bplist00") {
        check_binary(bytes)?;
    } else {
        check_xml(bytes)?;
    }
    Value::from_reader(std::io::Cursor::new(bytes)).map_err(|e| plain_words(&e))
}

/// The plist library's error in plain words: its Display is the Debug text of an enum
/// (`UnexpectedEof`, `Io(Error { kind: ... })`), which means nothing to a person.
fn plain_words(e: &plist::Error) -> String {
    if e.is_eof() {
        return "it ends too early: the file is cut short".into();
    }
    if let Some(io) = e.as_io() {
        return format!("it cannot be read: {}", io.kind());
    }
    let raw = e.to_string();
    let mut words = String::new();
    for (i, c) in raw.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !words.ends_with(' ') && !words.ends_with('(') {
                words.push(' ');
            }
            words.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() || " (),.".contains(c) {
            words.push(c);
        }
    }
    format!("its contents are not valid ({})", words.trim())
}

#[cfg(test)]
mod plain_word_tests {
    #[test]
    fn errors_are_words_not_debug_text() {
        for bad in [
            &b"bplist00"[..],
            b"<?xml version=\"1.0\"?><plist><dict><key>a",
            b"\x00\x01junk",
        ] {
            let e = super::parse(bad).unwrap_err();
            assert!(!e.contains("Error {") && !e.contains("kind:"), "{e}");
            assert!(e.chars().any(|c| c == ' '), "{e}");
        }
    }
}

fn too_deep() -> String {
    format!("containers nest more than {MAX_DEPTH} levels deep")
}

/// XML: count `<array>`/`<dict>` openings against their closings. Text cannot hold a raw `<`
/// in XML, so every `<` starts markup. Comments could only make this count too deep, never
/// too shallow.
fn check_xml(bytes: &[u8]) -> Result<(), String> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        let tag = &bytes[i + off..];
        let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
        let tag = &tag[..end];
        let is = |name: &[u8]| {
            tag.strip_prefix(name)
                .is_some_and(|rest| rest.first().is_none_or(|c| c.is_ascii_whitespace()))
        };
        if is(b"</array") || is(b"</dict") {
            depth = depth.saturating_sub(1);
        } else if (is(b"<array") || is(b"<dict")) && !tag.ends_with(b"/") {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(too_deep());
            }
        }
        i += off + 1;
    }
    Ok(())
}

/// Reads a big-endian unsigned integer of 1..=8 bytes at `at`.
fn be(bytes: &[u8], at: usize, len: usize) -> Option<u64> {
    let s = bytes.get(at..at.checked_add(len)?)?;
    if len == 0 || len > 8 {
        return None;
    }
    Some(s.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// Binary: walk the object graph from the top object, without recursion, and measure how deep
/// arrays, sets and dictionaries nest. Malformed structure is left to the parser to report,
/// except where it would make this walk loop (a reference cycle).
fn check_binary(bytes: &[u8]) -> Result<(), String> {
    let bad = || "damaged binary plist trailer".to_string();
    if bytes.len() < 8 + 32 {
        return Err(bad());
    }
    let t = bytes.len() - 32;
    let offset_size = bytes[t + 6] as usize;
    let ref_size = bytes[t + 7] as usize;
    let count = be(bytes, t + 8, 8).ok_or_else(bad)?;
    let top = be(bytes, t + 16, 8).ok_or_else(bad)?;
    let table = be(bytes, t + 24, 8).ok_or_else(bad)?;
    if !(1..=8).contains(&offset_size) || !(1..=8).contains(&ref_size) || top >= count {
        return Err(bad());
    }
    // Every object needs at least one byte, and every table entry `offset_size` bytes.
    if count > bytes.len() as u64 {
        return Err(bad());
    }
    let count = count as usize;
    let table = usize::try_from(table).map_err(|_| bad())?;
    let offset_of = |obj: usize| -> Option<usize> {
        be(
            bytes,
            table.checked_add(obj.checked_mul(offset_size)?)?,
            offset_size,
        )
        .and_then(|o| usize::try_from(o).ok())
    };
    // The references a container holds (none for scalars or malformed objects).
    let children = |obj: usize| -> Vec<usize> {
        let Some(at) = offset_of(obj) else {
            return Vec::new();
        };
        let Some(&marker) = bytes.get(at) else {
            return Vec::new();
        };
        let per_entry = match marker >> 4 {
            0xA | 0xC => 1,
            0xD => 2,
            _ => return Vec::new(),
        };
        let (mut n, mut start) = ((marker & 0x0F) as u64, at + 1);
        if n == 0x0F {
            // The count follows as an integer object: 0x1N, then 2^N bytes.
            let Some(&int_marker) = bytes.get(start) else {
                return Vec::new();
            };
            let len = 1usize << (int_marker & 0x0F).min(3);
            match be(bytes, start + 1, len) {
                Some(v) if int_marker >> 4 == 1 => n = v,
                _ => return Vec::new(),
            }
            start += 1 + len;
        }
        let total = n.saturating_mul(per_entry);
        if total > count as u64 * 2 || total > bytes.len() as u64 {
            return Vec::new();
        }
        (0..total as usize)
            .filter_map(|k| be(bytes, start + k * ref_size, ref_size))
            .filter_map(|r| usize::try_from(r).ok())
            .filter(|&r| r < count)
            .collect()
    };
    // Iterative depth-first walk: 0 unseen, 1 on the current path, 2 done.
    // The parser copies an object out once for every reference to it, so shared containers
    // can multiply the parsed tree (object k = [k-1, k-1] doubles per level: 60 levels in 500
    // bytes never finish). Count the values the tree will hold: `size` is, per finished
    // object, itself plus everything below it; each stack entry sums its own as it goes.
    // Without shared containers there is at most one value per reference (a byte or more
    // each) plus the top one, so a limit of the file's length plus some slack refuses no
    // honest file.
    let limit = bytes.len() as u64 + (1 << 16);
    let mut state = vec![0u8; count];
    let mut size = vec![1u64; count];
    let mut stack: Vec<(usize, Vec<usize>, u64)> = Vec::new();
    state[top as usize] = 1;
    stack.push((top as usize, children(top as usize), 1));
    while let Some((_, pending, total)) = stack.last_mut() {
        match pending.pop() {
            Some(child) => match state[child] {
                1 => return Err("binary plist objects refer to themselves in a cycle".into()),
                2 => *total = total.saturating_add(size[child]),
                _ => {
                    let grand = children(child);
                    if grand.is_empty() {
                        state[child] = 2;
                        *total = total.saturating_add(1);
                        continue;
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(too_deep());
                    }
                    state[child] = 1;
                    stack.push((child, grand, 1));
                }
            },
            None => {
                let (done, _, total) = stack.pop().expect("non-empty");
                if total > limit {
                    return Err(format!(
                        "shared references would expand it to more than {limit} values"
                    ));
                }
                state[done] = 2;
                size[done] = total;
                if let Some((_, _, parent)) = stack.last_mut() {
                    *parent = parent.saturating_add(total);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> Value {
        let mut v = Value::Array(vec![]);
        for _ in 0..n {
            v = Value::Array(vec![v]);
        }
        v
    }

    fn binary(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.to_writer_binary(&mut out).unwrap();
        out
    }

    fn xml(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.to_writer_xml(&mut out).unwrap();
        out
    }

    #[test]
    fn real_depths_parse_and_deep_ones_are_refused_in_both_formats() {
        let ok = nested(MAX_DEPTH - 2);
        assert_eq!(parse(&binary(&ok)).unwrap(), ok);
        assert_eq!(parse(&xml(&ok)).unwrap(), ok);
        let deep = nested(MAX_DEPTH + 5);
        assert!(parse(&binary(&deep)).unwrap_err().contains("nest"));
        assert!(parse(&xml(&deep)).unwrap_err().contains("nest"));
    }

    #[test]
    fn a_huge_hand_made_xml_nesting_is_an_error_not_a_stack_overflow() {
        let n = 300_000;
        let s = format!(
            "<?xml version=\"1.0\"?><plist version=\"1.0\">{}{}</plist>",
            "<array>".repeat(n),
            "</array>".repeat(n)
        );
        assert!(parse(s.as_bytes()).unwrap_err().contains("nest"));
    }

    #[test]
    fn a_binary_reference_cycle_is_refused() {
        // Object 0: an array of one reference, to object 0.
        let mut b = b"bplist00".to_vec();
        b.extend_from_slice(&[0xA1, 0x00]); // offset 8: array, 1 entry, ref 0
        let table = b.len() as u64;
        b.push(8); // offset of object 0
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 1]);
        b.extend_from_slice(&1u64.to_be_bytes());
        b.extend_from_slice(&0u64.to_be_bytes());
        b.extend_from_slice(&table.to_be_bytes());
        assert!(parse(&b).unwrap_err().contains("cycle"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse(&data);
            let mut b = b"bplist00".to_vec();
            b.extend_from_slice(&data);
            let _ = parse(&b);
        }
    }
}
