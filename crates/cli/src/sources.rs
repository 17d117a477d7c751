//! The guess-source options `recover`, `candidates` and `keyspace` share (and the
//! `sesame-hashtopolis` binary), and the one function that turns them into a plan, so that what
//! is counted, printed and tried can never disagree.
//!
//! hashcat habits are understood: `-m 14800` (a hash mode where a mask is expected) is
//! recognised, a mask that names a file is read as a `.hcmask` file.

use anyhow::{bail, Context};
use sesame_guess::hints::{self, Hints};
use sesame_guess::mask::{self, Mask, MaskSource};
use sesame_guess::rules::{Rules, RulesSource};
use sesame_guess::wordlist::Wordlist;
use sesame_guess::{common::CommonSource, pins::PinSource, Plan, Source};
use std::path::{Path, PathBuf};

/// hashcat's hash modes for iTunes backups: given to `-m`, they are not masks.
const HASHCAT_MODES: [(&str, &str); 2] = [
    ("14700", "iTunes backup < 10.0"),
    ("14800", "iTunes backup >= 10.0"),
];

/// Where guesses come from. Order of the stream: hints, wordlists (× rules), masks, common
/// passwords, PINs. With none of --wordlist/--mask/--common/--pins, the default plan: hints
/// (when given), common passwords, PINs.
#[derive(clap::Args, Default, Clone)]
#[command(next_help_heading = "Guess sources")]
pub struct SourceArgs {
    /// Hints file (TOML: words, dates, numbers, passwords); see `sesame hints`
    #[arg(long, value_name = "FILE")]
    pub hints: Option<PathBuf>,
    /// A word you may have used (a name, pet, place, team); repeatable
    #[arg(long = "word", value_name = "WORD")]
    pub words: Vec<String>,
    /// A date that matters (birthday, anniversary), e.g. 1990-05-17; repeatable
    #[arg(long = "date", value_name = "DATE")]
    pub dates: Vec<String>,
    /// A number that matters (house, shirt, lucky number); repeatable
    #[arg(long = "number", value_name = "DIGITS")]
    pub numbers: Vec<String>,
    /// A password or passcode you used before; repeatable
    #[arg(long = "old-password", value_name = "PW")]
    pub old_passwords: Vec<String>,
    /// Wordlist, one guess a line (`-` reads standard input); repeatable
    #[arg(long = "wordlist", short = 'w', value_name = "FILE")]
    pub wordlists: Vec<String>,
    /// hashcat rules applied to every wordlist word (or to --common without a wordlist)
    #[arg(long, short = 'r', value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// hashcat mask: ?l ?u ?d ?s ?a ?h ?H ?1-?4, other characters literal, or a .hcmask file; repeatable
    #[arg(long = "mask", short = 'm', value_name = "MASK")]
    pub masks: Vec<String>,
    /// Custom charset ?1 for masks
    #[arg(short = '1', long = "custom-charset1", value_name = "CHARS")]
    pub charset1: Option<String>,
    /// Custom charset ?2 for masks
    #[arg(short = '2', long = "custom-charset2", value_name = "CHARS")]
    pub charset2: Option<String>,
    /// Custom charset ?3 for masks
    #[arg(short = '3', long = "custom-charset3", value_name = "CHARS")]
    pub charset3: Option<String>,
    /// Custom charset ?4 for masks
    #[arg(short = '4', long = "custom-charset4", value_name = "CHARS")]
    pub charset4: Option<String>,
    /// Try every prefix length of each mask, shortest first
    #[arg(long, short = 'i')]
    pub increment: bool,
    /// Shortest length with --increment
    #[arg(long, value_name = "N", requires = "increment")]
    pub increment_min: Option<usize>,
    /// Longest length with --increment
    #[arg(long, value_name = "N", requires = "increment")]
    pub increment_max: Option<usize>,
    /// The built-in list of common passwords, most frequent first
    #[arg(long)]
    pub common: bool,
    /// 4- and 6-digit PINs, likeliest first
    #[arg(long)]
    pub pins: bool,
    /// The wider search after the default plan: every hint word with every four digits
    #[arg(long)]
    pub wider: bool,
    /// Masks in plain order (aa, ab, ac...) instead of likeliest first (hashcat's flag)
    #[arg(long)]
    pub markov_disable: bool,
}

/// Shows how many old passwords were given, never the passwords themselves.
impl std::fmt::Debug for SourceArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceArgs")
            .field("hints", &self.hints)
            .field("words", &self.words)
            .field("dates", &self.dates)
            .field("numbers", &self.numbers)
            .field(
                "old_passwords",
                &format_args!("<{} redacted>", self.old_passwords.len()),
            )
            .field("wordlists", &self.wordlists)
            .field("rules", &self.rules)
            .field("masks", &self.masks)
            .field("charset1", &self.charset1)
            .field("charset2", &self.charset2)
            .field("charset3", &self.charset3)
            .field("charset4", &self.charset4)
            .field("increment", &self.increment)
            .field("increment_min", &self.increment_min)
            .field("increment_max", &self.increment_max)
            .field("common", &self.common)
            .field("pins", &self.pins)
            .field("wider", &self.wider)
            .field("markov_disable", &self.markov_disable)
            .finish()
    }
}

impl SourceArgs {
    /// True when any explicit source (not hints) is given.
    pub fn has_explicit_source(&self) -> bool {
        !self.wordlists.is_empty() || !self.masks().is_empty() || self.common || self.pins
    }

    /// The masks given, without hashcat's hash modes (`-m 14800`), which are not masks.
    fn masks(&self) -> Vec<&str> {
        self.masks
            .iter()
            .map(String::as_str)
            .filter(|m| !HASHCAT_MODES.iter().any(|(mode, _)| m == mode))
            .collect()
    }

