//! `sesame device ...`: the phone itself, through usbmuxd (USBMUXD_SOCKET_ADDRESS is
//! honoured as libimobiledevice honours it). Not yet run against a real iPhone: tested
//! against a simulated one.

use crate::password::PasswordArgs;
use anyhow::{anyhow, bail, Context};
use sesame_device::{DeviceError, Encryption, Event, Link, MuxAddr, Waits};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// The iPhones and iPads connected now (USB and Wi-Fi)
    List {
        /// One JSON array instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Name, model, iOS, pairing, and whether the phone encrypts its backups
    Info {
        /// The device's UDID (needed only when several are connected)
        udid: Option<String>,
        /// Do not ask the phone to trust this computer
        #[arg(long)]
        no_pair: bool,
        /// JSON instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Make a new full backup of the phone into DIR (a new or empty folder)
    Backup {
        udid: Option<String>,
        /// The backup folder to write
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write into DIR even if it is not empty or an earlier run did not finish
        #[arg(long)]
        force: bool,
    },
    /// Turn the phone's backup encryption on or off, or change its password
    Encryption {
        #[arg(value_enum)]
        action: Action,
        udid: Option<String>,
        /// Read the new password from the first line of FILE (else SESAME_NEW_PASSWORD, else asked twice)
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
        /// The current backup password (for off and change)
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Restore a backup (also a decrypted or re-keyed copy Sesame made) to the phone
    Restore {
        /// The backup folder
        backup: PathBuf,
        /// The device's UDID (needed only when several are connected)
        #[arg(long)]
        udid: Option<String>,
        /// Do not ask before replacing what is on the phone
        #[arg(long)]
        yes: bool,
        /// The backup's password, when it is encrypted
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// The backup password is forgotten: what Reset All Settings does, then wait for the
    /// phone to come back with encryption off and offer a new backup
    Forgot {
        udid: Option<String>,
        /// Make the new backup into DIR as soon as encryption is off
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    On,
    Off,
    Change,
}

fn addr() -> anyhow::Result<MuxAddr> {
    MuxAddr::from_env().map_err(explain)
}

/// What the phone is waiting for, told on stderr.
fn tell(e: &Event) {
    match e {
        Event::TrustPrompt => eprintln!(
            "sesame: the phone asks \"Trust This Computer?\": unlock it, tap Trust and enter its passcode"
        ),
        Event::UnlockToTrust => eprintln!(
            "sesame: the phone is locked: unlock it so it can ask \"Trust This Computer?\""
        ),
        Event::Paired => eprintln!("sesame: the phone trusts this computer now"),
        Event::PasscodePrompt => eprintln!(
            "sesame: the phone asks for its passcode to confirm (iOS 13 and later do): enter it on the phone; waiting"
        ),
        Event::WaitingForDevice => eprintln!(
            "sesame: waiting for the phone to come back with backup encryption off (connect it and unlock it)"
        ),
        Event::Progress { .. } => {}
    }
}

/// A device error in plain words, with what to do.
pub fn explain(e: DeviceError) -> anyhow::Error {
    let msg = match e {
        DeviceError::NoUsbmuxd { addr, .. } => format!(
            "cannot reach usbmuxd at {addr}, the service through which computers talk to iPhones and iPads. \
             On Linux, install and start the usbmuxd package (for example `sudo apt install usbmuxd`), then plug the phone in again; \
             on Windows, install Apple Devices (Microsoft Store) or iTunes; on a Mac it is built in. \
             USBMUXD_SOCKET_ADDRESS (UNIX:/path or host:port) points Sesame to another one"
        ),
        DeviceError::BadAddress { value } => format!(
            "USBMUXD_SOCKET_ADDRESS={value} is not understood: give UNIX:/path/to/socket, host:port or [v6 address]:port, or unset it"
        ),
        DeviceError::NoDevice { udid: None } => {
            "no iPhone or iPad is connected: connect it with a cable (or turn on Wi-Fi sync), unlock it, and check with `sesame device list`".into()
        }
        DeviceError::NoDevice { udid: Some(u) } => format!(
            "no device with UDID {u} is connected (`sesame device list` shows the connected ones)"
        ),
        DeviceError::SeveralDevices { udids } => format!(
            "{} devices are connected: name one by its UDID ({})",
            udids.len(),
            udids.join(", ")
        ),
        DeviceError::NotTrusted { udid } => format!(
            "the phone {udid} does not trust this computer yet: run the command without --no-pair, then tap Trust on the phone and enter its passcode"
        ),
        DeviceError::TrustDenied => "the phone answered \"Don't Trust\": unplug it, plug it in again, and tap Trust when it asks \"Trust This Computer?\"".into(),
        DeviceError::Locked => "the phone is locked: unlock it with its passcode and run the command again".into(),
        DeviceError::TrustTimeout => "nobody answered \"Trust This Computer?\" on the phone in time: unlock it, tap Trust, enter its passcode, and run the command again".into(),
        DeviceError::PasscodeTimeout => "the phone's passcode was not entered in time, so nothing was changed: run the command again and enter the passcode on the phone when it asks".into(),
        DeviceError::WrongPassword => "the phone says the backup password is wrong; nothing was changed (forgotten? `sesame device forgot` explains what Reset All Settings does)".into(),
        DeviceError::AlreadySo { on: true } => "backup encryption is already on: to change its password use `sesame device encryption change`".into(),
        DeviceError::AlreadySo { on: false } => "backup encryption is off on this phone: there is no password to remove or change (turn it on with `sesame device encryption on`)".into(),
        DeviceError::Refused { code, description } => format!(
            "the phone refused: {} (its error {code})",
            description.unwrap_or_else(|| "it gave no reason".into())
        ),
        DeviceError::DiskFull { path } => format!(
            "{}: the disk is full. The backup folder is marked unfinished; free some space (or choose another --out) and run the command again with --force",
            path.display()
        ),
        DeviceError::StillEncrypted => "the phone still encrypts its backups: Reset All Settings was not done or did not finish (Settings > General > Transfer or Reset iPhone > Reset > Reset All Settings)".into(),
        DeviceError::Unfinished { path } => format!(
            "{}: this backup did not finish (its Status.plist does not say \"finished\"), so it is not restored; make a new one, or restore another",
            path.display()
        ),
        DeviceError::Cancelled => "interrupted: the backup folder is not complete; run the same command again with --force to redo it".into(),
        DeviceError::Backup(e) => return crate::explain::output_error(e),
        DeviceError::Protocol(s) => format!(
            "talking to the phone failed ({s}): unlock it, unplug it and plug it in again, and run the command again"
        ),
    };
    anyhow!(msg)
}

fn link_words(l: &Link) -> String {
    match l {
        Link::Usb => "USB".into(),
        Link::Wifi(ip) => format!("Wi-Fi {ip}"),
        Link::Other(s) => s.clone(),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "cannot tell without pairing",
    }
}

fn utf8(p: Zeroizing<Vec<u8>>, what: &str) -> anyhow::Result<Zeroizing<String>> {
    match std::str::from_utf8(&p) {
        Ok(s) if !s.is_empty() => Ok(Zeroizing::new(s.to_string())),
        Ok(_) => bail!("the {what} is empty"),
        Err(_) => bail!("the {what} is not valid UTF-8 text"),
    }
}

fn new_password(file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    let pw = crate::password::new_password(file, "nothing was changed")?;
    utf8(pw, "new password")
}

fn progress_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(100);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}%")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn events<'a>(bar: &'a indicatif::ProgressBar, what: &'a str) -> impl Fn(&Event) + Sync + 'a {
    move |e: &Event| match e {
        Event::Progress {
            bytes,
            percent,
            files,
        } => {
            if let Some(p) = percent {
                bar.set_position(p.clamp(0.0, 100.0) as u64);
            }
            bar.set_message(format!(
                "{what}: {} files, {}",
                crate::output::group(*files as u64),
                crate::output::human_bytes(*bytes)
            ));
        }
        other => bar.suspend(|| tell(other)),
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let waits = Waits::default();
    match args.command {
        Sub::List { json } => {
            let l = sesame_device::list(&addr()?).map_err(explain)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&l)?);
                return Ok(0);
            }
            if l.is_empty() {
                eprintln!("sesame: no iPhone or iPad is connected (connect it with a cable and unlock it)");
            }
            for d in &l {
                let wifi = d
                    .wifi
                    .as_ref()
                    .map(|w| format!(", also Wi-Fi {w}"))
                    .unwrap_or_default();
                outln!("{}  {}{}", d.udid, link_words(&d.link), wifi);
            }
            Ok(0)
        }
        Sub::Info {
            udid,
            no_pair,
            json,
        } => {
            let w = Waits {
                pair: !no_pair,
                ..waits
            };
            let i = sesame_device::info(&addr()?, udid.as_deref(), &w, &tell).map_err(explain)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&i)?);
                return Ok(0);
            }
            let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            outln!("Device:            {}", dash(&i.name));
            outln!("UDID:              {}", i.udid);
            outln!("Model:             {}", dash(&i.model));
            outln!(
                "iOS:               {}{}",
                dash(&i.ios),
                i.build
                    .as_ref()
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default()
            );
            outln!("Connected:         {}", link_words(&i.link));
            outln!(
                "Trusts this computer: {}",
                if i.paired { "yes" } else { "no" }
            );
            outln!("Backup encryption: {}", yes_no(i.will_encrypt));
            Ok(0)
        }
        Sub::Backup { udid, out, force } => {
            let bar = progress_bar();
            let opts = sesame_device::BackupOptions {
                force,
                max_bytes: None,
                cancel: super::decrypt::cancel_on_ctrl_c(),
            };
            let r = sesame_device::backup(
                &addr()?,
                udid.as_deref(),
                &out,
                &opts,
                &waits,
                &events(&bar, "backing up"),
            );
            bar.finish_and_clear();
            if let Err(DeviceError::Cancelled) = r {
                return Ok(super::decrypt::interrupted(&out));
            }
            let r = r
                .map_err(explain)
                .with_context(|| format!("the backup in {} is not complete", out.display()))?;
            outln!(
                "Backed up {} files ({}) from {} into {}.",
                crate::output::group(r.files as u64),
                crate::output::human_bytes(r.bytes),
                r.udid,
                r.folder.display()
            );
            if r.encrypted {
                outln!("The phone encrypts its backups: this one opens with the phone's backup password.");
            }
            outln!(
                "See its files with: sesame files {}",
                crate::output::quote(&r.folder)
            );
            Ok(0)
        }
        Sub::Encryption {
            action,
            udid,
            new_password_file,
            password,
        } => {
            let old = || -> anyhow::Result<Zeroizing<String>> {
                utf8(password.get("Current backup password: ", None)?, "password")
            };
            let change = match action {
                Action::On => Encryption::On {
                    new: new_password(new_password_file.as_deref())?,
                },
                Action::Off => Encryption::Off { old: old()? },
                Action::Change => Encryption::Change {
                    old: old()?,
                    new: new_password(new_password_file.as_deref())?,
                },
            };
            match sesame_device::set_encryption(&addr()?, udid.as_deref(), &change, &waits, &tell) {
                Ok(true) => outln!("Backup encryption is on: the phone's next backups open only with the new password."),
                Ok(false) => outln!("Backup encryption is off: the phone's next backups are not encrypted."),
                Err(DeviceError::WrongPassword) => {
                    eprintln!("sesame: {}", explain(DeviceError::WrongPassword));
                    return Ok(1);
                }
                Err(e) => return Err(explain(e)),
            }
            Ok(0)
        }
        Sub::Restore {
            backup,
            udid,
            yes,
            password,
        } => restore(&backup, udid.as_deref(), yes, &password, &waits),
        Sub::Forgot { udid, out } => forgot(udid.as_deref(), out.as_deref(), &waits),
    }
}

