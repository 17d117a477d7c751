//! The kernels against the `pbkdf2` crate, on whatever adapter is found. Without a GPU, CI runs
//! them on Mesa's lavapipe (a CPU Vulkan driver: `apt-get install mesa-vulkan-drivers`); with no
//! adapter at all the tests print SKIPPED and pass.

use rand::Rng;
use sesame_gpu::{Discovery, GpuDevice, GpuError, KdfSpec};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

fn device() -> Option<&'static GpuDevice> {
    static DEV: OnceLock<Option<GpuDevice>> = OnceLock::new();
    DEV.get_or_init(|| {
        // The tests are about correctness: a CPU driver is as good as a GPU for them.
        let (devices, notes) = sesame_gpu::discover_with(Discovery {
            allow_cpu_drivers: true,
            ..Discovery::from_env()
        });
        for n in &notes {
            eprintln!("note: {n}");
        }
        let d = devices.into_iter().next();
        match &d {
            Some(d) => eprintln!("testing on {} ({}, {:?})", d.name(), d.backend(), d.kind()),
            None => {
                // In CI a missing GPU adapter is a failure, never a silent pass.
                assert!(
                    std::env::var_os("SESAME_REQUIRE_GPU").is_none(),
                    "SESAME_REQUIRE_GPU is set but a GPU adapter (Mesa's lavapipe in CI) is missing"
                );
                eprintln!(
                    "SKIPPED: no GPU or Vulkan adapter found; install mesa-vulkan-drivers to run the GPU kernels on the CPU"
                )
            }
        }
        d
    })
    .as_ref()
}

fn pbkdf2_key(pw: &[u8], spec: &KdfSpec) -> [u8; 32] {
    let mut out = [0u8; 32];
    match &spec.dp {
        Some((dpsl, dpic)) => {
            let mut inner = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, dpsl, *dpic, &mut inner);
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(&inner, &spec.salt, spec.iterations, &mut out);
        }
        None => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, &spec.salt, spec.iterations, &mut out),
    }
    out
}

fn random_bytes(rng: &mut impl Rng, max: usize) -> Vec<u8> {
    let mut v = vec![0u8; rng.gen_range(0..=max)];
    rng.fill_bytes(&mut v);
    v
}

fn check(dev: &GpuDevice, passwords: &[Vec<u8>], spec: &KdfSpec) {
    let refs: Vec<&[u8]> = passwords.iter().map(Vec::as_slice).collect();
    let mut last = 0;
    let keys = dev
        .derive(&refs, spec, &AtomicBool::new(false), &mut |d| {
            assert!(d > last, "progress goes forward");
            last = d;
        })
        .expect("derive");
    assert_eq!(last, spec.total_iterations(), "progress ends at the total");
    for (pw, key) in passwords.iter().zip(&keys) {
        assert_eq!(*key, pbkdf2_key(pw, spec), "password {pw:02x?}, {spec:?}");
    }
}

#[test]
fn random_inputs_match_pbkdf2_crate() {
    let Some(dev) = device() else { return };
    let mut rng = rand::thread_rng();
    for round in 0..6 {
        let n = rng.gen_range(1..200);
        let passwords: Vec<Vec<u8>> = (0..n).map(|_| random_bytes(&mut rng, 130)).collect();
        let dp = (round % 3 != 2).then(|| (random_bytes(&mut rng, 70), rng.gen_range(1..3000)));
        let spec = KdfSpec {
            salt: random_bytes(&mut rng, 70),
            iterations: rng.gen_range(1..600),
            dp,
        };
        check(dev, &passwords, &spec);
    }
}

#[test]
fn ios_shaped_parameters() {
    let Some(dev) = device() else { return };
    // Real backups: 20-byte salts, ITER 10,000; DPIC reduced from 10,000,000 to keep it short.
    let passwords: Vec<Vec<u8>> = ["", "1234", "password", "ünïcödé", &"x".repeat(65)]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    check(
        dev,
        &passwords,
        &KdfSpec {
            salt: vec![0xa5; 20],
            iterations: 10_000,
            dp: Some((vec![0x5a; 20], 5_000)),
        },
    );
    check(
        dev,
        &passwords,
        &KdfSpec {
            salt: vec![0xa5; 20],
            iterations: 10_000,
            dp: None,
        },
    );
}

#[test]
fn self_check_passes() {
    let Some(dev) = device() else { return };
    dev.self_check().expect("self-check");
}

#[test]
fn cancel_stops_between_slices() {
    let Some(dev) = device() else { return };
    let cancel = AtomicBool::new(false);
    let spec = KdfSpec {
        salt: vec![1; 20],
        iterations: 10,
        dp: Some((vec![2; 20], 10_000_000)),
    };
    let mut calls = 0;
    let r = dev.derive(&[b"a".as_slice(), b"b"], &spec, &cancel, &mut |_| {
        calls += 1;
        if calls == 3 {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    assert!(matches!(r, Err(GpuError::Cancelled)), "{r:?}");
    // The device is still usable afterwards.
    check(
        dev,
        &[b"after".to_vec()],
        &KdfSpec {
            salt: vec![3; 8],
            iterations: 3,
            dp: Some((vec![4; 8], 5)),
        },
    );
}

#[test]
fn empty_and_oversized_batches() {
    let Some(dev) = device() else { return };
    let spec = KdfSpec {
        salt: vec![1; 20],
        iterations: 1,
        dp: None,
    };
    assert!(dev
        .derive(&[], &spec, &AtomicBool::new(false), &mut |_| {})
        .unwrap()
        .is_empty());
    let too_many = vec![b"x".as_slice(); dev.max_batch() + 1];
    let r = dev.derive(&too_many, &spec, &AtomicBool::new(false), &mut |_| {});
    assert!(matches!(r, Err(GpuError::BatchTooLarge { .. })), "{r:?}");
}

#[test]
fn discovery_options_turn_gpus_and_cpu_drivers_off() {
    let (devices, notes) = sesame_gpu::discover_with(Discovery {
        disabled: true,
        allow_cpu_drivers: true,
        ..Discovery::default()
    });
    assert!(devices.is_empty());
    assert!(notes.iter().any(|n| n.contains("turned off")), "{notes:?}");

    // Without the option a CPU driver such as lavapipe is left out, and the note says how to
    // let it in.
    let (devices, notes) = sesame_gpu::discover_with(Discovery::default());
    assert!(
        devices
            .iter()
            .all(|d| d.kind() != sesame_gpu::DeviceKind::CpuEmulation),
        "a CPU driver was used without allow_cpu_drivers"
    );
    if device().is_some_and(|d| d.kind() == sesame_gpu::DeviceKind::CpuEmulation) {
        assert!(
            notes.iter().any(|n| n.contains("CPU driver")),
            "lavapipe was skipped without a note: {notes:?}"
        );
    }
}
