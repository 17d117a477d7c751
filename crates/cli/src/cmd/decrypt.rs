//! `sesame decrypt`: a decrypted copy of a backup that reads as an unencrypted backup.
//! Also the shared steps of the data commands: open, ask for the password, unlock, progress.

use crate::output::{group, human_bytes};
use crate::password::PasswordArgs;
use anyhow::Context;
use sesame_backup::write::{decrypt_backup, Progress, WriteOptions};
use sesame_backup::{Backup, BackupError, UnlockedKeys};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// The backup folder
    pub backup: PathBuf,
    /// Where to write the decrypted copy (a new or empty folder)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into DIR even if it is not empty
    #[arg(long)]
    pub force: bool,
    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Opens a backup folder with a one-line error in plain words.
pub(crate) fn open(path: &Path) -> anyhow::Result<Backup> {
    Backup::open(path).map_err(|e| crate::explain::backup_error(e, path))
}

/// Opens a backup whose encryption must be known (a missing or damaged Manifest.plist is
/// "cannot tell", never "not encrypted").
pub(crate) fn open_known(path: &Path) -> anyhow::Result<Backup> {
    let backup = open(path)?;
    backup
        .require_known_encryption()
        .map_err(|e| crate::explain::backup_error(e, path))?;
    Ok(backup)
}

/// The flag Ctrl-C sets to stop a long write cleanly.
pub(crate) fn cancel_on_ctrl_c() -> Option<sesame_backup::write::CancelFlag> {
    crate::interrupt::flag().ok()
}

/// After a writer stopped at Ctrl-C: one line, exit code 2.
pub(crate) fn interrupted(out: &Path) -> i32 {
    eprintln!(
        "sesame: interrupted: {} is not complete (the file being written was removed); run the \
         same command again with --force to redo it",
        out.display()
    );
    2
}

/// The class keys, when the backup is encrypted (asks for the password). Err(exit code 1)
/// after saying so when the password is wrong.
pub(crate) fn unlock(
    backup: &Backup,
    password: &PasswordArgs,
    path: &Path,
) -> anyhow::Result<Result<Option<UnlockedKeys>, i32>> {
    if !backup.encrypted {
        return Ok(Ok(None));
    }
    if backup.already_decrypted() {
        eprintln!(
            "sesame: {} was already decrypted by another tool (its Manifest.plist still says \
             encrypted, but its files are plain): no password is needed to read its files",
            path.display()
        );
        return Ok(Ok(None));
    }
    let pw = password.for_backup(backup)?;
    match backup.unlock(&pw) {
        Ok(k) => Ok(Ok(Some(k))),
        Err(BackupError::WrongPassword) => {
            eprintln!(
                "sesame: the password is wrong for {} (hint: `sesame recover {}` finds a forgotten one)",
                path.display(),
                crate::output::quote(path)
            );
            Ok(Err(1))
        }
        Err(e) => Err(e).with_context(|| format!("cannot unlock {}", path.display())),
    }
}

/// A progress bar on a terminal, nothing otherwise.
pub(crate) fn progress_bar(what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Feeds a bar from the library's progress callback.
pub(crate) fn feed(bar: &indicatif::ProgressBar) -> impl Fn(&Progress) + Sync + '_ {
    move |p: &Progress| {
        if bar.length() != Some(p.bytes_total) {
            bar.set_length(p.bytes_total);
        }
        bar.set_position(p.bytes_done);
    }
}

/// Adds the hint for the errors people can fix.
/// Prints the warnings and the files that could not be written (`verb`: "decrypted",
/// "extracted"); the exit code: 2 when some file failed, else 0.
pub(crate) fn report_problems(
    warnings: &[String],
    failed: &[sesame_backup::write::FileFailure],
    verb: &str,
) -> i32 {
    for w in warnings {
        eprintln!("sesame: warning: {w}");
    }
    for f in failed {
        eprintln!(
            "sesame: not {verb}: {}/{} ({}): {}",
            f.domain, f.relative_path, f.file_id, f.error
        );
    }
    if failed.is_empty() {
        return 0;
    }
    eprintln!(
        "sesame: {} files could not be {verb}; everything else was written",
        failed.len()
    );
    2
}

pub(crate) fn explain(e: BackupError, out: &Path) -> anyhow::Error {
    match e {
        BackupError::OutputNotEmpty { .. } => anyhow::anyhow!(
            "{}: the output folder is not empty (hint: choose a new folder, or add --force to write into it)",
            out.display()
        ),
        other => crate::explain::output_error(other),
    }
}

/// The last line when a copy is not complete: what failed, and that it is no backup.
pub(crate) fn incomplete(out: &Path, failed: &[sesame_backup::write::FileFailure]) -> i32 {
    let failed: Vec<_> = failed.iter().filter(|f| f.in_output).collect();
    let first = failed
        .first()
        .map(|f| format!(" (first: {})", f.error))
        .unwrap_or_default();
    eprintln!(
        "sesame: the copy in {} is NOT complete: {} file(s) could not be written{first}. It is not \
         marked as a backup; fix that and run the same command again with --force",
        out.display(),
        failed.len()
    );
    2
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = open_known(&args.backup)?;
    let keys = match unlock(&backup, &args.password, &args.backup)? {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    if !backup.encrypted {
        eprintln!(
            "sesame: {} is not encrypted; writing a plain copy",
            args.backup.display()
        );
    }
    let bar = progress_bar("decrypting");
    let opts = WriteOptions {
        force: args.force,
        threads: args.threads.unwrap_or(0),
        cancel: cancel_on_ctrl_c(),
    };
    let started = std::time::Instant::now();
    let rep = match decrypt_backup(&backup, keys.as_ref(), &args.out, &opts, &feed(&bar)) {
        Ok(r) => r,
        Err(BackupError::Cancelled) => {
            bar.finish_and_clear();
            return Ok(interrupted(&args.out));
        }
        Err(e) => {
            return Err(explain(e, &args.out))
                .with_context(|| format!("decrypting {}", args.backup.display()))
        }
    };
    bar.finish_and_clear();
    if !rep.complete {
        report_problems(&rep.warnings, &rep.failed, "decrypted");
        return Ok(incomplete(&args.out, &rep.failed));
    }
    let secs = started.elapsed().as_secs_f64();
    outln!(
        "Wrote a decrypted copy to {}: {} files ({}), {} folders, {} symlinks in {:.1} s.",
        args.out.display(),
        group(rep.files),
        human_bytes(rep.bytes),
        group(rep.directories),
        group(rep.symlinks),
        secs
    );
    outln!("It reads as an unencrypted backup (Manifest.plist says IsEncrypted false).");
    if rep.keychain_stays_encrypted {
        outln!(
            "Note: the keychain (KeychainDomain/keychain-backup.plist) stays encrypted with keys from \
             this backup's keybag, which the copy keeps aside (in {}) for Sesame only: restoring \
             the copy does not bring back saved passwords. `sesame keychain {}` reads them (with the original password), \
             as does `sesame keychain {}` on the original.",
            sesame_backup::backup::ORIGINAL_KEYBAG,
            crate::output::quote(&args.out),
            crate::output::quote(&args.backup)
        );
    }
    Ok(report_problems(&rep.warnings, &rep.failed, "decrypted"))
}