fn restore(
    backup: &Path,
    udid: Option<&str>,
    yes: bool,
    password: &PasswordArgs,
    waits: &Waits,
) -> anyhow::Result<i32> {
    let a = addr()?;
    let b = super::decrypt::open(backup)?;
    let plan =
        sesame_device::restore::plan(&a, udid, backup, waits, &tell).map_err(|e| match e {
            DeviceError::Backup(e) => crate::explain::backup_error(e, backup),
            e => explain(e),
        })?;
    let pw = if plan.backup_encrypted {
        let pw = password.for_backup(&b)?;
        if let Err(e) = b.unlock(&pw) {
            if matches!(e, sesame_backup::BackupError::WrongPassword) {
                eprintln!(
                    "sesame: the password is wrong for {} (hint: `sesame recover {}` finds a forgotten one)",
                    backup.display(),
                    crate::output::quote(backup)
                );
                return Ok(1);
            }
            return Err(crate::explain::backup_error(e, backup));
        }
        Some(utf8(pw, "password")?)
    } else {
        None
    };
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
    eprintln!(
        "This replaces everything on {} ({}, iOS {}): apps and their data, messages, photos, \
         settings and accounts, with what is in the backup of {} (iOS {}, made {}) in {}. \
         What is on the phone now and not in the backup is lost. Turn off Find My on the phone \
         first (Settings > your name > Find My), or it refuses. The phone restarts when done.",
        dash(&plan.device_name),
        plan.device_udid,
        dash(&plan.device_ios),
        dash(&plan.backup_device_name),
        dash(&plan.backup_ios),
        dash(&plan.backup_date),
        backup.display()
    );
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("nothing was restored: add --yes to restore without being asked");
        }
        eprint!("Type yes to restore: ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != "yes" {
            eprintln!("sesame: nothing was restored");
            return Ok(2);
        }
    }
    let bar = progress_bar();
    let r = sesame_device::restore(&a, &plan, pw.as_ref(), waits, &events(&bar, "restoring"));
    bar.finish_and_clear();
    match r {
        Ok(r) => {
            outln!(
                "Restored {} files to {}: the phone finishes and restarts by itself.",
                crate::output::group(r.files_sent as u64),
                plan.device_udid
            );
            Ok(0)
        }
        Err(DeviceError::WrongPassword) => {
            eprintln!(
                "sesame: the phone says the backup's password is wrong; nothing was restored"
            );
            Ok(1)
        }
        Err(e) => Err(explain(e)),
    }
}

