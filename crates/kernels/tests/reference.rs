//! The reference module against the RustCrypto crates, on random inputs.

use hmac::{Hmac, Mac};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sesame_kernels::reference;
use sha1::Sha1;
use sha2::{Digest, Sha256};

#[test]
fn hashes_and_hmacs_match_rustcrypto() {
    let seed = 0x5e5a_3e00_u64 ^ std::process::id() as u64;
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..500 {
        let len = rng.gen_range(0..300);
        let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let klen = rng.gen_range(0..150);
        let key: Vec<u8> = (0..klen).map(|_| rng.gen()).collect();
        assert_eq!(
            reference::sha256(&data)[..],
            Sha256::digest(&data)[..],
            "seed {seed}"
        );
        assert_eq!(
            reference::sha1(&data)[..],
            Sha1::digest(&data)[..],
            "seed {seed}"
        );
        let mut m = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        m.update(&data);
        assert_eq!(
            reference::hmac_sha256(&key, &data)[..],
            m.finalize().into_bytes()[..]
        );
        let mut m = Hmac::<Sha1>::new_from_slice(&key).unwrap();
        m.update(&data);
        assert_eq!(
            reference::hmac_sha1(&key, &data)[..],
            m.finalize().into_bytes()[..]
        );
    }
}

#[test]
fn pbkdf2_matches_crate_for_any_length() {
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..40 {
        let pw: Vec<u8> = (0..rng.gen_range(0..100)).map(|_| rng.gen()).collect();
        let salt: Vec<u8> = (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect();
        let c = rng.gen_range(1..50);
        let dk_len = rng.gen_range(1..90);
        let mut a = vec![0u8; dk_len];
        let mut b = vec![0u8; dk_len];
        reference::pbkdf2_hmac_sha256(&pw, &salt, c, &mut a);
        pbkdf2::pbkdf2_hmac::<Sha256>(&pw, &salt, c, &mut b);
        assert_eq!(a, b);
        reference::pbkdf2_hmac_sha1(&pw, &salt, c, &mut a);
        pbkdf2::pbkdf2_hmac::<Sha1>(&pw, &salt, c, &mut b);
        assert_eq!(a, b);
    }
}
