//! sesame-backup: the iTunes/Finder backup format, read and write.
//!
//! No command line, no threads of its own beyond what a caller asks for, no printing.
//! Every parser here treats its input as hostile: it returns an error, never panics.

pub mod aeskw;
pub mod backup;
pub mod builder;
pub mod error;
pub mod file;
pub mod hashline;
pub mod info;
pub mod kdf;
pub mod keybag;
pub mod keychain;
pub mod locate;
pub mod manifest;
pub mod mbdb;
pub mod mbfile;
pub mod outdir;
pub mod paths;
pub mod plistsafe;
pub mod write;

pub use backup::{Backup, UnlockedKeys};
pub use error::{BackupError, Result};
pub use hashline::HashLine;
pub use kdf::KdfParams;
pub use keybag::{ClassKey, Keybag};
pub use manifest::{EntryKind, Era, Manifest, ManifestEntry};
pub use mbfile::MbFile;
pub use outdir::OutDir;

/// Does `key` unwrap this 40-byte wrapped key (RFC 3394 integrity check)? The password check.
pub fn aeswrap_check(key: &[u8; 32], wpky: &[u8; 40]) -> bool {
    aeskw::unwrap(key, wpky).is_some()
}
