//! `sesame keyspace [sources]`: how many guesses the sources make (index slots of the stream),
//! the number `--skip/--limit` and Hashtopolis's chunks count in.

use anyhow::bail;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sources: super::candidates::SourceArgs,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let plan = args.sources.build_plan()?;
    super::candidates::print_notes(&args.sources);
    match plan.len() {
        Some(n) => {
            outln!("{n}");
            Ok(0)
        }
        None => bail!(
            "the number of guesses is not known: standard input (--wordlist -) is counted only by reading it; give a wordlist file instead"
        ),
    }
}
