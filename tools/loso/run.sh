#!/usr/bin/env bash
# Leave-one-group-out folds of a WAV folder, one `dendritic experiment` per fold, then the pooled summary.
#
#   tools/loso/run.sh WAV_DIR OUT_DIR [experiment options...]
#
# Groups are read from the file names by GROUP_REGEX (its first capture group; default: FSDD's
# `{digit}_{speaker}_{index}.wav`, so a group is a speaker). With groups g0..g(n-1) sorted by name, fold k
# holds out g(k) (scored only), validates on g(k+1 mod n) (it drives switching, restore, pruning and the
# payoff check) and trains on the rest: every window is scored exactly once, and runs pair by seed.
# Each fold's features go to OUT_DIR/<group>/{data,holdout}, its experiment to OUT_DIR/<group>/exp; a
# fold whose experiment.json is complete is skipped, and a fold's experiment resumes its recorded runs,
# so a killed run resumes where it stopped. (experiment.json is published after every run, marked
# "complete": false until the last; files from before that field are always complete.)
# Example (issue 14's measurement of the shipped model, docs/dendrites.md):
#   tools/loso/run.sh data/fsdd/recordings /tmp/loso --widths 1 --plain-widths 1.5,2,3,4 --seeds 4 --modes shipped --jobs 2
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: tools/loso/run.sh WAV_DIR OUT_DIR [experiment options...]" >&2; exit 2; }
WAV="$1"; OUT="$2"; shift 2
REGEX="${GROUP_REGEX:-^[^_]+_([^_]+)_[^_]+\.wav$}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLI="$REPO/dist/cli.js"
[ -f "$CLI" ] || { echo "loso: $CLI not built (npm run build)" >&2; exit 2; }
[ -d "$WAV" ] || { echo "loso: WAV_DIR $WAV is not a directory" >&2; exit 2; }
mapfile -t GROUPS_FOUND < <(ls "$WAV" | sed -nE "s/$REGEX/\1/p" | sort -u)
N=${#GROUPS_FOUND[@]}
[ "$N" -ge 3 ] || { echo "loso: $WAV: GROUP_REGEX '$REGEX' finds $N groups in the file names, need at least 3" >&2; exit 2; }
for f in "${GROUPS_FOUND[@]}"; do
  case "$f" in *[!A-Za-z0-9-]*) echo "loso: group '$f' has characters a file-name match cannot carry safely" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"
for k in $(seq 0 $((N - 1))); do
  h="${GROUPS_FOUND[$k]}"; v="${GROUPS_FOUND[$(( (k + 1) % N ))]}"; d="$OUT/$h"
  if [ -f "$d/exp/experiment.json" ] && ! grep -q '"complete": false' "$d/exp/experiment.json"; then echo "fold $h: done before, skipped"; continue; fi
  mkdir -p "$d"
  node "$CLI" features --wav-dir "$WAV" --out-directory "$d/data" --validation-match "_${v}_" \
    --holdout-match "_${h}_" --holdout-dir "$d/holdout" > "$d/features.log" 2>&1 \
    || { echo "loso: features for fold $h failed (see $d/features.log)" >&2; exit 1; }
  node "$CLI" experiment --data-directory "$d/data" --holdout-directory "$d/holdout" --out-directory "$d/exp" "$@" \
    > "$d/experiment.log" 2>&1 || { echo "loso: experiment for fold $h failed (see $d/experiment.log)" >&2; exit 1; }
  echo "fold $h (validation $v): done $(date +%T)"
done
node --import tsx "$REPO/tools/loso/summary.ts" "$OUT"
