//! Safari: history (`History.db`), bookmarks (`Bookmarks.db`) and open tabs (`BrowserState.db`).
//! Output: `safari/history.csv`, `safari/bookmarks.csv`, `safari/tabs.csv`, `safari/index.html`.

use crate::html::{csv, esc, href, page, table};
use crate::out::Output;
use crate::source::Source;
use crate::sql::{self, s};
use crate::time;
use crate::{Result, Section};
use std::collections::HashMap;

const SAFARI_APP: &str = "AppDomain-com.apple.mobilesafari";

pub const HISTORY: &[(&str, &str)] = &[
    (SAFARI_APP, "Library/Safari/History.db"),
    ("HomeDomain", "Library/Safari/History.db"),
];
pub const BOOKMARKS: &[(&str, &str)] = &[
    ("HomeDomain", "Library/Safari/Bookmarks.db"),
    (SAFARI_APP, "Library/Safari/Bookmarks.db"),
];
pub const TABS: &[(&str, &str)] = &[
    (SAFARI_APP, "Library/Safari/BrowserState.db"),
    ("HomeDomain", "Library/Safari/BrowserState.db"),
];

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let mut html = String::from("<h1>Safari</h1>\n<p class=\"meta\">Times are UTC.</p>\n");
    type Entry<'a> = (&'a str, &'a [(&'a str, &'a str)], Part);
    let parts: [Entry; 3] = [
        ("History", HISTORY, history),
        ("Bookmarks", BOOKMARKS, bookmarks),
        ("Open tabs", TABS, tabs),
    ];
    for (title, candidates, f) in parts {
        let Some(file) = sql::locate(source, candidates) else {
            continue;
        };
        section.found = true;
        let res = sql::open(source, out, &file).and_then(|db| f(&db, out, section));
        match res {
            Ok((headers, rows, rel)) => {
                html.push_str(&format!(
                    "<h2>{title}</h2>\n<p><a href=\"{}\">{}</a></p>\n",
                    href(rel.trim_start_matches("safari/")),
                    esc(&rel)
                ));
                html.push_str(&table(&headers, &rows));
            }
            Err(e) => section.fail(format!("{title}: {e}")),
        }
    }
    if section.found {
        out.write_file("safari/index.html", page("Safari", &html).as_bytes())?;
        section.files.insert(
            0,
            ("safari/index.html".into(), "all of it on one page".into()),
        );
    }
    Ok(())
}

/// Column names, rows, and the CSV file written.
type Table = (Vec<&'static str>, Vec<Vec<String>>, String);

type Part = fn(&sql::Db, &Output, &mut Section) -> Result<Table>;

fn history(db: &sql::Db, out: &Output, section: &mut Section) -> Result<Table> {
    let mut urls: HashMap<i64, (String, i64)> = HashMap::new();
    for r in db.select("history_items", &["id", "url", "visit_count"], "")? {
        if let Some(id) = r[0].int() {
            urls.insert(id, (s(&r, 1), r[2].int().unwrap_or(0)));
        }
    }
    let order = if db.columns("history_visits").contains("visit_time") {
        "ORDER BY visit_time"
    } else {
        ""
    };
    let visits = db.select(
        "history_visits",
        &["history_item", "visit_time", "title"],
        order,
    )?;
    let headers = vec!["visit_time_utc", "title", "url", "visit_count"];
    let mut rows = Vec::new();
    for v in visits {
        let (url, count) = v[0]
            .int()
            .and_then(|i| urls.get(&i))
            .cloned()
            .unwrap_or_default();
        rows.push(vec![
            time::apple(v[1].real()),
            s(&v, 2),
            url,
            count.to_string(),
        ]);
    }
    let rel = "safari/history.csv".to_string();
    out.write_file(&rel, csv(&headers, &rows).as_bytes())?;
    section.items += rows.len();
    section.file(&rel, &format!("{} visit(s)", rows.len()));
    Ok((headers, rows, rel))
}

fn bookmarks(db: &sql::Db, out: &Output, section: &mut Section) -> Result<Table> {
    let all = db.select(
        "bookmarks",
        &["id", "parent", "type", "title", "url", "deleted"],
        "ORDER BY id",
    )?;
    let mut titles: HashMap<i64, (Option<i64>, String)> = HashMap::new();
    for r in &all {
        if let Some(id) = r[0].int() {
            titles.insert(id, (r[1].int(), s(r, 3)));
        }
    }
    // The folder path of an item, parents first, with a bound on depth against cycles.
    let folder = |mut parent: Option<i64>| {
        let mut names = Vec::new();
        for _ in 0..64 {
            let Some(p) = parent else { break };
            let Some((pp, name)) = titles.get(&p) else {
                break;
            };
            if !name.is_empty() {
                names.push(name.clone());
            }
            parent = *pp;
        }
        names.reverse();
        names.join(" / ")
    };
    let headers = vec!["folder", "title", "url"];
    let mut rows = Vec::new();
    for r in &all {
        let url = s(r, 4);
        // type 0 is a leaf bookmark; folders (type 1) and deleted rows are skipped.
        if url.is_empty() || r[5].truthy() || r[2].int().is_some_and(|t| t != 0) {
            continue;
        }
        rows.push(vec![folder(r[1].int()), s(r, 3), url]);
    }
    let rel = "safari/bookmarks.csv".to_string();
    out.write_file(&rel, csv(&headers, &rows).as_bytes())?;
    section.items += rows.len();
    section.file(&rel, &format!("{} bookmark(s)", rows.len()));
    Ok((headers, rows, rel))
}

fn tabs(db: &sql::Db, out: &Output, section: &mut Section) -> Result<Table> {
    let order = if db.columns("tabs").contains("order_index") {
        "ORDER BY browser_window_id, order_index"
    } else {
        ""
    };
    let all = db.select(
        "tabs",
        &["title", "url", "last_viewed_time", "private_browsing"],
        order,
    )?;
    let headers = vec!["title", "url", "last_viewed_utc", "private"];
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|r| {
            vec![
                s(r, 0),
                s(r, 1),
                time::apple(r[2].real()),
                if r[3].truthy() { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let rel = "safari/tabs.csv".to_string();
    out.write_file(&rel, csv(&headers, &rows).as_bytes())?;
    section.items += rows.len();
    section.file(&rel, &format!("{} open tab(s)", rows.len()));
    Ok((headers, rows, rel))
}
