//! `sesame candidates [sources] [--limit N]`: the guesses `recover` would try, in its order, one a
//! line (raw bytes and `\n`). Also home of the source options both commands share, and of the
//! one function that turns them into a plan, so the two can never disagree.

use anyhow::{bail, Context};
use sesame_guess::hints::{self, Hints};
use sesame_guess::mask::{Mask, MaskSource};
use sesame_guess::rules::{Rules, RulesSource};
use sesame_guess::wordlist::Wordlist;
use sesame_guess::{common::CommonSource, pins::PinSource, Plan, Shard, Source};
use std::io::Write;
use std::path::PathBuf;

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
    /// hashcat mask: ?l ?u ?d ?s ?a ?h ?H ?1-?4, other characters literal; repeatable
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
            .finish()
    }
}

impl SourceArgs {
    /// True when any explicit source (not hints) is given.
    pub fn has_explicit_source(&self) -> bool {
        !self.wordlists.is_empty() || !self.masks.is_empty() || self.common || self.pins
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
        if (self.increment || self.increment_min.is_some() || self.increment_max.is_some())
            && self.masks.is_empty()
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
        if sets_given && self.masks.is_empty() {
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
        for m in &self.masks {
            let mask = Mask::parse(m, sets)?;
            let source = if self.increment {
                MaskSource::with_increment(mask, self.increment_min, self.increment_max)?
            } else {
                MaskSource::new(mask)
            };
            plan.push(Box::new(source));
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

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Print at most N guesses
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Start at guess index N (0-based), as a resumed session would
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: u64,
    /// Only the guesses of shard K of N (guess i when i mod N = K-1), as `recover --shard` tries
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let plan = args.sources.build_plan()?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut printed = 0u64;
    let limit = args.limit.unwrap_or(u64::MAX);
    if limit == 0 {
        return Ok(0);
    }
    for item in plan.iter_from(args.skip)? {
        let (i, guess) = item?;
        if !shard.owns(i) {
            continue;
        }
        let written = out.write_all(&guess).and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(0); // `| head`: the reader has what it wanted
            }
            return Err(e).context("cannot write to standard output");
        }
        printed += 1;
        if printed >= limit {
            break;
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(0),
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
