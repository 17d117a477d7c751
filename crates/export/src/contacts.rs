//! Contacts: `HomeDomain/Library/AddressBook/AddressBook.sqlitedb`.
//! Output: `contacts/contacts.vcf` (vCard 3.0) and `contacts/contacts.csv`.

use crate::html::csv;
use crate::out::Output;
use crate::source::Source;
use crate::sql::{self, s};
use crate::time;
use crate::{Result, Section};
use std::collections::{BTreeMap, HashMap};

pub const CANDIDATES: &[(&str, &str)] =
    &[("HomeDomain", "Library/AddressBook/AddressBook.sqlitedb")];

/// ABMultiValue.property numbers.
const PHONE: i64 = 3;
const EMAIL: i64 = 4;
const URL: i64 = 22;

/// "_$!<Mobile>!$_" -> "Mobile".
pub fn clean_label(l: &str) -> String {
    l.trim_start_matches("_$!<")
        .trim_end_matches(">!$_")
        .to_string()
}

/// vCard text escaping (RFC 6350 3.4).
fn vc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

#[derive(Default)]
struct Person {
    first: String,
    middle: String,
    last: String,
    org: String,
    nickname: String,
    job: String,
    note: String,
    birthday: String,
    created: String,
    modified: String,
    phones: Vec<(String, String)>,
    emails: Vec<(String, String)>,
    urls: Vec<(String, String)>,
}

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let Some(file) = sql::locate(source, CANDIDATES) else {
        return Ok(());
    };
    section.found = true;
    let db = sql::open(source, out, &file)?;
    let mut people: BTreeMap<i64, Person> = BTreeMap::new();
    for r in db.select(
        "ABPerson",
        &[
            "ROWID",
            "First",
            "Middle",
            "Last",
            "Organization",
            "Nickname",
            "JobTitle",
            "Note",
            "Birthday",
            "CreationDate",
            "ModificationDate",
        ],
        "ORDER BY ROWID",
    )? {
        let Some(id) = r[0].int() else { continue };
        let birthday = match r[8].real() {
            Some(b) => time::apple(Some(b))
                .get(..10)
                .unwrap_or_default()
                .to_string(),
            None => s(&r, 8),
        };
        people.insert(
            id,
            Person {
                first: s(&r, 1),
                middle: s(&r, 2),
                last: s(&r, 3),
                org: s(&r, 4),
                nickname: s(&r, 5),
                job: s(&r, 6),
                note: s(&r, 7),
                birthday,
                created: time::apple(r[9].real()),
                modified: time::apple(r[10].real()),
                ..Default::default()
            },
        );
    }
    let mut labels: HashMap<i64, String> = HashMap::new();
    if db.has_table("ABMultiValueLabel") {
        for r in db.select("ABMultiValueLabel", &["ROWID", "value"], "")? {
            if let Some(id) = r[0].int() {
                labels.insert(id, clean_label(&s(&r, 1)));
            }
        }
    }
    if db.has_table("ABMultiValue") {
        for r in db
            .select(
                "ABMultiValue",
                &["record_id", "property", "label", "value"],
                "ORDER BY UID",
            )
            .or_else(|_| {
                db.select(
                    "ABMultiValue",
                    &["record_id", "property", "label", "value"],
                    "",
                )
            })?
        {
            let (Some(pid), Some(prop)) = (r[0].int(), r[1].int()) else {
                continue;
            };
            let Some(p) = people.get_mut(&pid) else {
                continue;
            };
            let label = r[2]
                .int()
                .and_then(|l| labels.get(&l))
                .cloned()
                .unwrap_or_default();
            let value = s(&r, 3);
            if value.is_empty() {
                continue;
            }
            match prop {
                PHONE => p.phones.push((label, value)),
                EMAIL => p.emails.push((label, value)),
                URL => p.urls.push((label, value)),
                _ => {}
            }
        }
    } else {
        section.note("no ABMultiValue table: phone numbers and e-mail addresses are not known");
    }

    let mut vcf = String::new();
    let mut rows = Vec::new();
    for p in people.values() {
        let full = [&p.first, &p.middle, &p.last]
            .iter()
            .filter(|x| !x.is_empty())
            .map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let display = if full.is_empty() { p.org.clone() } else { full };
        vcf.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        vcf.push_str(&format!(
            "N:{};{};{};;\r\n",
            vc(&p.last),
            vc(&p.first),
            vc(&p.middle)
        ));
        vcf.push_str(&format!("FN:{}\r\n", vc(&display)));
        for (k, v) in [
            ("ORG", &p.org),
            ("NICKNAME", &p.nickname),
            ("TITLE", &p.job),
            ("NOTE", &p.note),
            ("BDAY", &p.birthday),
        ] {
            if !v.is_empty() {
                vcf.push_str(&format!("{k}:{}\r\n", vc(v)));
            }
        }
        for (kind, list) in [("TEL", &p.phones), ("EMAIL", &p.emails), ("URL", &p.urls)] {
            for (label, v) in list {
                if label.is_empty() {
                    vcf.push_str(&format!("{kind}:{}\r\n", vc(v)));
                } else {
                    vcf.push_str(&format!(
                        "{kind};TYPE={}:{}\r\n",
                        vc(&label.replace([' ', ':', ';', ','], "-")),
                        vc(v)
                    ));
                }
            }
        }
        vcf.push_str("END:VCARD\r\n");
        let join = |l: &Vec<(String, String)>| {
            l.iter()
                .map(|(lab, v)| {
                    if lab.is_empty() {
                        v.clone()
                    } else {
                        format!("{lab}: {v}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        rows.push(vec![
            p.first.clone(),
            p.last.clone(),
            p.org.clone(),
            join(&p.phones),
            join(&p.emails),
            join(&p.urls),
            p.birthday.clone(),
            p.note.clone(),
            p.created.clone(),
            p.modified.clone(),
        ]);
    }
    let headers = [
        "first",
        "last",
        "organization",
        "phones",
        "emails",
        "urls",
        "birthday",
        "note",
        "created_utc",
        "modified_utc",
    ];
    out.write_file("contacts/contacts.vcf", vcf.as_bytes())?;
    out.write_file("contacts/contacts.csv", csv(&headers, &rows).as_bytes())?;
    section.items = rows.len();
    section.file(
        "contacts/contacts.vcf",
        &format!("{} contact(s), vCard", rows.len()),
    );
    section.file("contacts/contacts.csv", "the same, one per row");
    Ok(())
}
