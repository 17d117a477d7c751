//! The known-answer self-test every kernel passes before it is trusted (hashcat does the
//! same): a wrong kernel would make `verify` call a right password wrong, and `recover` walk
//! past the right one. Run once per process, on first use, in well under a second.

use crate::{reference, Kernel};
use std::sync::OnceLock;

/// Published PBKDF2 answers: (password, salt, iterations, first bytes of the output).
/// SHA-1: RFC 6070. SHA-256: the widely reproduced vectors for the same inputs.
const SHA1_KAT: [(&[u8], &[u8], u32, &str); 3] = [
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
];
const SHA256_KAT: [(&[u8], &[u8], u32, &str); 3] = [
    (
        b"password",
        b"salt",
        1,
        "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
    ),
    (
        b"password",
        b"salt",
        2,
        "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
    ),
    (
        b"password",
        b"salt",
        4096,
        "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
    ),
];

/// Why a kernel was not trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {kernel} kernel gave a wrong {what} result in its self-test")]
pub struct SelfTestFailed {
    pub kernel: &'static str,
    pub what: &'static str,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Passwords of every length class the kernels treat differently (empty, one block, HMAC
/// keys longer than a block), enough of them to fill every lane twice and one more.
fn batch(kernel: Kernel) -> Vec<Vec<u8>> {
    let n = kernel.lanes().max(kernel.sha1_lanes()) * 2 + 1;
    (0..n)
        .map(|i| {
            let len = [0usize, 1, 7, 31, 55, 56, 63, 64, 65, 100][i % 10];
            (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
        })
        .collect()
}

impl Kernel {
    /// Runs this kernel on the published answers and, across all its lanes, against the
    /// plain reference implementation.
    pub fn self_test(self) -> Result<(), SelfTestFailed> {
        let fail = |what| SelfTestFailed {
            kernel: self.name(),
            what,
        };
        for (pw, salt, iters, want) in SHA256_KAT {
            let mut out = [[0u8; 32]];
            self.pbkdf2_sha256_32(&[pw], salt, iters, &mut out);
            if hex(&out[0]) != want {
                return Err(fail("PBKDF2-HMAC-SHA256"));
            }
        }
        for (pw, salt, iters, want) in SHA1_KAT {
            let mut out = [[0u8; 32]];
            self.pbkdf2_sha1_32(&[pw], salt, iters, &mut out);
            if !hex(&out[0]).starts_with(want) {
                return Err(fail("PBKDF2-HMAC-SHA1"));
            }
        }
        let pws = batch(self);
        let refs: Vec<&[u8]> = pws.iter().map(Vec::as_slice).collect();
        let salt = b"\x01\x02sesame-self-test-salt\xff";
        for iters in [1u32, 3, 67] {
            let mut got = vec![[0u8; 32]; refs.len()];
            self.pbkdf2_sha256_32(&refs, salt, iters, &mut got);
            for (p, g) in refs.iter().zip(&got) {
                let mut want = [0u8; 32];
                reference::pbkdf2_hmac_sha256(p, salt, iters, &mut want);
                if *g != want {
                    return Err(fail("PBKDF2-HMAC-SHA256 lane"));
                }
            }
            self.pbkdf2_sha1_32(&refs, salt, iters, &mut got);
            for (p, g) in refs.iter().zip(&got) {
                let mut want = [0u8; 32];
                reference::pbkdf2_hmac_sha1(p, salt, iters, &mut want);
                if *g != want {
                    return Err(fail("PBKDF2-HMAC-SHA1 lane"));
                }
            }
        }
        Ok(())
    }

    /// The kernels this CPU supports that passed their self-test, fastest first, and those
    /// that failed (with why). Tested once per process, on first call.
    pub fn checked() -> &'static Checked {
        static CHECKED: OnceLock<Checked> = OnceLock::new();
        CHECKED.get_or_init(|| {
            let mut c = Checked::default();
            for k in Kernel::available() {
                match k.self_test() {
                    Ok(()) => c.passed.push(k),
                    Err(e) => c.failed.push(e),
                }
            }
            c
        })
    }
}

/// What the self-tests found.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub passed: Vec<Kernel>,
    pub failed: Vec<SelfTestFailed>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_answers_are_the_reference_answers() {
        for (pw, salt, iters, want) in SHA256_KAT {
            let mut out = [0u8; 32];
            reference::pbkdf2_hmac_sha256(pw, salt, iters, &mut out);
            assert_eq!(hex(&out), want);
        }
        for (pw, salt, iters, want) in SHA1_KAT {
            let mut out = [0u8; 20];
            reference::pbkdf2_hmac_sha1(pw, salt, iters, &mut out);
            assert_eq!(hex(&out), want);
        }
    }

    #[test]
    fn every_available_kernel_passes() {
        let c = Kernel::checked();
        assert!(c.failed.is_empty(), "{:?}", c.failed);
        assert_eq!(c.passed, Kernel::available());
    }
}
