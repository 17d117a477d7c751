//! `sesame extract`: files copied out as a readable DIR/<domain>/<relativePath> tree.

use crate::output::{group, human_bytes};
use crate::password::PasswordArgs;
use anyhow::Context;
use sesame_backup::write::{extract, WriteOptions};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The backup folder
    pub backup: PathBuf,
    /// Where to write the tree (a new or empty folder)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only this domain (e.g. HomeDomain, CameraRollDomain)
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Only relative paths matching GLOB (`*` any characters including `/`, `?` one)
    #[arg(long, value_name = "GLOB")]
    pub path: Option<String>,
    /// Write into DIR even if it is not empty
    #[arg(long)]
    pub force: bool,
    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub password: PasswordArgs,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = super::decrypt::open(&args.backup)?;
    let keys = match super::decrypt::unlock(&backup, &args.password, &args.backup)? {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    let manifest = backup
        .open_manifest(keys.as_ref())
        .with_context(|| format!("cannot read the file list of {}", args.backup.display()))?;
    let entries = manifest.filter(args.domain.as_deref(), args.path.as_deref());
    if entries.is_empty() {
        eprintln!(
            "sesame: nothing matches{}{} (hint: `sesame files {}` lists what there is)",
            args.domain
                .as_deref()
                .map(|d| format!(" --domain {d}"))
                .unwrap_or_default(),
            args.path
                .as_deref()
                .map(|p| format!(" --path {p}"))
                .unwrap_or_default(),
            crate::output::quote(&args.backup)
        );
        return Ok(2);
    }
    let bar = super::decrypt::progress_bar("extracting");
    let opts = WriteOptions {
        force: args.force,
        threads: args.threads.unwrap_or(0),
        cancel: super::decrypt::cancel_on_ctrl_c(),
    };
    let rep = match extract(
        &backup,
        keys.as_ref(),
        &entries,
        &args.out,
        &opts,
        &super::decrypt::feed(&bar),
    ) {
        Ok(r) => r,
        Err(sesame_backup::BackupError::Cancelled) => {
            bar.finish_and_clear();
            return Ok(super::decrypt::interrupted(&args.out));
        }
        Err(e) => {
            return Err(super::decrypt::explain(e, &args.out))
                .with_context(|| format!("extracting from {}", args.backup.display()))
        }
    };
    bar.finish_and_clear();
    outln!(
        "Extracted {} files ({}), {} folders, {} symlinks to {}",
        group(rep.files),
        human_bytes(rep.bytes),
        group(rep.directories),
        group(rep.symlinks),
        args.out.display()
    );
    for r in &rep.refused {
        eprintln!(
            "sesame: refused {}/{}: {}",
            r.domain,
            r.relative_path.escape_debug(),
            r.reason
        );
    }
    if !rep.refused.is_empty() {
        eprintln!(
            "sesame: {} entries were refused because they would have been written outside {} \
             (or through a symlink); nothing was written for them",
            rep.refused.len(),
            args.out.display()
        );
    }
    let code = super::decrypt::report_problems(&rep.warnings, &rep.failed, "extracted");
    // A refused entry is a file the user asked for and did not get.
    Ok(if rep.refused.is_empty() { code } else { 2 })
}
