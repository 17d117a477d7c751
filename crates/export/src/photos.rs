//! Photos and videos: `CameraRollDomain/Media/DCIM/...`, copied with their original names and
//! modification dates into `photos/<folder>/<name>`.

use crate::html::{esc, href, page};
use crate::out::{safe_name, Output};
use crate::source::Source;
use crate::{Result, Section};

pub const DOMAIN: &str = "CameraRollDomain";
pub const PREFIX: &str = "Media/DCIM/";

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let files = source.files_under(DOMAIN, PREFIX);
    if files.is_empty() {
        return Ok(());
    }
    section.found = true;
    let mut list = String::from("<h1>Photos and videos</h1>\n<ul>\n");
    let mut failed = 0usize;
    for f in &files {
        // Names with `..`, NUL, absolute parts: refused outright, not repaired.
        if let Err(e) = sesame_backup::paths::safe_relative(&f.domain, &f.path) {
            section.fail(format!("skipped {:?}: {e}", f.path));
            continue;
        }
        // Media/DCIM/100APPLE/IMG_0001.HEIC -> photos/100APPLE/IMG_0001.HEIC
        let rest = &f.path[PREFIX.len()..];
        let rel_parts: Vec<String> = rest
            .split('/')
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
            .map(safe_name)
            .collect();
        if rel_parts.is_empty() {
            continue;
        }
        let rel = out.unique(&format!("photos/{}", rel_parts.join("/")));
        let mut w = out.writer(&rel)?;
        match source.copy(f, &mut w) {
            Ok(()) => {
                w.commit(f.mtime)?;
                section.items += 1;
                let local = rel.trim_start_matches("photos/");
                list.push_str(&format!(
                    "<li><a href=\"{}\">{}</a></li>\n",
                    href(local),
                    esc(local)
                ));
            }
            Err(e) => {
                // A full disk stops the export; a damaged photo is a note.
                if let Some(fail) = w.output_failure() {
                    return Err(fail);
                }
                failed += 1;
                if failed <= 20 {
                    section.fail(format!("{}: {e}", f.path));
                } else {
                    section.failed += 1;
                }
            }
        }
    }
    if failed > 20 {
        section.note(format!(
            "... and {} more file(s) could not be copied",
            failed - 20
        ));
    }
    list.push_str("</ul>\n");
    out.write_file(
        "photos/index.html",
        page("Photos and videos", &list).as_bytes(),
    )?;
    section.file("photos/index.html", &format!("{} file(s)", section.items));
    Ok(())
}
