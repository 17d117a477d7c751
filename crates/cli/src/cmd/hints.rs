//! `sesame hints [--out FILE] [--force]`: a short questionnaire about what the owner remembers,
//! written as a hints file for `sesame recover --hints FILE`.
//!
//! Plain prompts on standard error and answers on standard input, one per line, a blank line
//! ending each list, so it works on any terminal and can be fed from a script. Each answer is
//! checked as it is typed (a date that is not a date is asked again), and the file is written
//! through the same code that reads it back, so it is always valid.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sesame_guess::hints::{Answers, Hints, Question};

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the hints file
    #[arg(long, short = 'o', value_name = "FILE", default_value = "hints.toml")]
    pub out: PathBuf,
    /// Replace the file if it already exists
    #[arg(long)]
    pub force: bool,
}

/// How each question is asked, with examples of answers.
fn ask(q: Question) -> (&'static str, &'static str) {
    match q {
        Question::Names => (
            "Names of people and pets: your children, partner, parents, pets, nicknames",
            "Luna, Rex, Oscar",
        ),
        Question::Places => (
            "Places, teams and words you like: a town, a street, a team, a band, a phrase",
            "new york, arsenal, carpe diem",
        ),
        Question::Dates => (
            "Dates that matter: birthdays, anniversaries, years, written as you would",
            "31/12/1990, December 1990, 1995-06-17, 2012",
        ),
        Question::Numbers => (
            "Numbers that mean something: house, shirt, lucky number",
            "14, 221, 007",
        ),
        Question::Phones => (
            "Phone numbers, now or from before, in any format",
            "(541) 555-0127, +44 7700 900123",
        ),
        Question::Usernames => (
            "Usernames and e-mail addresses you use",
            "nightowl342, kim.lee@mail.com",
        ),
        Question::Passcodes => (
            "Passcodes of this or an old iPhone (the digits you unlock it with)",
            "2580, 140612",
        ),
        Question::Passwords => (
            "Passwords you use or used elsewhere, exactly as typed (they will be shown)",
            "Rainbow7, letmein!",
        ),
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if args.out.exists() && !args.force {
        bail!(
            "{} already exists; add --force to replace it, or --out FILE to write elsewhere",
            args.out.display()
        );
    }
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut prompts = io::stderr();
    let hints = questionnaire(&mut input, &mut prompts).context("reading the answers")?;
    if hints.is_empty() {
        eprintln!("Nothing entered, so no hints file was written.");
        return Ok(1);
    }
    write_file(&args.out, &hints.to_toml(), args.force)?;
    let counts = [
        (hints.words.len(), "word"),
        (hints.dates.len(), "date"),
        (hints.numbers.len(), "number"),
        (hints.passwords.len(), "old password"),
    ];
    let counts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    eprintln!("\nWrote {} ({}).", args.out.display(), counts.join(", "));
    if !hints.passwords.is_empty() {
        eprintln!("It holds your old passwords: delete it when the backup is open again.");
    }
    eprintln!(
        "Next: sesame recover BACKUP --hints {}   (or sesame candidates --hints {} to see the guesses)",
        args.out.display(),
        args.out.display()
    );
    Ok(0)
}

/// Asks every question; each list ends at a blank line, everything ends at end of input.
/// Answers that are not valid (a date that is not a date) are explained and asked again.
fn questionnaire(input: &mut impl BufRead, prompts: &mut impl Write) -> io::Result<Hints> {
    let mut answers = Answers::default();
    writeln!(
        prompts,
        "What do you remember about the password? Type one answer per line (or several,\n\
         separated by commas); an empty line goes to the next question. Anything helps: most\n\
         forgotten passwords are built from these."
    )?;
    'questions: for q in Question::ALL {
        let (asked, examples) = ask(q);
        writeln!(prompts, "\n{asked} (e.g. {examples}):")?;
        loop {
            write!(prompts, "> ")?;
            prompts.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                writeln!(prompts)?;
                break 'questions; // end of input: keep what was given
            }
            // Only the line ending goes: spaces may be part of an old password.
            let answer = line.trim_end_matches(['\n', '\r']);
            if answer.trim().is_empty() {
                break;
            }
            // "Rex, Luna" is two answers, not one phrase (the library splits them).
            let added = answers.add(q, answer);
            for e in &added.refused {
                if added.kept == 0 {
                    writeln!(prompts, "  {}; try again", e.msg)?;
                } else {
                    writeln!(
                        prompts,
                        "  {}; the other answers on that line were kept: type this one again",
                        e.msg
                    )?;
                }
            }
        }
    }
    answers
        .to_hints()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.msg))
}

