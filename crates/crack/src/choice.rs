//! Which CPU kernel a recovery runs, chosen by measurement.
//!
//! A fixed order is wrong on some CPUs: on AMD Zen 5 the AVX-512 kernel does half again as
//! many iOS 10.2+ guesses per core as SHA-NI, on Zen 3 (no AVX-512) SHA-NI wins. So every
//! kernel that passed its known-answer self-test is timed on the key scheme, on every thread
//! at once (as a recovery runs), and the fastest is kept. The result is cached in the data
//! folder per CPU model and Sesame version, so that the calibration costs about a second once.

use crate::bench;
use sesame_backup::KdfParams;
use sesame_kernels::Kernel;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The two key schemes differ in which stage costs the time, and so in which kernel wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// iOS 10.2+: PBKDF2-HMAC-SHA256 then SHA-1; the SHA-256 stage is over 99% of the cost.
    Sha256Stage,
    /// Before iOS 10.2: PBKDF2-HMAC-SHA1 only.
    Sha1Only,
}

impl Scheme {
    pub fn of(params: &KdfParams) -> Scheme {
        if params.dp.is_some() {
            Scheme::Sha256Stage
        } else {
            Scheme::Sha1Only
        }
    }

    fn key(self) -> &'static str {
        match self {
            Scheme::Sha256Stage => "ios10_2",
            Scheme::Sha1Only => "legacy",
        }
    }

    /// Parameters of the real scheme (timed at a reduced SHA-256 count, scaled up).
    fn params(self) -> KdfParams {
        match self {
            Scheme::Sha256Stage => bench::scheme_10_2_params(),
            Scheme::Sha1Only => bench::scheme_9_params(),
        }
    }
}

/// The kernel in use and why.
#[derive(Clone, Debug)]
pub struct KernelChoice {
    pub kernel: Kernel,
    /// In words: "fastest of sha-ni 5.8, avx512 8.9 guesses/s on 2 threads (measured now)".
    pub why: String,
    /// Whole-machine guesses per second of each kernel measured, when it was measured.
    pub rates: Vec<(Kernel, f64)>,
}

/// Why a forced kernel cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KernelChoiceError {
    #[error("unknown kernel {0:?} (known: sha-ni, avx512, avx512x2, avx2, portable)")]
    Unknown(String),
    #[error("the {0} kernel does not run on this CPU (available here: {1})")]
    Unavailable(&'static str, String),
    #[error("the {0} kernel failed its self-test on this CPU")]
    FailedSelfTest(&'static str),
}

/// The kernel named `name`, if this CPU runs it and it passed its self-test.
pub fn named(name: &str) -> Result<Kernel, KernelChoiceError> {
    let k = Kernel::ALL
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| KernelChoiceError::Unknown(name.to_string()))?;
    if !k.is_available() {
        let here: Vec<&str> = Kernel::available().iter().map(|k| k.name()).collect();
        return Err(KernelChoiceError::Unavailable(k.name(), here.join(", ")));
    }
    if !Kernel::checked().passed.contains(&k) {
        return Err(KernelChoiceError::FailedSelfTest(k.name()));
    }
    Ok(k)
}

/// The CPU's model name (Linux /proc/cpuinfo), or the architecture where there is none.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// This CPU, as the cache knows it: its model name, thread count and Sesame's version, and the
/// set of kernels compared (a build with a kernel the cache never timed calibrates again).
fn cpu_identity() -> String {
    let threads = available_threads();
    let kernels: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
    format!(
        "{} / {threads} threads / sesame {} / {}",
        cpu_model(),
        env!("CARGO_PKG_VERSION"),
        kernels.join(",")
    )
}

/// The data folder's calibration cache.
pub fn cache_path() -> PathBuf {
    crate::paths::data_dir().join("kernels.json")
}

/// The cached choice for `scheme` on this CPU, if any.
fn cached(path: &Path, scheme: Scheme) -> Option<KernelChoice> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    if v["cpu"].as_str()? != cpu_identity() {
        return None;
    }
    let e = &v["schemes"][scheme.key()];
    let kernel = named(e["kernel"].as_str()?).ok()?;
    let rates: Vec<(Kernel, f64)> = e["rates"]
        .as_object()?
        .iter()
        .filter_map(|(k, r)| Some((named(k).ok()?, r.as_f64()?)))
        .collect();
    Some(KernelChoice {
        kernel,
        // The cache is keyed by the thread count too (cpu_identity), so these are its rates.
        why: format!(
            "{}; calibrated earlier on this CPU",
            describe(&rates, available_threads())
        ),
        rates,
    })
}

/// Writes the choice into the cache (best effort: a read-only data folder costs a second
/// of calibration per run, nothing else).
fn save(path: &Path, scheme: Scheme, choice: &KernelChoice) {
    let mut v: serde_json::Value = std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|v: &serde_json::Value| v["cpu"].as_str() == Some(&cpu_identity()))
        .unwrap_or_else(|| serde_json::json!({"cpu": cpu_identity(), "schemes": {}}));
    let rates: serde_json::Map<String, serde_json::Value> = choice
        .rates
        .iter()
        .map(|(k, r)| (k.name().to_string(), serde_json::json!(r)))
        .collect();
    v["schemes"][scheme.key()] =
        serde_json::json!({"kernel": choice.kernel.name(), "rates": rates});
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

