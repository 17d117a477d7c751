//! The generated CUDA kernels, run on the CPU: the source is compiled by the system C compiler
//! with a few shims (thread indices, `__funnelshift_r`) and launched thread by thread, exactly as
//! the CUDA back end launches it. This checks the CUDA kernels' logic where no NVIDIA GPU is
//! available; it does not check NVRTC, the driver or cudarc.

use crate::codegen::{self, Target, WORKGROUP};
use crate::{host, reference_key, KdfSpec};
use std::io::Write;
use std::process::{Command, Stdio};

const PRELUDE: &str = r#"
#include <stdio.h>
#include <stdlib.h>
struct dim { unsigned x; };
static struct dim blockIdx, blockDim, threadIdx;
static unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {
    s &= 31u;
    return s ? (lo >> s) | (hi << (32u - s)) : lo;
}
"#;

const MAIN: &str = r#"
typedef void (*kernel)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t*, uint32_t*, const uint32_t*);
static uint32_t n, nb256, nb1, *st256, *st1, *msg;
static void launch(kernel k, uint32_t lanes, uint32_t count) {
    blockDim.x = WG;
    for (blockIdx.x = 0; blockIdx.x < (lanes + WG - 1) / WG; blockIdx.x++)
        for (threadIdx.x = 0; threadIdx.x < WG; threadIdx.x++)
            k(n, count, nb256, nb1, st256, st1, msg);
}
static uint32_t *read_words(size_t len) {
    uint32_t *p = calloc(len + 4, 4);
    for (size_t i = 0; i < len; i++) if (scanf("%u", &p[i]) != 1) exit(2);
    return p;
}
int main(void) {
    uint32_t dpic, iter, slice, msg_len, has256;
    if (scanf("%u %u %u %u %u %u %u %u", &n, &nb256, &nb1, &dpic, &iter, &slice, &msg_len, &has256) != 8) return 2;
    st256 = read_words(has256 ? 32 * n : 0);
    st1 = read_words(40 * n);
    msg = read_words(msg_len);
    if (has256) {
        launch(sha256_start, n, 0);
        for (uint32_t left = dpic - 1; left > 0;) { uint32_t c = left < slice ? left : slice; launch(sha256_loop, n, c); left -= c; }
        launch(sha1_keysetup, n, 0);
    }
    launch(sha1_start, 2 * n, 0);
    for (uint32_t left = iter - 1; left > 0;) { uint32_t c = left < slice ? left : slice; launch(sha1_loop, 2 * n, c); left -= c; }
    for (uint32_t i = 15 * 2 * n; i < 20 * 2 * n; i++) printf("%u\n", st1[i]);
    return 0;
}
"#;

#[test]
fn cuda_kernels_run_on_the_cpu() {
    let dir = std::env::temp_dir().join(format!("sesame-gpu-cuda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = codegen::kernels(Target::Cuda).replace(
        &format!("extern \"C\" __global__ void __launch_bounds__({WORKGROUP})"),
        "static void",
    );
    let c = format!("{PRELUDE}{src}\n#define WG {WORKGROUP}u\n{MAIN}");
    std::fs::write(dir.join("k.c"), c).unwrap();
    let exe = dir.join("k");
    let built = Command::new("cc")
        .args(["-O1", "-std=c99", "-o"])
        .arg(&exe)
        .arg(dir.join("k.c"))
        .status();
    match built {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("the CUDA source does not compile as C: {s}"),
        Err(e) => {
            eprintln!("SKIPPED: no C compiler (`cc`) to run the CUDA kernels on the CPU: {e}");
            return;
        }
    }
    let passwords: Vec<Vec<u8>> = (0..70u8)
        .map(|i| vec![i.wrapping_mul(37); usize::from(i) * 2])
        .collect();
    let refs: Vec<&[u8]> = passwords.iter().map(Vec::as_slice).collect();
    for spec in [
        KdfSpec {
            salt: vec![5; 20],
            iterations: 33,
            dp: Some((vec![6; 20], 71)),
        },
        KdfSpec {
            salt: vec![7; 57],
            iterations: 20,
            dp: Some((vec![8; 60], 2)),
        },
        KdfSpec {
            salt: vec![9; 20],
            iterations: 64,
            dp: None,
        },
    ] {
        let b = host::prepare(&refs, &spec);
        let mut input = format!(
            "{} {} {} {} {} 7 {} {}\n",
            b.n,
            b.nb256,
            b.nb1,
            spec.dp.as_ref().map_or(1, |d| d.1),
            spec.iterations,
            b.msg.len(),
            u8::from(!b.st256.is_empty())
        );
        for w in b.st256.iter().chain(&b.st1).chain(&b.msg) {
            input.push_str(&format!("{w}\n"));
        }
        let mut child = Command::new(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let t: Vec<u32> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let keys = host::keys_from_t(&t, refs.len());
        for (pw, key) in refs.iter().zip(&keys) {
            assert_eq!(
                *key,
                reference_key(pw, &spec),
                "{} bytes, {spec:?}",
                pw.len()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
