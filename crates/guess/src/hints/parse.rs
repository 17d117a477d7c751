//! Reading a hints file (TOML) and hint flags, with errors that name the line and the field.
//!
//! Every value is first captured as whatever TOML type it is, with its position; checking
//! happens afterwards, where the field is known, so a wrong value is reported as
//! `hints.toml line 3, field "dates": "1995-13-40" is not a date (...)` instead of a
//! deserializer's generic "invalid type" message.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::dates::HintDate;

/// What the owner remembers. Every list may be empty. `Debug` does not show old passwords.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// Names, pets, places, teams, phrases (a phrase may hold spaces: "new york").
    pub words: Vec<String>,
    /// Birthdays, anniversaries, years.
    pub dates: Vec<HintDate>,
    /// Digits that mean something: a shirt number, a house number, a lucky number.
    pub numbers: Vec<String>,
    /// Old passwords and passcodes, exactly as typed.
    pub passwords: Vec<String>,
}

impl fmt::Debug for Hints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hints")
            .field("words", &self.words)
            .field("dates", &self.dates)
            .field("numbers", &self.numbers)
            .field(
                "passwords",
                &format_args!("<{} redacted>", self.passwords.len()),
            )
            .finish()
    }
}

/// Most values in one field: far more than anyone remembers, few enough that ranking stays
/// quick (a hostile file cannot make it run for minutes).
pub const MAX_PER_FIELD: usize = 1000;
/// Longest word or phrase accepted; longer text is almost surely pasted by mistake.
const MAX_WORD_LEN: usize = 64;
/// Longest number accepted (a phone number with country code fits).
const MAX_NUMBER_LEN: usize = 16;
/// Longest old password accepted (hashcat's limit).
const MAX_PASSWORD_LEN: usize = crate::MAX_LEN;

/// A hint that could not be used: where it is (file and line, or the flag) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct HintsError {
    pub origin: Origin,
    /// The field at fault (`words`, `dates`, ...), when the problem is inside one.
    pub field: Option<String>,
    pub msg: String,
}

/// Where a hint came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A hints file; `line` counts from 1 (`None` when the position is unknown).
    File { name: String, line: Option<usize> },
    /// A command-line flag such as `--date`.
    Flag(String),
}

impl fmt::Display for HintsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { name, line } => {
                f.write_str(name)?;
                if let Some(line) = line {
                    write!(f, " line {line}")?;
                }
                if let Some(field) = &self.field {
                    write!(f, ", field {field:?}")?;
                }
            }
            Origin::Flag(flag) => f.write_str(flag)?,
        }
        write!(f, ": {}", self.msg)
    }
}

impl From<HintsError> for crate::GuessError {
    fn from(e: HintsError) -> Self {
        let source_name = match &e.origin {
            Origin::File { name, .. } => name.clone(),
            Origin::Flag(flag) => flag.clone(),
        };
        // The message already names the file/flag; keep it whole after the source name.
        let full = e.to_string();
        let msg = full
            .strip_prefix(&source_name)
            .map(|rest| rest.trim_start_matches([':', ' ']).to_string())
            .unwrap_or(full);
        crate::GuessError::Unsupported { source_name, msg }
    }
}

/// The four fields, in the order they are documented.
pub const FIELDS: [&str; 4] = ["words", "dates", "numbers", "passwords"];

impl Hints {
    /// Reads a hints file. `file_name` is only used in error messages.
    pub fn from_toml(text: &str, file_name: &str) -> Result<Hints, HintsError> {
        let line_of = |span: Option<Range<usize>>| {
            span.map(|s| {
                let end = s.start.min(text.len());
                // A span never splits a character, but be safe with foreign input.
                let prefix = text.get(..end).unwrap_or(text);
                prefix.bytes().filter(|&b| b == b'\n').count() + 1
            })
        };
        let raw: RawHints = toml::from_str(text).map_err(|e| {
            let (field, msg) = describe_toml_error(e.message());
            HintsError {
                origin: Origin::File {
                    name: file_name.to_string(),
                    line: line_of(e.span()),
                },
                field,
                msg,
            }
        })?;
        let mut hints = Hints::default();
        let lists = [
            ("words", raw.words),
            ("dates", raw.dates),
            ("numbers", raw.numbers),
            ("passwords", raw.passwords),
        ];
        for (field, list) in lists {
            let Some(list) = list else { continue };
            let list_span = list.span();
            let at = |span: Option<Range<usize>>| Origin::File {
                name: file_name.to_string(),
                line: line_of(span.or_else(|| Some(list_span.clone()))),
            };
            match list.into_inner() {
                RawList::Bad(what) => {
                    return Err(HintsError {
                        origin: at(None),
                        field: Some(field.to_string()),
                        msg: format!(
                            "expected a list of text values like [\"a\", \"b\"], found {what}"
                        ),
                    })
                }
                RawList::Items(items) => {
                    for (span, item) in items {
                        hints.add(field, item).map_err(|msg| HintsError {
                            origin: at(span),
                            field: Some(field.to_string()),
                            msg,
                        })?;
                    }
                }
            }
        }
        Ok(hints)
    }

