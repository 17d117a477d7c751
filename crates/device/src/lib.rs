//! The phone itself, over USB or Wi-Fi, through usbmuxd and the `idevice` crate: which
//! devices are connected, their backup setting (lockdown's `WillEncrypt`), pairing
//! ("Trust This Computer?"), new backups, encryption on, off or changed, and restores
//! (mobilebackup2).
//!
//! idevice is async; this crate runs it on a small current-thread tokio runtime per call,
//! so its API is synchronous like the rest of Sesame. It never prints: waits and progress
//! come as [`Event`]s to a callback, failures as [`DeviceError`].
//!
//! The protocols (usbmuxd, lockdownd, DeviceLink/mobilebackup2) are as libimobiledevice
//! (tools/idevicebackup2.c, src/mobilebackup2.c, src/lockdown.c) and pymobiledevice3
//! (services/mobilebackup2.py, services/device_link.py, lockdown.py) implement them. These
//! calls have been tested against a simulated phone (tests/sim), not yet a real iPhone.

#![forbid(unsafe_code)]

mod addr;
mod backup;
mod error;
pub mod restore;

pub use addr::{MuxAddr, ENV as USBMUXD_ENV};
pub use backup::{backup, backup_when_back, BackupOptions, BackupReport};
pub use error::{DeviceError, Result};
pub use restore::{restore, RestorePlan, RestoreReport};

use idevice::lockdown::LockdownClient;
use idevice::mobilebackup2::MobileBackup2Client;
use idevice::pairing_file::PairingFile;
use idevice::provider::UsbmuxdProvider;
use idevice::usbmuxd::{Connection, UsbmuxdAddr, UsbmuxdConnection, UsbmuxdDevice};
use idevice::{IdeviceError, IdeviceService};
use std::time::Duration;
use zeroize::Zeroizing;

/// The label idevice sends with each lockdown request.
const LABEL: &str = "sesame";

/// How a device is connected.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    Usb,
    /// Wi-Fi, with the address usbmuxd gave.
    Wifi(String),
    Other(String),
}

/// One device usbmuxd sees.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Connected {
    pub udid: String,
    pub link: Link,
    /// Also reachable over Wi-Fi at this address (when `link` is USB).
    pub wifi: Option<String>,
    /// usbmuxd's number for it.
    pub device_id: u32,
}

/// What the phone says about itself.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeviceInfo {
    pub udid: String,
    pub link: Link,
    pub name: Option<String>,
    /// ProductType, e.g. iPhone14,2.
    pub model: Option<String>,
    pub ios: Option<String>,
    pub build: Option<String>,
    /// This computer has a pairing the phone accepted.
    pub paired: bool,
    /// Backup encryption (com.apple.mobile.backup WillEncrypt); None when it could not be
    /// read (not paired).
    pub will_encrypt: Option<bool>,
}

/// Something to tell the person while the phone works or waits.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The phone shows "Trust This Computer?": tap Trust and enter its passcode.
    TrustPrompt,
    /// The phone is locked: unlock it so it can show "Trust This Computer?".
    UnlockToTrust,
    /// Paired: the phone trusts this computer now.
    Paired,
    /// The phone asks for its passcode to confirm (iOS 13 and later).
    PasscodePrompt,
    /// Backup or restore progress.
    Progress {
        bytes: u64,
        /// Percent done as the phone reports it, when it does.
        percent: Option<f64>,
        files: u32,
    },
    /// Waiting for the phone to come back (after a reset or a restart).
    WaitingForDevice,
}

/// How long to wait for a person at the phone, and how often to look again.
#[derive(Clone, Debug)]
pub struct Waits {
    /// For "Trust This Computer?" to be answered.
    pub trust: Duration,
    /// For the passcode at the phone's prompt (encryption changes on iOS 13 and later).
    pub passcode: Duration,
    /// For the phone to come back after Reset All Settings or a restart.
    pub reconnect: Duration,
    /// Between two looks.
    pub poll: Duration,
    /// Pair when this computer is not trusted yet (else `NotTrusted`).
    pub pair: bool,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            trust: Duration::from_secs(120),
            passcode: Duration::from_secs(300),
            reconnect: Duration::from_secs(900),
            poll: Duration::from_secs(1),
            pair: true,
        }
    }
}

