//! Decrypt benchmark: builds a >= 1 GiB encrypted backup (a few large files, many small ones)
//! and times `decrypt_backup` on it.
//!
//! cargo run --release -p sesame-backup --example decrypt_bench -- build DIR [GIB]
//! cargo run --release -p sesame-backup --example decrypt_bench -- decrypt DIR OUT [THREADS]
//! cargo run --release -p sesame-backup --example decrypt_bench -- all [GIB]   (temp dirs, both steps)
//!
//! Peak memory of the decrypt step alone: /usr/bin/time -v target/release/examples/decrypt_bench decrypt DIR OUT

use sesame_backup::builder::BackupBuilder;
use sesame_backup::write::{decrypt_backup, WriteOptions};
use sesame_backup::Backup;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const PASSWORD: &str = "bench";

fn fill(buf: &mut [u8], seed: &mut u64) {
    for c in buf.chunks_mut(8) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let b = seed.to_le_bytes();
        c.copy_from_slice(&b[..c.len()]);
    }
}

fn build(dir: &Path, gib: f64) {
    let total = (gib * (1u64 << 30) as f64) as u64;
    let small_n = 2048u64;
    let small = 64 << 10;
    let large_n = 4u64;
    let large = (total.saturating_sub(small_n * small)).div_ceil(large_n) + 12_345;
    let src = dir.with_extension("sources");
    std::fs::create_dir_all(&src).unwrap();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut b = BackupBuilder::new()
        .password(PASSWORD)
        .iterations(10, Some(10))
        .device("Bench iPhone", "iPhone15,2", "17.4");
    let t = Instant::now();
    let mut buf = vec![0u8; 4 << 20];
    for i in 0..large_n {
        let p = src.join(format!("large{i}"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        let mut left = large;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            fill(&mut buf[..n], &mut seed);
            f.write_all(&buf[..n]).unwrap();
            left -= n as u64;
        }
        f.flush().unwrap();
        b = b.file_from_path(
            "CameraRollDomain",
            &format!("Media/DCIM/100APPLE/IMG_{i:04}.MOV"),
            &p,
        );
    }
    for i in 0..small_n {
        let mut v = vec![0u8; small as usize - (i as usize % 100)];
        fill(&mut v, &mut seed);
        b = b.file(
            "HomeDomain",
            &format!("Library/Small/{:02}/file{i}", i % 64),
            v,
        );
    }
    b.write(dir).unwrap();
    std::fs::remove_dir_all(&src).unwrap();
    let bytes = large_n * large + (0..small_n).map(|i| small - i % 100).sum::<u64>();
    eprintln!(
        "built {} in {:.1} s: {} files, {:.3} GiB of file contents",
        dir.display(),
        t.elapsed().as_secs_f64(),
        large_n + small_n,
        bytes as f64 / (1u64 << 30) as f64
    );
}

fn decrypt(dir: &Path, out: &Path, threads: usize) {
    let t0 = Instant::now();
    let b = Backup::open(dir).unwrap();
    let keys = b.unlock(PASSWORD.as_bytes()).unwrap();
    let t = Instant::now();
    let rep = decrypt_backup(
        &b,
        Some(&keys),
        out,
        &WriteOptions {
            force: true,
            threads,
            ..Default::default()
        },
        &|_| {},
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "?".into());
    println!(
        "decrypt: {} files, {:.3} GB of contents in {:.2} s = {:.2} GB/s ({:.2} GiB/s), threads {}, unlock+open {:.2} s, peak RSS {} kB",
        rep.files,
        rep.bytes as f64 / 1e9,
        secs,
        rep.bytes as f64 / 1e9 / secs,
        rep.bytes as f64 / (1u64 << 30) as f64 / secs,
        if threads == 0 { sesame_backup::file::default_threads() } else { threads },
        t.duration_since(t0).as_secs_f64(),
        rss
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => build(
            Path::new(&args[1]),
            args.get(2).map_or(1.0, |s| s.parse().unwrap()),
        ),
        Some("decrypt") => decrypt(
            Path::new(&args[1]),
            Path::new(&args[2]),
            args.get(3).map_or(0, |s| s.parse().unwrap()),
        ),
        Some("all") | None => {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("backup");
            build(&dir, args.get(1).map_or(1.0, |s| s.parse().unwrap()));
            decrypt(&dir, &tmp.path().join("out"), 0);
        }
        Some("aes") => {
            let mut v = vec![0u8; 256 << 20];
            for threads in [1, 1, 2, 2] {
                let t = Instant::now();
                for chunk in v.chunks_mut(4 << 20) {
                    sesame_backup::file::cbc_decrypt_parallel(&[1; 32], &[0; 16], chunk, threads);
                }
                let s = t.elapsed().as_secs_f64();
                println!(
                    "AES-256-CBC decrypt in memory, {threads} thread(s): {:.2} GB/s",
                    v.len() as f64 / 1e9 / s
                );
            }
        }
        Some(other) => panic!("unknown mode {other}: build, decrypt or all"),
    }
}
