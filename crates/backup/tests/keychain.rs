//! The keychain: items in both payload versions (plist, DER) and the old CBC one decrypt;
//! ThisDeviceOnly items are reported as such; hostile items give errors, not panics.

use sesame_backup::keybag::{ClassKey, Keybag};
use sesame_backup::keychain::{
    build_keychain_plist, decrypt_item, encrypt_item, parse_keychain, Attr, ItemClass, ItemError,
    ItemKind, ItemSpec, ItemState,
};
use sesame_backup::UnlockedKeys;
use std::collections::BTreeMap;

const PASSWORD_KEY: [u8; 32] = [0x42; 32];

fn class_key_bytes(class: u32) -> [u8; 32] {
    core::array::from_fn(|i| (class as u8).wrapping_mul(31).wrapping_add(i as u8))
}

/// Keys as a real keybag unlocks them: classes 1..=8 with the password, 9..=11 ThisDeviceOnly.
fn unlocked() -> UnlockedKeys {
    let kb = Keybag {
        version: 4,
        kind: 1,
        uuid: vec![1; 16],
        hmck: None,
        wrap: 0,
        salt: vec![2; 20],
        iterations: 1,
        dpwt: None,
        dpic: None,
        dpsl: None,
        class_keys: (1..=11)
            .map(|c| ClassKey {
                uuid: vec![c as u8; 16],
                class: c,
                wrap: if c >= 9 { 3 } else { 2 },
                key_type: 0,
                wpky: sesame_backup::aeskw::wrap(&PASSWORD_KEY, &class_key_bytes(c)),
                pbky: None,
            })
            .collect(),
    };
    UnlockedKeys::from_keybag(&kb, &PASSWORD_KEY).unwrap()
}

fn spec(
    version: u32,
    class: ItemClass,
    pclass: u32,
    attrs: &[(&str, &str)],
    secret: &[u8],
) -> ItemSpec {
    let mut s = ItemSpec::new(class, pclass, attrs, secret);
    s.version = version;
    s
}

#[test]
fn both_payload_versions_decrypt() {
    let keys = unlocked();
    for version in [2, 3] {
        let mut s = spec(
            version,
            ItemClass::InternetPassword,
            7,
            &[
                ("srvr", "example.org"),
                ("acct", "alice@example.org"),
                ("labl", "Example"),
            ],
            "pässword 1".as_bytes(),
        );
        s.attributes
            .insert("cdat".into(), Attr::Date(1_600_000_000));
        s.attributes.insert("port".into(), Attr::Int(8443));
        s.attributes.insert("ptcl".into(), Attr::Int(0x6874_7073)); // "htps"
        let v = encrypt_item(&s, &class_key_bytes(7), &[9u8; 32]);
        assert_eq!(&v[..4], &version.to_le_bytes());
        let d = decrypt_item(&v, &keys).unwrap();
        assert_eq!(d.version, version);
        assert_eq!(d.protection_class, 7);
        assert_eq!(d.secret.as_ref().unwrap().as_str(), Some("pässword 1"));
        assert_eq!(
            d.attributes.get("srvr"),
            Some(&Attr::Text("example.org".into()))
        );
        assert_eq!(d.attributes.get("cdat"), Some(&Attr::Date(1_600_000_000)));
        assert_eq!(d.attributes.get("port"), Some(&Attr::Int(8443)));
        assert!(!d.attributes.contains_key("v_Data"));
    }
}

#[test]
fn version_0_decrypts() {
    let keys = unlocked();
    let s = spec(0, ItemClass::GenericPassword, 6, &[], b"old secret");
    let v = encrypt_item(&s, &class_key_bytes(6), &[3u8; 32]);
    assert_eq!(v.len(), 8 + 40 + 16);
    let d = decrypt_item(&v, &keys).unwrap();
    assert_eq!(d.secret.unwrap().as_bytes(), b"old secret");
}