    /// Adds the values of the quick flags (`--word`, `--date`, `--number`, `--old-password`).
    /// Errors name the flag.
    pub fn add_flags(
        &mut self,
        words: &[String],
        dates: &[String],
        numbers: &[String],
        passwords: &[String],
    ) -> Result<(), HintsError> {
        let groups = [
            ("words", "--word", words),
            ("dates", "--date", dates),
            ("numbers", "--number", numbers),
            ("passwords", "--old-password", passwords),
        ];
        for (field, flag, values) in groups {
            for v in values {
                self.add(field, RawItem::Text(v.clone()))
                    .map_err(|msg| HintsError {
                        origin: Origin::Flag(flag.to_string()),
                        field: None,
                        msg,
                    })?;
            }
        }
        Ok(())
    }

    /// Adds everything from `other` that is not already here (order kept: self first).
    pub fn merge(&mut self, other: Hints) {
        push_new(&mut self.words, other.words);
        push_new(&mut self.dates, other.dates);
        push_new(&mut self.numbers, other.numbers);
        push_new(&mut self.passwords, other.passwords);
    }

    /// True when nothing is remembered at all.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.dates.is_empty()
            && self.numbers.is_empty()
            && self.passwords.is_empty()
    }

    /// Writes these hints as a hints file that [`Hints::from_toml`] reads back unchanged.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# What the owner remembers; every key is optional.\n");
        let list = |out: &mut String, key: &str, values: Vec<String>| {
            if values.is_empty() {
                return;
            }
            let quoted: Vec<String> = values.iter().map(|v| toml_string(v)).collect();
            out.push_str(&format!("{key} = [{}]\n", quoted.join(", ")));
        };
        list(&mut out, "words", self.words.clone());
        list(
            &mut out,
            "dates",
            self.dates.iter().map(|d| d.to_string()).collect(),
        );
        list(&mut out, "numbers", self.numbers.clone());
        list(&mut out, "passwords", self.passwords.clone());
        out
    }

    /// Checks one value and adds it to `field`; duplicates are dropped. The error is the
    /// message alone; the caller knows where the value came from.
    fn add(&mut self, field: &str, item: RawItem) -> Result<(), String> {
        let text = match item {
            RawItem::Text(s) => s,
            // `numbers = [14]` is natural TOML; keep it.
            RawItem::Integer(i) if field == "numbers" && i >= 0 => i.to_string(),
            // `dates = [1995-06-17]` (no quotes) is a TOML date; keep it.
            RawItem::Datetime(s) if field == "dates" => s,
            RawItem::Integer(i) if field == "dates" => i.to_string(),
            RawItem::Integer(i) => format!("{i}"),
            RawItem::Datetime(s) => s,
            RawItem::Other(what) => {
                return Err(format!("expected text in quotes, found {what}"));
            }
        };
        let count = match field {
            "words" => self.words.len(),
            "dates" => self.dates.len(),
            "numbers" => self.numbers.len(),
            _ => self.passwords.len(),
        };
        if count >= MAX_PER_FIELD {
            return Err(format!(
                "more than {MAX_PER_FIELD} values; keep the ones that matter most"
            ));
        }
        if text.chars().any(|c| c.is_control()) {
            // An old password is a secret: never repeat it in an error message.
            if field == "passwords" {
                return Err("a password holds a control character".to_string());
            }
            return Err(format!("{text:?} holds a control character"));
        }
        match field {
            "words" => {
                // One space between the words of a phrase, whatever was typed.
                let word = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if word.is_empty() {
                    return Err("an empty word".to_string());
                }
                if word.chars().count() > MAX_WORD_LEN {
                    return Err(format!("{word:?} is longer than {MAX_WORD_LEN} characters"));
                }
                push_new(&mut self.words, [word]);
            }
            "dates" => {
                // A day written another way ("31/12/1990") is kept as what it means; both
                // readings when day and month could be either way round.
                let dates = HintDate::parse_all(&text);
                if dates.is_empty() {
                    return Err(format!(
                        "{text:?} is not a date (use YYYY-MM-DD, YYYY, YYYY-MM or MM-DD, or write it as 31/12/1990 or December 1990)"
                    ));
                }
                push_new(&mut self.dates, dates);
            }
            "numbers" => {
                let n = text.trim();
                if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "{text:?} is not a number (digits only, e.g. \"14\" or \"0712\")"
                    ));
                }
                if n.len() > MAX_NUMBER_LEN {
                    return Err(format!("{text:?} is longer than {MAX_NUMBER_LEN} digits"));
                }
                push_new(&mut self.numbers, [n.to_string()]);
            }
            "passwords" => {
                // Kept exactly as typed: a space or case may be part of it.
                if text.is_empty() {
                    return Err("an empty password".to_string());
                }
                if text.len() > MAX_PASSWORD_LEN {
                    return Err(format!("a password longer than {MAX_PASSWORD_LEN} bytes"));
                }
                push_new(&mut self.passwords, [text]);
            }
            _ => unreachable!("only the four known fields are added"),
        }
        Ok(())
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, values: impl IntoIterator<Item = T>) {
    for v in values {
        if !list.contains(&v) {
            list.push(v);
        }
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Turns the TOML library's message into (field, message) in our words. The library puts
/// code quotes around names (`word`); ours uses double quotes like the rest of Sesame.
fn describe_toml_error(message: &str) -> (Option<String>, String) {
    let first = message.lines().next().unwrap_or("").trim();
    if let Some(rest) = first.strip_prefix("unknown field `") {
        if let Some(name) = rest.split('`').next() {
            return (
                Some(name.to_string()),
                format!(
                    "unknown field (the fields are {}); check the spelling",
                    FIELDS.join(", ")
                ),
            );
        }
    }
    if let Some(rest) = first.strip_prefix("duplicate key `") {
        if let Some(name) = rest.split('`').next() {
            return (
                Some(name.to_string()),
                "given twice; put all values in one list".to_string(),
            );
        }
    }
    (
        None,
        format!(
            "not valid TOML: {} (check the quotes and brackets, e.g. words = [\"luna\", \"new york\"])",
            first.replace('`', "\"")
        ),
    )
}

/// The file as TOML gives it, before any checking.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHints {
    words: Option<Spanned<RawList>>,
    dates: Option<Spanned<RawList>>,
    numbers: Option<Spanned<RawList>>,
    passwords: Option<Spanned<RawList>>,
}

/// A field's value: a list (each item with its position), one bare value (taken as a list of
/// one), or something that cannot be a list.
enum RawList {
    Items(Vec<(Option<Range<usize>>, RawItem)>),
    Bad(&'static str),
}

/// One value of any TOML type; checked later against its field.
enum RawItem {
    Text(String),
    Integer(i64),
    Datetime(String),
    Other(&'static str),
}

/// The key under which the TOML library hands out a date (a one-entry map).
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for RawItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = RawItem;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawItem, E> {
        Ok(RawItem::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawItem, E> {
        Ok(RawItem::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawItem, E> {
        Ok(RawItem::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawItem, E> {
        Ok(i64::try_from(v).map_or(RawItem::Other("a very large number"), RawItem::Integer))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawItem, E> {
        Ok(RawItem::Other("a decimal number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawItem, E> {
        Ok(RawItem::Other("true/false"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawItem, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawItem::Other("a list inside the list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawItem, A::Error> {
        map_item(map)
    }
}

/// A map is either a TOML date in disguise or a real table.
fn map_item<'de, A: MapAccess<'de>>(mut map: A) -> Result<RawItem, A::Error> {
    let mut item = RawItem::Other("a table");
    while let Some(key) = map.next_key::<String>()? {
        if key == TOML_DATETIME_KEY {
            item = RawItem::Datetime(map.next_value::<String>()?);
        } else {
            map.next_value::<IgnoredAny>()?;
            item = RawItem::Other("a table");
        }
    }
    Ok(item)
}

impl<'de> Deserialize<'de> for RawList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor)
    }
}

struct ListVisitor;

impl ListVisitor {
    fn one(item: RawItem) -> RawList {
        match item {
            RawItem::Other(what) => RawList::Bad(what),
            item => RawList::Items(vec![(None, item)]),
        }
    }
}

impl<'de> Visitor<'de> for ListVisitor {
    type Value = RawList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of values")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawList, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawItem>>()? {
            let span = item.span();
            items.push((Some(span), item.into_inner()));
        }
        Ok(RawList::Items(items))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawList, E> {
        Ok(Self::one(RawItem::Text(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawList, E> {
        Ok(Self::one(RawItem::Integer(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawList, E> {
        Ok(Self::one(ItemVisitor.visit_u64(v)?))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawList, E> {
        Ok(RawList::Bad("a decimal number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawList, E> {
        Ok(RawList::Bad("true/false"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawList, A::Error> {
        Ok(Self::one(map_item(map)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Hints::from_toml(text, "hints.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn old_passwords_stay_out_of_errors_and_debug() {
        let e = err("passwords = [\"s3cret\\u0007x\"]\n");
        assert!(!e.contains("s3cret"), "{e}");
        assert!(e.contains("control character"), "{e}");
        let mut h = Hints::default();
        assert!(h
            .add_flags(&[], &[], &[], &["tab\tpw-secret".into()])
            .is_err_and(|e| !e.to_string().contains("pw-secret")));
        h.add_flags(&[], &[], &[], &["Shadow1".into()]).unwrap();
        let shown = format!("{h:?}");
        assert!(!shown.contains("Shadow1"), "{shown}");
    }

    #[test]
    fn reads_every_field() {
        let h = Hints::from_toml(
            "# c\nwords = [\"Luna\", \"new   york\", \"luna\"]\ndates = [\"1995-06-17\", 1988-03-09, \"2012\", \"12-25\"]\nnumbers = [\"07\", 14]\npasswords = [\"Shadow1 \"]\n",
            "h.toml",
        )
        .unwrap();
        assert_eq!(h.words, ["Luna", "new york", "luna"]);
        let dates: Vec<String> = h.dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["1995-06-17", "1988-03-09", "2012", "12-25"]);
        assert_eq!(h.numbers, ["07", "14"]);
        assert_eq!(h.passwords, ["Shadow1 "]);
        assert_eq!(Hints::from_toml(&h.to_toml(), "x").unwrap(), h);
    }

    #[test]
    fn empty_and_single_values() {
        assert!(Hints::from_toml("", "h").unwrap().is_empty());
        assert!(Hints::from_toml("# nothing\n", "h").unwrap().is_empty());
        let h = Hints::from_toml("words = \"luna\"\nnumbers = 7\n", "h").unwrap();
        assert_eq!(h.words, ["luna"]);
        assert_eq!(h.numbers, ["7"]);
    }

    #[test]
    fn errors_name_line_and_field() {
        assert_eq!(
            err("words = [\"a\"]\n\ndates = [\n  \"1995-01-01\",\n  \"1995-13-40\"]\n"),
            "hints.toml line 5, field \"dates\": \"1995-13-40\" is not a date (use YYYY-MM-DD, YYYY, YYYY-MM or MM-DD, or write it as 31/12/1990 or December 1990)"
        );
        assert_eq!(
            err("words = [\"a\"]\nword = [\"b\"]\n"),
            "hints.toml line 2, field \"word\": unknown field (the fields are words, dates, numbers, passwords); check the spelling"
        );
        assert!(err("numbers = [\"12a\"]")
            .starts_with("hints.toml line 1, field \"numbers\": \"12a\" is not a number"));
        assert!(err("words = [\"\"]").contains("line 1, field \"words\": an empty word"));
        assert!(err("words = [1.5]")
            .contains("field \"words\": expected text in quotes, found a decimal number"));
        assert!(err("words = {a = 1}").contains("field \"words\": expected a list"));
        assert!(err("\n\nwords = [\"a\"").starts_with("hints.toml line 3: not valid TOML"));
        assert!(err("words = [\"a\"]\nwords = [\"b\"]").contains("line 2"));
    }

    #[test]
    fn too_many_values() {
        let many: Vec<String> = (0..=MAX_PER_FIELD).map(|i| format!("\"w{i}\"")).collect();
        let e = err(&format!("words = [\n{}]", many.join(",\n")));
        assert!(
            e.starts_with(&format!(
                "hints.toml line {}, field \"words\": more than",
                MAX_PER_FIELD + 2
            )),
            "{e}"
        );
    }

    #[test]
    fn flags() {
        let mut h = Hints::default();
        h.add_flags(&["rex".into()], &["1990".into()], &[], &["old!".into()])
            .unwrap();
        assert_eq!(h.words, ["rex"]);
        let e = h
            .add_flags(&[], &["1995-13-40".into()], &[], &[])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--date: \"1995-13-40\" is not a date (use YYYY-MM-DD, YYYY, YYYY-MM or MM-DD, or write it as 31/12/1990 or December 1990)"
        );
        let other = Hints {
            words: vec!["rex".into(), "max".into()],
            ..Hints::default()
        };
        h.merge(other);
        assert_eq!(h.words, ["rex", "max"]);
    }
}
