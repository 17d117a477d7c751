//! `sesame keychain BACKUP`: the Wi-Fi, website and app passwords in the backup's keychain.
//! Secrets are masked unless --show-secrets.

use crate::password::PasswordArgs;
use anyhow::Context;
use sesame_backup::keychain::{read_keychain, ItemKind, ItemState, KeychainItem};
use sesame_backup::{Backup, UnlockedKeys};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder
    pub backup: PathBuf,
    /// One JSON array instead of a table
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV instead of a table (a name or label starting with = + - @ gets a leading ' so that
    /// spreadsheets show it as text; passwords are exact)
    #[arg(long)]
    pub csv: bool,
    /// Show passwords instead of ********
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub password: PasswordArgs,
}

const MASK: &str = "********";

/// Opens a backup and, when it is encrypted, unlocks it with the password (given, remembered in
/// the potfile, or asked). Ok(None) when the password is wrong (already said on stderr).
pub fn open_unlocked(
    path: &Path,
    password: &PasswordArgs,
) -> anyhow::Result<Option<(Backup, Option<UnlockedKeys>)>> {
    let backup = super::decrypt::open(path)?;
    Ok(match super::decrypt::unlock(&backup, password, path)? {
        Ok(keys) => Some((backup, keys)),
        Err(_) => None,
    })
}

fn kind_label(i: &KeychainItem) -> &'static str {
    i.kind().label()
}

fn fmt_date(t: Option<i64>) -> String {
    t.map(sesame_backup::info::format_unix).unwrap_or_default()
}

fn secret_text(i: &KeychainItem, show: bool) -> String {
    match (&i.state, &i.secret) {
        (ItemState::DeviceOnly, _) => "(device only)".into(),
        (ItemState::Failed(_), _) => "(unreadable)".into(),
        (ItemState::Decrypted, None) => String::new(),
        (ItemState::Decrypted, Some(s)) if show => s.reveal().to_string(),
        (ItemState::Decrypted, Some(_)) => MASK.into(),
    }
}

fn name(i: &KeychainItem) -> String {
    match i.kind() {
        ItemKind::BackupPassword => "this device's backup password".into(),
        _ => i.name().unwrap_or_default(),
    }
}

fn state_name(s: &ItemState) -> &'static str {
    match s {
        ItemState::Decrypted => "decrypted",
        ItemState::DeviceOnly => "device_only",
        ItemState::Failed(_) => "failed",
    }
}

