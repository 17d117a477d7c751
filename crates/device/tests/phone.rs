//! sesame-device against the simulated phone (tests/sim): idevice's client code unchanged,
//! over a real Unix socket.

mod sim;

use sesame_backup::builder::BackupBuilder;
use sesame_device::{BackupOptions, DeviceError, Encryption, Event, Link, MuxAddr, Waits};
use sim::{Phone, Trust, UDID};
use std::sync::Mutex;
use std::time::Duration;
use zeroize::Zeroizing;

fn quick() -> Waits {
    Waits {
        trust: Duration::from_secs(20),
        passcode: Duration::from_secs(20),
        reconnect: Duration::from_secs(20),
        poll: Duration::from_millis(5),
        pair: true,
    }
}

/// Collects the events of one call.
struct Seen(Mutex<Vec<Event>>);
impl Seen {
    fn new() -> Seen {
        Seen(Mutex::new(Vec::new()))
    }
    fn cb(&self) -> impl Fn(&Event) + Sync + '_ {
        move |e| self.0.lock().unwrap().push(e.clone())
    }
    fn has(&self, e: &Event) -> bool {
        self.0.lock().unwrap().contains(e)
    }
}

fn pw(s: &str) -> Zeroizing<String> {
    Zeroizing::new(s.to_string())
}

#[test]
fn list_shows_the_phone_once_with_its_wifi_address() {
    let phone = Phone::paired();
    phone.set(|s| s.wifi_too = true);
    let l = sesame_device::list(&phone.addr()).unwrap();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].udid, UDID);
    assert_eq!(l[0].link, Link::Usb);
    assert_eq!(l[0].wifi.as_deref(), Some("192.168.1.23"));
    phone.set(|s| s.away_for = 1);
    assert!(sesame_device::list(&phone.addr()).unwrap().is_empty());
}

#[test]
fn no_usbmuxd_is_its_own_error() {
    let d = tempfile::tempdir().unwrap();
    let addr = MuxAddr::Unix(d.path().join("nothing-here"));
    assert!(matches!(
        sesame_device::list(&addr),
        Err(DeviceError::NoUsbmuxd { .. })
    ));
}

#[test]
fn info_reads_will_encrypt_in_a_session() {
    let phone = Phone::paired();
    let i = sesame_device::info(&phone.addr(), None, &quick(), &|_| {}).unwrap();
    assert_eq!(i.udid, UDID);
    assert_eq!(i.name.as_deref(), Some("Anna's iPhone"));
    assert_eq!(i.model.as_deref(), Some("iPhone14,2"));
    assert_eq!(i.ios.as_deref(), Some("17.1"));
    assert!(i.paired);
    assert_eq!(i.will_encrypt, Some(false));
    phone.set(|s| s.will_encrypt = true);
    let i = sesame_device::info(&phone.addr(), Some(UDID), &quick(), &|_| {}).unwrap();
    assert_eq!(i.will_encrypt, Some(true));
    // It went through a TLS session: WillEncrypt is refused without one.
    assert!(phone.get(|s| s.log.contains(&"lockdown StartSession".to_string())));
    let e = sesame_device::info(&phone.addr(), Some("00000000-NOT-THIS"), &quick(), &|_| {});
    assert!(
        matches!(e, Err(DeviceError::NoDevice { udid: Some(_) })),
        "{e:?}"
    );
}

#[test]
fn an_unpaired_phone_is_paired_after_trust_this_computer() {
    let phone = Phone::unpaired(Trust::After(3));
    // Not allowed to pair: what it says without a session, and no backup setting.
    let mut no = quick();
    no.pair = false;
    let i = sesame_device::info(&phone.addr(), None, &no, &|_| {}).unwrap();
    assert!(!i.paired);
    assert_eq!(i.will_encrypt, None);
    assert_eq!(i.name.as_deref(), Some("Anna's iPhone"));

    let seen = Seen::new();
    let i = sesame_device::info(&phone.addr(), None, &quick(), &seen.cb()).unwrap();
    assert!(seen.has(&Event::TrustPrompt));
    assert!(seen.has(&Event::Paired));
    assert!(i.paired);
    assert_eq!(i.will_encrypt, Some(false));
    // usbmuxd keeps the new record, and the phone trusts its HostID.
    let (records, trusted) = phone.get(|s| (s.records.len(), s.trusted.len()));
    assert_eq!((records, trusted), (1, 1));
    // The next call uses the stored record without asking again.
    let seen = Seen::new();
    sesame_device::info(&phone.addr(), None, &quick(), &seen.cb()).unwrap();
    assert!(!seen.has(&Event::TrustPrompt));
}

