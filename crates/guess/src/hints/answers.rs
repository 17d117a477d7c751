//! The questionnaire's answers as people type them, turned into [`Hints`]: the one place
//! where the CLI's `sesame hints` and the web app's form meet the hint model.
//!
//! Each question has its own list. What a list means to the model is decided here: names
//! come before places among the words (the first things named weigh most), phone numbers are
//! numbers written with spaces and dashes, a username is a word whose letters and digits the
//! model splits, a passcode is an old password and also a number.

use serde::Deserialize;

use super::dates::HintDate;
use super::parse::{Hints, HintsError, Origin};

/// The questions, in the order they are asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Question {
    /// People and pets: children, partner, parents, nicknames.
    Names,
    /// Places, teams, words and phrases.
    Places,
    /// Birthdays, anniversaries, years, written as the person writes them.
    Dates,
    /// House, shirt, lucky numbers.
    Numbers,
    /// Phone numbers, now or old, in any format.
    Phones,
    /// Usernames and e-mail addresses.
    Usernames,
    /// Passcodes of this or an old phone.
    Passcodes,
    /// Passwords used elsewhere, exactly as typed.
    Passwords,
}

impl Question {
    pub const ALL: [Question; 8] = [
        Question::Names,
        Question::Places,
        Question::Dates,
        Question::Numbers,
        Question::Phones,
        Question::Usernames,
        Question::Passcodes,
        Question::Passwords,
    ];

    /// The name of its list in [`Answers`] (and in the web app's JSON).
    pub fn key(self) -> &'static str {
        match self {
            Question::Names => "names",
            Question::Places => "places",
            Question::Dates => "dates",
            Question::Numbers => "numbers",
            Question::Phones => "phones",
            Question::Usernames => "usernames",
            Question::Passcodes => "passcodes",
            Question::Passwords => "passwords",
        }
    }
}

/// What an owner answered, a list per question, as typed. Lists may be empty; an answer may
/// hold several separated by commas ("Rex, Luna"), except a password, which is kept whole.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Answers {
    pub names: Vec<String>,
    pub places: Vec<String>,
    pub dates: Vec<String>,
    pub numbers: Vec<String>,
    pub phones: Vec<String>,
    pub usernames: Vec<String>,
    pub passcodes: Vec<String>,
    pub passwords: Vec<String>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("names", &self.names)
            .field("places", &self.places)
            .field("dates", &self.dates)
            .field("numbers", &self.numbers)
            .field("phones", &self.phones)
            .field("usernames", &self.usernames)
            .field(
                "passcodes",
                &format_args!("<{} redacted>", self.passcodes.len()),
            )
            .field(
                "passwords",
                &format_args!("<{} redacted>", self.passwords.len()),
            )
            .finish()
    }
}

/// What [`Answers::add`] did with one typed line.
#[derive(Debug, Default)]
pub struct Added {
    /// How many answers were kept.
    pub kept: usize,
    /// The answers that were not understood, each with why; none of them was kept.
    pub refused: Vec<HintsError>,
}

impl Answers {
    /// The list of one question.
    pub fn list_mut(&mut self, q: Question) -> &mut Vec<String> {
        match q {
            Question::Names => &mut self.names,
            Question::Places => &mut self.places,
            Question::Dates => &mut self.dates,
            Question::Numbers => &mut self.numbers,
            Question::Phones => &mut self.phones,
            Question::Usernames => &mut self.usernames,
            Question::Passcodes => &mut self.passcodes,
            Question::Passwords => &mut self.passwords,
        }
    }

    /// Adds what was typed for a question, split into its answers (see [`split`]). Each answer
    /// is checked on its own: the ones the model understands are kept, and each one it does not
    /// ("1990-13-40" as a date) is returned with why, so one typo does not lose the rest of
    /// the line.
    pub fn add(&mut self, q: Question, typed: &str) -> Added {
        let mut added = Added::default();
        for answer in split(q, typed) {
            self.list_mut(q).push(answer);
            match self.to_hints() {
                Ok(_) => added.kept += 1,
                Err(e) => {
                    self.list_mut(q).pop();
                    added.refused.push(e);
                }
            }
        }
        added
    }

    /// The hints these answers give the model. Words: names, then places, then usernames
    /// (the order the model weighs them in). Numbers: numbers, then phone numbers as digits,
    /// then passcodes. Old passwords: passwords, then passcodes.
    pub fn to_hints(&self) -> Result<Hints, HintsError> {
        let all = |q: Question, list: &[String]| -> Vec<String> {
            list.iter().flat_map(|a| split(q, a)).collect()
        };
        let mut words = all(Question::Names, &self.names);
        words.extend(all(Question::Places, &self.places));
        words.extend(all(Question::Usernames, &self.usernames));
        let dates = all(Question::Dates, &self.dates);
        let mut numbers = all(Question::Numbers, &self.numbers);
        let mut phones = Vec::new();
        for p in all(Question::Phones, &self.phones) {
            phones.push(phone_digits(&p).ok_or_else(|| HintsError {
                origin: Origin::Flag("phones".into()),
                field: Some("phones".into()),
                msg: format!("{p:?} is not a phone number (digits, spaces, dashes, dots, brackets and a leading +)"),
            })?);
        }
        numbers.extend(phones);
        let passcodes = all(Question::Passcodes, &self.passcodes);
        numbers.extend(
            passcodes
                .iter()
                .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
                .cloned(),
        );
        let mut passwords = all(Question::Passwords, &self.passwords);
        passwords.extend(passcodes);
        let mut h = Hints::default();
        h.add_flags(&words, &dates, &numbers, &passwords)?;
        Ok(h)
    }
}

