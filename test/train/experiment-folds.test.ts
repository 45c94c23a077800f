/**
 * Leave-one-group-out pooling (src/experiment/folds.ts, tools/loso/): per-fold device fronts, the paired
 * differences pooled over (fold, seed), shipped-network counts, and the tool's group split end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderFolds, standardError, summariseFolds } from '../../src/experiment/folds.js';
import type { RunResult } from '../../src/experiment/run.js';
import { defaultConfig } from '../../src/params/schema.js';
import { REPO_ROOT, tempDir } from '../helpers/ei-data.js';

function run(seed: number, variant: RunResult['variant'], width: number, acc: number, ram: number, extra: Partial<RunResult> = {}): RunResult {
  return {
    width,
    seed,
    variant,
    parameters: 1000 * width,
    dendriteParameters: 0,
    dendriteSets: 0,
    holdoutAccuracy: acc,
    validationAccuracy: acc,
    bestEpoch: 1,
    epochsRun: 1,
    seconds: 1,
    config: defaultConfig(),
    device: { ramBytes: ram, flashBytes: ram, modelBytes: ram, operators: 8 },
    ...extra,
  };
}

test('summariseFolds: each fold prices against its own plain front; differences pool over (fold, seed)', () => {
  // Fold A: the shipped runs cost 3,000 B; plain width 2 (2,500 B) fits and is the best plain within it.
  const a = [
    run(0, 'baseline', 1, 0.5, 2000),
    run(1, 'baseline', 1, 0.6, 2000),
    run(0, 'baseline', 2, 0.7, 2500),
    run(1, 'baseline', 2, 0.6, 2500),
    run(0, 'baseline', 4, 0.9, 9000),
    run(1, 'baseline', 4, 0.9, 9000),
    run(0, 'shipped', 1, 0.75, 3000, { shipped: { network: 'plain', width: 2.5 } }),
    run(1, 'shipped', 1, 0.6, 3000, { dendriteSets: 1, shipped: { network: 'dendritic', width: 1 } }),
  ];
  // Fold B: width 4 is cheap here (other data, other prices) and fits.
  const b = [
    run(0, 'baseline', 1, 0.4, 2000),
    run(1, 'baseline', 1, 0.5, 2000),
    run(0, 'baseline', 2, 0.5, 2500),
    run(1, 'baseline', 2, 0.5, 2500),
    run(0, 'baseline', 4, 0.6, 2800),
    run(1, 'baseline', 4, 0.7, 2800),
    run(0, 'shipped', 1, 0.6, 3000),
    run(1, 'shipped', 1, 0.6, 3000),
  ];
  const [s, ...rest] = summariseFolds([
    { name: 'A', runs: a },
    { name: 'B', runs: b },
  ]);
  assert.equal(rest.length, 0);
  assert.equal(s!.mode, 'shipped');
  // A: 0.75-0.7, 0.6-0.6; B: 0.6-0.6, 0.6-0.7 (best plain within cost is width 4 there).
  const expected = [0.05, 0, 0, -0.1];
  assert.equal(s!.gainOverDeviceFront.n, 4);
  assert.ok(Math.abs(s!.gainOverDeviceFront.mean - expected.reduce((x, y) => x + y) / 4) < 1e-12);
  const mean = -0.0125;
  const sd = Math.sqrt(expected.reduce((x, y) => x + (y - mean) ** 2, 0) / 3);
  assert.ok(Math.abs(standardError(s!.gainOverDeviceFront) - sd / 2) < 1e-12);
  // Against plain width 1, same seed: 0.25, 0, 0.2, 0.1.
  assert.ok(Math.abs(s!.gainOverBaseline.mean - 0.1375) < 1e-12);
  assert.equal(s!.runs, 4);
  assert.equal(s!.runsWithSets, 1);
  assert.equal(s!.plainShipped, 1);
  assert.deepEqual(
    s!.folds.map((f) => f.fold),
    ['A', 'B'],
  );
  const md = renderFolds([s!]);
  assert.match(md, /\| A \| 67\.5 \| 55\.0 \| \+2\.5 ± 2\.5 \(n 2\) \| 0, 1 \| 1 \|/);
  assert.match(md, /-1\.2 ± 3\.1 \(n 4\) points; against plain at width 1 \+13\.7 ± 5\.5/);
  assert.throws(
    () =>
      summariseFolds([
        { name: 'A', runs: a },
        { name: 'C', runs: b.filter((r) => r.variant === 'baseline') },
      ]),
    /fold C: no shipped runs at width 1/,
  );
});

test('tools/loso/run.sh: refuses a folder whose names give fewer than three groups, naming the regex', () => {
  const wavs = tempDir('loso-');
  try {
    for (const n of ['0_a_0.wav', '1_a_1.wav', '0_b_0.wav']) writeFileSync(join(wavs.dir, n), '');
    const r = spawnSync('bash', [join(REPO_ROOT, 'tools/loso/run.sh'), wavs.dir, join(wavs.dir, 'out')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /finds 2 groups in the file names, need at least 3/);
  } finally {
    wavs.cleanup();
  }
});