/// A callback for events; `&|_| {}` ignores them.
pub type OnEvent<'a> = &'a (dyn Fn(&Event) + Sync);

/// Runs one idevice future on a runtime of its own.
pub(crate) fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeviceError::Protocol(format!("cannot start the I/O runtime: {e}")))?;
    rt.block_on(f)
}

/// A connection to usbmuxd, or the error that says it is not there.
pub(crate) async fn mux(addr: &MuxAddr) -> Result<(UsbmuxdAddr, UsbmuxdConnection)> {
    let a = addr.to_idevice()?;
    match a.connect(0).await {
        Ok(c) => Ok((a, c)),
        Err(IdeviceError::Socket(e)) => Err(DeviceError::NoUsbmuxd {
            addr: addr.to_string(),
            source: e,
        }),
        Err(e) => Err(DeviceError::from_idevice(e, "connecting to usbmuxd")),
    }
}

fn link(c: &Connection) -> Link {
    match c {
        Connection::Usb => Link::Usb,
        Connection::Network(ip) => Link::Wifi(ip.to_string()),
        Connection::Unknown(s) => Link::Other(s.clone()),
    }
}

/// The devices connected now, USB first, each once (a phone on both USB and Wi-Fi is
/// listed as USB).
pub fn list(addr: &MuxAddr) -> Result<Vec<Connected>> {
    block_on(async {
        let (_, mut c) = mux(addr).await?;
        let devs = c
            .get_devices()
            .await
            .map_err(|e| DeviceError::from_idevice(e, "listing devices"))?;
        Ok(dedup(devs))
    })
}

fn dedup(devs: Vec<UsbmuxdDevice>) -> Vec<Connected> {
    let mut out: Vec<Connected> = Vec::new();
    let mut sorted = devs;
    sorted.sort_by_key(|d| !matches!(d.connection_type, Connection::Usb));
    for d in sorted {
        let l = link(&d.connection_type);
        if let Some(o) = out.iter_mut().find(|o| o.udid == d.udid) {
            if let (Link::Wifi(ip), None) = (&l, &o.wifi) {
                o.wifi = Some(ip.clone());
            }
            continue;
        }
        out.push(Connected {
            udid: d.udid.clone(),
            link: l,
            wifi: None,
            device_id: d.device_id,
        });
    }
    out
}

/// The one device meant: the one with `udid`, or the only one connected.
pub(crate) async fn pick(addr: &MuxAddr, udid: Option<&str>) -> Result<(UsbmuxdAddr, Connected)> {
    let (a, mut c) = mux(addr).await?;
    let devs = dedup(
        c.get_devices()
            .await
            .map_err(|e| DeviceError::from_idevice(e, "listing devices"))?,
    );
    let found = match udid {
        Some(u) => devs.into_iter().find(|d| d.udid.eq_ignore_ascii_case(u)),
        None if devs.len() > 1 => {
            return Err(DeviceError::SeveralDevices {
                udids: devs.into_iter().map(|d| d.udid).collect(),
            })
        }
        None => devs.into_iter().next(),
    };
    match found {
        Some(d) => Ok((a, d)),
        None => Err(DeviceError::NoDevice {
            udid: udid.map(str::to_string),
        }),
    }
}

pub(crate) fn provider(a: &UsbmuxdAddr, d: &Connected) -> UsbmuxdProvider {
    UsbmuxdProvider {
        addr: a.clone(),
        tag: d.device_id,
        udid: d.udid.clone(),
        device_id: d.device_id,
        label: LABEL.into(),
    }
}

/// The pair record usbmuxd keeps for this device, if any.
async fn stored_pairing(addr: &MuxAddr, udid: &str) -> Result<Option<PairingFile>> {
    let (_, mut c) = mux(addr).await?;
    match c.get_pair_record(udid).await {
        Ok(p) => Ok(Some(p)),
        Err(IdeviceError::Socket(e)) => Err(DeviceError::Protocol(format!(
            "reading the pairing from usbmuxd: {e}"
        ))),
        // usbmuxd answers a missing record with an error result.
        Err(_) => Ok(None),
    }
}

