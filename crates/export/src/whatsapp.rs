//! WhatsApp: `AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite`
//! (ZWACHATSESSION, ZWAMESSAGE). Output: `whatsapp/chats.csv`, `whatsapp/messages.csv`,
//! `whatsapp/index.html` with one page per chat.

use crate::html::{csv, esc, href, page};
use crate::out::Output;
use crate::source::Source;
use crate::sql::{self, s};
use crate::time;
use crate::{Result, Section};
use std::collections::BTreeMap;

pub const CANDIDATES: &[(&str, &str)] = &[(
    "AppDomainGroup-group.net.whatsapp.WhatsApp.shared",
    "ChatStorage.sqlite",
)];

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let Some(file) = sql::locate(source, CANDIDATES) else {
        return Ok(());
    };
    section.found = true;
    let db = sql::open(source, out, &file)?;
    let mut chats: BTreeMap<i64, (String, String)> = BTreeMap::new();
    if db.has_table("ZWACHATSESSION") {
        for r in db.select(
            "ZWACHATSESSION",
            &["Z_PK", "ZPARTNERNAME", "ZCONTACTJID"],
            "ORDER BY Z_PK",
        )? {
            if let Some(id) = r[0].int() {
                chats.insert(id, (s(&r, 1), s(&r, 2)));
            }
        }
    } else {
        section.note("no ZWACHATSESSION table: chats are shown by number");
    }
    let order = if db.columns("ZWAMESSAGE").contains("ZMESSAGEDATE") {
        "ORDER BY ZMESSAGEDATE, Z_PK"
    } else {
        "ORDER BY Z_PK"
    };
    let msgs = db.select(
        "ZWAMESSAGE",
        &[
            "Z_PK",
            "ZCHATSESSION",
            "ZISFROMME",
            "ZFROMJID",
            "ZTOJID",
            "ZTEXT",
            "ZMESSAGEDATE",
            "ZPUSHNAME",
        ],
        order,
    )?;
    let mut by_chat: BTreeMap<i64, Vec<Vec<String>>> = BTreeMap::new();
    let mut rows = Vec::new();
    for r in &msgs {
        let chat = r[1].int().unwrap_or(0);
        let (name, jid) = chats.get(&chat).cloned().unwrap_or_default();
        let title = if name.is_empty() { jid.clone() } else { name };
        let me = r[2].truthy();
        let sender = if me {
            "me".to_string()
        } else {
            let push = s(r, 7);
            let from = s(r, 3);
            if push.is_empty() {
                from
            } else {
                format!("{push} ({from})")
            }
        };
        let row = vec![
            title,
            time::apple(r[6].real()),
            if me { "sent" } else { "received" }.to_string(),
            sender,
            s(r, 5),
        ];
        by_chat.entry(chat).or_default().push(row.clone());
        rows.push(row);
    }
    let mut index = String::from("<h1>WhatsApp</h1>\n<p class=\"meta\">Times are UTC.</p>\n<ul>\n");
    let mut chat_rows = Vec::new();
    for (n, (chat, list)) in by_chat.iter().enumerate() {
        let title = list.first().map(|r| r[0].clone()).unwrap_or_default();
        let jid = chats.get(chat).map(|c| c.1.clone()).unwrap_or_default();
        let rel = format!("chat-{:04}.html", n + 1);
        index.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <span class=\"meta\">{} message(s)</span></li>\n",
            href(&rel),
            esc(&title),
            list.len()
        ));
        let mut body = format!(
            "<p><a href=\"index.html\">All chats</a></p><h1>{}</h1>\n",
            esc(&title)
        );
        for m in list {
            body.push_str(&format!(
                "<div class=\"msg {}\"><div class=\"meta\">{} {}</div>{}</div>\n",
                if m[2] == "sent" { "me" } else { "them" },
                esc(&m[1]),
                esc(&m[3]),
                esc(&m[4])
            ));
        }
        out.write_file(&format!("whatsapp/{rel}"), page(&title, &body).as_bytes())?;
        chat_rows.push(vec![title, jid, list.len().to_string()]);
    }
    index.push_str("</ul>\n");
    out.write_file("whatsapp/index.html", page("WhatsApp", &index).as_bytes())?;
    out.write_file(
        "whatsapp/messages.csv",
        csv(&["chat", "date_utc", "direction", "sender", "text"], &rows).as_bytes(),
    )?;
    out.write_file(
        "whatsapp/chats.csv",
        csv(&["chat", "jid", "messages"], &chat_rows).as_bytes(),
    )?;
    section.items = rows.len();
    section.file(
        "whatsapp/index.html",
        &format!("{} chat(s)", chat_rows.len()),
    );
    section.file("whatsapp/messages.csv", "every message, one per row");
    section.file("whatsapp/chats.csv", "the chats");
    Ok(())
}