    /// What the options say that is worth a note (a hashcat hash mode given to -m), one line
    /// each, for standard error.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in &self.masks {
            if let Some((mode, name)) = HASHCAT_MODES.iter().find(|(mode, _)| m == mode) {
                out.push(format!(
                    "-m {mode} is hashcat's hash mode for {name}; Sesame reads the key scheme from the hash line itself, so it is not needed (and not taken as a mask)"
                ));
            }
        }
        out
    }

    fn hints(&self) -> anyhow::Result<Option<Hints>> {
        let mut h = match &self.hints {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the hints file {}", path.display()))?;
                Hints::from_toml(&text, &path.display().to_string())?
            }
            None => Hints::default(),
        };
        h.add_flags(&self.words, &self.dates, &self.numbers, &self.old_passwords)?;
        let given = self.hints.is_some()
            || !self.words.is_empty()
            || !self.dates.is_empty()
            || !self.numbers.is_empty()
            || !self.old_passwords.is_empty();
        Ok(given.then_some(h))
    }

    /// Whether the plan is the default one (no explicit source).
    pub fn is_default_plan(&self) -> bool {
        !self.has_explicit_source()
    }

    /// The plan these options describe. Errors name the file, mask or rule at fault.
    pub fn build_plan(&self) -> anyhow::Result<Plan> {
        let hints = self.hints()?;
        if self.wider {
            if self.has_explicit_source() {
                bail!("--wider is a plan of its own: give it with hints only (--hints or --word)");
            }
            let plan = hints::wider_plan(&hints.unwrap_or_default());
            if plan.is_empty() {
                bail!("--wider puts four digits after each hint word: give some with --word or --hints");
            }
            return Ok(plan);
        }
        if self.rules.is_some() && self.wordlists.is_empty() && !self.common {
            bail!("--rules needs words to apply them to: add --wordlist FILE (or --common)");
        }
        let masks = self.masks();
        for m in &masks {
            if m.len() >= 3 && m.bytes().all(|b| b.is_ascii_digit()) && !Path::new(m).is_file() {
                bail!(
                    "-m {m}: in Sesame -m is a mask, and {m} looks like a hashcat hash mode; iTunes backups are hashcat modes 14700 and 14800, and Sesame reads which from the hash line, so leave it out (to try the password {m} itself, use --old-password {m})"
                );
            }
        }
        if (self.increment || self.increment_min.is_some() || self.increment_max.is_some())
            && masks.is_empty()
        {
            bail!("--increment applies to masks: add --mask MASK");
        }
        let sets_given = [
            &self.charset1,
            &self.charset2,
            &self.charset3,
            &self.charset4,
        ]
        .iter()
        .any(|s| s.is_some());
        if sets_given && masks.is_empty() {
            bail!("custom charsets (-1 .. -4) apply to masks: add --mask MASK");
        }
        if !self.has_explicit_source() {
            if self.rules.is_some() {
                bail!("--rules needs --wordlist FILE or --common");
            }
            return Ok(hints::default_plan(hints.as_ref()));
        }
        let rules = match &self.rules {
            Some(path) => Some(
                Rules::load(path)
                    .with_context(|| format!("cannot use the rules file {}", path.display()))?,
            ),
            None => None,
        };
        let with_rules = |base: Box<dyn Source>| -> anyhow::Result<Box<dyn Source>> {
            Ok(match &rules {
                Some(r) => Box::new(RulesSource::new(base, r.clone())?),
                None => base,
            })
        };
        let mut plan = Plan::new();
        if let Some(h) = &hints {
            plan.push(Box::new(hints::HintsSource::new(h)));
        }
        let stdin_count = self.wordlists.iter().filter(|w| *w == "-").count();
        if stdin_count > 1 {
            bail!("--wordlist - (standard input) can be given only once");
        }
        for w in &self.wordlists {
            let list = if w == "-" {
                Wordlist::stdin()
            } else {
                Wordlist::open(w).with_context(|| format!("cannot use the wordlist {w}"))?
            };
            plan.push(with_rules(Box::new(list))?);
        }
        let sets = [
            self.charset1.as_deref(),
            self.charset2.as_deref(),
            self.charset3.as_deref(),
            self.charset4.as_deref(),
        ];
        for m in masks {
            // As hashcat does: a mask that names a file is a .hcmask file, one mask a line.
            let list = if Path::new(m).is_file() {
                mask::read_hcmask(Path::new(m), sets)
                    .with_context(|| format!("cannot use the mask file {m}"))?
                    .into_iter()
                    .map(|(_, mask)| mask)
                    .collect()
            } else {
                vec![Mask::parse(m, sets)?]
            };
            for mask in list {
                let mut source = if self.increment {
                    MaskSource::with_increment(mask, self.increment_min, self.increment_max)?
                } else {
                    MaskSource::new(mask)
                };
                if self.markov_disable {
                    source = source.plain_order();
                }
                plan.push(Box::new(source));
            }
        }
        if self.common {
            let base: Box<dyn Source> = Box::new(CommonSource::new());
            if self.wordlists.is_empty() {
                plan.push(with_rules(base)?);
            } else {
                plan.push(base);
            }
        }
        if self.pins {
            plan.push(Box::new(PinSource::new()));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_old_passwords() {
        let a = SourceArgs {
            old_passwords: vec!["my-old-secret".into()],
            words: vec!["rex".into()],
            ..Default::default()
        };
        let shown = format!("{a:?}");
        assert!(!shown.contains("my-old-secret"), "{shown}");
        assert!(shown.contains("rex"), "{shown}");
    }
}
