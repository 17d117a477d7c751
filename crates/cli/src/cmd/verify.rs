//! `sesame verify`: is this the password? exit 0 right, 1 wrong, 2 error.

use crate::password::PasswordArgs;

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder, a Manifest.plist, a $itunes_backup$ hash line, or a file of hash lines
    pub target: String,
    #[command(flatten)]
    pub password: PasswordArgs,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let targets = crate::target::resolve(&args.target)?;
    let remembered = crate::potfile_lookup(&targets[0].line);
    let password = args.password.get("Backup password: ", remembered)?;
    let mut all_right = true;
    for t in &targets {
        let right = t.line.verify(&password);
        all_right &= right;
        if targets.len() > 1 {
            outln!("{}: {}", t.label, if right { "right" } else { "wrong" });
        }
    }
    if targets.len() == 1 {
        outln!(
            "{}",
            if all_right {
                "The password is right."
            } else {
                "The password is wrong."
            }
        );
    }
    Ok(if all_right { 0 } else { 1 })
}
