//! The first N guesses of the default plan for one hints file, on one line, for looking at
//! what stands before a scenario's password while tuning.
//!
//!     cargo run --release -p sesame-guess --example scenario_top -- FILE N

use sesame_guess::hints::{self, Hints};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, n] = args.as_slice() else {
        return Err("usage: scenario_top FILE N".into());
    };
    let n: u64 = n.parse()?;
    let h = Hints::from_toml(&std::fs::read_to_string(file)?, file)?;
    let plan = hints::default_plan(Some(&h));
    let mut line = Vec::new();
    for item in plan.iter_from(0)? {
        let (i, guess) = item?;
        if i >= n {
            break;
        }
        line.push(String::from_utf8_lossy(&guess).into_owned());
    }
    println!("{}", line.join(" "));
    Ok(())
}
