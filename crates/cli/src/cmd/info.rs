//! `sesame info`: what one backup is, how it is protected, and what one guess costs here.

use crate::output::{group, human_bytes, human_duration};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder or its Manifest.plist
    pub backup: PathBuf,
    /// One JSON object instead of text
    #[arg(long)]
    pub json: bool,
    /// The CPU kernel to time (sha-ni, avx512, avx512x2, avx2, portable); default: the fastest here
    #[arg(long, value_name = "NAME")]
    pub kernel: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = super::decrypt::open(&args.backup)?;
    let info = backup.info();
    let cost = if backup.encrypted {
        Some(crate::rate::measure(
            &backup.keybag()?.kdf_params(),
            args.kernel.as_deref(),
        )?)
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
            v["kernel_why"] = c.kernel_why.clone().into();
        }
        if let Some(why) = &backup.encryption_unknown {
            v["encryption_unknown"] = why.clone().into();
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(if backup.encryption_unknown.is_some() {
            2
        } else {
            0
        });
    }
    let show = |label: &str, v: &Option<String>| {
        outln!("{label:<18} {}", v.as_deref().unwrap_or("(unknown)"));
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
    outln!("{:<18} {}", "Folder:", info.path);
    if let Some(era) = &info.era_description {
        outln!("{:<18} {era}", "Format:");
    }
    outln!("{:<18} {}", "Size on disk:", human_bytes(info.size_on_disk));
    outln!(
        "{:<18} {}",
        "Complete:",
        match info.complete {
            Some(true) => "yes (Status.plist says the snapshot finished)",
            Some(false) => "NO: Status.plist says this backup did not finish",
            None => "unknown (no readable Status.plist)",
        }
    );
    match info.encrypted {
        None => outln!(
            "{:<18} cannot tell: {}. Copy the whole backup folder again from where it was made",
            "Encrypted:",
            backup
                .encryption_unknown
                .as_deref()
                .unwrap_or("there is no readable Manifest.plist")
        ),
        Some(false) => {
            outln!("{:<18} no", "Encrypted:");
            outln!();
            outln!("This backup has no password: its files can be read without one.");
            outln!(
                "If iTunes or Finder asks for a password, it is asking about a different backup or \
                 about the device's setting for future backups (see below)."
            );
        }
        Some(true) if info.already_decrypted => {
            outln!(
                "{:<18} marked yes, but its files are already plain: another tool (mvt, \
                 iOSbackup) decrypted this copy. No password is needed to read it.",
                "Encrypted:"
            );
        }
        Some(true) => {
            let kb = backup.keybag()?;
            outln!("{:<18} yes", "Encrypted:");
            match (kb.dpic, &kb.dpsl) {
                (Some(dpic), Some(_)) => outln!(
                    "{:<18} iOS 10.2 or later: PBKDF2-HMAC-SHA256 x {} then PBKDF2-HMAC-SHA1 x {}",
                    "Key scheme:",
                    group(dpic as u64),
                    group(kb.iterations as u64)
                ),
                _ => outln!(
                    "{:<18} before iOS 10.2: PBKDF2-HMAC-SHA1 x {}",
                    "Key scheme:",
                    group(kb.iterations as u64)
                ),
            }
            if let Some(c) = &cost {
                // An old-scheme guess costs a fraction of a millisecond: "0.000 s" says nothing.
                let per_core = if c.seconds_per_guess_per_core >= 0.01 {
                    format!("{:.3} s", c.seconds_per_guess_per_core)
                } else {
                    format!("{:.3} ms", c.seconds_per_guess_per_core * 1e3)
                };
                outln!(
                    "{:<18} {per_core} of one CPU core ({} kernel: {}); all {} threads: about {} guesses/s",
                    "One guess costs:",
                    c.kernel,
                    c.kernel_why,
                    c.threads,
                    if c.guesses_per_second >= 100.0 {
                        group(c.guesses_per_second.round() as u64)
                    } else {
                        format!("{:.2}", c.guesses_per_second)
                    }
                );
                outln!(
                    "{:<18} 10,000 PINs in about {}, 1,000,000 guesses in about {}",
                    "At that rate:",
                    human_duration(10_000.0 / c.guesses_per_second),
                    human_duration(1_000_000.0 / c.guesses_per_second)
                );
            }
            outln!();
            outln!(
                "Asked for a password you never set? Backup encryption is a setting of the device, not of \
                 this computer: it carries over from older devices and restores, and someone (or a \
                 management profile) may have turned it on long ago. This backup really is encrypted, so it \
                 opens only with that password. Try `sesame recover {}` with what you remember \
                 (see `sesame hints`).",
                crate::output::quote(&args.backup)
            );
        }
    }
    for w in &info.warnings {
        outln!("warning: {w}");
    }
    // A backup whose encryption cannot be told is damaged: say it all, then exit 2.
    Ok(if backup.encryption_unknown.is_some() {
        2
    } else {
        0
    })
}
