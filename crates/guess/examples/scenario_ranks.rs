//! Rank of each scenario's true password in the default plan's order, as `sesame candidates
//! --hints FILE` prints it, without building the whole binary: a quick loop for tuning the
//! hint model.
//!
//!     cargo run --release -p sesame-guess --example scenario_ranks -- DIR [DIR...]
//!
//! Each DIR holds `answers.tsv` (file TAB password) and the hints files it names. Prints one
//! line per scenario (file, rank or '-') and the found-within counts of each DIR.

use sesame_guess::hints::{self, Hints};

const LIMIT: u64 = 1_000_000;
const BOUNDS: [u64; 5] = [10, 100, 1_000, 10_000, 1_000_000];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        return Err("usage: scenario_ranks DIR [DIR...]".into());
    }
    for dir in dirs {
        let dir = std::path::Path::new(&dir);
        let answers = std::fs::read_to_string(dir.join("answers.tsv"))?;
        let mut within = [0usize; BOUNDS.len()];
        let mut n = 0;
        for line in answers.lines() {
            let Some((file, answer)) = line.split_once('\t') else {
                continue;
            };
            n += 1;
            let text = std::fs::read_to_string(dir.join(file))?;
            let h = Hints::from_toml(&text, file)?;
            let plan = hints::default_plan(Some(&h));
            let mut rank = None;
            for item in plan.iter_from(0)? {
                let (i, guess) = item?;
                if i >= LIMIT {
                    break;
                }
                if guess == answer.as_bytes() {
                    rank = Some(i + 1);
                    break;
                }
            }
            match rank {
                Some(r) => {
                    println!("{file}\t{r}");
                    for (k, b) in BOUNDS.iter().enumerate() {
                        if r <= *b {
                            within[k] += 1;
                        }
                    }
                }
                None => println!("{file}\t-"),
            }
        }
        let counts: Vec<String> = BOUNDS
            .iter()
            .zip(within)
            .map(|(b, w)| format!("{b}: {w}"))
            .collect();
        println!("# {} ({n}): within {}", dir.display(), counts.join(", "));
    }
    Ok(())
}
