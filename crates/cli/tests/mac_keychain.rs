//! `recover --mac-keychain`: the Mac's "iOS Backup" Keychain item is asked for first, checked
//! against the backup, and used without a search. A stand-in answers as macOS's `security`
//! tool does (the password and exit 0, or exit 44 when no item matches).

mod common;

use common::{sesame, text};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
use sesame_backup::builder::BackupBuilder;

fn tool(dir: &std::path::Path, answer: &str) -> String {
    let p = dir.join("security");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}/asked'\n{answer}\n",
            dir.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p.display().to_string()
}

#[test]
fn the_keychain_item_is_tried_first_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let udid = "00008110-000A1B2C3D4E5F60";
    let b = dir.path().join(udid);
    BackupBuilder::new()
        .password("Keychain-Kept-7")
        .iterations(10, Some(10))
        .udid(udid)
        .write(&b)
        .unwrap();
    let target = b.to_str().unwrap();
    // A mask that cannot hold it: only the Keychain can answer.
    let no_search = ["--mask", "?d"];

    let t = tool(dir.path(), "echo 'Keychain-Kept-7'; exit 0");
    let out = sesame(
        &[
            &["recover", target, "--mac-keychain", "--security-tool", &t][..],
            &no_search,
        ]
        .concat(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(stdout(&out).trim(), "Keychain-Kept-7");
    assert!(
        text(&out).contains("Keychain had the password"),
        "{}",
        text(&out)
    );
    let asked = std::fs::read_to_string(dir.path().join("asked")).unwrap();
    assert!(
        asked.contains(&format!("-l iOS Backup -a {udid} -w")),
        "{asked}"
    );

    // An item that does not open it is never taken for the answer.
    let t = tool(dir.path(), "echo 'something-else'; exit 0");
    let out = sesame(
        &[
            &["recover", target, "--mac-keychain", "--security-tool", &t][..],
            &no_search,
        ]
        .concat(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("none opens"), "{}", text(&out));

    let t = tool(dir.path(), "exit 44");
    let out = sesame(
        &[
            &["recover", target, "--mac-keychain", "--security-tool", &t][..],
            &no_search,
        ]
        .concat(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no \"iOS Backup\""), "{}", text(&out));
}
