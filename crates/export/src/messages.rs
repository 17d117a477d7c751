//! Messages (SMS, MMS, iMessage): `HomeDomain/Library/SMS/sms.db`.
//!
//! Conversations come from `chat` / `chat_message_join` when present, otherwise from the
//! message's handle. Attachments (MediaDomain `Library/SMS/Attachments/...`) are copied next to
//! the export. Output: `messages/index.html` and one page per conversation, `messages.csv`,
//! `messages.json`.

use crate::html::{csv, esc, href, page};
use crate::out::{safe_name, Output};
use crate::source::Source;
use crate::sql::{self, s, Db};
use crate::time;
use crate::{Result, Section};
use std::collections::{BTreeMap, HashMap};

pub const CANDIDATES: &[(&str, &str)] = &[("HomeDomain", "Library/SMS/sms.db")];

#[derive(Clone, Debug, serde::Serialize)]
pub struct Message {
    pub id: i64,
    /// Seconds since 1970, UTC.
    pub date: Option<i64>,
    pub date_text: String,
    pub is_from_me: bool,
    /// The sender's phone number or address; "me" for sent messages.
    pub sender: String,
    pub text: String,
    pub service: String,
    /// Attachments as exported, relative to the output folder (or a note when missing).
    pub attachments: Vec<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Conversation {
    pub title: String,
    pub participants: Vec<String>,
    pub messages: Vec<Message>,
}

/// Text of an `attributedBody` (NSAttributedString in Apple's typedstream format), for rows
/// whose `text` column is empty (iOS 16 and later). Best effort; None when not found.
pub fn attributed_body_text(blob: &[u8]) -> Option<String> {
    let start = blob.windows(8).position(|w| w == b"NSString")? + 8;
    let rest = blob.get(start..)?;
    // After the class name: a few marker bytes, then '+' (0x2b) and the length.
    let plus = rest.iter().take(12).position(|&b| b == 0x2b)?;
    let mut p = plus + 1;
    let first = *rest.get(p)?;
    p += 1;
    let len = match first {
        0x81 => {
            let b = rest.get(p..p + 2)?;
            p += 2;
            u16::from_le_bytes([b[0], b[1]]) as usize
        }
        0x82 => {
            let b = rest.get(p..p + 4)?;
            p += 4;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
        }
        n if n < 0x80 => n as usize,
        _ => return None,
    };
    let text = rest.get(p..p.checked_add(len)?)?;
    String::from_utf8(text.to_vec()).ok()
}

/// The MediaDomain path of an attachment's `filename` column.
pub fn attachment_path(filename: &str) -> Option<String> {
    let f = filename.trim();
    let rel = ["~/", "/var/mobile/", "/private/var/mobile/"]
        .iter()
        .find_map(|p| f.strip_prefix(p))?;
    rel.starts_with("Library/").then(|| rel.to_string())
}

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let Some(file) = sql::locate(source, CANDIDATES) else {
        return Ok(());
    };
    section.found = true;
    let db = sql::open(source, out, &file)?;
    let convs = read(&db, source, out, section)?;
    write(out, section, &convs)
}

