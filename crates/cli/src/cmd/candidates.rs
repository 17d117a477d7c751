//! `sesame candidates [sources] [--skip S] [--limit L]`: the guesses `recover` would try, in
//! its order and numbering, one a line (raw bytes and `\n`). The source options both commands
//! share, and the plan they make, are `sesame_cli::sources`.

use anyhow::Context;
use sesame_guess::{Chunk, Shard};
use std::io::Write;

pub use sesame_cli::sources::SourceArgs;

/// The options' notes (a hashcat hash mode given to -m) on standard error.
pub fn print_notes(sources: &SourceArgs) {
    for n in sources.notes() {
        eprintln!("sesame: note: {n}");
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Only the guesses at indices S to S+N-1 of the stream (S: --skip), exactly those
    /// `recover --skip S --limit N` tries (a rule that rejects a word leaves its index empty)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Start at guess index N (0-based), as `recover --skip N` or a resumed session would
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: u64,
    /// Only the guesses of shard K of N (guess i when i mod N = K-1), as `recover --shard` tries
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let plan = args.sources.build_plan()?;
    print_notes(&args.sources);
    let shard = args.shard.unwrap_or(Shard::ALL);
    let chunk = Chunk::new(args.skip, args.limit);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.limit == Some(0) {
        return Ok(0);
    }
    for item in plan.iter_from(args.skip)? {
        let (i, guess) = item?;
        if !chunk.contains(i) {
            break;
        }
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
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(0),
    }
}