/// Writes the file under a temporary name next to it and renames it into place, so a file is
/// either complete or absent; readable by the owner only (it may hold old passwords).
fn write_file(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".sesame-hints")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    // tempfile creates the file with mode 0600 on Unix already.
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let persisted = if force {
        tmp.persist(path).map(drop)
    } else {
        // Someone may have created the file since the check at the start.
        tmp.persist_noclobber(path).map(drop)
    };
    persisted.map_err(|e| {
        anyhow::Error::new(e.error).context(format!("cannot write {}", path.display()))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(answers: &str) -> (Hints, String) {
        let mut input = answers.as_bytes();
        let mut prompts = Vec::new();
        let h = questionnaire(&mut input, &mut prompts).unwrap();
        (h, String::from_utf8(prompts).unwrap())
    }

    #[test]
    fn fills_each_list_and_reasks_bad_answers() {
        let (h, prompts) =
            run_with("luna\n\nnew york\n\n1995-13-40\n1995-06-17\n\n14\n\n\n\n\nRainbow7 \n\n");
        assert_eq!(h.words, ["luna", "new york"]);
        assert_eq!(h.dates.len(), 1);
        assert_eq!(h.numbers, ["14"]);
        assert_eq!(h.passwords, ["Rainbow7 "]);
        assert!(
            prompts.contains("\"1995-13-40\" is not a date"),
            "{prompts}"
        );
        assert_eq!(Hints::from_toml(&h.to_toml(), "x").unwrap(), h);
    }

    #[test]
    fn commas_separate_answers_but_not_old_passwords() {
        let (h, _) = run_with(
            "Rex, Luna\n\n\nMarch 17, 1985, 1985-02-01\n\n7,42\n\n(541) 555-0127\n\nnightowl342\n\n2580\n\npass,word\n\n",
        );
        assert_eq!(h.words, ["Rex", "Luna", "nightowl342"]);
        assert_eq!(
            h.dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["1985-03-17", "1985-02-01"]
        );
        assert_eq!(h.numbers, ["7", "42", "5415550127", "2580"]);
        assert_eq!(h.passwords, ["pass,word", "2580"]);
    }

    #[test]
    fn one_bad_answer_on_a_line_keeps_the_others() {
        let (h, prompts) = run_with("\n\n1985, 1995-13-40, 2001-06-17\n1995-12-04\n\n");
        assert_eq!(
            h.dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["1985", "2001-06-17", "1995-12-04"]
        );
        assert!(
            prompts.contains("\"1995-13-40\" is not a date")
                && prompts.contains("the other answers on that line were kept"),
            "{prompts}"
        );
    }

    #[test]
    fn end_of_input_keeps_what_was_given() {
        let (h, _) = run_with("rex");
        assert_eq!(h.words, ["rex"]);
        let (h, _) = run_with("");
        assert!(h.is_empty());
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hints.toml");
        write_file(&path, "words = [\"a\"]\n", false).unwrap();
        assert!(write_file(&path, "words = [\"b\"]\n", false).is_err());
        write_file(&path, "words = [\"c\"]\n", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "words = [\"c\"]\n");
        let err = run(Args {
            out: path,
            force: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
    }
}
