//! Where a password comes from, in this order: --password-file FILE or --password PW (a flag
//! beats the environment), then SESAME_PASSWORD, then the potfile, then a prompt.

use anyhow::{bail, Context};
use std::io::IsTerminal;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The password options every command that needs a password shares.
#[derive(clap::Args, Default, Clone)]
pub struct PasswordArgs {
    /// Read the password from the first line of FILE
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    pub password_file: Option<PathBuf>,
    /// The password itself (other users of this computer can see it: prefer --password-file)
    #[arg(long, value_name = "PW")]
    pub password: Option<String>,
}

/// Never shows the password itself.
impl std::fmt::Debug for PasswordArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordArgs")
            .field("password_file", &self.password_file)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Drop for PasswordArgs {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        if let Some(p) = &mut self.password {
            p.zeroize();
        }
    }
}

/// First line of a file, without its line ending, and without the byte-order mark that some
/// editors (Windows Notepad) put at the start of a file: no one types that as part of a password.
pub fn first_line(bytes: &[u8]) -> Vec<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let mut line = bytes[..end].to_vec();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

impl PasswordArgs {
    /// The password given explicitly, if any; does not prompt. A flag (--password-file,
    /// --password) beats SESAME_PASSWORD: what is typed on this command line is what was meant.
    pub fn given(&self) -> anyhow::Result<Option<Zeroizing<Vec<u8>>>> {
        if let Some(f) = &self.password_file {
            let bytes = Zeroizing::new(
                std::fs::read(f)
                    .with_context(|| format!("cannot read the password file {}", f.display()))?,
            );
            let line = Zeroizing::new(first_line(&bytes));
            if line.is_empty() {
                if bytes.is_empty() {
                    bail!(
                        "the password file {} is empty: put the password on its first line",
                        f.display()
                    );
                }
                bail!("the first line of the password file {} is empty: put the password on its first line", f.display());
            }
            return Ok(Some(line));
        }
        if let Some(p) = &self.password {
            eprintln!(
                "sesame: warning: a password given with --password can be seen by other users \
                 of this computer; prefer --password-file or SESAME_PASSWORD"
            );
            return Ok(Some(Zeroizing::new(p.as_bytes().to_vec())));
        }
        // Set but empty is taken as unset: `SESAME_PASSWORD= sesame ...` clears it, and no
        // backup has an empty password.
        if let Some(v) = std::env::var_os("SESAME_PASSWORD").filter(|v| !v.is_empty()) {
            return Ok(Some(Zeroizing::new(v.into_encoded_bytes())));
        }
        Ok(None)
    }

    /// The password: given explicitly, or from `fallback` (the potfile), or asked on the terminal.
    pub fn get(
        &self,
        prompt: &str,
        fallback: Option<Zeroizing<Vec<u8>>>,
    ) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        if let Some(p) = self.given()? {
            return Ok(p);
        }
        if let Some(p) = fallback {
            eprintln!("sesame: using the password remembered in the potfile");
            return Ok(p);
        }
        prompt_password(prompt)
    }
}

impl PasswordArgs {
    /// The password of an encrypted backup: given, remembered in the potfile, or asked.
    pub fn for_backup(&self, backup: &sesame_backup::Backup) -> anyhow::Result<Zeroizing<Vec<u8>>> {
        let remembered = backup
            .hash_line()
            .ok()
            .and_then(|l| crate::potfile_lookup(&l));
        self.get("Backup password: ", remembered)
    }
}

/// Asks on the terminal without echo. Errors when there is no terminal.
pub fn prompt_password(prompt: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password given: use --password-file FILE, the SESAME_PASSWORD variable, \
             or run on a terminal to be asked"
        );
    }
    eprint!("{prompt}");
    let echo_off = set_echo(false);
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if echo_off {
        set_echo(true);
        eprintln!();
    }
    read.context("cannot read the password from the terminal")?;
    let line = Zeroizing::new(line);
    Ok(Zeroizing::new(first_line(line.as_bytes())))
}

/// Turns terminal echo off/on with stty; returns whether it worked.
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A new password: from the first line of `file`, else SESAME_NEW_PASSWORD, else asked twice
/// on the terminal. `unchanged` says what did not happen when the two answers differ
/// ("nothing was written").
pub fn new_password(
    file: Option<&std::path::Path>,
    unchanged: &str,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if let Some(f) = file {
        let bytes = Zeroizing::new(
            std::fs::read(f)
                .with_context(|| format!("cannot read the new password file {}", f.display()))?,
        );
        return Ok(Zeroizing::new(first_line(&bytes)));
    }
    if let Some(v) = std::env::var_os("SESAME_NEW_PASSWORD").filter(|v| !v.is_empty()) {
        return Ok(Zeroizing::new(v.into_encoded_bytes()));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no new password given: use --new-password-file FILE or the SESAME_NEW_PASSWORD \
             variable, or run on a terminal to be asked"
        );
    }
    let a = prompt_password("New backup password: ")?;
    let b = prompt_password("Again: ")?;
    if a != b {
        bail!("the two new passwords differ; {unchanged}");
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let a = PasswordArgs {
            password_file: None,
            password: Some("hunter2-secret".into()),
        };
        let shown = format!("{a:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}
