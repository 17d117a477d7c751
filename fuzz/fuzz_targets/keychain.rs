//! Keychain items. The first byte picks what the rest is:
//! - 0: a whole keychain-backup.plist, read without keys and with the fixed test keys;
//! - 1: one raw `v_Data`, decrypted with the test keys;
//! - 2: a payload (plist or DER attributes, or CBC ciphertext) that this target seals into a
//!   valid `v_Data` first, so the payload readers behind the AES-GCM check get fuzzed too;
//! - 3: attributes and a secret that must survive `encrypt_item` then `decrypt_item`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_backup::keybag::{ClassKey, Keybag};
use sesame_backup::keychain::{
    decrypt_item, encrypt_item, gcm_seal_iv, parse_keychain, Attr, ItemClass, ItemError, ItemSpec,
    Keychain,
};
use sesame_backup::{aeskw, UnlockedKeys};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Keys the corpus was made with (fuzz/examples/make_seeds.rs uses the same formulas).
const PASSWORD_KEY: [u8; 32] = [0x42; 32];
const ITEM_KEY: [u8; 32] = [0x17; 32];

fn class_key(class: u32) -> [u8; 32] {
    core::array::from_fn(|i| (class as u8).wrapping_mul(31).wrapping_add(i as u8))
}

/// Classes 1..=8 unlock with the password, 9..=11 are ThisDeviceOnly, as in a real keybag.
fn keys() -> &'static UnlockedKeys {
    static KEYS: OnceLock<UnlockedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
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
                    wpky: aeskw::wrap(&PASSWORD_KEY, &class_key(c)),
                    pbky: None,
                })
                .collect(),
        };
        UnlockedKeys::from_keybag(&kb, &PASSWORD_KEY).expect("test keybag unlocks")
    })
}

fn touch(kc: &Keychain) {
    for item in &kc.items {
        let _ = (item.kind(), item.account(), item.service(), item.server());
        let _ = (
            item.label(),
            item.access_group(),
            item.created(),
            item.modified(),
        );
        let _ = (item.protocol(), item.name(), item.kind().label());
        if let Some(s) = &item.secret {
            let _ = (s.reveal(), s.as_str(), s.len());
        }
        for a in item.attributes.values() {
            let _ = a.to_text();
        }
    }
    let _ = kc.count(&sesame_backup::keychain::ItemState::Decrypted);
}

/// Header + wrapped item key + sealed payload, as iOS writes versions 2 and 3 (version 0: the
/// payload is taken as the CBC ciphertext itself).
fn seal(version: u32, class: u32, payload: &[u8]) -> Vec<u8> {
    let kek = keys().class_key(class & 0xf).copied().unwrap_or([0; 32]);
    let wrapped = aeskw::wrap(&kek, &ITEM_KEY);
    let mut v = Vec::new();
    v.extend_from_slice(&version.to_le_bytes());
    v.extend_from_slice(&class.to_le_bytes());
    if version == 0 {
        v.extend_from_slice(&wrapped);
        v.extend_from_slice(payload);
        return v;
    }
    v.extend_from_slice(&(wrapped.len() as u32).to_le_bytes());
    v.extend_from_slice(&wrapped);
    let mut body = payload.to_vec();
    let tag = gcm_seal_iv(&ITEM_KEY, &[], &[], &mut body);
    v.extend_from_slice(&body);
    v.extend_from_slice(&tag);
    v
}

/// Attributes from bytes: (kind, key length, key, value length, value) records.
fn attributes(mut b: &[u8]) -> BTreeMap<String, Attr> {
    let mut out = BTreeMap::new();
    while let [kind, klen, rest @ ..] = b {
        let (key, rest) = rest.split_at((*klen as usize).min(rest.len()));
        let Some((&vlen, rest)) = rest.split_first() else {
            break;
        };
        let (val, rest) = rest.split_at((vlen as usize).min(rest.len()));
        b = rest;
        let mut n = [0u8; 8];
        n[..val.len().min(8)].copy_from_slice(&val[..val.len().min(8)]);
        let n = i64::from_le_bytes(n);
        let attr = match kind % 5 {
            0 => Attr::Text(String::from_utf8_lossy(val).into_owned()),
            1 => Attr::Data(val.to_vec()),
            2 => Attr::Int(n),
            3 => Attr::Bool(n & 1 == 1),
            // Dates a keychain can hold: years 1 to 9999 (DER GeneralizedTime has 4 digits).
            _ => Attr::Date(n.rem_euclid(315_537_897_600) - 62_135_596_800),
        };
        out.insert(String::from_utf8_lossy(key).into_owned(), attr);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(kc) = parse_keychain(rest, None) {
                touch(&kc);
            }
            if let Ok(kc) = parse_keychain(rest, Some(keys())) {
                touch(&kc);
            }
        }
        1 => {
            let _ = decrypt_item(rest, keys());
        }
        2 => {
            let [sel, class, payload @ ..] = rest else {
                return;
            };
            let version = [2, 3, 0][*sel as usize % 3];
            let class = u32::from(*class);
            let r = decrypt_item(&seal(version, class, payload), keys());
            // The seal is valid: only the payload itself (or a class without a key) may fail.
            if let Err(e) = &r {
                assert!(
                    matches!(
                        e,
                        ItemError::Payload(_)
                            | ItemError::Padding
                            | ItemError::NoClassKey(_)
                            | ItemError::DeviceOnly(_)
                    ),
                    "a validly sealed item failed with {e:?}"
                );
            }
        }
        _ => {
            let [sel, pclass, slen, rest @ ..] = rest else {
                return;
            };
            let version = [2, 3, 0][*sel as usize % 3];
            let pclass = u32::from(*pclass % 8) + 1;
            let (secret, rest) = rest.split_at((*slen as usize).min(rest.len()));
            let spec = ItemSpec {
                class: ItemClass::GenericPassword,
                version,
                protection_class: pclass,
                attributes: attributes(rest),
                clear_attributes: BTreeMap::new(),
                secret: secret.to_vec(),
            };
            let ck = keys().class_key(pclass).expect("classes 1..=8 have keys");
            let v = encrypt_item(&spec, ck, &ITEM_KEY);
            let d = decrypt_item(&v, keys()).expect("an encrypted item decrypts");
            assert_eq!(d.version, version);
            assert_eq!(d.protection_class, pclass);
            assert_eq!(d.secret.as_ref().map(|s| s.as_bytes()), Some(secret));
            if version != 0 {
                let mut want = spec.attributes.clone();
                want.remove("v_Data");
                assert_eq!(d.attributes, want, "attributes changed in a round trip");
            }
        }
    }
});