#[test]
fn whole_keychain_with_wifi_backup_password_and_device_only_items() {
    let keys = unlocked();
    let mut dev_only = spec(
        3,
        ItemClass::GenericPassword,
        11,
        &[("svce", "com.example.token"), ("acct", "secret-account")],
        b"unreachable",
    );
    dev_only
        .clear_attributes
        .insert("agrp".into(), Attr::Text("com.example.app".into()));
    let items = vec![
        spec(
            3,
            ItemClass::GenericPassword,
            7,
            &[("svce", "AirPort"), ("acct", "HomeNet")],
            b"wifi-pass-123",
        ),
        spec(
            2,
            ItemClass::GenericPassword,
            7,
            &[("svce", "BackupAgent"), ("acct", "BackupPassword")],
            b"backup-pw",
        ),
        spec(
            3,
            ItemClass::InternetPassword,
            6,
            &[("srvr", "mail.example.org"), ("acct", "bob")],
            b"mailpw",
        ),
        spec(
            2,
            ItemClass::GenericPassword,
            8,
            &[("svce", "com.example.app"), ("acct", "carol")],
            b"apppw",
        ),
        dev_only,
        spec(
            3,
            ItemClass::Certificate,
            7,
            &[("labl", "My cert")],
            &[0x30, 0x82, 0x01],
        ),
    ];
    let plist = build_keychain_plist(&items, &keys);
    let kc = parse_keychain(&plist, Some(&keys)).unwrap();
    assert_eq!(kc.items.len(), 6);
    let find = |kind: ItemKind| kc.items.iter().find(|i| i.kind() == kind).unwrap();
    let wifi = find(ItemKind::WifiNetwork);
    assert_eq!(wifi.state, ItemState::Decrypted);
    assert_eq!(wifi.name().as_deref(), Some("HomeNet"));
    assert_eq!(
        wifi.secret.as_ref().unwrap().as_str(),
        Some("wifi-pass-123")
    );
    let bp = find(ItemKind::BackupPassword);
    assert_eq!(bp.secret.as_ref().unwrap().as_str(), Some("backup-pw"));
    let inet = find(ItemKind::InternetPassword);
    assert_eq!(inet.server().as_deref(), Some("mail.example.org"));
    assert_eq!(inet.account().as_deref(), Some("bob"));
    let dev = kc
        .items
        .iter()
        .find(|i| i.protection_class == Some(11))
        .unwrap();
    assert_eq!(dev.state, ItemState::DeviceOnly);
    assert!(dev.secret.is_none());
    assert_eq!(dev.access_group().as_deref(), Some("com.example.app"));
    assert_eq!(dev.account(), None, "encrypted attributes must not leak");
    assert_eq!(kc.count(&ItemState::Decrypted), 5);
    assert_eq!(
        kc.items
            .iter()
            .filter(|i| i.class == ItemClass::Certificate)
            .count(),
        1
    );

    // Without keys (an unencrypted backup), everything is device-only.
    let kc = parse_keychain(&plist, None).unwrap();
    assert!(kc
        .items
        .iter()
        .all(|i| i.state == ItemState::DeviceOnly && i.secret.is_none()));
}

#[test]
fn debug_never_shows_secrets() {
    let keys = unlocked();
    let items = vec![spec(
        3,
        ItemClass::GenericPassword,
        7,
        &[("svce", "AirPort"), ("acct", "Net")],
        b"hunter2-secret",
    )];
    let kc = parse_keychain(&build_keychain_plist(&items, &keys), Some(&keys)).unwrap();
    let dbg = format!("{kc:?}");
    assert!(dbg.contains("Net"));
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert_eq!(
        kc.items[0].secret.as_ref().unwrap().as_str(),
        Some("hunter2-secret")
    );
}

#[test]
fn wrong_class_key_and_tampering_fail() {
    let keys = unlocked();
    let s = spec(3, ItemClass::GenericPassword, 7, &[("acct", "a")], b"x");
    // Wrapped with a key that is not class 7's.
    let v = encrypt_item(&s, &[0u8; 32], &[1u8; 32]);
    assert_eq!(decrypt_item(&v, &keys).unwrap_err(), ItemError::Unwrap(7));
    // Any flipped bit in the ciphertext or tag fails authentication.
    let good = encrypt_item(&s, &class_key_bytes(7), &[1u8; 32]);
    for i in 12 + 40..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        assert_eq!(
            decrypt_item(&bad, &keys).unwrap_err(),
            ItemError::Authentication,
            "byte {i}"
        );
    }
    // Device-only and missing classes.
    let v = encrypt_item(
        &spec(3, ItemClass::GenericPassword, 10, &[], b"x"),
        &[0u8; 32],
        &[1u8; 32],
    );
    assert_eq!(
        decrypt_item(&v, &keys).unwrap_err(),
        ItemError::DeviceOnly(10)
    );
    let v = encrypt_item(
        &spec(3, ItemClass::GenericPassword, 12, &[], b"x"),
        &[0u8; 32],
        &[1u8; 32],
    );
    assert_eq!(
        decrypt_item(&v, &keys).unwrap_err(),
        ItemError::NoClassKey(12)
    );
}

