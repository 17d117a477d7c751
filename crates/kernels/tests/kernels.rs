//! Every kernel this CPU supports, checked against the RustCrypto `pbkdf2` crate and against
//! published vectors. Random cases use a seed printed on failure; set SESAME_TEST_SEED to
//! replay one.

use rand::{rngs::StdRng, Rng, SeedableRng};
use sesame_kernels::{reference, Kernel};

fn seed() -> u64 {
    match std::env::var("SESAME_TEST_SEED") {
        Ok(s) => s.parse().expect("SESAME_TEST_SEED must be a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn expected_sha256(pw: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt, iterations, &mut out);
    out
}

fn expected_sha1(pw: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, iterations, &mut out);
    out
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.gen()).collect()
}

/// A password length distribution that hits the HMAC edge cases (0, 55/56, 63/64/65) often.
fn random_password(rng: &mut StdRng) -> Vec<u8> {
    let len = match rng.gen_range(0..4) {
        0 => [0, 1, 55, 56, 63, 64, 65, 99][rng.gen_range(0..8)],
        _ => rng.gen_range(0..100),
    };
    random_bytes(rng, len)
}

fn random_salt(rng: &mut StdRng) -> Vec<u8> {
    let len = match rng.gen_range(0..3) {
        0 => 20,
        1 => [0, 1, 51, 52, 55, 56, 60, 64, 119][rng.gen_range(0..9)],
        _ => rng.gen_range(0..130),
    };
    random_bytes(rng, len)
}

#[test]
fn lists_kernels_and_portable_always_available() {
    let avail = Kernel::available();
    assert_eq!(avail.last(), Some(&Kernel::Portable));
    assert_eq!(Kernel::best(), avail[0]);
    for k in Kernel::ALL {
        assert!(k.lanes() >= 1);
        assert_eq!(k.is_available(), avail.contains(&k), "{k}");
    }
    eprintln!(
        "available kernels: {:?}",
        avail.iter().map(|k| k.name()).collect::<Vec<_>>()
    );
    for k in Kernel::ALL.iter().filter(|k| !k.is_available()) {
        eprintln!("SKIP: kernel {} is not supported by this CPU", k.name());
    }
}

type Derive = fn(Kernel, &[&[u8]], &[u8], u32, &mut [[u8; 32]]);
type Expected = fn(&[u8], &[u8], u32) -> [u8; 32];

/// Every available kernel against the reference on random batches, passwords, salts and counts.
fn matches_reference(derive: Derive, expected: Expected) {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    for kernel in Kernel::available() {
        for case in 0..12 {
            let n = rng.gen_range(1..=40);
            let iterations = rng.gen_range(1..=3000);
            let salt = random_salt(&mut rng);
            let pws: Vec<Vec<u8>> = (0..n).map(|_| random_password(&mut rng)).collect();
            let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
            let mut out = vec![[0u8; 32]; n];
            derive(kernel, &refs, &salt, iterations, &mut out);
            for (i, pw) in pws.iter().enumerate() {
                assert_eq!(
                    out[i],
                    expected(pw, &salt, iterations),
                    "kernel {kernel} seed {seed} case {case}: password #{i} of {n} (len {}), salt len {}, {iterations} iterations",
                    pw.len(),
                    salt.len()
                );
            }
        }
    }
}

#[test]
fn every_kernel_matches_pbkdf2_crate_sha256() {
    matches_reference(Kernel::pbkdf2_sha256_32, expected_sha256);
}

#[test]
fn every_kernel_matches_pbkdf2_crate_sha1() {
    matches_reference(Kernel::pbkdf2_sha1_32, expected_sha1);
}

#[test]
fn batch_sizes_around_lane_counts() {
    // Partial batches and exact multiples of every kernel's lane count, with distinct passwords
    // so that a lane mix-up shows.
    for kernel in Kernel::available() {
        let l = kernel.lanes();
        for n in [1, l.saturating_sub(1).max(1), l, l + 1, 2 * l, 2 * l + 3] {
            let pws: Vec<Vec<u8>> = (0..n).map(|i| format!("pw{i}").into_bytes()).collect();
            let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
            let mut out = vec![[0u8; 32]; n];
            kernel.pbkdf2_sha256_32(&refs, b"NaCl-salt-of-20-byte", 37, &mut out);
            let mut out1 = vec![[0u8; 32]; n];
            kernel.pbkdf2_sha1_32(&refs, b"NaCl-salt-of-20-byte", 37, &mut out1);
            for (i, pw) in pws.iter().enumerate() {
                assert_eq!(out[i], expected_sha256(pw, b"NaCl-salt-of-20-byte", 37));
                assert_eq!(out1[i], expected_sha1(pw, b"NaCl-salt-of-20-byte", 37));
            }
        }
        let mut none: Vec<[u8; 32]> = vec![];
        kernel.pbkdf2_sha256_32(&[], b"salt", 10, &mut none);
        kernel.pbkdf2_sha1_32(&[], b"salt", 10, &mut none);
    }
}