/// Reads every conversation (copying attachments into `messages/attachments/`).
pub fn read(
    db: &Db,
    source: &dyn Source,
    out: &Output,
    section: &mut Section,
) -> Result<Vec<Conversation>> {
    // Handles: ROWID -> address.
    let mut handles: HashMap<i64, String> = HashMap::new();
    if db.has_table("handle") {
        for r in db.select("handle", &["ROWID", "id"], "")? {
            if let Some(id) = r[0].int() {
                handles.insert(id, s(&r, 1));
            }
        }
    } else {
        section.note("sms.db has no handle table: senders are shown as numbers");
    }
    // Chats and their participants.
    let mut chat_title: HashMap<i64, String> = HashMap::new();
    let mut chat_members: HashMap<i64, Vec<String>> = HashMap::new();
    if db.has_table("chat") {
        for r in db.select("chat", &["ROWID", "chat_identifier", "display_name"], "")? {
            if let Some(id) = r[0].int() {
                let t = r[2].text().or_else(|| r[1].text()).unwrap_or_default();
                chat_title.insert(id, t);
            }
        }
        if db.has_table("chat_handle_join") {
            for r in db.select("chat_handle_join", &["chat_id", "handle_id"], "")? {
                if let (Some(c), Some(h)) = (r[0].int(), r[1].int()) {
                    if let Some(a) = handles.get(&h) {
                        chat_members.entry(c).or_default().push(a.clone());
                    }
                }
            }
        }
    }
    let mut msg_chat: HashMap<i64, i64> = HashMap::new();
    if db.has_table("chat_message_join") {
        for r in db.select("chat_message_join", &["chat_id", "message_id"], "")? {
            if let (Some(c), Some(m)) = (r[0].int(), r[1].int()) {
                msg_chat.entry(m).or_insert(c);
            }
        }
    }
    // Attachments per message.
    let mut attachments: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    if db.has_table("attachment") && db.has_table("message_attachment_join") {
        let rows = db.query(
            "SELECT j.message_id, a.filename, a.transfer_name FROM message_attachment_join j \
             JOIN attachment a ON a.ROWID = j.attachment_id ORDER BY j.message_id, a.ROWID",
            3,
        );
        match rows {
            Ok(rows) => {
                for r in rows {
                    if let Some(m) = r[0].int() {
                        attachments.entry(m).or_default().push((s(&r, 1), s(&r, 2)));
                    }
                }
            }
            Err(e) => section.fail(format!("attachments skipped: {e}")),
        }
    }

    let cols = db.columns("message");
    let order = if cols.contains("date") {
        "ORDER BY date, ROWID"
    } else {
        "ORDER BY ROWID"
    };
    let rows = db.select(
        "message",
        &[
            "ROWID",
            "text",
            "attributedBody",
            "handle_id",
            "date",
            "is_from_me",
            "service",
            "item_type",
        ],
        order,
    )?;
    let mut convs: BTreeMap<String, Conversation> = BTreeMap::new();
    let mut copied = 0usize;
    for r in rows {
        let id = r[0].int().unwrap_or(0);
        let handle = r[3].int().unwrap_or(0);
        let address = handles.get(&handle).cloned().unwrap_or_else(|| {
            if handle == 0 {
                String::new()
            } else {
                format!("handle {handle}")
            }
        });
        let is_from_me = r[5].truthy();
        let mut text = r[1].text().unwrap_or_default();
        if text.is_empty() {
            if let Some(t) = r[2].blob().and_then(attributed_body_text) {
                text = t;
            }
        }
        if text.is_empty() {
            if let Some(t) = r[7].int().filter(|t| *t != 0) {
                text = format!("[event of type {t}]");
            }
        }
        // The object replacement character marks where an attachment sat.
        let text = text.replace('\u{fffc}', "").trim().to_string();
        let date = r[4].real().and_then(time::apple_to_unix);
        let (key, title, participants) = match msg_chat.get(&id) {
            Some(c) => {
                let members = chat_members.get(c).cloned().unwrap_or_default();
                let title = chat_title
                    .get(c)
                    .filter(|t| !t.is_empty())
                    .cloned()
                    .unwrap_or_else(|| members.join(", "));
                (format!("chat {c:012}"), title, members)
            }
            None => {
                let title = if address.is_empty() {
                    "(unknown)".to_string()
                } else {
                    address.clone()
                };
                (
                    format!("handle {}", title),
                    title,
                    vec![address.clone()]
                        .into_iter()
                        .filter(|a| !a.is_empty())
                        .collect(),
                )
            }
        };
        let mut files = Vec::new();
        for (filename, transfer) in attachments.get(&id).map(|v| &v[..]).unwrap_or(&[]) {
            let base = if transfer.is_empty() {
                filename
                    .rsplit('/')
                    .next()
                    .unwrap_or("attachment")
                    .to_string()
            } else {
                transfer.clone()
            };
            let found = attachment_path(filename).and_then(|p| source.find("MediaDomain", &p));
            match found {
                Some(f) => {
                    let rel =
                        out.unique(&format!("messages/attachments/{id}-{}", safe_name(&base)));
                    let mut w = out.writer(&rel)?;
                    match source.copy(&f, &mut w) {
                        Ok(()) => {
                            w.commit(f.mtime.or(date))?;
                            copied += 1;
                            files.push(rel);
                        }
                        Err(e) => {
                            // A full disk stops the export; a damaged attachment is a note.
                            if let Some(fail) = w.output_failure() {
                                return Err(fail);
                            }
                            section.fail(format!("attachment {base} of message {id}: {e}"))
                        }
                    }
                }
                None => files.push(format!("(not in backup: {base})")),
            }
        }
        let conv = convs.entry(key).or_insert_with(|| Conversation {
            title,
            participants,
            messages: Vec::new(),
        });
        conv.messages.push(Message {
            id,
            date,
            date_text: date.map(time::format).unwrap_or_default(),
            is_from_me,
            sender: if is_from_me { "me".into() } else { address },
            text,
            service: s(&r, 6),
            attachments: files,
        });
    }
    if copied > 0 {
        section.note(format!(
            "{copied} attachment(s) copied to messages/attachments/"
        ));
    }
    Ok(convs.into_values().collect())
}