#[test]
fn hostile_items_give_errors() {
    let keys = unlocked();
    let good = encrypt_item(
        &spec(3, ItemClass::GenericPassword, 7, &[("acct", "a")], b"x"),
        &class_key_bytes(7),
        &[1u8; 32],
    );
    // Every truncation.
    for n in 0..good.len() {
        assert!(decrypt_item(&good[..n], &keys).is_err(), "truncated to {n}");
    }
    // Huge wrapped-key length, unknown versions, odd CBC lengths.
    let mut huge = good.clone();
    huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decrypt_item(&huge, &keys),
        Err(ItemError::Truncated(_))
    ));
    let mut v9 = good.clone();
    v9[0] = 9;
    assert_eq!(
        decrypt_item(&v9, &keys).unwrap_err(),
        ItemError::UnknownVersion(9)
    );
    let mut short_wrap = good.clone();
    short_wrap[8..12].copy_from_slice(&8u32.to_le_bytes());
    assert_eq!(
        decrypt_item(&short_wrap, &keys).unwrap_err(),
        ItemError::WrappedKeyLength(8)
    );
    let v0 = encrypt_item(
        &spec(0, ItemClass::GenericPassword, 7, &[], b"x"),
        &class_key_bytes(7),
        &[1u8; 32],
    );
    assert_eq!(
        decrypt_item(&v0[..v0.len() - 1], &keys).unwrap_err(),
        ItemError::Padding
    );

    // A payload that authenticates but is not DER / not a plist.
    for version in [2u32, 3] {
        let item_key = [5u8; 32];
        let mut v = Vec::new();
        v.extend_from_slice(&version.to_le_bytes());
        v.extend_from_slice(&7u32.to_le_bytes());
        let wrapped = sesame_backup::aeskw::wrap(&class_key_bytes(7), &item_key);
        v.extend_from_slice(&(wrapped.len() as u32).to_le_bytes());
        v.extend_from_slice(&wrapped);
        let mut junk = vec![0x31, 0x84, 0x7f, 0xff, 0xff, 0xff, 0, 0];
        let tag = sesame_backup::keychain::gcm_seal_iv(&item_key, &[], &[], &mut junk);
        v.extend_from_slice(&junk);
        v.extend_from_slice(&tag);
        assert!(
            matches!(decrypt_item(&v, &keys), Err(ItemError::Payload(_))),
            "version {version}"
        );
    }
}

#[test]
fn hostile_keychain_files() {
    let keys = unlocked();
    // Not a plist, not a dictionary, a table that is not a list: errors.
    assert!(parse_keychain(b"garbage", Some(&keys)).is_err());
    let mut out = Vec::new();
    plist::Value::Array(vec![])
        .to_writer_binary(&mut out)
        .unwrap();
    assert!(parse_keychain(&out, Some(&keys)).is_err());
    let mut d = plist::Dictionary::new();
    d.insert("genp".into(), plist::Value::String("x".into()));
    let mut out = Vec::new();
    plist::Value::Dictionary(d)
        .to_writer_binary(&mut out)
        .unwrap();
    assert!(parse_keychain(&out, Some(&keys)).is_err());

    // Bad items: reported as failed, the rest still read.
    let mut bad_item = plist::Dictionary::new();
    bad_item.insert(
        "v_Data".into(),
        plist::Value::Data(vec![3, 0, 0, 0, 7, 0, 0, 0, 40]),
    );
    let mut no_data = plist::Dictionary::new();
    no_data.insert("acct".into(), plist::Value::String("x".into()));
    let mut d = plist::Dictionary::new();
    d.insert(
        "genp".into(),
        plist::Value::Array(vec![
            plist::Value::Dictionary(bad_item),
            plist::Value::Dictionary(no_data),
            plist::Value::Integer(3.into()),
        ]),
    );
    let mut out = Vec::new();
    plist::Value::Dictionary(d)
        .to_writer_binary(&mut out)
        .unwrap();
    let kc = parse_keychain(&out, Some(&keys)).unwrap();
    assert_eq!(kc.items.len(), 3);
    assert!(kc
        .items
        .iter()
        .all(|i| matches!(i.state, ItemState::Failed(_))));
}