#[test]
fn trust_denied_locked_and_unanswered_are_told_apart() {
    let mut w = quick();
    w.trust = Duration::from_millis(50);
    let phone = Phone::unpaired(Trust::Deny);
    let e = sesame_device::info(&phone.addr(), None, &w, &|_| {});
    assert!(matches!(e, Err(DeviceError::TrustDenied)), "{e:?}");

    let phone = Phone::unpaired(Trust::Locked);
    let seen = Seen::new();
    let e = sesame_device::info(&phone.addr(), None, &w, &seen.cb());
    assert!(matches!(e, Err(DeviceError::Locked)), "{e:?}");
    assert!(seen.has(&Event::UnlockToTrust));

    let phone = Phone::unpaired(Trust::Never);
    let e = sesame_device::info(&phone.addr(), None, &w, &|_| {});
    assert!(matches!(e, Err(DeviceError::TrustTimeout)), "{e:?}");
}

fn will_encrypt(phone: &Phone) -> Option<bool> {
    sesame_device::info(&phone.addr(), None, &quick(), &|_| {})
        .unwrap()
        .will_encrypt
}

#[test]
fn encryption_on_change_off_flips_will_encrypt_and_wrong_passwords_are_said() {
    let phone = Phone::paired();
    let a = phone.addr();
    let w = quick();
    let seen = Seen::new();
    let on = Encryption::On { new: pw("first") };
    assert!(sesame_device::set_encryption(&a, None, &on, &w, &seen.cb()).unwrap());
    assert!(
        seen.has(&Event::PasscodePrompt),
        "iOS 17 asks for the passcode"
    );
    assert_eq!(will_encrypt(&phone), Some(true));
    assert_eq!(phone.get(|s| s.password.clone()).as_deref(), Some("first"));

    let e = sesame_device::set_encryption(&a, None, &on, &w, &|_| {});
    assert!(
        matches!(e, Err(DeviceError::AlreadySo { on: true })),
        "{e:?}"
    );

    let bad = Encryption::Change {
        old: pw("nope"),
        new: pw("second"),
    };
    let e = sesame_device::set_encryption(&a, None, &bad, &w, &|_| {});
    assert!(matches!(e, Err(DeviceError::WrongPassword)), "{e:?}");
    assert_eq!(phone.get(|s| s.password.clone()).as_deref(), Some("first"));

    let change = Encryption::Change {
        old: pw("first"),
        new: pw("second"),
    };
    assert!(sesame_device::set_encryption(&a, None, &change, &w, &|_| {}).unwrap());
    assert_eq!(phone.get(|s| s.password.clone()).as_deref(), Some("second"));

    let e =
        sesame_device::set_encryption(&a, None, &Encryption::Off { old: pw("first") }, &w, &|_| {});
    assert!(matches!(e, Err(DeviceError::WrongPassword)), "{e:?}");
    assert_eq!(will_encrypt(&phone), Some(true));

    let off = Encryption::Off { old: pw("second") };
    assert!(!sesame_device::set_encryption(&a, None, &off, &w, &|_| {}).unwrap());
    assert_eq!(will_encrypt(&phone), Some(false));
    let e = sesame_device::set_encryption(&a, None, &off, &w, &|_| {});
    assert!(
        matches!(e, Err(DeviceError::AlreadySo { on: false })),
        "{e:?}"
    );
}

#[test]
fn before_ios_13_no_passcode_is_asked_and_an_unentered_passcode_times_out() {
    let phone = Phone::paired();
    phone.set(|s| s.ios = "12.5.7".into());
    let seen = Seen::new();
    let on = Encryption::On { new: pw("x") };
    sesame_device::set_encryption(&phone.addr(), None, &on, &quick(), &seen.cb()).unwrap();
    assert!(!seen.has(&Event::PasscodePrompt));

    let phone = Phone::paired();
    phone.set(|s| s.passcode_entered = false);
    let mut w = quick();
    w.passcode = Duration::from_millis(100);
    let e = sesame_device::set_encryption(&phone.addr(), None, &on, &w, &|_| {});
    assert!(matches!(e, Err(DeviceError::PasscodeTimeout)), "{e:?}");
    assert_eq!(will_encrypt(&phone), Some(false));
}

