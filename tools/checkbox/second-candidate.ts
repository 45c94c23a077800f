/**
 * What the checkbox's gain is made of (docs/dendrites.md, "More seeds, the same folds"): per (fold, seed)
 * it trains the dendrites-off network (A), a plain network of the same size from another initialisation
 * (B, seed + 7919, the control) and the expand route's candidate (X, folded), scores each on validation
 * and the hold-out, and applies the checkbox's choice (a candidate ships when it validates strictly
 * better than A). Prints, in points, mean ± SE over (fold, seed): each choice's hold-out gain over A, their
 * paired difference, and X - B without any choice.
 *
 *   node --import tsx tools/checkbox/second-candidate.ts WIDTH FIRST_SEED END_SEED DATA:HOLDOUT [DATA:HOLDOUT ...]
 *   e.g. ... 1 0 12 /tmp/s4/loso/george/data:/tmp/s4/loso/george/holdout ...   (FSDD folds as tools/loso/run.sh makes them)
 *
 * With --json the rows are printed instead, one object per (fold, seed), for pooling several data sets.
 */
import { loadExperimentData } from '../../src/commands/experiment.js';
import { buildNetwork, trainNetwork, type TrainData } from '../../src/train/run.js';
import { evaluate } from '../../src/train/loop.js';
import { defaultConfig } from '../../src/params/schema.js';
import { expandLinearly } from '../../src/train/expand.js';
import { foldLinearSets } from '../../src/dendrites/apply.js';
import type { Sequential } from '../../src/engine/model.js';
import { meanSe } from './stats.js';

const json = process.argv.includes('--json');
const [width, from, to, ...folds] = process.argv.slice(2).filter((a) => a !== '--json');
if (folds.length === 0 || [width, from, to].some((v) => !Number.isFinite(Number(v)))) {
  console.error('usage: node --import tsx tools/checkbox/second-candidate.ts WIDTH FIRST_SEED END_SEED DATA:HOLDOUT [...] [--json]');
  process.exit(2);
}

/** [validation, hold-out] accuracy. */
type Scores = [number, number];
const rows: { fold: string; seed: number; A: Scores; B: Scores; X: Scores }[] = [];
for (const f of folds) {
  const [dataDir, holdoutDir] = f.split(':');
  const d = loadExperimentData(dataDir!, holdoutDir, 0, () => {});
  const td: TrainData = { train: d.train, val: d.validation, classes: d.classes, inputShape: d.inputShape };
  const score = (m: Sequential): Scores => [evaluate(m, td.val).acc, evaluate(m, d.holdout).acc];
  for (let seed = Number(from); seed < Number(to); seed++) {
    const config = { ...defaultConfig(), width: Number(width), dendrites: false, restarts: true, seed };
    const A = score(trainNetwork(config, td).model);
    const B = score(trainNetwork(config, td, {}, buildNetwork({ ...config, seed: seed + 7919 }, td)).model);
    const expanded = buildNetwork(config, td);
    expandLinearly(expanded, config);
    foldLinearSets(trainNetwork(config, td, {}, expanded).model);
    rows.push({ fold: dataDir!, seed, A, B, X: score(expanded) });
  }
}
if (json) {
  console.log(JSON.stringify(rows));
} else {
  const pts = (x: number): number => 100 * x;
  const chosen = (r: (typeof rows)[number], c: 'B' | 'X'): number => pts((r[c][0] > r.A[0] ? r[c][1] : r.A[1]) - r.A[1]);
  console.log(`expand, as the checkbox ships it:        ${meanSe(rows.map((r) => chosen(r, 'X')))}`);
  console.log(`control, a second plain run:             ${meanSe(rows.map((r) => chosen(r, 'B')))}`);
  console.log(`expand minus the control, paired:        ${meanSe(rows.map((r) => chosen(r, 'X') - chosen(r, 'B')))}`);
  console.log(`expanded minus plain network, validation: ${meanSe(rows.map((r) => pts(r.X[0] - r.B[0])))}`);
  console.log(`expanded minus plain network, hold-out:   ${meanSe(rows.map((r) => pts(r.X[1] - r.B[1])))}`);
}