proptest::proptest! {
    #[test]
    fn random_v_data_never_panics(version in 0u32..5, class in 0u32..16, body in proptest::collection::vec(0u8.., 0..120)) {
        let keys = unlocked();
        let mut v = version.to_le_bytes().to_vec();
        v.extend_from_slice(&class.to_le_bytes());
        v.extend_from_slice(&body);
        let _ = decrypt_item(&v, &keys);
    }

    #[test]
    fn random_keychain_files_never_panic(body in proptest::collection::vec(0u8.., 0..300)) {
        let keys = unlocked();
        let _ = parse_keychain(&body, Some(&keys));
        let mut bp = b"bplist00".to_vec();
        bp.extend_from_slice(&body);
        let _ = parse_keychain(&bp, Some(&keys));
    }

    #[test]
    fn round_trip_any_secret(secret in proptest::collection::vec(0u8.., 0..100), version in proptest::sample::select(vec![0u32, 2, 3])) {
        let keys = unlocked();
        let mut attrs = BTreeMap::new();
        attrs.insert("acct".to_string(), Attr::Text("a".into()));
        let s = ItemSpec { class: ItemClass::GenericPassword, version, protection_class: 6, attributes: attrs, clear_attributes: BTreeMap::new(), secret: secret.clone() };
        let d = decrypt_item(&encrypt_item(&s, &class_key_bytes(6), &[8u8; 32]), &keys).unwrap();
        let got = d.secret.unwrap();
        proptest::prop_assert_eq!(got.as_bytes(), &secret[..]);
    }
}

/// A backup built in the real format (encrypted, iOS 10.2+ scheme with small iteration counts),
/// whose keychain holds `items`.
fn built_backup(
    dir: &std::path::Path,
    password: &str,
    items: &[ItemSpec],
) -> sesame_backup::Backup {
    use sesame_backup::builder::BackupBuilder;
    BackupBuilder::new()
        .password(password)
        .iterations(10, Some(10))
        .file("HomeDomain", "Library/Preferences/x.plist", b"x".to_vec())
        .keychain(items.to_vec())
        .write(dir)
        .unwrap();
    sesame_backup::Backup::open(dir).unwrap()
}

#[test]
fn keychain_of_a_built_backup() {
    use sesame_backup::keychain::read_keychain;
    let d = tempfile::tempdir().unwrap();
    let items = vec![
        spec(
            3,
            ItemClass::GenericPassword,
            7,
            &[("svce", "AirPort"), ("acct", "Cafe Wi-Fi")],
            b"espresso!",
        ),
        spec(
            2,
            ItemClass::InternetPassword,
            6,
            &[("srvr", "accounts.example.com"), ("acct", "dana")],
            b"s3cret",
        ),
        spec(
            3,
            ItemClass::GenericPassword,
            10,
            &[("svce", "com.example.device-bound"), ("acct", "x")],
            b"nope",
        ),
        spec(
            2,
            ItemClass::GenericPassword,
            9,
            &[("svce", "AirPort"), ("acct", "Hidden")],
            b"nope",
        ),
    ];
    let backup = built_backup(d.path(), "correct horse", &items);
    let keys = backup.unlock(b"correct horse").unwrap();
    let kc = read_keychain(&backup, Some(&keys)).unwrap();
    assert_eq!(kc.items.len(), 4);
    let wifi = kc
        .items
        .iter()
        .find(|i| i.name().as_deref() == Some("Cafe Wi-Fi"))
        .unwrap();
    assert_eq!(wifi.secret.as_ref().unwrap().as_str(), Some("espresso!"));
    let web = kc
        .items
        .iter()
        .find(|i| i.kind() == ItemKind::InternetPassword)
        .unwrap();
    assert_eq!(web.account().as_deref(), Some("dana"));
    assert_eq!(web.secret.as_ref().unwrap().as_str(), Some("s3cret"));
    // Classes 9 and 10 are WRAP=3 in the built keybag: device only.
    let dev: Vec<_> = kc
        .items
        .iter()
        .filter(|i| i.state == ItemState::DeviceOnly)
        .collect();
    assert_eq!(dev.len(), 2);
    assert!(dev.iter().all(|i| i.secret.is_none()));
}
