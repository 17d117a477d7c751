//! Any bytes as Manifest.mbdb (the file list of iOS 4 to 9 backups) and as Manifest.mbdx. The
//! parser keeps every byte: what it read, written back, followed by the unread rest of a
//! damaged file, must be the input; the entries it makes must be found by their own names;
//! an index built for the records must read back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_backup::mbdb::{parse, parse_mbdx, Mbdx};
use sesame_backup::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(x) = parse_mbdx(data) {
        assert_eq!(x.to_bytes(), data, "Manifest.mbdx changed in a round trip");
    }
    let Ok(m) = parse(data) else {
        assert!(data.len() < 6 || !data.starts_with(b"mbdb"), "an mbdb header was refused");
        return;
    };
    let (mut again, offsets) = m.to_bytes().expect("parsed records write back");
    assert_eq!(offsets, m.offsets, "records moved in a round trip");
    if let Some(d) = &m.damage {
        again.extend_from_slice(&data[d.offset..]);
    }
    assert_eq!(again, data, "Manifest.mbdb changed in a round trip");
    // One entry per name: records that repeat a name are folded into one.
    let list = Manifest::from_mbdb(&m);
    assert!(list.len() <= m.records.len(), "more entries than records");
    for e in list.entries() {
        let _ = (e.size(), e.kind.name(), e.meta.as_ref().map(|f| f.key_class()));
        assert!(
            list.find(&e.domain, &e.relative_path).is_some(),
            "an entry is not found by its own domain and path"
        );
    }
    let x = Mbdx::for_records(&m.records, &m.offsets).expect("an index of parsed records");
    assert_eq!(parse_mbdx(&x.to_bytes()).expect("our own index"), x);
});
