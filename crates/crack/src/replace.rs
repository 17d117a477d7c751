//! Replacing a small state file all at once (a session, the found-file): written under a
//! fresh temporary name beside it, synced, then renamed over it, so a reader sees the old
//! file or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::CrackError;

/// Writes `content` to `path` atomically, creating its folder. The temporary file is new
/// (never a link or a file planted at its name) and readable by the owner only; it is removed
/// when anything fails.
pub(crate) fn replace_file(path: &Path, content: &[u8]) -> Result<(), CrackError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).map_err(|e| CrackError::io(&dir, e))?;
    let name = path
        .file_name()
        .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CrackError::io(path, e)
    })
}