/// Terminal-safe: control characters (escape sequences from a hostile backup) replaced.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn cut(s: &str, n: usize) -> String {
    let s = clean(s);
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let Some((backup, mut keys)) = open_unlocked(&args.backup, &args.password)? else {
        return Ok(1);
    };
    // A Sesame-decrypted copy keeps the original keybag aside: its keychain items open with
    // the original backup's password.
    let original = if backup.encrypted {
        None
    } else {
        backup.keychain_keybag()
    };
    // A copy already decrypted by another tool (mvt, iOSbackup) has plain files, but the
    // keychain's items inside stay wrapped with the backup's class keys: they still need the
    // password, and the copy still has the keybag that it opens.
    if backup.encrypted && keys.is_none() {
        let pw = args.password.for_backup(&backup)?;
        match backup.unlock(&pw) {
            Ok(k) => keys = Some(k),
            Err(sesame_backup::BackupError::WrongPassword) => {
                eprintln!(
                    "sesame: the password is wrong for {} (its keychain items open with the \
                     password of the backup it was decrypted from)",
                    args.backup.display()
                );
                return Ok(1);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(kb) = &original {
        let remembered = sesame_backup::HashLine::from_keybag(kb)
            .ok()
            .and_then(|l| crate::potfile_lookup(&l));
        let pw = args
            .password
            .get("Password of the original (encrypted) backup: ", remembered)?;
        let k = sesame_backup::kdf::derive_fast(&pw, &kb.kdf_params());
        match UnlockedKeys::from_keybag(kb, &k) {
            Ok(k) => keys = Some(k),
            Err(sesame_backup::BackupError::WrongPassword) => {
                eprintln!(
                    "sesame: the password is wrong for the original backup of {}",
                    args.backup.display()
                );
                return Ok(1);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let kc = read_keychain(&backup, keys.as_ref())
        .with_context(|| format!("{}: cannot read the keychain", args.backup.display()))?;
    let mut items: Vec<&KeychainItem> = kc.items.iter().collect();
    items.sort_by_key(|i| {
        (
            i.kind(),
            name(i).to_lowercase(),
            i.account().unwrap_or_default(),
        )
    });

    if args.json {
        let v: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "kind": i.kind(),
                    "table": i.class.table(),
                    "name": name(i),
                    "service": i.service(),
                    "account": i.account(),
                    "server": i.server(),
                    "protocol": i.protocol(),
                    "label": i.label(),
                    "access_group": i.access_group(),
                    "created": i.created().map(sesame_backup::info::format_unix),
                    "modified": i.modified().map(sesame_backup::info::format_unix),
                    "protection_class": i.protection_class,
                    "version": i.version,
                    "state": state_name(&i.state),
                    "error": match &i.state { ItemState::Failed(e) => Some(e.clone()), _ => None },
                    "secret": i.secret.as_ref().map(|s| if args.show_secrets { s.reveal().to_string() } else { MASK.to_string() }),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }

    let headers = [
        "kind", "name", "account", "password", "label", "created", "modified",
    ];
    let rows: Vec<[String; 7]> = items
        .iter()
        .filter(|i| args.csv || !matches!(i.kind(), ItemKind::Certificate | ItemKind::Key))
        .map(|i| {
            [
                kind_label(i).to_string(),
                name(i),
                i.account().unwrap_or_default(),
                secret_text(i, args.show_secrets),
                i.label().unwrap_or_default(),
                fmt_date(i.created()),
                fmt_date(i.modified()),
            ]
        })
        .collect();

    if args.csv {
        // Names, accounts and labels can come from anyone (a Wi-Fi network's name): a formula
        // in them is shown as text. The password column stays exact, for a password manager.
        const PASSWORD: usize = 3;
        outln!("{}", headers.join(","));
        for r in &rows {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    if k == PASSWORD {
                        sesame_export::html::csv_field_exact(c)
                    } else {
                        sesame_export::html::csv_field(c)
                    }
                })
                .collect();
            outln!("{}", cells.join(","));
        }
        return Ok(0);
    }

    // A table: widths from the contents, long cells cut.
    const MAX: [usize; 7] = [15, 40, 30, 30, 30, 20, 20];
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().zip(MAX).map(|(c, m)| cut(c, m)).collect())
        .collect();
    let mut w: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in &shown {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (k, c) in cells.iter().enumerate() {
            s.push_str(c);
            if k + 1 < cells.len() {
                s.push_str(&" ".repeat(w[k] - c.chars().count() + 2));
            }
        }
        outln!("{}", s.trim_end());
    };
    line(
        headers
            .iter()
            .map(|h| h.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for r in &shown {
        line(r.iter().map(String::as_str).collect());
    }
    let count = |k: ItemKind| kc.items.iter().filter(|i| i.kind() == k).count();
    let (certs, keys_n) = (count(ItemKind::Certificate), count(ItemKind::Key));
    outln!();
    outln!(
        "{} item(s): {} decrypted, {} only the device can decrypt, {} unreadable.",
        kc.items.len(),
        kc.count(&ItemState::Decrypted),
        kc.count(&ItemState::DeviceOnly),
        kc.items
            .iter()
            .filter(|i| matches!(i.state, ItemState::Failed(_)))
            .count()
    );
    if certs + keys_n > 0 {
        outln!("Not shown: {certs} certificate(s) and {keys_n} key(s) (see --json or --csv).");
    }
    if !backup.encrypted && original.is_none() {
        outln!(
            "This backup is not encrypted, so its keychain stays encrypted with the device's own key \
             and no password in it can be read here. Turn on \"Encrypt local backup\" and back up \
             again to read them. (A copy decrypted from an encrypted backup reads the same once the \
             original's keybag is gone: run `sesame keychain` on the original backup instead.)"
        );
    } else if kc.count(&ItemState::DeviceOnly) > 0 {
        outln!(
            "\"Device only\" items (ThisDeviceOnly) are encrypted with a key that never leaves the \
             device: no password opens them."
        );
    }
    if !args.show_secrets && kc.items.iter().any(|i| i.secret.is_some()) {
        outln!("Passwords are hidden: add --show-secrets to show them.");
    }
    Ok(0)
}
