//! `sesame files`: the files in a backup, from Manifest.db.

use crate::output::human_bytes;
use crate::password::PasswordArgs;
use anyhow::Context;
use sesame_backup::ManifestEntry;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The backup folder
    pub backup: PathBuf,
    /// Only this domain (e.g. HomeDomain, CameraRollDomain, AppDomain-com.example.app)
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Only relative paths matching GLOB (`*` any characters including `/`, `?` one)
    #[arg(long, value_name = "GLOB")]
    pub path: Option<String>,
    /// One JSON array instead of lines
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub password: PasswordArgs,
}

#[derive(serde::Serialize)]
struct Row<'a> {
    file_id: &'a str,
    domain: &'a str,
    relative_path: &'a str,
    kind: &'static str,
    size: Option<u64>,
    mode: Option<String>,
    modified: Option<String>,
    protection_class: Option<u32>,
    target: Option<&'a str>,
}

fn row(e: &ManifestEntry) -> Row<'_> {
    let m = e.meta.as_ref();
    Row {
        file_id: &e.file_id,
        domain: &e.domain,
        relative_path: &e.relative_path,
        kind: e.kind.name(),
        size: m.map(|m| m.size),
        mode: m.map(|m| format!("{:o}", m.mode)),
        modified: m.map(|m| sesame_backup::info::format_unix(m.last_modified)),
        protection_class: m.map(|m| m.protection_class),
        target: m.and_then(|m| m.target.as_deref()),
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let backup = super::decrypt::open(&args.backup)?;
    // Only iOS 10.2+ encrypted backups encrypt Manifest.db: ask for the password only then.
    let keys = if backup.needs_password() && backup.manifest_key.is_some() {
        match super::decrypt::unlock(&backup, &args.password, &args.backup)? {
            Ok(k) => k,
            Err(code) => return Ok(code),
        }
    } else {
        None
    };
    let manifest = backup
        .open_manifest(keys.as_ref())
        .with_context(|| format!("cannot list the files of {}", args.backup.display()))?;
    for w in &manifest.warnings {
        eprintln!("sesame: warning: {w}");
    }
    let entries = manifest.filter(args.domain.as_deref(), args.path.as_deref());
    if args.json {
        let rows: Vec<Row> = entries.iter().map(|e| row(e)).collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for e in &entries {
        let size = match (e.kind, &e.meta) {
            (sesame_backup::EntryKind::File, Some(m)) => human_bytes(m.size),
            _ => String::new(),
        };
        let extra = match e.meta.as_ref().and_then(|m| m.target.as_deref()) {
            Some(t) => format!(" -> {t}"),
            None => String::new(),
        };
        let line = writeln!(
            out,
            "{:<9} {:>10}  {}/{}{}",
            e.kind.name(),
            size,
            e.domain,
            e.relative_path,
            extra
        );
        if line.is_err() {
            return Ok(0); // stdout closed (| head): not an error
        }
    }
    let _ = out.flush();
    drop(out);
    if entries.is_empty() {
        eprintln!("sesame: no entries match");
    } else {
        eprintln!("{} entries", crate::output::group(entries.len() as u64));
    }
    Ok(0)
}