/// The rates are the whole machine's (all `threads` together), the unit the plan's estimate
/// uses; the line says so, so that they are not read as per-thread figures.
fn describe(rates: &[(Kernel, f64)], threads: usize) -> String {
    let list: Vec<String> = rates
        .iter()
        .map(|(k, r)| format!("{} {r:.2}", k.name()))
        .collect();
    let with = if threads == 1 {
        "on 1 thread".to_string()
    } else {
        format!("with all {threads} threads together")
    };
    format!("fastest here ({} guesses/s {with})", list.join(", "))
}

/// Times every self-tested kernel for `scheme` on `threads` threads, twice about `window` each.
pub fn calibrate(scheme: Scheme, threads: usize, window: Duration) -> KernelChoice {
    let params = scheme.params();
    let kernels: Vec<Kernel> = Kernel::checked()
        .passed
        .iter()
        .copied()
        .filter(|k| *k != Kernel::Portable || Kernel::checked().passed.len() == 1)
        .collect();
    // Two passes in turn, each kernel's best kept: a moment of other work on the machine (or
    // of a lower clock) then slows one pass of one kernel, not the choice. With one pass, one
    // of three calibrations on a 2-core Zen 5 guest picked the slower of two AVX-512 forms
    // that `sesame bench` measures 37% apart (BENCHMARKS.md).
    let mut rates: Vec<(Kernel, f64)> = kernels.iter().map(|&k| (k, 0.0)).collect();
    for _ in 0..2 {
        for (k, best) in rates.iter_mut() {
            let r = bench::quick_rate(*k, std::slice::from_ref(&params), threads, window);
            *best = best.max(r);
        }
    }
    rates.sort_by(|a, b| b.1.total_cmp(&a.1));
    let kernel = rates.first().map_or(Kernel::Portable, |r| r.0);
    KernelChoice {
        kernel,
        why: format!("{}; measured just now", describe(&rates, threads)),
        rates,
    }
}

/// The kernel to run for `params`: `forced` when given (it must run here and have passed
/// its self-test), else the fastest by measurement, cached per CPU in the data folder.
pub fn choose(params: &KdfParams, forced: Option<&str>) -> Result<KernelChoice, KernelChoiceError> {
    choose_cached_in(params, forced, &cache_path())
}

/// [`choose`] with the calibration cached in `cache` instead of the data folder's
/// `kernels.json` (a program with its own data folder, or a test that must leave the user's
/// alone).
pub fn choose_cached_in(
    params: &KdfParams,
    forced: Option<&str>,
    cache: &Path,
) -> Result<KernelChoice, KernelChoiceError> {
    if let Some(name) = forced {
        return Ok(KernelChoice {
            kernel: named(name)?,
            why: "chosen with --kernel".into(),
            rates: Vec::new(),
        });
    }
    let scheme = Scheme::of(params);
    if let Some(c) = cached(cache, scheme) {
        return Ok(c);
    }
    let c = calibrate(scheme, available_threads(), Duration::from_millis(120));
    save(cache, scheme, &c);
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_kernels_are_checked() {
        assert!(matches!(named("nope"), Err(KernelChoiceError::Unknown(_))));
        assert_eq!(named("portable"), Ok(Kernel::Portable));
        assert_eq!(named("PORTABLE"), Ok(Kernel::Portable));
    }

    #[test]
    fn calibration_picks_the_fastest_measured_and_the_cache_returns_it() {
        let c = calibrate(Scheme::Sha1Only, 1, Duration::from_millis(20));
        assert!(!c.rates.is_empty());
        let best = c.rates.iter().map(|r| r.1).fold(0.0, f64::max);
        assert_eq!(c.rates[0].1, best);
        assert_eq!(c.kernel, c.rates[0].0);
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("kernels.json");
        save(&p, Scheme::Sha1Only, &c);
        let back = cached(&p, Scheme::Sha1Only).expect("cached");
        assert_eq!(back.kernel, c.kernel);
        assert!(back.why.contains("earlier"), "{}", back.why);
        assert!(cached(&p, Scheme::Sha256Stage).is_none());
        // Another CPU's cache is not used.
        std::fs::write(
            &p,
            br#"{"cpu":"another","schemes":{"legacy":{"kernel":"portable","rates":{}}}}"#,
        )
        .unwrap();
        assert!(cached(&p, Scheme::Sha1Only).is_none());
        // Nor one that compared another set of kernels on this CPU (written before a kernel
        // was added, it never timed that kernel).
        let older = format!(
            "{} / {} threads / sesame {}",
            cpu_model(),
            available_threads(),
            env!("CARGO_PKG_VERSION")
        );
        let v = serde_json::json!({"cpu": older, "schemes": {"legacy": {"kernel": "portable", "rates": {}}}});
        std::fs::write(&p, v.to_string()).unwrap();
        assert!(cached(&p, Scheme::Sha1Only).is_none());
    }
}
