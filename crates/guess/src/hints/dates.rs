//! Dates as people remember them: a full day, a year alone, or a birthday without its year.

use std::fmt;

/// A remembered date. At least the year, or both month and day, are known: `1995-06-17`,
/// `1995`, `06-17`, or a month of a year: `1995-06` (a wedding in June 1995).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HintDate {
    pub year: Option<u16>,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

/// Oldest and newest year accepted: wide enough for any date that matters to a living person
/// (and their parents), narrow enough to catch typos like `19955`.
const MIN_YEAR: u16 = 1000;
const MAX_YEAR: u16 = 2999;

impl HintDate {
    /// Parses `YYYY-MM-DD`, `YYYY`, `YYYY-MM` or `MM-DD` (month and day may drop their
    /// leading zero). `None` when it is not one of those or not a real day of the calendar.
    pub fn parse(text: &str) -> Option<HintDate> {
        let parts: Vec<&str> = text.trim().split('-').collect();
        let num = |s: &str, min_len: usize, max_len: usize| -> Option<u16> {
            if s.len() < min_len || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let date = match parts.as_slice() {
            [y] => HintDate {
                year: Some(num(y, 4, 4)?),
                month: None,
                day: None,
            },
            [y, m, d] => HintDate {
                year: Some(num(y, 4, 4)?),
                month: Some(u8::try_from(num(m, 1, 2)?).ok()?),
                day: Some(u8::try_from(num(d, 1, 2)?).ok()?),
            },
            [y, m] if y.len() == 4 => HintDate {
                year: Some(num(y, 4, 4)?),
                month: Some(u8::try_from(num(m, 1, 2)?).ok()?),
                day: None,
            },
            [m, d] => HintDate {
                year: None,
                month: Some(u8::try_from(num(m, 1, 2)?).ok()?),
                day: Some(u8::try_from(num(d, 1, 2)?).ok()?),
            },
            _ => return None,
        };
        date.is_valid().then_some(date)
    }

    /// Every date `text` may mean: the forms of [`HintDate::parse`], and the ways people write
    /// a day: `31/12/1990`, `12/31/1990`, `31.12.1990`, `31-12-90`, `4/9/81` (a two-digit
    /// year is the latest century that does not put it in the future). When day and month
    /// could be either way round (`05/06/1990`) both readings are given, month first for a
    /// slash (the US habit) and day first for a dot (the European one). A two-digit year
    /// alone (`90`) is a year. A month in words with a year (`December 1990`, `dec 90`,
    /// `17 March 1985`, `March 17, 1985`) and a month with a year in digits (`12/1990`) are
    /// read too. Empty when it is none of these.
    pub fn parse_all(text: &str) -> Vec<HintDate> {
        if let Some(d) = HintDate::parse(text) {
            return vec![d];
        }
        let text = text.trim();
        if let Some(d) = parse_month_words(text) {
            return vec![d];
        }
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        let year_of = |s: &str| -> Option<u16> {
            match s.len() {
                4 => s.parse().ok(),
                2 => {
                    let yy: u16 = s.parse().ok()?;
                    let recent = (super::model::RECENT_YEAR + 1) as u16;
                    let y = 2000 + yy;
                    Some(if y > recent { y - 100 } else { y })
                }
                _ => None,
            }
        };
        if text.len() == 2 && digits(text) {
            let year = year_of(text);
            return year
                .map(|y| HintDate {
                    year: Some(y),
                    month: None,
                    day: None,
                })
                .filter(HintDate::is_valid)
                .into_iter()
                .collect();
        }
        let Some(sep) = ['/', '.', '-'].into_iter().find(|&c| text.contains(c)) else {
            return Vec::new();
        };
        let parts: Vec<&str> = text.split(sep).collect();
        if let [m, y] = parts.as_slice() {
            // A month and a year: "12/1990", "06.95".
            let month = if digits(m) && m.len() <= 2 {
                m.parse::<u8>().ok()
            } else {
                None
            };
            let d = match (month, digits(y).then(|| year_of(y)).flatten()) {
                (Some(month), Some(year)) => HintDate {
                    year: Some(year),
                    month: Some(month),
                    day: None,
                },
                _ => return Vec::new(),
            };
            return if d.is_valid() { vec![d] } else { Vec::new() };
        }
        let [a, b, y] = parts.as_slice() else {
            return Vec::new();
        };
        if !(digits(a) && digits(b) && digits(y)) || a.len() > 2 || b.len() > 2 {
            return Vec::new();
        }
        let (Ok(a), Ok(b), Some(year)) = (a.parse::<u8>(), b.parse::<u8>(), year_of(y)) else {
            return Vec::new();
        };
        let make = |month: u8, day: u8| HintDate {
            year: Some(year),
            month: Some(month),
            day: Some(day),
        };
        // (month, day) readings in order of likelihood for this separator.
        let readings = if sep == '/' {
            [make(a, b), make(b, a)]
        } else {
            [make(b, a), make(a, b)]
        };
        let mut out: Vec<HintDate> = Vec::new();
        for d in readings {
            if d.is_valid() && !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    fn is_valid(&self) -> bool {
        if let Some(y) = self.year {
            if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
                return false;
            }
        }
        match (self.month, self.day) {
            (None, None) => self.year.is_some(),
            (Some(m), None) => self.year.is_some() && (1..=12).contains(&m),
            (Some(m), Some(d)) => {
                (1..=12).contains(&m) && d >= 1 && d <= days_in_month(self.year, m)
            }
            _ => false,
        }
    }
}

/// English month names, January first (the first list of the model's month names).
pub const MONTH_NAMES: [&str; 12] = super::model::MONTHS[0];

/// The month (1-12) a word names: its full name, or its first three letters ("Sept" too).
fn month_of(word: &str) -> Option<u8> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.chars().count() < 3 {
        return None;
    }
    MONTH_NAMES
        .iter()
        .position(|m| m.starts_with(&w))
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// A date with its month in words: "December 1990", "dec 90", "17 March 1985", "March 17,
/// 1985", "March 17" (a birthday). `None` when the words are not one of these.
fn parse_month_words(text: &str) -> Option<HintDate> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: &str, max_len: usize| -> Option<u16> {
        let w = w.trim_end_matches(|c: char| c.is_alphabetic()); // "17th"
        (!w.is_empty() && w.len() <= max_len && w.bytes().all(|b| b.is_ascii_digit()))
            .then(|| w.parse().ok())
            .flatten()
    };
    let year = |w: &str| -> Option<u16> {
        match w.len() {
            4 => number(w, 4),
            2 => HintDate::parse_all(w).first().and_then(|d| d.year),
            _ => None,
        }
    };
    let day = |w: &str| number(w, 2).and_then(|d| u8::try_from(d).ok());
    let d = match words.as_slice() {
        // A month and a number: a day when it can be one ("March 17"), else a year
        // ("December 1990", "dec 90").
        [a, b] => {
            let (month, n) = match (month_of(a), month_of(b)) {
                (Some(m), None) => (m, *b),
                (None, Some(m)) => (m, *a),
                _ => return None,
            };
            match day(n).filter(|d| (1..=31).contains(d)) {
                Some(d) => HintDate {
                    year: None,
                    month: Some(month),
                    day: Some(d),
                },
                None => HintDate {
                    year: Some(year(n)?),
                    month: Some(month),
                    day: None,
                },
            }
        }
        [m, d, y] if month_of(m).is_some() => HintDate {
            year: Some(year(y)?),
            month: month_of(m),
            day: Some(day(d)?),
        },
        [d, m, y] => HintDate {
            year: Some(year(y)?),
            month: Some(month_of(m)?),
            day: Some(day(d)?),
        },
        _ => return None,
    };
    d.is_valid().then_some(d)
}

/// Days in a month; February has 29 when the year is unknown (a birthday on 02-29 exists).
fn days_in_month(year: Option<u16>, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 => match year {
            Some(y) if !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) => 28,
            _ => 29,
        },
        _ => 31,
    }
}

