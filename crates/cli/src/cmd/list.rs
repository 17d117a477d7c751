//! `sesame list`: the backups in the default folders and any --root.

use crate::output::human_bytes;
use sesame_backup::{locate, Backup};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Also look in this folder (a backup, or a folder of backups); repeatable
    #[arg(long, value_name = "DIR")]
    pub root: Vec<PathBuf>,
    /// One JSON array of backups instead of a table
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let mut roots = locate::default_roots();
    for r in &args.root {
        if !r.is_dir() {
            anyhow::bail!("--root {}: not a folder", r.display());
        }
        roots.push(r.clone());
    }
    let mut infos = Vec::new();
    let mut unreadable = Vec::new();
    for root in &roots {
        let scan = locate::scan(root);
        unreadable.extend(scan.unreadable);
        for dir in scan.backups {
            match Backup::open(&dir) {
                Ok(b) => infos.push(b.info()),
                Err(e) => infos.push(sesame_backup::info::BackupInfo {
                    path: dir.display().to_string(),
                    warnings: vec![crate::explain::backup_error(e, &dir).to_string()],
                    size_on_disk: sesame_backup::info::size_on_disk(&dir),
                    ..Default::default()
                }),
            }
        }
    }
    // Folders that could not be read are named on stderr in every mode: "no backups" when
    // the folder was only unreadable would send a Mac user away empty-handed.
    for (p, e) in &unreadable {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            eprintln!(
                "sesame: could not read {}",
                crate::explain::permission_denied(p)
            );
        } else {
            eprintln!("sesame: could not read {}: {e}", p.display());
        }
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&infos)?);
        return Ok(0);
    }
    if infos.is_empty() && !unreadable.is_empty() {
        outln!("No backups could be read: see the folders named above.");
        return Ok(2);
    }
    if infos.is_empty() {
        outln!("No backups found. Looked in:");
        for r in &roots {
            outln!("  {}", r.display());
        }
        if roots.is_empty() {
            outln!("  (none of the default folders exist on this computer)");
        }
        outln!("Use --root DIR to look elsewhere.");
        return Ok(0);
    }
    outln!(
        "{:<24} {:<12} {:<7} {:<20} {:>9} {:<10} {:<8} PATH",
        "DEVICE",
        "MODEL",
        "IOS",
        "LAST BACKUP",
        "SIZE",
        "ENCRYPTED",
        "COMPLETE"
    );
    for i in &infos {
        let yn = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        outln!(
            "{:<24} {:<12} {:<7} {:<20} {:>9} {:<10} {:<8} {}",
            i.device_name.as_deref().unwrap_or("?"),
            i.product_type.as_deref().unwrap_or("?"),
            match (i.ios_version.as_deref(), i.era.as_deref()) {
                (Some(v), Some("mbdb")) => format!("{v}*"),
                (Some(v), _) => v.to_string(),
                (None, Some("mbdb")) => "<10*".to_string(),
                (None, _) => "?".to_string(),
            },
            i.last_backup_date.as_deref().unwrap_or("?"),
            human_bytes(i.size_on_disk),
            if i.already_decrypted {
                "decrypted"
            } else {
                yn(i.encrypted)
            },
            yn(i.complete),
            i.path
        );
        for w in &i.warnings {
            outln!("    warning: {w}");
        }
    }
    if infos.iter().any(|i| i.era.as_deref() == Some("mbdb")) {
        outln!("* made by iOS 4 to 9 (Manifest.mbdb): Sesame reads and decrypts these too");
    }
    Ok(0)
}
