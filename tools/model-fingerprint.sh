#!/usr/bin/env bash
# Before/after check for refactors: trains 5 tiny runs through src/cli.ts (gd with fixed switching and noise,
# correlation at rank 0, restarts only, history + payoff check + plateau + pruning, ei-kws conv with spec-augment)
# and prints the sha256 of every model file and of the cleaned report.json / effective-config.json.
#   tools/model-fingerprint.sh > /tmp/before; (change); tools/model-fingerprint.sh | diff /tmp/before - && echo BYTES-IDENTICAL
# Same machine and same DENDRITIC_KERNELS for both. About 10 s.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
W=${GOLDEN_DIR:-/tmp/golden-work}; rm -rf "$W"; mkdir -p "$W"
CLI=(node --import tsx src/cli.ts)
node --import tsx -e "
import('./src/data/npy.ts').then(async ({ writeNpy }) => {
  const { Rng } = await import('./src/engine/rng.ts');
  const make = (dir, F, rowsTr, rowsTe, seed) => {
    const rng = new Rng(seed); require('node:fs').mkdirSync(dir, { recursive: true });
    for (const [name, rows] of [['train', rowsTr], ['test', rowsTe]]) {
      const x = new Float32Array(rows * F), y = new Int32Array(rows);
      for (let i = 0; i < rows; i++) { y[i] = rng.int(3); for (let f = 0; f < F; f++) x[i * F + f] = (f % 3 === y[i] ? 0.4 : 0) + rng.uniform(-1, 1); }
      writeNpy(dir + '/X_split_' + name + '.npy', x, [rows, F], 'float32');
      writeNpy(dir + '/Y_split_' + name + '.npy', y, [rows], 'int32');
    }
  };
  make('$W/dense', 24, 240, 60, 3);
  make('$W/kws', 650, 120, 40, 4);
});"
COMMON=(--seed 7 --export-format all --quiet)
FIXED=(--switch-mode fixed --first-fixed-switch-num 2 --fixed-switch-num 2 --retain-all-dendrites 1 --max-dendrites 2)
run() { local name=$1; shift; "${CLI[@]}" train --out-directory "$W/out-$name" "${COMMON[@]}" "$@" >/dev/null 2>"$W/$name.err" || { echo "run $name failed:"; tail -5 "$W/$name.err"; exit 1; }; }
run gd       --data-directory "$W/dense" --model dense --epochs 8 "${FIXED[@]}" --dendrite-payoff-check 0 --noise low
run corr     --data-directory "$W/dense" --model dense --epochs 8 "${FIXED[@]}" --dendrite-payoff-check 0 --dendrite-training correlation --dendrite-rank 0 --correlation-epochs 2
run restarts --data-directory "$W/dense" --model dense --epochs 10 --dendrites 0 --restarts 1 --n-epochs-to-switch 2
run history  --data-directory "$W/dense" --model dense --epochs 10 --n-epochs-to-switch 2 --dendrite-payoff-check 1 --lr-schedule plateau --lr-patience 2 --prune-significance 0.5
run kws      --data-directory "$W/kws" --epochs 3 "${FIXED[@]}" --dendrite-payoff-check 0 --spec-augment low
node -e '
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const W = process.argv[1];
const drop = /created|seconds|timing|consumer|time|generated|duration|elapsed|directory|path|file$/i;
const clean = (v) => Array.isArray(v) ? v.map(clean) : v && typeof v === "object"
  ? Object.fromEntries(Object.entries(v).filter(([k]) => !drop.test(k)).map(([k, x]) => [k, clean(x)])) : v;
for (const d of fs.readdirSync(W).filter((d) => d.startsWith("out-")).sort()) {
  for (const f of fs.readdirSync(path.join(W, d)).sort()) {
    const p = path.join(W, d, f);
    if (/\.(onnx|tflite)$/.test(f)) console.log(d, f, crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
    else if (/^(report|effective-config)\.json$/.test(f)) console.log(d, f, "(cleaned)", crypto.createHash("sha256").update(JSON.stringify(clean(JSON.parse(fs.readFileSync(p, "utf8"))))).digest("hex"));
  }
}' "$W"
