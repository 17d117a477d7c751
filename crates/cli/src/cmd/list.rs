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
    for root in &roots {
        for dir in locate::find_backups(root) {
            match Backup::open(&dir) {
                Ok(b) => infos.push(b.info()),
                Err(e) => infos.push(sesame_backup::info::BackupInfo {
                    path: dir.display().to_string(),
                    warnings: vec![e.to_string()],
                    size_on_disk: sesame_backup::info::size_on_disk(&dir),
                    ..Default::default()
                }),
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&infos)?);
        return Ok(0);
    }
    if infos.is_empty() {
        println!("No backups found. Looked in:");
        for r in &roots {
            println!("  {}", r.display());
        }
        if roots.is_empty() {
            println!("  (none of the default folders exist on this computer)");
        }
        println!("Use --root DIR to look elsewhere.");
        return Ok(0);
    }
    println!(
        "{:<24} {:<12} {:<7} {:<20} {:>9} {:<10} {:<8} PATH",
        "DEVICE", "MODEL", "IOS", "LAST BACKUP", "SIZE", "ENCRYPTED", "COMPLETE"
    );
    for i in &infos {
        let yn = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        println!(
            "{:<24} {:<12} {:<7} {:<20} {:>9} {:<10} {:<8} {}",
            i.device_name.as_deref().unwrap_or("?"),
            i.product_type.as_deref().unwrap_or("?"),
            i.ios_version.as_deref().unwrap_or("?"),
            i.last_backup_date.as_deref().unwrap_or("?"),
            human_bytes(i.size_on_disk),
            yn(i.encrypted),
            yn(i.complete),
            i.path
        );
        for w in &i.warnings {
            println!("    warning: {w}");
        }
    }
    Ok(0)
}
