//! `sesame info`: what one backup is, how it is protected, and what one guess costs here.

use crate::output::{group, human_bytes, human_duration};
use sesame_backup::Backup;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder or its Manifest.plist
    pub backup: PathBuf,
    /// One JSON object instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = Backup::open(&args.backup)?;
    let info = backup.info();
    let cost = if backup.encrypted {
        Some(crate::rate::measure(&backup.keybag()?.kdf_params()))
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::to_value(&info)?;
        if let Some(c) = &cost {
            v["seconds_per_guess_per_core"] = c.seconds_per_guess_per_core.into();
            v["guesses_per_second"] = c.guesses_per_second.into();
            v["threads"] = c.threads.into();
            v["kernel"] = c.kernel.into();
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let show = |label: &str, v: &Option<String>| {
        println!("{label:<18} {}", v.as_deref().unwrap_or("(unknown)"));
    };
    show("Device:", &info.device_name);
    show("Model:", &info.product_type);
    show(
        "iOS:",
        &info
            .ios_version
            .as_ref()
            .map(|v| match &info.build_version {
                Some(b) => format!("{v} ({b})"),
                None => v.clone(),
            }),
    );
    show("Last backup:", &info.last_backup_date);
    show("Serial number:", &info.serial_number);
    show("UDID:", &info.udid);
    println!("{:<18} {}", "Folder:", info.path);
    println!("{:<18} {}", "Size on disk:", human_bytes(info.size_on_disk));
    println!(
        "{:<18} {}",
        "Complete:",
        match info.complete {
            Some(true) => "yes (Status.plist says the snapshot finished)",
            Some(false) => "NO: Status.plist says this backup did not finish",
            None => "unknown (no Status.plist)",
        }
    );
    match info.encrypted {
        None => println!(
            "{:<18} unknown: there is no readable Manifest.plist",
            "Encrypted:"
        ),
        Some(false) => {
            println!("{:<18} no", "Encrypted:");
            println!();
            println!("This backup has no password: its files can be read without one.");
            println!(
                "If iTunes or Finder asks for a password, it is asking about a different backup or \
                 about the device's setting for future backups (see below)."
            );
        }
        Some(true) => {
            let kb = backup.keybag()?;
            println!("{:<18} yes", "Encrypted:");
            match (kb.dpic, &kb.dpsl) {
                (Some(dpic), Some(_)) => println!(
                    "{:<18} iOS 10.2 or later: PBKDF2-HMAC-SHA256 x {} then PBKDF2-HMAC-SHA1 x {}",
                    "Key scheme:",
                    group(dpic as u64),
                    group(kb.iterations as u64)
                ),
                _ => println!(
                    "{:<18} before iOS 10.2: PBKDF2-HMAC-SHA1 x {}",
                    "Key scheme:",
                    group(kb.iterations as u64)
                ),
            }
            if let Some(c) = &cost {
                println!(
                    "{:<18} {:.3} s of one CPU core ({} kernel); all {} threads: about {:.2} guesses/s",
                    "One guess costs:",
                    c.seconds_per_guess_per_core,
                    c.kernel,
                    c.threads,
                    c.guesses_per_second
                );
                println!(
                    "{:<18} 10,000 PINs in about {}, 1,000,000 guesses in about {}",
                    "At that rate:",
                    human_duration(10_000.0 / c.guesses_per_second),
                    human_duration(1_000_000.0 / c.guesses_per_second)
                );
            }
            println!();
            println!(
                "Asked for a password you never set? Backup encryption is a setting of the device, not of \
                 this computer: it carries over from older devices and restores, and someone (or a \
                 management profile) may have turned it on long ago. This backup really is encrypted, so it \
                 opens only with that password. Try `sesame recover {}` with what you remember \
                 (see `sesame hints`).",
                args.backup.display()
            );
        }
    }
    for w in &info.warnings {
        println!("warning: {w}");
    }
    Ok(0)
}