#[test]
fn zero_iterations_means_one_everywhere() {
    for kernel in Kernel::available() {
        let mut a = [[0u8; 32]; 1];
        let mut b = [[0u8; 32]; 1];
        kernel.pbkdf2_sha256_32(&[b"pw"], b"salt", 0, &mut a);
        kernel.pbkdf2_sha256_32(&[b"pw"], b"salt", 1, &mut b);
        assert_eq!(a, b);
        kernel.pbkdf2_sha1_32(&[b"pw"], b"salt", 0, &mut a);
        kernel.pbkdf2_sha1_32(&[b"pw"], b"salt", 1, &mut b);
        assert_eq!(a, b);
    }
}

#[test]
#[should_panic(expected = "one output per password")]
fn mismatched_output_length_panics() {
    let mut out = [[0u8; 32]; 1];
    Kernel::Portable.pbkdf2_sha256_32(&[b"a", b"b"], b"salt", 1, &mut out);
}

#[test]
fn unavailable_kernel_falls_back_safely() {
    for kernel in Kernel::ALL {
        let mut out = [[0u8; 32]; 3];
        kernel.pbkdf2_sha256_32(&[b"a", b"bb", b"ccc"], b"salt", 5, &mut out);
        assert_eq!(out[2], expected_sha256(b"ccc", b"salt", 5), "{kernel}");
    }
}

/// RFC 7914 §11 (PBKDF2-HMAC-SHA256 vectors, dkLen 64: the kernels give the first 32 bytes).
#[test]
fn rfc7914_sha256_vectors() {
    let vectors: [(&[u8], &[u8], u32, &str); 2] = [
        (b"passwd", b"salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"),
        (b"Password", b"NaCl", 80000, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"),
    ];
    for (pw, salt, c, dk) in vectors {
        let dk = hex(dk);
        let mut full = vec![0u8; 64];
        reference::pbkdf2_hmac_sha256(pw, salt, c, &mut full);
        assert_eq!(full, dk, "reference");
        for kernel in Kernel::available() {
            let mut out = [[0u8; 32]; 1];
            kernel.pbkdf2_sha256_32(&[pw], salt, c, &mut out);
            assert_eq!(&out[0][..], &dk[..32], "{kernel}");
        }
    }
}

/// RFC 6070 (PBKDF2-HMAC-SHA1). The 16,777,216-iteration vector is left out for time.
#[test]
fn rfc6070_sha1_vectors() {
    let vectors: [(&[u8], &[u8], u32, &str); 5] = [
        (
            b"password",
            b"salt",
            1,
            "0c60c80f961f0e71f3a9b524af6012062fe037a6",
        ),
        (
            b"password",
            b"salt",
            2,
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
        ),
        (
            b"password",
            b"salt",
            4096,
            "4b007901b765489abead49d926f721d065a429c1",
        ),
        (
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
        ),
        (
            b"pass\0word",
            b"sa\0lt",
            4096,
            "56fa6aa75548099dcc37d7f03425e0c3",
        ),
    ];
    for (pw, salt, c, dk) in vectors {
        let dk = hex(dk);
        let mut full = vec![0u8; dk.len()];
        reference::pbkdf2_hmac_sha1(pw, salt, c, &mut full);
        assert_eq!(full, dk, "reference");
        for kernel in Kernel::available() {
            let mut out = [[0u8; 32]; 1];
            kernel.pbkdf2_sha1_32(&[pw], salt, c, &mut out);
            assert_eq!(&out[0][..dk.len()], &dk[..], "{kernel}");
        }
    }
}

/// The real iOS 10.2+ key derivation at full cost, with the best kernel. Expected values were
/// computed once with Python's OpenSSL-backed hashlib:
/// ```text
/// dpsl = bytes(range(0x10, 0x24)); salt = bytes(range(0xa0, 0xb4))
/// k1 = hashlib.pbkdf2_hmac('sha256', b'test123', dpsl, 10_000_000, 32)
/// k  = hashlib.pbkdf2_hmac('sha1', k1, salt, 10_000, 32)
/// ```
#[test]
fn ten_million_iterations_ios_scheme() {
    let dpsl: Vec<u8> = (0x10..0x24).collect();
    let salt: Vec<u8> = (0xa0..0xb4).collect();
    let kernel = Kernel::best();
    let mut k1 = [[0u8; 32]; 1];
    kernel.pbkdf2_sha256_32(&[b"test123"], &dpsl, 10_000_000, &mut k1);
    assert_eq!(
        k1[0].to_vec(),
        hex("b918e07cb196512d88a3413c743eb3210c810253458e7b85cdcdb44c6ab8fcfa"),
        "{kernel}"
    );
    let mut k = [[0u8; 32]; 1];
    kernel.pbkdf2_sha1_32(&[&k1[0]], &salt, 10_000, &mut k);
    assert_eq!(
        k[0].to_vec(),
        hex("44aa3f8000e817770c8ecedab0c22a5baa3edd93c9e855a64cd67abb4fef6506"),
        "{kernel}"
    );
}
