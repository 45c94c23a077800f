/**
 * Paired held-out comparison of checkbox variants (docs/dendrites.md, issue 22): each argument is
 * LABEL=DIR, DIR holding one experiment.json per fold (tools/loso/run.sh's OUT_DIR/<fold>/exp, or
 * OUT_DIR/<fold> for the digits folds; DIR1,DIR2 pools several under one label). Per variant: shipped - restarts (the same run's dendrites off),
 * hold-out and validation points, mean ± SE over (fold, width, seed). Then every variant against the
 * first, paired by (fold, width, seed) on the shipped hold-out accuracy; the restarts runs of both are
 * checked to be identical (training is deterministic), so the pairing is sound.
 *   node --import tsx tools/checkbox/pair.ts distill=/tmp/a default=/tmp/b
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanSe } from './stats.js';

interface Run {
  width: number;
  seed: number;
  variant: string;
  holdoutAccuracy: number;
  validationAccuracy: number;
  seconds: number;
  shipped?: { network: string };
}

function load(dir: string): Map<string, Run> {
  const out = new Map<string, Run>();
  for (const fold of readdirSync(dir).sort()) {
    const file = [join(dir, fold, 'exp', 'experiment.json'), join(dir, fold, 'experiment.json')].find(existsSync);
    if (!file) continue;
    const j = JSON.parse(readFileSync(file, 'utf8')) as { complete?: boolean; runs: Run[] };
    if (j.complete === false) {
      console.error(`${file}: partial, left out`);
      continue;
    }
    for (const r of j.runs) out.set(`${fold}|${r.width}|${r.seed}|${r.variant}`, r);
  }
  return out;
}

const args = process.argv.slice(2).map((a) => {
  const i = a.indexOf('=');
  if (i <= 0) {
    console.error('usage: node --import tsx tools/checkbox/pair.ts LABEL=DIR [LABEL=DIR ...]');
    process.exit(2);
  }
  // LABEL=DIR1,DIR2 pools several data sets under one label (their fold names must differ).
  const runs = new Map<string, Run>();
  // Keyed by the directory's position, so LABEL=A1,B1 pairs with LABEL2=A2,B2 (A with A, B with B).
  a.slice(i + 1)
    .split(',')
    .forEach((dir, n) => {
      for (const [k, r] of load(dir)) runs.set(`${n}|${k}`, r);
    });
  return { label: a.slice(0, i), runs };
});
if (args.length === 0) {
  console.error('usage: node --import tsx tools/checkbox/pair.ts LABEL=DIR [LABEL=DIR ...]');
  process.exit(2);
}
const pts = (x: number): number => 100 * x;
for (const { label, runs } of args) {
  const dh: number[] = [];
  const dv: number[] = [];
  let shippedDendritic = 0;
  const secs: number[] = [];
  for (const [key, r] of runs) {
    if (r.variant !== 'shipped') continue;
    const off = runs.get(key.replace(/\|shipped$/, '|restarts'));
    if (!off) continue;
    dh.push(pts(r.holdoutAccuracy - off.holdoutAccuracy));
    dv.push(pts(r.validationAccuracy - off.validationAccuracy));
    if (r.shipped?.network === 'dendritic') shippedDendritic++;
    secs.push(r.seconds);
  }
  const s = secs.reduce((a, b) => a + b, 0) / Math.max(1, secs.length);
  console.log(
    `${label}: hold-out shipped - off ${meanSe(dh)}; validation ${meanSe(dv)}; shipped the candidate ${shippedDendritic}/${dh.length}; ${s.toFixed(1)} s per shipped run`,
  );
}
const [first, ...rest] = args;
for (const { label, runs } of rest) {
  const d: number[] = [];
  let offMismatch = 0;
  for (const [key, r] of first!.runs) {
    if (r.variant !== 'shipped') continue;
    const other = runs.get(key);
    if (!other) continue;
    d.push(pts(r.holdoutAccuracy - other.holdoutAccuracy));
    const offA = first!.runs.get(key.replace(/\|shipped$/, '|restarts'));
    const offB = runs.get(key.replace(/\|shipped$/, '|restarts'));
    if (offA && offB && offA.holdoutAccuracy !== offB.holdoutAccuracy) offMismatch++;
  }
  console.log(
    `${first!.label} - ${label} (shipped, paired): hold-out ${meanSe(d)}${offMismatch ? `; WARNING: ${offMismatch} restarts runs differ between the two` : ''}`,
  );
}