fn phone_with_files(password: Option<&str>) -> (Phone, tempfile::TempDir) {
    let src = tempfile::tempdir().unwrap();
    let mut b = BackupBuilder::new()
        .udid(UDID)
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .file("HomeDomain", "Library/SMS/sms.db", b"messages".to_vec())
        .file(
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0001.HEIC",
            vec![7u8; 200_000],
        );
    if let Some(p) = password {
        b = b.password(p).iterations(10, Some(10));
    }
    b.write(&src.path().join("b")).unwrap();
    let phone = Phone::paired();
    let files = sim::files_of(&src.path().join("b"));
    phone.set(|s| {
        s.files = files;
        s.will_encrypt = password.is_some();
        s.password = password.map(str::to_string);
    });
    (phone, src)
}

#[test]
fn a_backup_is_written_through_the_output_folder_and_opens() {
    let (phone, _src) = phone_with_files(None);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("new");
    let seen = Seen::new();
    let r = sesame_device::backup(
        &phone.addr(),
        None,
        &dir,
        &BackupOptions::default(),
        &quick(),
        &seen.cb(),
    )
    .unwrap();
    assert!(r.files >= 4, "{r:?}");
    assert!(!r.encrypted);
    assert!(seen
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, Event::Progress { percent: Some(p), .. } if *p >= 100.0)));
    assert!(!dir.join(sesame_backup::outdir::UNFINISHED).exists());
    let b = sesame_backup::Backup::open(&dir).unwrap();
    let info = b.info();
    assert_eq!(info.complete, Some(true), "{info:?}");
    assert_eq!(info.device_name.as_deref(), Some("Anna's iPhone"));
    let m = b.open_manifest(None).unwrap();
    let paths: Vec<String> = m
        .filter(None, None)
        .iter()
        .map(|e| e.relative_path.clone())
        .collect();
    assert!(paths.iter().any(|p| p == "Library/SMS/sms.db"), "{paths:?}");
    // A second backup into the same folder is refused without force.
    let e = sesame_device::backup(
        &phone.addr(),
        None,
        &dir,
        &BackupOptions::default(),
        &quick(),
        &|_| {},
    );
    assert!(
        matches!(
            e,
            Err(DeviceError::Backup(
                sesame_backup::BackupError::OutputNotEmpty { .. }
            ))
        ),
        "{e:?}"
    );
}

#[test]
fn an_encrypted_backup_from_the_phone_opens_with_its_password() {
    let (phone, _src) = phone_with_files(Some("1234"));
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("enc");
    let r = sesame_device::backup(
        &phone.addr(),
        None,
        &dir,
        &BackupOptions::default(),
        &quick(),
        &|_| {},
    )
    .unwrap();
    assert!(r.encrypted);
    let b = sesame_backup::Backup::open(&dir).unwrap();
    assert!(b.encrypted);
    assert!(matches!(
        b.unlock(b"wrong"),
        Err(sesame_backup::BackupError::WrongPassword)
    ));
    b.unlock(b"1234").unwrap();
}

#[test]
fn a_full_disk_leaves_nothing_that_looks_complete() {
    let (phone, _src) = phone_with_files(None);
    let out = tempfile::tempdir().unwrap();
    let opts = BackupOptions {
        max_bytes: Some(100_000),
        ..Default::default()
    };
    // The phone sees too little free space and refuses before sending anything.
    let dir = out.path().join("refused");
    let e = sesame_device::backup(&phone.addr(), None, &dir, &opts, &quick(), &|_| {});
    assert!(matches!(e, Err(DeviceError::DiskFull { .. })), "{e:?}");
    assert!(dir.join(sesame_backup::outdir::UNFINISHED).exists());
    // The disk fills while the files come in.
    phone.set(|s| s.check_free_space = false);
    let dir = out.path().join("full");
    let e = sesame_device::backup(&phone.addr(), None, &dir, &opts, &quick(), &|_| {});
    assert!(matches!(e, Err(DeviceError::DiskFull { .. })), "{e:?}");
    assert!(dir.join(sesame_backup::outdir::UNFINISHED).exists());
    fn partials(d: &std::path::Path) -> usize {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                if p.is_dir() {
                    partials(&p)
                } else {
                    p.to_string_lossy()
                        .ends_with(sesame_backup::outdir::PARTIAL) as usize
                }
            })
            .sum()
    }
    assert_eq!(partials(&dir), 0);
    if let Ok(b) = sesame_backup::Backup::open(&dir) {
        assert_ne!(b.info().complete, Some(true));
    }
}

fn listing(d: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    sim::files_of(d)
}