fn forgot(udid: Option<&str>, out: Option<&Path>, waits: &Waits) -> anyhow::Result<i32> {
    let a = addr()?;
    let i = sesame_device::info(&a, udid, waits, &tell).map_err(explain)?;
    if i.will_encrypt == Some(false) {
        outln!("Backup encryption is already off on this phone: a new backup needs no password.");
    } else {
        if sesame_device::reset_removes_backup_password(i.ios.as_deref()) == Some(false) {
            bail!(
                "this phone runs iOS {}: Reset All Settings removes the backup password only on iOS 11 and later (update iOS first, or find the password with `sesame recover`)",
                i.ios.as_deref().unwrap_or("?")
            );
        }
        outln!("{}", sesame_device::RESET_ALL_SETTINGS);
        outln!("When the phone has restarted, connect and unlock it; Sesame waits up to 15 minutes (Ctrl-C stops).");
        let back =
            sesame_device::wait_for_encryption_off(&a, &i.udid, waits, &tell).map_err(explain)?;
        outln!(
            "Backup encryption is off on {} now.",
            back.name.as_deref().unwrap_or(&back.udid)
        );
    }
    match out {
        Some(dir) => {
            let bar = progress_bar();
            let opts = sesame_device::BackupOptions::default();
            // The phone may restart just after its setting changed: the backup waits for it.
            let r = sesame_device::backup_when_back(&a, &i.udid, dir, &opts, waits, &events(&bar, "backing up"));
            bar.finish_and_clear();
            let r = r.map_err(explain)?;
            outln!(
                "Backed up {} files into {}: see them with `sesame files {}`.",
                crate::output::group(r.files as u64),
                r.folder.display(),
                crate::output::quote(&r.folder)
            );
        }
        None => outln!(
            "Make a new backup now: sesame device backup {} --out DIR (then, to encrypt the next ones, `sesame device encryption on` with a password you will remember)",
            i.udid
        ),
    }
    Ok(0)
}
