#!/bin/bash
# One search over 8 machines as a Slurm job array. Submit it with:
#
#     sbatch docs/slurm-array.sh
#
# Each array task is one shard (--shard auto reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN
# and SLURM_ARRAY_TASK_COUNT), so --array alone says how many machines share the search. The
# folder SEARCH must be on a file system every node sees: the hash line, the wordlist and rules,
# the found-file (the task that finds the password writes it there; every other task stops
# between batches and reports it), the sessions and the potfile.
#
# Exit status of a task: 0 the password is known (found here or by another task), 1 this
# task's shard does not hold it, 2 an error. Resubmitting the same script resumes every task
# from its last checkpoint.
#SBATCH --job-name=sesame
#SBATCH --array=0-7
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --exclusive
#SBATCH --output=sesame-%A_%a.out
set -euo pipefail

SEARCH=${SEARCH:-$HOME/sesame-search}
export SESAME_HOME="$SEARCH/sesame"

exec sesame recover "$SEARCH/backup.hash" -w "$SEARCH/words.txt" -r "$SEARCH/best64.rule" \
    --shard auto --found-file "$SEARCH/found" --json \
    >"$SEARCH/result-$SLURM_ARRAY_TASK_ID.json"
