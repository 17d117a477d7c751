//! The reference key derivation: password → key that unwraps the class keys.
//! The recovery engine uses many-lane kernels instead; this is what they are checked against.

use zeroize::Zeroizing;

/// Parameters of the key derivation, as found in a keybag or a hash line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// SALT, for the PBKDF2-HMAC-SHA1 stage.
    pub salt: Vec<u8>,
    /// ITER, for the PBKDF2-HMAC-SHA1 stage (10,000 in practice).
    pub iterations: u32,
    /// (DPSL, DPIC) for the PBKDF2-HMAC-SHA256 stage of iOS 10.2+ backups.
    pub dp: Option<(Vec<u8>, u32)>,
}

impl KdfParams {
    /// A short name of the scheme, for people.
    pub fn scheme_name(&self) -> &'static str {
        if self.dp.is_some() {
            "iOS 10.2+ (PBKDF2-SHA256 then PBKDF2-SHA1)"
        } else {
            "before iOS 10.2 (PBKDF2-SHA1)"
        }
    }
    /// SHA-256 then SHA-1 compressions per guess, roughly: 2 per iteration.
    pub fn compressions_per_guess(&self) -> (u64, u64) {
        let sha256 = self.dp.as_ref().map_or(0, |(_, n)| 2 * *n as u64);
        // dkLen 32 needs two SHA-1 output blocks.
        (sha256, 2 * 2 * self.iterations as u64)
    }
}

/// PBKDF2-HMAC-SHA256 stage (iOS 10.2+), 32 bytes.
pub fn sha256_stage(password: &[u8], dpsl: &[u8], dpic: u32) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, dpsl, dpic, out.as_mut());
    out
}

/// PBKDF2-HMAC-SHA1 stage, 32 bytes.
pub fn sha1_stage(input: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(input, salt, iterations, out.as_mut());
    out
}

/// The key that unwraps password-wrapped class keys.
pub fn derive(password: &[u8], params: &KdfParams) -> Zeroizing<[u8; 32]> {
    match &params.dp {
        Some((dpsl, dpic)) => {
            let inner = sha256_stage(password, dpsl, *dpic);
            sha1_stage(inner.as_ref(), &params.salt, params.iterations)
        }
        None => sha1_stage(password, &params.salt, params.iterations),
    }
}

/// The same key as [`derive`], computed with the fastest kernel this CPU has (seconds less for
/// every unlock and verify of an iOS 10.2+ backup). `derive` stays the plain reference the
/// kernels are checked against.
pub fn derive_fast(password: &[u8], params: &KdfParams) -> Zeroizing<[u8; 32]> {
    let kernel = sesame_kernels::Kernel::best();
    let mut mid = Zeroizing::new([[0u8; 32]; 1]);
    let mut out = Zeroizing::new([[0u8; 32]; 1]);
    let input: &[u8] = match &params.dp {
        Some((dpsl, dpic)) => {
            kernel.pbkdf2_sha256_32(&[password], dpsl, *dpic, &mut mid[..]);
            &mid[0]
        }
        None => password,
    };
    kernel.pbkdf2_sha1_32(&[input], &params.salt, params.iterations, &mut out[..]);
    Zeroizing::new(out[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
        #[test]
        fn derive_fast_equals_the_reference(
            pw in proptest::collection::vec(0u8.., 0..80),
            salt in proptest::collection::vec(0u8.., 20),
            dpsl in proptest::collection::vec(0u8.., 20),
            iter in 1u32..300,
            dpic in proptest::option::of(1u32..300),
        ) {
            let params = KdfParams { salt, iterations: iter, dp: dpic.map(|n| (dpsl, n)) };
            proptest::prop_assert_eq!(*derive_fast(&pw, &params), *derive(&pw, &params));
        }
    }
}
