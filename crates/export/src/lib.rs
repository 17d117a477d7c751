//! sesame-export: readable exports of a backup's data (messages, contacts, call history,
//! Safari, calendar, photos, notes, WhatsApp), tied together by an `index.html`.
//!
//! Each data kind is one module that reads its SQLite database from the backup and writes plain
//! files (HTML, CSV, JSON, vCard, iCalendar). Schemas differ between iOS versions: a missing
//! table or column is skipped with a note in the index, never a panic. Everything is written
//! under the output folder only, to temporary names renamed when complete.

pub mod calendar;
pub mod calls;
pub mod contacts;
pub mod html;
pub mod messages;
pub mod notes;
pub mod out;
pub mod photos;
pub mod safari;
pub mod source;
pub mod sql;
pub mod time;
pub mod whatsapp;

pub use out::Output;
pub use source::{BackupSource, FileInfo, MemorySource, Source};

use std::path::{Path, PathBuf};

/// Errors that stop an export as a whole. Problems with one data kind are notes in the report.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the output folder is not empty (use --force to write into it anyway)")]
    OutputNotEmpty { path: PathBuf },
    #[error("{path}: the output folder is a file or a symbolic link")]
    OutputNotADirectory { path: PathBuf },
    #[error("refused to write {path}: {reason}")]
    UnsafePath { path: String, reason: String },
    #[error("{0}")]
    Backup(#[from] sesame_backup::BackupError),
    #[error("{what}: {reason}")]
    Data { what: String, reason: String },
    #[error("interrupted")]
    Cancelled,
    #[error("unknown data kind {0:?} (known: messages, contacts, calls, safari, calendar, photos, notes, whatsapp)")]
    UnknownKind(String),
}

impl ExportError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ExportError::Io {
            path: path.into(),
            source,
        }
    }
    pub fn data(what: impl Into<String>, reason: impl ToString) -> Self {
        ExportError::Data {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// The kinds of data an export can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Messages,
    Contacts,
    Calls,
    Safari,
    Calendar,
    Photos,
    Notes,
    WhatsApp,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Messages,
        Kind::Contacts,
        Kind::Calls,
        Kind::Safari,
        Kind::Calendar,
        Kind::Photos,
        Kind::Notes,
        Kind::WhatsApp,
    ];

    /// Name on the command line and folder name in the export.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Messages => "messages",
            Kind::Contacts => "contacts",
            Kind::Calls => "calls",
            Kind::Safari => "safari",
            Kind::Calendar => "calendar",
            Kind::Photos => "photos",
            Kind::Notes => "notes",
            Kind::WhatsApp => "whatsapp",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Messages => "Messages (SMS and iMessage)",
            Kind::Contacts => "Contacts",
            Kind::Calls => "Call history",
            Kind::Safari => "Safari history, bookmarks and tabs",
            Kind::Calendar => "Calendar",
            Kind::Photos => "Photos and videos",
            Kind::Notes => "Notes",
            Kind::WhatsApp => "WhatsApp",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Kind> {
        let k = match s.trim().to_ascii_lowercase().as_str() {
            "messages" | "message" | "sms" | "imessage" => Kind::Messages,
            "contacts" | "contact" | "addressbook" => Kind::Contacts,
            "calls" | "call" | "call-history" | "callhistory" => Kind::Calls,
            "safari" | "browser" => Kind::Safari,
            "calendar" | "calendars" => Kind::Calendar,
            "photos" | "photo" | "videos" | "camera" => Kind::Photos,
            "notes" | "note" => Kind::Notes,
            "whatsapp" => Kind::WhatsApp,
            _ => return Err(ExportError::UnknownKind(s.to_string())),
        };
        Ok(k)
    }
}

