//! `sesame change-password`: a copy of the backup that opens with a new password.

use crate::password::PasswordArgs;
use anyhow::{bail, Context};
use sesame_backup::write::{rekey_backup, WriteOptions};
use sesame_backup::BackupError;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(clap::Args)]
pub struct Args {
    /// The backup folder
    pub backup: PathBuf,
    /// Where to write the re-keyed copy (a new or empty folder)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Read the new password from the first line of FILE (else SESAME_NEW_PASSWORD, else asked twice)
    #[arg(long, value_name = "FILE")]
    pub new_password_file: Option<PathBuf>,
    /// Write into DIR even if it is not empty
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub password: PasswordArgs,
}

fn new_password(args: &Args) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let pw =
        crate::password::new_password(args.new_password_file.as_deref(), "nothing was written")?;
    if pw.is_empty() {
        bail!("the new password is empty (hint: to remove the password, use `sesame decrypt`)");
    }
    Ok(pw)
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = super::decrypt::open_known(&args.backup)?;
    if !backup.encrypted {
        bail!(
            "{} is not encrypted, so it has no password to change",
            args.backup.display()
        );
    }
    let remembered = backup
        .hash_line()
        .ok()
        .and_then(|l| crate::potfile_lookup(&l));
    let old = args.password.get("Current backup password: ", remembered)?;
    if let Err(e) = backup.unlock(&old) {
        if !matches!(e, sesame_backup::BackupError::WrongPassword) {
            return Err(e.into());
        }
        eprintln!(
            "sesame: the password is wrong for {} (hint: `sesame recover {}` finds a forgotten one)",
            args.backup.display(),
            crate::output::quote(&args.backup)
        );
        return Ok(1);
    }
    let new = new_password(&args)?;
    let bar = super::decrypt::progress_bar("copying");
    let opts = WriteOptions {
        force: args.force,
        threads: 0,
        cancel: super::decrypt::cancel_on_ctrl_c(),
    };
    let rep = match rekey_backup(
        &backup,
        &old,
        &new,
        &args.out,
        &opts,
        &super::decrypt::feed(&bar),
    ) {
        Ok(r) => r,
        Err(BackupError::WrongPassword) => {
            eprintln!(
                "sesame: the password is wrong for {}",
                args.backup.display()
            );
            return Ok(1);
        }
        Err(BackupError::Cancelled) => {
            bar.finish_and_clear();
            return Ok(super::decrypt::interrupted(&args.out));
        }
        Err(
            e
            @ (BackupError::Io { .. } | BackupError::Plist { .. } | BackupError::Malformed { .. }),
        ) if !e.to_string().contains(&args.out.display().to_string()) => {
            return Err(crate::explain::backup_error(e, &args.backup))
                .with_context(|| format!("the backup {} cannot be copied", args.backup.display()))
        }
        Err(e) => {
            return Err(super::decrypt::explain(e, &args.out))
                .with_context(|| format!("re-keying {}", args.backup.display()))
        }
    };
    bar.finish_and_clear();
    outln!(
        "Wrote a copy of the backup to {} that opens with the new password ({} class keys re-wrapped, {} files copied).",
        args.out.display(),
        rep.class_keys,
        crate::output::group(rep.files)
    );
    outln!(
        "The original is unchanged. The device still uses its own backup password for future \
         backups: change that on the device (Finder or iTunes: \"Change Password...\")."
    );
    Ok(0)
}
