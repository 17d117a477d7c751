//! `sesame`: the command line. Thin: parses arguments, calls the libraries, prints.
//! Exit codes: 0 success, 1 password not found / wrong, 2 bad input or error.

/// `println!` that ends the process quietly when standard output is closed early
/// (`| head`, `| grep -q`) instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut o = std::io::stdout().lock();
        if let Err(e) = writeln!(o, $($t)*) {
            $crate::output::stdout_failed(e)
        }
    }};
}

/// `print!` with the same care as `outln!`.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut o = std::io::stdout().lock();
        if let Err(e) = write!(o, $($t)*).and_then(|_| o.flush()) {
            $crate::output::stdout_failed(e)
        }
    }};
}

mod cmd;
mod devices;
mod explain;
mod interrupt;
mod output;
mod password;
mod rate;
mod render;
mod target;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sesame",
    version,
    about = "Open encrypted iPhone/iPad backups whose password was forgotten",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once per run: the size of the largest variant (recover's many options) costs nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// List the backups found in the default folders (and --root DIR)
    List(cmd::list::Args),
    /// Explain one backup: device, iOS, date, encryption, key scheme, cost per guess
    Info(cmd::info::Args),
    /// Print the $itunes_backup$ hash line for hashcat (-m 14700/14800) and John the Ripper
    Hash(cmd::hash::Args),
    /// Check a password: exit 0 right, 1 wrong, 2 error
    Verify(cmd::verify::Args),
    /// Find a forgotten password: exit 0 found, 1 not found
    Recover(cmd::recover::Args),
    /// Print the guesses `recover` would try, in its order
    Candidates(cmd::candidates::Args),
    /// Print how many guesses the sources make (what --skip/--limit count in)
    Keyspace(cmd::keyspace::Args),
    /// Ask what you remember and write a hints file for `recover --hints`
    Hints(cmd::hints::Args),
    /// Write a decrypted copy that reads as an unencrypted backup
    Decrypt(cmd::decrypt::Args),
    /// List the files in a backup
    Files(cmd::files::Args),
    /// Copy files out as a readable Domain/path tree
    Extract(cmd::extract::Args),
    /// Write a copy of the backup with a new password
    ChangePassword(cmd::change_password::Args),
    /// Show the Wi-Fi, website and app passwords kept in the backup's keychain
    Keychain(cmd::keychain::Args),
    /// Export messages, contacts, call history, Safari, photos as readable files
    Export(cmd::export::Args),
    /// Measure guesses per second of each kernel and of the whole machine
    Bench(cmd::bench::Args),
    /// Build an encrypted example backup and show what Sesame does with it
    Demo(cmd::demo::Args),
    /// The local web app: find the password and get the data back, step by step, in a browser
    Web(cmd::web::Args),
    /// The phone itself: its backup setting, a new backup, encryption on/off/change, a restore
    Device(cmd::device::Args),
}

/// The newest password the potfile remembers for this hash line that opens it, if any.
/// A potfile that cannot be read is only a warning here: the password can still be asked for.
pub fn potfile_lookup(line: &sesame_backup::HashLine) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    match sesame_crack::potfile::Potfile::open(None).lookup_verified(line) {
        Ok((found, wrong)) => {
            if found.is_none() && wrong > 0 {
                eprintln!(
                    "sesame: warning: the potfile remembers {wrong} password(s) for this backup, \
                     but none of them opens it: ignored"
                );
            }
            found
        }
        Err(e) => {
            eprintln!("sesame: warning: {e}");
            None
        }
    }
}

fn main() {
    // Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set" during GPU
    // discovery when it is unset (cron, ssh, containers): an alarming line about nothing.
    // Set before any thread starts.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(a) => cmd::list::run(a),
        Command::Info(a) => cmd::info::run(a),
        Command::Hash(a) => cmd::hash::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Recover(a) => cmd::recover::run(a),
        Command::Candidates(a) => cmd::candidates::run(a),
        Command::Keyspace(a) => cmd::keyspace::run(a),
        Command::Hints(a) => cmd::hints::run(a),
        Command::Web(a) => cmd::web::run(a),
        Command::Decrypt(a) => cmd::decrypt::run(a),
        Command::Files(a) => cmd::files::run(a),
        Command::Extract(a) => cmd::extract::run(a),
        Command::ChangePassword(a) => cmd::change_password::run(a),
        Command::Keychain(a) => cmd::keychain::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Device(a) => cmd::device::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            if let Some(e) = err.chain().find_map(|c| c.downcast_ref::<std::io::Error>()) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    output::stdout_failed(std::io::ErrorKind::BrokenPipe.into());
                }
            }
            eprintln!("sesame: error: {}", output::error_chain(&err));
            std::process::exit(2);
        }
    }
}