/// A lockdown connection (no session yet).
async fn lockdown(p: &UsbmuxdProvider) -> Result<LockdownClient> {
    LockdownClient::connect(p)
        .await
        .map_err(|e| DeviceError::from_idevice(e, "connecting to lockdownd"))
}

/// Pairs with the phone: asks it to trust this computer, waiting for the person to answer
/// "Trust This Computer?", and stores the record with usbmuxd.
async fn pair_now(
    addr: &MuxAddr,
    p: &UsbmuxdProvider,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<PairingFile> {
    let buid = {
        let (_, mut c) = mux(addr).await?;
        c.get_buid()
            .await
            .map_err(|e| DeviceError::from_idevice(e, "reading usbmuxd's BUID"))?
    };
    let host_id = host_id();
    let mut ld = lockdown(p).await?;
    let host_name = std::env::var("HOSTNAME").ok();
    let start = tokio::time::Instant::now();
    let mut said: Option<Event> = None;
    let mut record = loop {
        match ld.pair_once(&host_id, &buid, host_name.as_deref()).await {
            Ok(r) => break r,
            Err(e) => {
                let (ev, err) = match e {
                    IdeviceError::PairingDialogResponsePending => {
                        (Event::TrustPrompt, DeviceError::TrustTimeout)
                    }
                    IdeviceError::PasswordProtected => (Event::UnlockToTrust, DeviceError::Locked),
                    other => return Err(DeviceError::from_idevice(other, "pairing")),
                };
                if said.as_ref() != Some(&ev) {
                    on(&ev);
                    said = Some(ev);
                }
                if start.elapsed() >= waits.trust {
                    return Err(err);
                }
                tokio::time::sleep(waits.poll).await;
            }
        }
    };
    record.udid = Some(p.udid.clone());
    let bytes = record
        .clone()
        .serialize()
        .map_err(|e| DeviceError::from_idevice(e, "writing the pairing"))?;
    let (_, mut c) = mux(addr).await?;
    c.save_pair_record(&p.udid, bytes)
        .await
        .map_err(|e| DeviceError::from_idevice(e, "saving the pairing with usbmuxd"))?;
    on(&Event::Paired);
    Ok(record)
}

/// A host identifier as iTunes makes them: an upper-case random UUID.
fn host_id() -> String {
    let mut b = [0u8; 16];
    // The standard library's randomness is enough for an identifier (not a secret).
    for (i, chunk) in b.chunks_mut(8).enumerate() {
        let s = std::collections::hash_map::RandomState::new();
        use std::hash::{BuildHasher, Hasher};
        let mut h = s.build_hasher();
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A lockdown session (TLS) with the phone, pairing first when needed and allowed.
pub(crate) async fn session(
    addr: &MuxAddr,
    p: &UsbmuxdProvider,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<LockdownClient> {
    Ok(session_with_record(addr, p, waits, on).await?.0)
}

/// A session and the pairing it was started with.
pub(crate) async fn session_with_record(
    addr: &MuxAddr,
    p: &UsbmuxdProvider,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<(LockdownClient, PairingFile)> {
    let record = match stored_pairing(addr, &p.udid).await? {
        Some(r) => r,
        None if waits.pair => pair_now(addr, p, waits, on).await?,
        None => {
            return Err(DeviceError::NotTrusted {
                udid: p.udid.clone(),
            })
        }
    };
    let mut ld = lockdown(p).await?;
    match ld.start_session(&record).await {
        Ok(_) => Ok((ld, record)),
        Err(IdeviceError::InvalidHostID) if waits.pair => {
            // The phone forgot this computer (Reset All Settings resets privacy settings,
            // trusted computers among them): pair again.
            let record = pair_now(addr, p, waits, on).await?;
            let mut ld = lockdown(p).await?;
            ld.start_session(&record)
                .await
                .map_err(|e| DeviceError::from_idevice(e, "starting a lockdown session"))?;
            Ok((ld, record))
        }
        Err(IdeviceError::InvalidHostID) => Err(DeviceError::NotTrusted {
            udid: p.udid.clone(),
        }),
        Err(e) => Err(DeviceError::from_idevice(e, "starting a lockdown session")),
    }
}

fn string_of(v: std::result::Result<plist::Value, IdeviceError>) -> Option<String> {
    v.ok().and_then(|v| v.as_string().map(str::to_string))
}

/// WillEncrypt, read in a session: absent means off (as idevicebackup2 reads it).
pub(crate) async fn will_encrypt(ld: &mut LockdownClient) -> Result<bool> {
    match ld
        .get_value(Some("WillEncrypt"), Some("com.apple.mobile.backup"))
        .await
    {
        Ok(plist::Value::Boolean(b)) => Ok(b),
        Ok(_) => Ok(false),
        Err(IdeviceError::Socket(e)) => Err(DeviceError::Protocol(format!(
            "reading the backup setting: {e}"
        ))),
        Err(IdeviceError::UnknownErrorType(s)) if s.contains("MissingValue") => Ok(false),
        Err(IdeviceError::UnexpectedResponse(_)) => Ok(false),
        Err(e) => Err(DeviceError::from_idevice(e, "reading the backup setting")),
    }
}

/// The phone's name, model, iOS, pairing and backup setting. Pairs when needed and
/// `waits.pair` allows it; otherwise an unpaired phone says what it says without a session.
pub fn info(
    addr: &MuxAddr,
    udid: Option<&str>,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<DeviceInfo> {
    block_on(async {
        let (a, d) = pick(addr, udid).await?;
        let p = provider(&a, &d);
        let mut info = DeviceInfo {
            udid: d.udid.clone(),
            link: d.link.clone(),
            name: None,
            model: None,
            ios: None,
            build: None,
            paired: false,
            will_encrypt: None,
        };
        let mut ld = match session(addr, &p, waits, on).await {
            Ok(ld) => {
                info.paired = true;
                ld
            }
            Err(DeviceError::NotTrusted { .. }) => lockdown(&p).await?,
            Err(e) => return Err(e),
        };
        info.name = string_of(ld.get_value(Some("DeviceName"), None).await);
        info.model = string_of(ld.get_value(Some("ProductType"), None).await);
        info.ios = string_of(ld.get_value(Some("ProductVersion"), None).await);
        info.build = string_of(ld.get_value(Some("BuildVersion"), None).await);
        if info.paired {
            info.will_encrypt = Some(will_encrypt(&mut ld).await?);
        }
        Ok(info)
    })
}

/// The major iOS version, from "17.1.2".
pub(crate) fn ios_major(v: Option<&str>) -> Option<u32> {
    v?.split('.').next()?.parse().ok()
}

/// What to do with backup encryption.
#[derive(Debug)]
pub enum Encryption {
    /// Turn it on with this password.
    On { new: Zeroizing<String> },
    /// Turn it off: the phone needs the current password.
    Off { old: Zeroizing<String> },
    /// Change the password.
    Change {
        old: Zeroizing<String>,
        new: Zeroizing<String>,
    },
}

/// Turns backup encryption on or off or changes its password (mobilebackup2
/// ChangePassword, as idevicebackup2's `encryption on|off` and `changepw` send it). On iOS 13
/// and later the phone then asks for its passcode: [`Event::PasscodePrompt`] is sent and
/// the call waits up to `waits.passcode`. Returns the new WillEncrypt, read back.
pub fn set_encryption(
    addr: &MuxAddr,
    udid: Option<&str>,
    change: &Encryption,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<bool> {
    block_on(async {
        let (a, d) = pick(addr, udid).await?;
        let p = provider(&a, &d);
        let mut ld = session(addr, &p, waits, on).await?;
        let now = will_encrypt(&mut ld).await?;
        let ios = string_of(ld.get_value(Some("ProductVersion"), None).await);
        drop(ld);
        let (old, new, want) = match change {
            Encryption::On { new } => (None, Some(new), true),
            Encryption::Off { old } => (Some(old), None, false),
            Encryption::Change { old, new } => (Some(old), Some(new), true),
        };
        match change {
            Encryption::On { .. } if now => return Err(DeviceError::AlreadySo { on: true }),
            Encryption::Off { .. } | Encryption::Change { .. } if !now => {
                return Err(DeviceError::AlreadySo { on: false })
            }
            _ => {}
        }
        let mut mb = MobileBackup2Client::connect(&p)
            .await
            .map_err(|e| DeviceError::from_idevice(e, "starting mobilebackup2"))?;
        let mut msg = plist::Dictionary::new();
        msg.insert("MessageName".into(), "ChangePassword".into());
        msg.insert("TargetIdentifier".into(), d.udid.clone().into());
        if let Some(o) = old {
            msg.insert("OldPassword".into(), o.as_str().into());
        }
        if let Some(n) = new {
            msg.insert("NewPassword".into(), n.as_str().into());
        }
        send_process_message(&mut mb, msg).await?;
        if ios_major(ios.as_deref()).is_some_and(|m| m >= 13) {
            on(&Event::PasscodePrompt);
        }
        let reply = match tokio::time::timeout(waits.passcode, final_reply(&mut mb)).await {
            Ok(r) => r?,
            Err(_) => return Err(DeviceError::PasscodeTimeout),
        };
        check_reply(&reply, true)?;
        let _ = mb.disconnect().await;
        drop(mb);
        let mut ld = session(addr, &p, waits, on).await?;
        let after = will_encrypt(&mut ld).await?;
        if after != want {
            return Err(DeviceError::Protocol(format!(
                "the device accepted the change but its backup encryption is still {}",
                if after { "on" } else { "off" }
            )));
        }
        Ok(after)
    })
}

/// Sends `["DLMessageProcessMessage", msg]` (idevice keeps its own sender private, and its
/// change_password_from_path drops the phone's answer).
pub(crate) async fn send_process_message(
    mb: &mut MobileBackup2Client,
    msg: plist::Dictionary,
) -> Result<()> {
    let mut v = plist::Value::Array(vec!["DLMessageProcessMessage".into(), msg.into()]);
    // The message may hold passwords: every copy is wiped once sent.
    let mut buf = Zeroizing::new(Vec::new());
    let encoded = v.to_writer_binary(&mut *buf);
    wipe(&mut v);
    encoded.map_err(|e| DeviceError::Protocol(format!("encoding a message: {e}")))?;
    let mut framed = Zeroizing::new((buf.len() as u32).to_be_bytes().to_vec());
    framed.extend_from_slice(&buf);
    mb.idevice
        .send_raw(&framed)
        .await
        .map_err(|e| DeviceError::from_idevice(e, "sending to mobilebackup2"))
}

/// Zeroes every string in a plist value.
fn wipe(v: &mut plist::Value) {
    use zeroize::Zeroize;
    match v {
        plist::Value::String(s) => s.zeroize(),
        plist::Value::Array(a) => a.iter_mut().for_each(wipe),
        plist::Value::Dictionary(d) => {
            for (_, x) in d.iter_mut() {
                wipe(x);
            }
        }
        _ => {}
    }
}

/// Reads DeviceLink messages until the phone's final answer, answering the ones that need
/// no files (free space) on the way.
async fn final_reply(mb: &mut MobileBackup2Client) -> Result<plist::Dictionary> {
    loop {
        let (tag, v) = mb
            .receive_dl_message()
            .await
            .map_err(|e| DeviceError::from_idevice(e, "reading from mobilebackup2"))?;
        match tag.as_str() {
            "DLMessageProcessMessage" => {
                if let plist::Value::Array(a) = v {
                    if let Some(plist::Value::Dictionary(d)) = a.into_iter().nth(1) {
                        return Ok(d);
                    }
                }
                return Err(DeviceError::Protocol(
                    "the device's answer has no contents".into(),
                ));
            }
            "DLMessageDisconnect" => {
                return Err(DeviceError::Protocol(
                    "the device ended the connection without an answer".into(),
                ))
            }
            "DLMessageGetFreeDiskSpace" => mb
                .send_status_response(0, None, Some(plist::Value::Integer(0u64.into())))
                .await
                .map_err(|e| DeviceError::from_idevice(e, "answering the device"))?,
            _ => mb
                .send_status_response(-1, Some("Operation not supported"), None)
                .await
                .map_err(|e| DeviceError::from_idevice(e, "answering the device"))?,
        }
    }
}

/// The phone's final answer, as a result. libimobiledevice and pymobiledevice3 only print
/// ErrorCode/ErrorDescription; neither names a code for a wrong password, so a wrong
/// password is recognised by the description the phone gives (`password_words`).
pub(crate) fn check_reply(reply: &plist::Dictionary, password_words: bool) -> Result<()> {
    let code = reply
        .get("ErrorCode")
        .and_then(|v| v.as_signed_integer())
        .unwrap_or(0);
    if code == 0 {
        return Ok(());
    }
    let description = reply
        .get("ErrorDescription")
        .and_then(|v| v.as_string())
        .map(str::to_string);
    let lower = description.as_deref().unwrap_or("").to_ascii_lowercase();
    if password_words
        && lower.contains("password")
        && (lower.contains("incorrect") || lower.contains("wrong") || lower.contains("invalid"))
    {
        return Err(DeviceError::WrongPassword);
    }
    if lower.contains("passcode") && (lower.contains("timed out") || lower.contains("timeout")) {
        return Err(DeviceError::PasscodeTimeout);
    }
    if lower.contains("no space") || lower.contains("disk full") || lower.contains("not enough") {
        return Err(DeviceError::Refused { code, description });
    }
    Err(DeviceError::Refused { code, description })
}

/// What Reset All Settings does to backups (iOS 11 and later), in Apple's words: "If you
/// can't remember the password for your encrypted backup" (support.apple.com/en-us/108313)
/// and the iPhone User Guide's "Return iPhone settings to their defaults".
pub const RESET_ALL_SETTINGS: &str = "On iOS 11 or later the phone can make a new encrypted \
backup without the old password: on the phone, open Settings > General > Transfer or Reset \
iPhone > Reset, tap Reset All Settings and enter the phone's passcode. No data or media are \
deleted (photos, messages, apps and their data, accounts and passwords stay). All settings, \
including network settings (Wi-Fi networks), the keyboard dictionary, location and privacy \
settings, the Home Screen layout, wallpaper and brightness, and Apple Pay cards, are removed \
or reset to their defaults, and so is the backup password. Old encrypted backups still need \
the old password.";

/// Does Reset All Settings remove the backup password on this iOS version (11 and later)?
/// None when the version is not known.
pub fn reset_removes_backup_password(ios: Option<&str>) -> Option<bool> {
    ios_major(ios).map(|m| m >= 11)
}

/// After Reset All Settings: waits (up to `waits.reconnect`) until the phone is back and
/// answers with WillEncrypt off. Returns its info.
pub fn wait_for_encryption_off(
    addr: &MuxAddr,
    udid: &str,
    waits: &Waits,
    on: OnEvent<'_>,
) -> Result<DeviceInfo> {
    let start = std::time::Instant::now();
    on(&Event::WaitingForDevice);
    let mut seen_on = false;
    loop {
        match info(addr, Some(udid), waits, on) {
            Ok(i) if i.will_encrypt == Some(false) => return Ok(i),
            Ok(_) => seen_on = true,
            Err(DeviceError::NoDevice { .. }) => seen_on = false,
            Err(DeviceError::Locked) | Err(DeviceError::Protocol(_)) => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() >= waits.reconnect {
            if seen_on {
                return Err(DeviceError::StillEncrypted);
            }
            return Err(DeviceError::NoDevice {
                udid: Some(udid.to_string()),
            });
        }
        std::thread::sleep(waits.poll);
    }
}
