//! The backup password the Mac may have kept: when "Encrypt local backup" was ticked in Finder
//! or iTunes with "Remember this password in my keychain", the login keychain holds an
//! application password labelled "iOS Backup" (older iTunes: "iPhone Backup"). macOS's own
//! `security` tool reads it; macOS asks the person for their Mac password before it answers,
//! so this only runs when the person asked for it.
//!
//! Every password found is checked against the backup before it is trusted: a keychain can
//! hold the item of another device, or an old password.

use sesame_backup::HashLine;
use std::path::Path;
use std::process::Command;
use zeroize::Zeroizing;

/// Labels the item has had, newest first.
pub const LABELS: [&str; 2] = ["iOS Backup", "iPhone Backup"];

/// `security` answers this when no item matches.
const NOT_FOUND: i32 = 44;

/// Why the keychain could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum KeychainLookupError {
    #[error("cannot run {tool}: {source}")]
    NoTool {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    /// The person said no at macOS's prompt, or the keychain is locked.
    #[error("the Mac's keychain did not answer (exit code {code:?}): {message}")]
    Refused { code: Option<i32>, message: String },
}

/// What the keychain held for this backup.
#[derive(Debug)]
pub enum KeychainAnswer {
    /// A password that opens the backup.
    Opens(Zeroizing<Vec<u8>>),
    /// Items were found, none of them opens the backup (how many).
    Wrong(usize),
    /// No such item.
    None,
}

/// Asks `tool` (macOS: /usr/bin/security) for the items under [`LABELS`], for the device
/// `udid` first and then any, and checks each against `line`.
pub fn lookup(
    tool: &Path,
    udid: Option<&str>,
    line: &HashLine,
) -> Result<KeychainAnswer, KeychainLookupError> {
    let mut wrong = 0;
    for label in LABELS {
        let mut tries: Vec<Vec<&str>> = Vec::new();
        if let Some(u) = udid {
            tries.push(vec!["find-generic-password", "-l", label, "-a", u, "-w"]);
        }
        tries.push(vec!["find-generic-password", "-l", label, "-w"]);
        for args in tries {
            let out = Command::new(tool).args(&args).output().map_err(|source| {
                KeychainLookupError::NoTool {
                    tool: tool.display().to_string(),
                    source,
                }
            })?;
            match out.status.code() {
                Some(0) => {}
                Some(NOT_FOUND) => continue,
                code => {
                    return Err(KeychainLookupError::Refused {
                        code,
                        message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    })
                }
            }
            let mut text = Zeroizing::new(out.stdout.clone());
            while matches!(text.last(), Some(b'\n' | b'\r')) {
                text.pop();
            }
            // `security -w` prints a password that is not plain text as hex.
            let mut candidates = vec![text.clone()];
            if let Ok(raw) = hex::decode(&text[..]) {
                candidates.push(Zeroizing::new(raw));
            }
            for c in candidates {
                if line.verify(&c) {
                    return Ok(KeychainAnswer::Opens(c));
                }
            }
            wrong += 1;
        }
    }
    Ok(if wrong > 0 {
        KeychainAnswer::Wrong(wrong)
    } else {
        KeychainAnswer::None
    })
}

/// Where the tool is on a Mac; `None` elsewhere.
pub fn default_tool() -> Option<&'static Path> {
    cfg!(target_os = "macos").then(|| Path::new("/usr/bin/security"))
}