/// What one data kind's export did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Section {
    pub kind: Kind,
    pub title: String,
    /// Not present in this backup.
    pub found: bool,
    /// Items exported (messages, contacts, calls, visits, events, files...).
    pub items: usize,
    /// Files written, relative to the output folder, with a short description.
    pub files: Vec<(String, String)>,
    /// Skipped parts, schema differences, damaged rows.
    pub notes: Vec<String>,
    /// Items that are in the backup but could not be exported (a damaged database or file, a
    /// name that would escape the output folder): when not zero the export is not complete.
    pub failed: usize,
}

impl Section {
    pub fn new(kind: Kind) -> Section {
        Section {
            kind,
            title: kind.title().to_string(),
            found: false,
            items: 0,
            files: Vec::new(),
            notes: Vec::new(),
            failed: 0,
        }
    }
    pub fn file(&mut self, rel: &str, what: &str) {
        self.files.push((rel.to_string(), what.to_string()));
    }
    pub fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }
    /// Notes an item that could not be exported, and counts it.
    pub fn fail(&mut self, n: impl Into<String>) {
        self.failed += 1;
        self.notes.push(n.into());
    }
}

/// The whole export.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    pub sections: Vec<Section>,
}

/// Which kinds to export, and whether a non-empty output folder is acceptable.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// None: all kinds.
    pub only: Option<Vec<Kind>>,
    pub force: bool,
    /// Set from another thread to stop: the file in flight is removed and the output folder
    /// stays marked unfinished; the export returns `ExportError::Cancelled`.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Parses `messages,contacts,...`.
pub fn parse_kinds(list: &str) -> Result<Vec<Kind>> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let k: Kind = part.parse()?;
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

/// Exports the data of `source` into `out`.
pub fn export(source: &dyn Source, out_dir: &Path, opts: &Options) -> Result<Report> {
    let mut out = Output::create(out_dir, source.origin(), opts.force)?;
    out.cancel = opts.cancel.clone();
    let kinds: Vec<Kind> = match &opts.only {
        Some(k) => Kind::ALL
            .iter()
            .copied()
            .filter(|x| k.contains(x))
            .collect(),
        None => Kind::ALL.to_vec(),
    };
    let mut report = Report::default();
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    for kind in kinds {
        if cancelled() {
            return Err(ExportError::Cancelled);
        }
        let mut section = Section::new(kind);
        let r = match kind {
            Kind::Messages => messages::export(source, &out, &mut section),
            Kind::Contacts => contacts::export(source, &out, &mut section),
            Kind::Calls => calls::export(source, &out, &mut section),
            Kind::Safari => safari::export(source, &out, &mut section),
            Kind::Calendar => calendar::export(source, &out, &mut section),
            Kind::Photos => photos::export(source, &out, &mut section),
            Kind::Notes => notes::export(source, &out, &mut section),
            Kind::WhatsApp => whatsapp::export(source, &out, &mut section),
        };
        if let Err(e) = r {
            // One damaged database does not stop the others; output-folder problems do.
            match e {
                ExportError::Io { .. }
                | ExportError::UnsafePath { .. }
                | ExportError::Backup(sesame_backup::BackupError::LinkInOutput { .. }) => {
                    out.cleanup();
                    return Err(if cancelled() {
                        ExportError::Cancelled
                    } else {
                        e
                    });
                }
                other => section.fail(format!("stopped: {other}")),
            }
        }
        report.sections.push(section);
    }
    if cancelled() {
        return Err(ExportError::Cancelled);
    }
    html::write_index(&out, source, &report)?;
    out.write_file(
        "report.json",
        &serde_json::to_vec_pretty(&report).unwrap_or_default(),
    )?;
    out.finish()?;
    Ok(report)
}

/// Exports a backup opened with `Backup::open`, unlocked with `keys` when it is encrypted.
pub fn export_backup(
    backup: &sesame_backup::Backup,
    keys: Option<&sesame_backup::UnlockedKeys>,
    out_dir: &Path,
    opts: &Options,
) -> Result<Report> {
    let source = BackupSource::open(backup, keys)?;
    export(&source, out_dir, opts)
}
