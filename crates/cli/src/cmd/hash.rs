//! `sesame hash`: the $itunes_backup$ line for hashcat and John the Ripper.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder or its Manifest.plist
    pub backup: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = super::decrypt::open_known(&args.backup)?;
    if !backup.encrypted {
        anyhow::bail!(
            "{}: this backup is not encrypted, so it has no password hash",
            args.backup.display()
        );
    }
    let line = backup.hash_line()?;
    outln!("{line}");
    eprintln!(
        "sesame: hashcat -m {} reads this line; so does John the Ripper (format itunes-backup)",
        line.hashcat_mode()
    );
    Ok(0)
}