#[test]
fn a_restore_sends_every_file_and_leaves_the_backup_as_it_was() {
    let (phone, src) = phone_with_files(None);
    let backup = src.path().join("b");
    let before = listing(&backup);
    let plan =
        sesame_device::restore::plan(&phone.addr(), None, &backup, &quick(), &|_| {}).unwrap();
    assert_eq!(plan.device_udid, UDID);
    assert_eq!(plan.source_udid, UDID);
    assert!(!plan.backup_encrypted);
    let r = sesame_device::restore(&phone.addr(), &plan, None, &quick(), &|_| {}).unwrap();
    let restored = phone.get(|s| s.restored.clone());
    for (name, data) in &before {
        let key = format!("{UDID}/{name}");
        assert_eq!(restored.get(&key), Some(data), "{key}");
    }
    assert!(r.files_sent as usize >= before.len());
    let opts = phone.get(|s| s.restore_options.clone()).unwrap();
    assert_eq!(
        opts.get("RestoreDontCopyBackup")
            .and_then(|v| v.as_boolean()),
        Some(true)
    );
    assert_eq!(listing(&backup), before);
    // The escrow bag of the pairing went with the request (protected files need it).
    assert!(phone.get(|s| s
        .log
        .iter()
        .any(|l| l == "lockdown StartService with EscrowBag")));
}

#[test]
fn an_encrypted_restore_needs_the_right_password() {
    let (phone, src) = phone_with_files(Some("1234"));
    phone.set(|s| s.restore_needs = Some("1234".into()));
    let backup = src.path().join("b");
    let plan =
        sesame_device::restore::plan(&phone.addr(), None, &backup, &quick(), &|_| {}).unwrap();
    assert!(plan.backup_encrypted);
    let e = sesame_device::restore(&phone.addr(), &plan, Some(&pw("nope")), &quick(), &|_| {});
    assert!(matches!(e, Err(DeviceError::WrongPassword)), "{e:?}");
    sesame_device::restore(&phone.addr(), &plan, Some(&pw("1234")), &quick(), &|_| {}).unwrap();
    assert!(phone.get(|s| !s.restored.is_empty()));
}

#[test]
fn after_reset_all_settings_the_phone_comes_back_with_encryption_off() {
    let phone = Phone::paired();
    phone.set(|s| {
        s.will_encrypt = true;
        s.password = Some("forgotten".into());
    });
    assert_eq!(will_encrypt(&phone), Some(true));
    phone.reset_all_settings();
    let seen = Seen::new();
    let i =
        sesame_device::wait_for_encryption_off(&phone.addr(), UDID, &quick(), &seen.cb()).unwrap();
    assert_eq!(i.will_encrypt, Some(false));
    assert!(seen.has(&Event::WaitingForDevice));
    // Reset All Settings forgot this computer: it was trusted again.
    assert!(seen.has(&Event::Paired));

    // A phone that stays encrypted is said to be so, not "gone".
    let phone = Phone::paired();
    phone.set(|s| s.will_encrypt = true);
    let mut w = quick();
    w.reconnect = Duration::from_millis(50);
    let e = sesame_device::wait_for_encryption_off(&phone.addr(), UDID, &w, &|_| {});
    assert!(matches!(e, Err(DeviceError::StillEncrypted)), "{e:?}");
}

#[test]
fn a_phone_naming_paths_outside_its_backup_writes_nothing_there() {
    for name in [
        "/tmp/sesame-escape",
        "OTHER-DEVICE/Manifest.plist",
        "../escape",
    ] {
        let (phone, _src) = phone_with_files(None);
        phone.set(|s| s.raw_files = vec![(name.to_string(), b"evil".to_vec())]);
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("b");
        let e = sesame_device::backup(
            &phone.addr(),
            None,
            &dir,
            &BackupOptions::default(),
            &quick(),
            &|_| {},
        );
        assert!(
            matches!(&e, Err(DeviceError::Protocol(m)) if m.contains("outside its backup")),
            "{name}: {e:?}"
        );
        // Only what Sesame itself wrote is there, and the folder stays unfinished.
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [sesame_backup::outdir::UNFINISHED, "Info.plist"],
            "{name}"
        );
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "{name}");
    }
}

#[test]
fn a_cancelled_backup_stays_unfinished() {
    let (phone, _src) = phone_with_files(None);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("b");
    let opts = BackupOptions {
        cancel: Some(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(
            true,
        ))),
        ..Default::default()
    };
    let e = sesame_device::backup(&phone.addr(), None, &dir, &opts, &quick(), &|_| {});
    assert!(matches!(e, Err(DeviceError::Cancelled)), "{e:?}");
    assert!(dir.join(sesame_backup::outdir::UNFINISHED).exists());
    assert!(!dir.join("Manifest.plist").exists());
}