fn write(out: &Output, section: &mut Section, convs: &[Conversation]) -> Result<()> {
    let headers = [
        "conversation",
        "date_utc",
        "direction",
        "sender",
        "text",
        "service",
        "attachments",
    ];
    let mut rows = Vec::new();
    let mut index = String::from("<h1>Messages</h1>\n<p class=\"meta\">Times are UTC.</p>\n<ul>\n");
    for (n, c) in convs.iter().enumerate() {
        let rel = format!("conversation-{:04}.html", n + 1);
        index.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <span class=\"meta\">{} message(s)</span></li>\n",
            href(&rel),
            esc(&c.title),
            c.messages.len()
        ));
        let mut body = format!(
            "<p><a href=\"index.html\">All conversations</a></p>\n<h1>{}</h1>\n",
            esc(&c.title)
        );
        if !c.participants.is_empty() {
            body.push_str(&format!(
                "<p class=\"meta\">With: {}</p>\n",
                esc(&c.participants.join(", "))
            ));
        }
        for m in &c.messages {
            body.push_str(&format!(
                "<div class=\"msg {}\"><div class=\"meta\">{} {}{}</div>{}",
                if m.is_from_me { "me" } else { "them" },
                esc(&m.date_text),
                esc(&m.sender),
                if m.service.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", esc(&m.service))
                },
                esc(&m.text)
            ));
            for a in &m.attachments {
                match a.strip_prefix("messages/") {
                    Some(local) => body.push_str(&format!(
                        "<div><a href=\"{}\">{}</a></div>",
                        href(local),
                        esc(local.rsplit('/').next().unwrap_or(local))
                    )),
                    None => body.push_str(&format!("<div class=\"meta\">{}</div>", esc(a))),
                }
            }
            body.push_str("</div>\n");
            rows.push(vec![
                c.title.clone(),
                m.date_text.clone(),
                if m.is_from_me { "sent" } else { "received" }.to_string(),
                m.sender.clone(),
                m.text.clone(),
                m.service.clone(),
                m.attachments.join("; "),
            ]);
        }
        out.write_file(&format!("messages/{rel}"), page(&c.title, &body).as_bytes())?;
    }
    index.push_str("</ul>\n");
    out.write_file("messages/index.html", page("Messages", &index).as_bytes())?;
    out.write_file("messages/messages.csv", csv(&headers, &rows).as_bytes())?;
    let json = serde_json::to_vec_pretty(convs).unwrap_or_default();
    out.write_file("messages/messages.json", &json)?;
    section.items = rows.len();
    section.file(
        "messages/index.html",
        &format!("{} conversation(s)", convs.len()),
    );
    section.file("messages/messages.csv", "every message, one per row");
    section.file(
        "messages/messages.json",
        "conversations with their messages",
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributed_body() {
        let mut blob = b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+".to_vec();
        blob.push(5);
        blob.extend_from_slice(b"hello\x86\x84");
        assert_eq!(attributed_body_text(&blob).as_deref(), Some("hello"));
        let mut long = blob[..blob.len() - 8].to_vec();
        long.push(0x81);
        long.extend_from_slice(&300u16.to_le_bytes());
        long.extend_from_slice(&[b'a'; 300]);
        assert_eq!(attributed_body_text(&long).unwrap().len(), 300);
        // Truncated: no panic, no text.
        for n in 0..blob.len() - 6 {
            let _ = attributed_body_text(&blob[..n]);
        }
        assert_eq!(attributed_body_text(&blob[..blob.len() - 7]), None);
    }

    #[test]
    fn attachment_paths() {
        assert_eq!(
            attachment_path("~/Library/SMS/Attachments/ab/11/X/IMG_1.HEIC").as_deref(),
            Some("Library/SMS/Attachments/ab/11/X/IMG_1.HEIC")
        );
        assert_eq!(
            attachment_path("/var/mobile/Library/SMS/Attachments/a.jpg").as_deref(),
            Some("Library/SMS/Attachments/a.jpg")
        );
        assert_eq!(attachment_path("/etc/passwd"), None);
    }

    #[test]
    fn val_helpers() {
        use crate::sql::Val;
        assert_eq!(Val::Text(String::new()).text(), None);
        assert!(Val::Int(1).truthy());
    }
}
