//! `--shard auto`: which shard this process is, from the variables the job engine that started
//! it sets. The variables are passed in (a front end passes its environment), so the rules are
//! testable without one.
//!
//! - Slurm job arrays (`sbatch --array=0-3`): shard `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN`
//!   (divided by `SLURM_ARRAY_TASK_STEP` when the array has a step), counting from 1, of
//!   `SLURM_ARRAY_TASK_COUNT`.
//! - Kubernetes Indexed Jobs (`completionMode: Indexed`): shard `JOB_COMPLETION_INDEX + 1` of
//!   `SESAME_SHARDS`, which the Job's manifest sets to its `completions` (Kubernetes does not
//!   give the count to the pod).
//!
//! Slurm's variables are looked at first.

use sesame_guess::Shard;

/// The job engine a shard came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Slurm,
    Kubernetes,
}

/// A shard found in the environment, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoShard {
    pub shard: Shard,
    pub engine: Engine,
    /// The variables it came from, for the plan: "Slurm array task 5 (SLURM_ARRAY_TASK_ID=5, ...)".
    pub from: String,
}

/// Why no shard could be taken from the environment.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum AutoShardError {
    #[error("no job engine's variables are set (Slurm job arrays set SLURM_ARRAY_TASK_ID, Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX); give --shard K/N instead")]
    NoEngine,
    #[error("this Slurm job is not a job array (SLURM_JOB_ID is set, SLURM_ARRAY_TASK_ID is not): submit it with sbatch --array=0-N, or give --shard K/N")]
    NotAnArray,
    #[error("{var} is {value:?}, not a whole number")]
    NotANumber { var: &'static str, value: String },
    #[error("{var} is not set (it comes with {with}); give --shard K/N instead")]
    Missing {
        var: &'static str,
        with: &'static str,
    },
    #[error("JOB_COMPLETION_INDEX is set but SESAME_SHARDS is not: set SESAME_SHARDS to the Job's completions in its manifest (Kubernetes does not tell the pod how many there are)")]
    NoShardCount,
    #[error("{what}: shard {k} of {n} does not exist; give --shard K/N instead")]
    OutOfRange { what: String, k: u64, n: u64 },
}

/// The shard of this process from its job engine's variables (`get` returns a variable's
/// value, `None` when unset or empty).
pub fn shard_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<AutoShard, AutoShardError> {
    let var = |name: &str| {
        get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let num = |name: &'static str| -> Result<Option<u64>, AutoShardError> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
                .map(Some)
                .ok_or(AutoShardError::NotANumber {
                    var: name,
                    value: v.chars().take(40).collect(),
                }),
        }
    };
    let need = |name: &'static str, with: &'static str| -> Result<u64, AutoShardError> {
        num(name)?.ok_or(AutoShardError::Missing { var: name, with })
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let min = need("SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_ID")?;
        let count = need("SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_ID")?;
        let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let what = format!(
            "Slurm array task {id} (SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_COUNT={count}{})",
            if step > 1 { format!(", SLURM_ARRAY_TASK_STEP={step}") } else { String::new() }
        );
        let off = id.checked_sub(min);
        let k = off.filter(|o| o % step == 0).map(|o| o / step + 1);
        return match k {
            Some(k) if count >= 1 && k <= count => Ok(AutoShard {
                shard: Shard { k, n: count },
                engine: Engine::Slurm,
                from: what,
            }),
            _ => Err(AutoShardError::OutOfRange {
                what,
                k: k.unwrap_or(0),
                n: count,
            }),
        };
    }
    if var("SLURM_JOB_ID").is_some() && var("JOB_COMPLETION_INDEX").is_none() {
        return Err(AutoShardError::NotAnArray);
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let n = num("SESAME_SHARDS")?.ok_or(AutoShardError::NoShardCount)?;
        let what = format!(
            "Kubernetes Indexed Job pod {index} (JOB_COMPLETION_INDEX={index}, SESAME_SHARDS={n})"
        );
        let k = index.saturating_add(1);
        if n == 0 || k > n {
            return Err(AutoShardError::OutOfRange { what, k, n });
        }
        return Ok(AutoShard {
            shard: Shard { k, n },
            engine: Engine::Kubernetes,
            from: what,
        });
    }
    Err(AutoShardError::NoEngine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn shard(vars: &[(&str, &str)]) -> Result<AutoShard, AutoShardError> {
        shard_from_env(&env(vars))
    }

    #[test]
    fn slurm_arrays_from_any_first_index() {
        for (id, min, count, k) in [("0", "0", "4", 1), ("3", "0", "4", 4), ("12", "10", "4", 3)] {
            let a = shard(&[
                ("SLURM_JOB_ID", "77"),
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", min),
                ("SLURM_ARRAY_TASK_COUNT", count),
            ])
            .unwrap();
            assert_eq!(a.shard, Shard { k, n: 4 });
            assert_eq!(a.engine, Engine::Slurm);
            assert!(
                a.from.contains(&format!("SLURM_ARRAY_TASK_ID={id}")),
                "{}",
                a.from
            );
        }
        // --array=0-12:4 is tasks 0, 4, 8, 12: four shards.
        let a = shard(&[
            ("SLURM_ARRAY_TASK_ID", "8"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_STEP", "4"),
        ])
        .unwrap();
        assert_eq!(a.shard, Shard { k: 3, n: 4 });
    }

    #[test]
    fn slurm_errors_say_what_to_do() {
        assert_eq!(
            shard(&[("SLURM_JOB_ID", "5")]).unwrap_err(),
            AutoShardError::NotAnArray
        );
        let e = shard(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert!(
            e.unwrap_err().to_string().contains("SLURM_ARRAY_TASK_MIN"),
            "min missing"
        );
        let e = shard(&[
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ])
        .unwrap_err();
        assert!(
            matches!(e, AutoShardError::OutOfRange { k: 10, n: 4, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("--shard K/N"));
        let e = shard(&[("SLURM_ARRAY_TASK_ID", "x1")]).unwrap_err();
        assert!(matches!(e, AutoShardError::NotANumber { .. }), "{e}");
    }

    #[test]
    fn kubernetes_indexed_jobs() {
        let a = shard(&[("JOB_COMPLETION_INDEX", "0"), ("SESAME_SHARDS", "3")]).unwrap();
        assert_eq!(a.shard, Shard { k: 1, n: 3 });
        assert_eq!(a.engine, Engine::Kubernetes);
        let a = shard(&[("JOB_COMPLETION_INDEX", "2"), ("SESAME_SHARDS", "3")]).unwrap();
        assert_eq!(a.shard, Shard { k: 3, n: 3 });
        assert_eq!(
            shard(&[("JOB_COMPLETION_INDEX", "2")]).unwrap_err(),
            AutoShardError::NoShardCount
        );
        let e = shard(&[("JOB_COMPLETION_INDEX", "3"), ("SESAME_SHARDS", "3")]).unwrap_err();
        assert!(
            matches!(e, AutoShardError::OutOfRange { k: 4, n: 3, .. }),
            "{e}"
        );
    }

    #[test]
    fn nothing_set_is_an_error() {
        assert_eq!(shard(&[]).unwrap_err(), AutoShardError::NoEngine);
        assert_eq!(
            shard(&[("SLURM_ARRAY_TASK_ID", "")]).unwrap_err(),
            AutoShardError::NoEngine
        );
    }
}
