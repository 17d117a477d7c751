//! What can go wrong with the phone, as a type the front ends put in words.

use std::path::PathBuf;

/// An error talking to the phone (or writing what it sends).
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// usbmuxd (Linux: the usbmuxd package; macOS: built in; Windows: Apple Devices or
    /// iTunes) is not running or not reachable at `addr`.
    #[error("usbmuxd is not reachable at {addr}: {source}")]
    NoUsbmuxd {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// USBMUXD_SOCKET_ADDRESS could not be read.
    #[error("USBMUXD_SOCKET_ADDRESS={value} is not UNIX:/path, host:port or [v6]:port")]
    BadAddress { value: String },
    /// No phone is connected (or none with this UDID).
    #[error("no device connected{}", .udid.as_deref().map(|u| format!(" with UDID {u}")).unwrap_or_default())]
    NoDevice { udid: Option<String> },
    /// More than one phone is connected and none was named.
    #[error("{} devices are connected: name one by its UDID", .udids.len())]
    SeveralDevices { udids: Vec<String> },
    /// This computer is not trusted by the phone and pairing was not allowed here.
    #[error("the device {udid} does not trust this computer yet")]
    NotTrusted { udid: String },
    /// The person tapped "Don't Trust".
    #[error("the device refused to trust this computer")]
    TrustDenied,
    /// The phone is locked with a passcode: it must be unlocked (to pair, or for a session).
    #[error("the device is locked")]
    Locked,
    /// Nobody answered the "Trust This Computer?" question in time.
    #[error("no answer on the device to \"Trust This Computer?\" in time")]
    TrustTimeout,
    /// Nobody entered the phone's passcode at its prompt in time.
    #[error("no passcode was entered on the device in time")]
    PasscodeTimeout,
    /// The phone said the backup password given is not its current one.
    #[error("the device says the backup password is wrong")]
    WrongPassword,
    /// Encryption is already on (turning it on) or already off (turning it off, changing).
    #[error("backup encryption is already {}", if *.on { "on" } else { "off" })]
    AlreadySo { on: bool },
    /// The phone ended the operation with an error of its own.
    #[error("the device reported error {code}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        code: i64,
        description: Option<String>,
    },
    /// The phone came back but its backup encryption is still on.
    #[error("backup encryption on the device is still on")]
    StillEncrypted,
    /// The backup to restore is not a finished one (its Status.plist does not say so):
    /// idevicebackup2 refuses these too.
    #[error("{path} is not a finished backup")]
    Unfinished { path: PathBuf },
    /// The disk filled up while the backup was written; the output stays marked unfinished.
    #[error("the disk is full at {path}")]
    DiskFull { path: PathBuf },
    /// Stopped at the caller's request (Ctrl-C): the output stays marked unfinished.
    #[error("cancelled")]
    Cancelled,
    /// Writing the output, or reading the backup to restore.
    #[error(transparent)]
    Backup(#[from] sesame_backup::BackupError),
    /// The connection broke or the phone said something this code does not understand.
    #[error("talking to the device failed: {0}")]
    Protocol(String),
}

pub type Result<T, E = DeviceError> = std::result::Result<T, E>;

impl DeviceError {
    /// An idevice error, classified; `what` says what was being done.
    pub(crate) fn from_idevice(e: idevice::IdeviceError, what: &str) -> DeviceError {
        use idevice::IdeviceError as I;
        match e {
            I::PasswordProtected | I::DeviceLocked => DeviceError::Locked,
            I::UserDeniedPairing => DeviceError::TrustDenied,
            I::InvalidHostID => DeviceError::Protocol(format!(
                "{what}: the device does not know this computer's pairing (it was reset or untrusted)"
            )),
            I::DeviceNotFound => DeviceError::NoDevice { udid: None },
            I::Socket(s) => DeviceError::Protocol(format!("{what}: {s}")),
            other => DeviceError::Protocol(format!("{what}: {other}")),
        }
    }
}