/// The answers in one typed line: split at commas, trimmed, empty ones dropped. A password is
/// kept whole (a comma or a space may be part of it). A date written with a comma ("March 17,
/// 1985") is kept together: a piece without a year joins the next when together they make a
/// whole date.
/// A number may be written with spaces or dashes ("555 0127").
pub fn split(q: Question, typed: &str) -> Vec<String> {
    let typed = typed.trim_end_matches(['\n', '\r']);
    if q == Question::Passwords {
        return if typed.is_empty() {
            Vec::new()
        } else {
            vec![typed.to_string()]
        };
    }
    let pieces: Vec<&str> = typed
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let p = pieces[i];
        if q == Question::Dates && i + 1 < pieces.len() && !has_year(p) {
            let joined = format!("{p}, {}", pieces[i + 1]);
            let whole_day = HintDate::parse_all(&joined)
                .first()
                .is_some_and(|d| d.year.is_some() && d.day.is_some());
            if whole_day {
                out.push(joined);
                i += 2;
                continue;
            }
        }
        let answer = match q {
            Question::Numbers | Question::Passcodes => {
                phone_digits(p).unwrap_or_else(|| p.to_string())
            }
            _ => p.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        out.push(answer);
        i += 1;
    }
    out
}

/// Whether `text` is a date with its year ("March 17" is not).
fn has_year(text: &str) -> bool {
    HintDate::parse_all(text)
        .first()
        .is_some_and(|d| d.year.is_some())
}

/// The digits of a number written with separators ("(541) 555-0127", "+44 7700 900123"),
/// `None` when anything else is in it or there are no digits.
fn phone_digits(typed: &str) -> Option<String> {
    let t = typed.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || " -.()/".contains(c))
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_separate_answers_but_not_a_date_or_a_password() {
        assert_eq!(split(Question::Names, "Rex, Luna ,, "), ["Rex", "Luna"]);
        assert_eq!(
            split(Question::Dates, "March 17, 1985, 2001"),
            ["March 17, 1985", "2001"]
        );
        assert_eq!(
            split(Question::Dates, "31/12/1990, 1985"),
            ["31/12/1990", "1985"]
        );
        assert_eq!(split(Question::Passwords, "pass, word "), ["pass, word "]);
        assert_eq!(split(Question::Numbers, "555 0127, 14"), ["5550127", "14"]);
        assert!(split(Question::Places, " , ").is_empty());
    }

    #[test]
    fn each_list_goes_where_the_model_wants_it() {
        let a = Answers {
            names: vec!["Rex, Luna".into()],
            places: vec!["Leeds".into()],
            usernames: vec!["nightowl342".into()],
            dates: vec!["December 1990".into()],
            numbers: vec!["14".into()],
            phones: vec!["(541) 555-0127".into()],
            passcodes: vec!["2580".into()],
            passwords: vec!["Rainbow7!".into()],
        };
        let h = a.to_hints().unwrap();
        assert_eq!(h.words, ["Rex", "Luna", "Leeds", "nightowl342"]);
        assert_eq!(h.dates.len(), 1);
        assert_eq!(h.dates[0].to_string(), "1990-12");
        assert_eq!(h.numbers, ["14", "5415550127", "2580"]);
        assert_eq!(h.passwords, ["Rainbow7!", "2580"]);
    }

    #[test]
    fn a_wrong_answer_is_named_and_the_rest_of_the_line_is_kept() {
        let mut a = Answers::default();
        let added = a.add(Question::Names, "Rex, Luna");
        assert_eq!((added.kept, added.refused.len()), (2, 0));
        let added = a.add(Question::Dates, "1990-13-40");
        assert_eq!(added.kept, 0);
        assert!(
            added.refused[0]
                .msg
                .contains("\"1990-13-40\" is not a date"),
            "{}",
            added.refused[0].msg
        );
        let added = a.add(Question::Phones, "call me");
        assert!(added.refused[0].msg.contains("not a phone number"));
        assert!(a.dates.is_empty() && a.phones.is_empty());
        // One typo among good answers: the good ones stay, the bad one is named.
        let added = a.add(Question::Dates, "1985, 1990-13-40, March 17, 2001");
        assert_eq!(added.kept, 2);
        assert_eq!(added.refused.len(), 1);
        assert!(added.refused[0].msg.contains("1990-13-40"));
        assert_eq!(a.dates, ["1985", "March 17, 2001"]);
        let added = a.add(Question::Phones, "555-0127, call me, +44 7700 900123");
        assert_eq!((added.kept, added.refused.len()), (2, 1));
        assert_eq!(a.to_hints().unwrap().numbers.len(), 2);
        assert_eq!(a.names, ["Rex", "Luna"]);
    }
}
