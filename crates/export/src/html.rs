//! Small writers for the output formats: HTML (escaped), CSV (RFC 4180), and the index page.

use crate::out::Output;
use crate::source::Source;
use crate::{Report, Result};

/// Text made safe inside HTML elements and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative link target, each component percent-encoded.
pub fn href(rel: &str) -> String {
    let mut out = String::new();
    for (i, part) in rel.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in part.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A URL from the backup as a link, only when it is http(s); otherwise plain text.
pub fn link_url(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        format!(
            "<a href=\"{}\" rel=\"noreferrer noopener\">{}</a>",
            esc(url),
            esc(url)
        )
    } else {
        esc(url)
    }
}

pub const STYLE: &str = "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.me{background:#dcf0ff}.them{background:#f2f2f2}.msg{margin:6px 0;padding:6px 10px;border-radius:10px;max-width:40em;white-space:pre-wrap}\
.meta{color:#777;font-size:85%}.note{color:#a60}";

/// A whole page around `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'\">\
<title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

/// An HTML table of `rows` under `headers` (cells are plain text, escaped here).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in headers {
        s.push_str(&format!("<th>{}</th>", esc(h)));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!("<td>{}</td>", esc(c)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}

/// One CSV field as text a spreadsheet shows, never runs: a cell that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets
/// (a message from a stranger reading `=HYPERLINK(...)`), so it gets a leading `'`, which they
/// take as "this is text"; then RFC 4180 quoting. A plain signed number ("+15551234567", a
/// phone number as Messages stores it) is only a number to them and stays as it is.
pub fn csv_field(s: &str) -> String {
    let signed_number = s.len() > 1
        && s.starts_with(['+', '-'])
        && s[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s[1..].bytes().filter(|&b| b == b'.').count() <= 1;
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !signed_number {
        csv_field_exact(&format!("'{s}"))
    } else {
        csv_field_exact(s)
    }
}

/// One CSV field exactly as given (RFC 4180 quoting only): for values that must survive
/// byte for byte, such as a password going into a password manager.
pub fn csv_field_exact(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A CSV document: header line then rows, CRLF line ends.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let v: Vec<String> = cells.map(csv_field).collect();
        v.join(",") + "\r\n"
    };
    s.push_str(&line(&mut headers.iter().copied()));
    for r in rows {
        s.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    s
}

/// Writes `index.html`: what the backup is, then each section with its files and notes.
pub fn write_index(out: &Output, source: &dyn Source, report: &Report) -> Result<()> {
    let mut body = String::from("<h1>Backup export</h1>\n");
    let desc = source.description();
    if !desc.is_empty() {
        body.push_str("<table>");
        for (k, v) in desc {
            body.push_str(&format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                esc(&k),
                esc(&v)
            ));
        }
        body.push_str("</table>\n");
    }
    body.push_str("<p class=\"meta\">Times are UTC. Made by Sesame.</p>\n");
    for s in &report.sections {
        body.push_str(&format!("<h2>{}</h2>\n", esc(&s.title)));
        if !s.found {
            body.push_str("<p>Not in this backup.</p>\n");
        } else {
            body.push_str(&format!("<p>{} item(s) exported.</p>\n", s.items));
        }
        if !s.files.is_empty() {
            body.push_str("<ul>\n");
            for (rel, what) in &s.files {
                body.push_str(&format!(
                    "<li><a href=\"{}\">{}</a> {}</li>\n",
                    href(rel),
                    esc(rel),
                    esc(what)
                ));
            }
            body.push_str("</ul>\n");
        }
        for n in &s.notes {
            body.push_str(&format!("<p class=\"note\">Note: {}</p>\n", esc(n)));
        }
    }
    out.write_file("index.html", page("Backup export", &body).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        // Formulas from message text or a Wi-Fi name are shown, not run.
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("+15551234567"), "+15551234567");
        assert_eq!(csv_field("-12.5"), "-12.5");
        for f in [
            "+1 555 0100",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\r=1",
            "+",
            "-1.2.3",
        ] {
            assert!(
                csv_field(f).trim_start_matches('"').starts_with('\''),
                "{f}"
            );
        }
        assert_eq!(csv_field_exact("=x"), "=x");
        assert_eq!(csv_field("a=b"), "a=b");
        assert_eq!(
            href("photos/100APPLE/IMG 1#.JPG"),
            "photos/100APPLE/IMG%201%23.JPG"
        );
        assert_eq!(link_url("javascript:alert(1)"), "javascript:alert(1)");
        assert!(link_url("https://e.org/?a=1&b=2").contains("href=\"https://e.org/?a=1&amp;b=2\""));
    }
}
