//! `sesame demo`: build an encrypted example backup, then show what each command does with it.

use crate::output::{group, human_bytes, human_duration};
use anyhow::Context;
use sesame_backup::builder::BackupBuilder;
use sesame_backup::keychain::{ItemClass, ItemSpec, ItemState};
use sesame_backup::write::{decrypt_backup, WriteOptions};
use sesame_backup::Backup;
use sesame_crack::{EngineConfig, Event, Outcome};
use sesame_guess::hints::{default_plan, Hints};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The example owner's password, and what they remember of it.
const PASSWORD: &str = "Biscuit2016";
const HINTS: &str = "# what the owner remembers\nwords = [\"biscuit\"]\ndates = [\"2016-04-12\"]\n";

#[derive(clap::Args)]
pub struct Args {
    /// Write the example here (must be empty or absent) and keep it, instead of a temporary folder
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// PBKDF2-SHA256 iterations of the example (real backups: 10,000,000); lower is only for tests
    #[arg(long, default_value_t = 10_000_000, hide = true)]
    pub sha256_iterations: u32,
}

fn step(n: u32, title: &str) {
    outln!("\n== {n}. {title}");
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let tmp = tempfile::Builder::new().prefix("sesame-demo-").tempdir()?;
    let base = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            if std::fs::read_dir(d)?.next().is_some() {
                anyhow::bail!(
                    "{}: not empty; give an empty or new folder to --keep",
                    d.display()
                );
            }
            d.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    let backup_dir = base.join("00008110-000A1B2C3D4E5F60");
    let out_dir = base.join("decrypted");

    step(1, "Build an encrypted example backup");
    let t = Instant::now();
    BackupBuilder::new()
        .password(PASSWORD)
        .iterations(10_000, Some(args.sha256_iterations))
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .dir("CameraRollDomain", "Media/DCIM/100APPLE")
        .file(
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0001.HEIC",
            vec![0x5au8; 300_000],
        )
        .file(
            "HomeDomain",
            "Library/Notes/shopping.txt",
            b"eggs, flour, dog treats for Biscuit\n".to_vec(),
        )
        .file(
            "AppDomain-com.example.diary",
            "Documents/2016-04-12.txt",
            b"Today we brought Biscuit home.\n".to_vec(),
        )
        .keychain(vec![
            ItemSpec::new(
                ItemClass::GenericPassword,
                7,
                &[("svce", "AirPort"), ("acct", "Home-WiFi")],
                b"CorgiCastle42",
            ),
            ItemSpec::new(
                ItemClass::InternetPassword,
                6,
                &[("srvr", "www.example.com"), ("acct", "anna@example.com")],
                b"Sunflower!88",
            ),
            // A ThisDeviceOnly item: only the phone itself can ever decrypt it.
            ItemSpec::new(
                ItemClass::GenericPassword,
                10,
                &[("svce", "com.example.bank"), ("acct", "anna")],
                b"never-leaves-the-phone",
            ),
        ])
        .write(&backup_dir)?;
    outln!(
        "Wrote {} in {:.1} s: a real-format backup of \"Anna's iPhone\", encrypted with a password \
         Anna no longer remembers, with iOS 10.2+ key derivation ({} PBKDF2-SHA256 iterations, then \
         10,000 PBKDF2-SHA1).",
        backup_dir.display(),
        t.elapsed().as_secs_f64(),
        group(args.sha256_iterations as u64)
    );

    step(
        2,
        "sesame info: what the backup is and what one guess costs here",
    );
    crate::cmd::info::run(crate::cmd::info::Args {
        backup: backup_dir.clone(),
        json: false,
        kernel: None,
    })?;

    step(
        3,
        "sesame hash: the line hashcat (-m 14800) and John the Ripper read",
    );
    let backup = Backup::open(&backup_dir)?;
    let line = backup.hash_line()?;
    outln!("{line}");

    step(4, "sesame verify: a wrong guess, then the right one");
    for guess in ["biscuit", PASSWORD] {
        let t = Instant::now();
        let right = line.verify(guess.as_bytes());
        outln!(
            "{guess:<12} {} ({:.1} s: every check costs the full key derivation)",
            if right { "right" } else { "wrong" },
            t.elapsed().as_secs_f64()
        );
    }

    step(
        5,
        "sesame recover --hints: Anna remembers her dog's name and the day they got him",
    );
    out!("{HINTS}");
    let hints = Hints::from_toml(HINTS, "demo hints")?;
    let plan = Arc::new(default_plan(Some(&hints)));
    for s in plan.sources() {
        outln!(
            "  plan: {} ({} guesses)",
            s.name(),
            s.len().map_or("?".into(), group)
        );
    }
    // The kernel `recover` would run here: the fastest measured for this key scheme.
    let cfg = EngineConfig {
        kernel: sesame_crack::choice::choose(&line.kdf_params(), None)?.kernel,
        ..EngineConfig::default()
    };
    let t = Instant::now();
    let mut found_at = None;
    let report = sesame_crack::run(plan, std::slice::from_ref(&line), &cfg, &mut |ev| {
        if let Event::Found(f) = ev {
            found_at = Some(f.index);
        }
    })?;
    let secs = t.elapsed().as_secs_f64();
    let password = match (report.outcome, report.found.first()) {
        (Outcome::Found, Some(f)) => f.password.clone(),
        _ => anyhow::bail!("the demo password was not found: this is a bug in Sesame"),
    };
    outln!(
        "Found \"{}\" at guess #{} in {} ({} guesses/s on {} threads).",
        String::from_utf8_lossy(&password),
        group(found_at.unwrap_or(0) + 1),
        human_duration(secs),
        format_args!("{:.2}", report.progress.rate),
        cfg.effective_threads()
    );

    step(
        6,
        "sesame decrypt: a copy that reads as an unencrypted backup",
    );
    let keys = backup.unlock(&password)?;
    let opts = WriteOptions {
        force: false,
        threads: 0,
        cancel: None,
    };
    let rep = decrypt_backup(&backup, Some(&keys), &out_dir, &opts, &|_| {})?;
    outln!(
        "{} files ({}) decrypted into {}",
        rep.files,
        human_bytes(rep.bytes),
        out_dir.display()
    );
    let plain = Backup::open(&out_dir)?;
    let manifest = plain.open_manifest(None)?;
    for e in manifest.entries() {
        outln!("  {:<8} {}/{}", e.kind.name(), e.domain, e.relative_path);
    }
    if let Some(note) = manifest.find("HomeDomain", "Library/Notes/shopping.txt") {
        let text = plain.read_file(note, None)?;
        outln!(
            "HomeDomain/Library/Notes/shopping.txt reads: {}",
            String::from_utf8_lossy(&text).trim()
        );
    }

    step(
        7,
        "sesame keychain: the Wi-Fi and website passwords kept in the backup",
    );
    let chain = sesame_backup::keychain::read_keychain(&backup, Some(&keys))?;
    for item in &chain.items {
        let what = item.server().or_else(|| item.service()).unwrap_or_default();
        let secret = match (&item.state, &item.secret) {
            (ItemState::Decrypted, Some(s)) => s.as_str().unwrap_or("(binary)").to_string(),
            (ItemState::DeviceOnly, _) => "(only the device can decrypt this one)".into(),
            _ => "(unreadable)".into(),
        };
        outln!(
            "  {:<18} {:<18} {:<18} {}",
            item.kind().label(),
            what,
            item.account().unwrap_or_default(),
            secret
        );
    }
    outln!("(`sesame keychain` masks secrets unless --show-secrets; the demo shows them.)");

    outln!(
        "\nThat is the whole path: find the backup, learn what it costs, recover, decrypt, read."
    );
    match &args.keep {
        Some(d) => outln!("The example is kept in {}.", d.display()),
        None => outln!("The example folder is removed now (use --keep DIR to keep it)."),
    }
    Ok(0)
}
