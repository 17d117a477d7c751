//! `sesame export BACKUP --out DIR [--only messages,contacts,...] [--force]`: readable exports
//! of messages, contacts, call history, Safari, calendar, photos, notes and WhatsApp.

use crate::password::PasswordArgs;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder
    pub backup: PathBuf,
    /// The folder to write into (created; must be empty unless --force)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only these kinds, comma-separated: messages, contacts, calls, safari, calendar, photos,
    /// notes, whatsapp
    #[arg(long, value_name = "KINDS")]
    pub only: Option<String>,
    /// Write into a folder that is not empty
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub password: PasswordArgs,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let only = match &args.only {
        Some(list) => Some(sesame_export::parse_kinds(list)?),
        None => None,
    };
    let Some((backup, keys)) = super::keychain::open_unlocked(&args.backup, &args.password)? else {
        return Ok(1);
    };
    let opts = sesame_export::Options {
        only,
        force: args.force,
        cancel: super::decrypt::cancel_on_ctrl_c(),
    };
    let report = match sesame_export::export_backup(&backup, keys.as_ref(), &args.out, &opts) {
        Ok(r) => r,
        Err(sesame_export::ExportError::Cancelled) => {
            return Ok(super::decrypt::interrupted(&args.out))
        }
        Err(sesame_export::ExportError::Io { path, source }) => {
            return Err(crate::explain::output_error(
                sesame_backup::BackupError::Io { path, source },
            ))
            .with_context(|| format!("the export into {} is NOT complete", args.out.display()))
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot export {}", args.backup.display()))
        }
    };
    for s in &report.sections {
        if s.found {
            outln!("{:<36} {} item(s)", s.title, s.items);
        } else {
            outln!("{:<36} not in this backup", s.title);
        }
        for n in &s.notes {
            outln!("    note: {n}");
        }
    }
    outln!(
        "Open {} to browse the export.",
        args.out.join("index.html").display()
    );
    let failed: usize = report.sections.iter().map(|s| s.failed).sum();
    if failed == 0 {
        return Ok(0);
    }
    let kinds: Vec<&str> = report
        .sections
        .iter()
        .filter(|s| s.failed > 0)
        .map(|s| s.title.as_str())
        .collect();
    eprintln!(
        "sesame: the export is NOT complete: {failed} part(s) of the backup could not be exported \
         ({}; the notes above say why); everything else was written",
        kinds.join(", ")
    );
    Ok(2)
}