impl fmt::Display for HintDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.year, self.month, self.day) {
            (Some(y), Some(m), Some(d)) => write!(f, "{y:04}-{m:02}-{d:02}"),
            (Some(y), Some(m), None) => write!(f, "{y:04}-{m:02}"),
            (Some(y), _, _) => write!(f, "{y:04}"),
            (None, Some(m), Some(d)) => write!(f, "{m:02}-{d:02}"),
            _ => f.write_str("?"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let d = HintDate::parse("1995-06-17").unwrap();
        assert_eq!((d.year, d.month, d.day), (Some(1995), Some(6), Some(17)));
        assert_eq!(HintDate::parse("1995").unwrap().to_string(), "1995");
        assert_eq!(HintDate::parse("6-7").unwrap().to_string(), "06-07");
        assert_eq!(
            HintDate::parse(" 2000-02-29 ").unwrap().to_string(),
            "2000-02-29"
        );
        assert!(HintDate::parse("02-29").is_some());
    }

    #[test]
    fn written_forms() {
        let all = |t: &str| -> Vec<String> {
            HintDate::parse_all(t)
                .iter()
                .map(|d| d.to_string())
                .collect()
        };
        assert_eq!(all("31/12/1990"), ["1990-12-31"]);
        assert_eq!(all("12/31/1990"), ["1990-12-31"]);
        assert_eq!(all("05/06/1990"), ["1990-05-06", "1990-06-05"]);
        assert_eq!(all("05.06.1990"), ["1990-06-05", "1990-05-06"]);
        assert_eq!(all("4/9/81"), ["1981-04-09", "1981-09-04"]);
        assert_eq!(all("7/7/07"), ["2007-07-07"]);
        assert_eq!(all("90"), ["1990"]);
        assert_eq!(all("1995-06-17"), ["1995-06-17"]);
        // A month of a year, and a month in words.
        assert_eq!(all("1995-06"), ["1995-06"]);
        assert_eq!(all("12/1990"), ["1990-12"]);
        assert_eq!(all("06.95"), ["1995-06"]);
        assert_eq!(all("December 1990"), ["1990-12"]);
        assert_eq!(all("dec 90"), ["1990-12"]);
        assert_eq!(all("Sept. 2004"), ["2004-09"]);
        assert_eq!(all("17 March 1985"), ["1985-03-17"]);
        assert_eq!(all("March 17, 1985"), ["1985-03-17"]);
        assert_eq!(all("march 17th 1985"), ["1985-03-17"]);
        assert_eq!(all("March 17"), ["03-17"]);
        assert_eq!(all("1 may"), ["05-01"]);
        for bad in [
            "13/1990",
            "Smarch 1990",
            "ma 1990",
            "December",
            "30 February 1990",
            "May 123",
        ] {
            assert!(all(bad).is_empty(), "{bad:?}");
        }
        for bad in [
            "31/13/1990",
            "1/2/3",
            "a/b/1990",
            "1990/01",
            "",
            "123",
            "31/12/19901",
        ] {
            assert!(all(bad).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "1995-13-40",
            "1995-02-29",
            "1900-02-29",
            "95",
            "19955",
            "1995-13",
            "95-06",
            "06/17/1995",
            "1995-06-17-01",
            "-1995",
            "+995-01-01",
            "0999",
            "1995-00-10",
            "1995-1-0",
            "a",
        ] {
            assert_eq!(HintDate::parse(bad), None, "{bad:?}");
        }
    }
}
