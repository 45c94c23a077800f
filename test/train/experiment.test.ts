/**
 * The experiment sweep (src/experiment/*, src/commands/experiment.ts): argument parsing, the plan
 * (baseline and dendritic runs share every setting but the dendrite knobs; plain-only widths), the
 * equal-parameter front in the table, and one tiny end-to-end run on a synthetic data directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExperimentArgs } from '../../src/experiment/args.js';
import { planRuns, runConfig, type RunResult } from '../../src/experiment/run.js';
import { compressionAt, plainFront, renderMarkdown, summarise } from '../../src/experiment/table.js';
import { experimentCommand } from '../../src/commands/experiment.js';
import { defaultConfig } from '../../src/params/schema.js';
import { tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { experimentFlags } from './experiment-helpers.js';

test('parseExperimentArgs: own flags are taken out, plain-only widths exclude the dendritic widths', () => {
  assert.deepEqual(parseExperimentArgs(['--data-directory', '/d', '--modes', 'frozen,gd']).modes, ['frozen', 'gd']);
  const a = parseExperimentArgs([
    '--data-directory',
    '/d',
    '--widths',
    '1,0.5',
    '--plain-widths=2,1,1.5',
    '--seeds',
    '2',
    '--modes',
    'gd',
    '--epochs',
    '7',
  ]);
  assert.deepEqual(a.widths, [0.5, 1]);
  assert.deepEqual(a.plainWidths, [1.5, 2]);
  assert.equal(a.seeds, 2);
  assert.deepEqual(a.modes, ['gd']);
  assert.equal(a.config.epochs, 7);
  assert.throws(() => parseExperimentArgs(['--data-directory', '/d', '--plain-widths', '0']), /--plain-widths/);
  assert.throws(() => parseExperimentArgs(['--data-directory', '/d', '--switch-mode', 'none']), /switch-mode/);
});

test('planRuns: same seeds for baseline and dendritic runs, only dendrite knobs differ; plain widths run baseline only', () => {
  const base = { ...defaultConfig(), seed: 5 };
  const plan = planRuns(base, [1], 2, ['gd', 'correlation'], [2]);
  assert.equal(plan.length, 2 * 3 + 2);
  const plainOnly = plan.slice(6);
  assert.ok(plainOnly.every((p) => p.variant === 'baseline' && p.config.width === 2));
  assert.deepEqual(
    plainOnly.map((p) => p.config.seed),
    [5, 6],
  );
  const b = runConfig(base, 'baseline', 1, 5);
  const d = runConfig(base, 'correlation', 1, 5);
  assert.equal(b.switchMode, 'none');
  const differing = (Object.keys(b) as Array<keyof typeof b>).filter((k) => JSON.stringify(b[k]) !== JSON.stringify(d[k]));
  assert.ok(differing.includes('switchMode'));
  for (const k of differing) assert.ok(['switchMode', 'dendrites', 'dendriteTraining'].includes(k), `baseline and dendritic runs differ in ${k}`);
});

function run(width: number, seed: number, variant: RunResult['variant'], parameters: number, acc: number): RunResult {
  return {
    width,
    seed,
    variant,
    parameters,
    dendriteParameters: variant === 'baseline' ? 0 : parameters / 10,
    dendriteSets: variant === 'baseline' ? 0 : 1,
    holdoutAccuracy: acc,
    validationAccuracy: acc,
    bestEpoch: 1,
    epochsRun: 1,
    seconds: 1,
    config: defaultConfig(),
    // Dendritic models cost more RAM per parameter on the device (their extra operators' TFLM records).
    device: { ramBytes: parameters * (variant === 'baseline' ? 1 : 3), flashBytes: 2 * parameters, modelBytes: parameters, operators: 8 },
  };
}

test('summarise: relative error reduction, paired gain and the front interpolated in log(parameters)', () => {
  const runs = [
    run(1, 0, 'baseline', 1000, 0.7),
    run(1, 1, 'baseline', 1000, 0.8),
    run(1, 0, 'gd', 2000, 0.8),
    run(1, 1, 'gd', 2000, 0.9),
    run(4, 0, 'baseline', 4000, 0.9),
    run(4, 1, 'baseline', 4000, 0.9),
  ];
  const front = plainFront(runs);
  assert.deepEqual(
    front.map((p) => p.width),
    [1, 4],
  );
  const [row] = summarise(runs);
  assert.ok(row);
  assert.ok(Math.abs(row.relativeErrorReduction - (0.25 - 0.15) / 0.25) < 1e-12);
  assert.ok(Math.abs(row.pairedAccuracyGain.mean - 0.1) < 1e-12);
  assert.equal(row.plainAtEqualParameters?.width, 1);
  assert.equal(row.plainAtOrAboveParameters?.width, 4);
  // 2000 is half-way between 1000 and 4000 in log space: front = (0.75 + 0.9) / 2
  assert.ok(Math.abs(row.frontAccuracy! - 0.825) < 1e-12);
  assert.ok(Math.abs(row.gainOverFront! - 0.025) < 1e-12);
  // Priced by the device: the dendritic mean needs 6,000 B RAM and 4,000 B flash; width 4 needs 8,000 B
  // flash, so only width 1 fits both budgets.
  assert.equal(row.dendriticRamBytes, 6000);
  assert.equal(row.dendriticFlashBytes, 4000);
  assert.equal(row.plainWithinDeviceCost?.width, 1);
  assert.ok(Math.abs(row.gainOverDeviceFront! - 0.1) < 1e-12);
  // Per run: seed 0 (0.8) against width 1 seed 0 (0.7), seed 1 (0.9) against width 1 seed 1 (0.8).
  assert.equal(row.pairedGainOverDeviceFront.n, 2);
  assert.ok(Math.abs(row.pairedGainOverDeviceFront.mean - 0.1) < 1e-12);
  const md = renderMarkdown([row], front);
  assert.match(md, /\| 1 \| gd \| 1,000 \| 2,000 \|/);
  assert.match(md, /5\.9 KB \/ 3\.9 KB \| w1 \(1\.0 KB \/ 2\.0 KB\): 75\.0 ± 7\.1 \| \+10\.0 \| \+10\.0 ± 0\.0 \(2\) \|/);
  assert.match(md, /82\.5 \| \+2\.5 \|/);
  assert.match(md, /Plain front/);
  // outside the plain range there is no front to compare with
  const [outside] = summarise([run(1, 0, 'baseline', 1000, 0.7), run(1, 0, 'gd', 2000, 0.8)]);
  assert.equal(outside!.frontAccuracy, null);
  assert.match(renderMarkdown([outside!]), /\| - \| - \|/);
});

test('compression: the narrowest width whose shipped runs match plain width w, with its MACs, RAM and flash over plain w', () => {
  const shipped = (width: number, seed: number, acc: number): RunResult => ({
    ...run(width, seed, 'shipped', 1000 * width, acc),
    device: { ramBytes: 500 * width, flashBytes: 3000 * width, modelBytes: 1000 * width, operators: 8, macs: 100 * width },
  });
  const plainRun = (width: number, seed: number, acc: number): RunResult => ({
    ...run(width, seed, 'baseline', 1000 * width, acc),
    device: { ramBytes: 400 * width, flashBytes: 2000 * width, modelBytes: 1000 * width, operators: 8, macs: 100 * width },
  });
  const runs = [
    plainRun(1, 0, 0.7),
    plainRun(1, 1, 0.72),
    plainRun(2, 0, 0.8),
    plainRun(2, 1, 0.82),
    shipped(1, 0, 0.79),
    shipped(1, 1, 0.83), // mean 0.81 at width 1: matches plain width 2 (0.81), not above
    shipped(2, 0, 0.85),
    shipped(2, 1, 0.85),
  ];
  // plain width 2's accuracy (0.81) is reached by the shipped model at width 1
  const c2 = compressionAt(runs, 'shipped', 2)!;
  assert.equal(c2.width, 1);
  assert.ok(Math.abs(c2.accuracy - 0.81) < 1e-12);
  assert.ok(Math.abs(c2.macsRatio! - 100 / 200) < 1e-12);
  assert.ok(Math.abs(c2.ramRatio - 500 / 800) < 1e-12);
  assert.ok(Math.abs(c2.flashRatio - 3000 / 4000) < 1e-12);
  // plain width 1 (0.71) is matched already at width 1: the ratios are the shipped model's own cost
  assert.equal(compressionAt(runs, 'shipped', 1)!.width, 1);
  // a target no width of the mode reaches, and no MAC count recorded (experiment.json before issue 22)
  const noMacs = runs.map((r) =>
    r.variant === 'baseline' && r.width === 2 ? { ...r, holdoutAccuracy: 0.9, device: { ...r.device, macs: undefined } } : r,
  );
  assert.equal(compressionAt(noMacs, 'shipped', 2), null);
  const lowered = noMacs.map((r) => (r.variant === 'baseline' && r.width === 2 ? { ...r, holdoutAccuracy: 0.8 } : r));
  assert.equal(compressionAt(lowered, 'shipped', 2)!.macsRatio, null);
  assert.equal(compressionAt(runs, 'shipped', 3), null, 'no plain runs at width 3');
  const rows = summarise(runs);
  const row2 = rows.find((r) => r.width === 2 && r.mode === 'shipped')!;
  assert.deepEqual(row2.compression, c2);
  assert.match(renderMarkdown([row2]), /\| w1 \(81\.0%\): 0\.50, 0\.63, 0\.75 \|$/m);
});

test('experimentCommand end to end: tiny synthetic data, baseline + gd + plain width, experiment.md/json written', async () => {
  const data = tempDir('exp-data');
  const out = tempDir('exp-out');
  try {
    writeEiDirectory(data.dir, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const r = await experimentCommand(
      [
        '--data-directory',
        data.dir,
        '--out-directory',
        out.dir,
        '--model',
        'dense',
        '--epochs',
        '6',
        '--widths',
        '0.5',
        '--plain-widths',
        '1',
        '--seeds',
        '1',
        '--modes',
        'gd,frozen',
        '--switch-mode',
        'fixed',
        '--first-fixed-switch-num',
        '2',
        '--fixed-switch-num',
        '2',
        '--dendrite-rank',
        '1',
        // sets that stay in the graph (the default until issue 22; linear sets fold away at no device cost)
        '--dendrite-form',
        'gated',
        '--prune-dendrites',
        '0',
      ],
      () => {},
    );
    assert.equal(r.runs.length, 4);
    assert.deepEqual(
      r.runs.map((x) => `${x.width}/${x.variant}`),
      ['0.5/baseline', '0.5/gd', '0.5/frozen', '1/baseline'],
    );
    assert.equal(r.rows.length, 2);
    // the frozen control trains with the gd configuration but deploys the plain network
    const [base, gd, frozen] = r.runs;
    assert.equal(frozen!.config.dendriteTraining, 'gd');
    assert.equal(frozen!.parameters, base!.parameters);
    assert.equal(frozen!.dendriteSets, 0);
    assert.ok(gd!.dendriteSets >= 1 && gd!.parameters > base!.parameters, `gd: ${gd!.dendriteSets} sets, ${gd!.parameters} params`);
    // Every run is priced by its deployed int8 model under TFLM; the frozen control ships the plain network.
    assert.deepEqual(frozen!.device, base!.device);
    assert.ok(gd!.device.operators > base!.device.operators && gd!.device.ramBytes > base!.device.ramBytes);
    assert.ok(existsSync(join(out.dir, 'experiment.md')));
    const json = JSON.parse(readFileSync(join(out.dir, 'experiment.json'), 'utf8')) as { front: unknown[]; runs: unknown[] };
    assert.equal(json.front.length, 2);
    assert.equal(json.runs.length, 4);
  } finally {
    data.cleanup();
    out.cleanup();
  }
});

test('experiment --jobs 2: the same runs, in plan order, as a sequential experiment', async () => {
  const data = tempDir('exp-jobs-data');
  try {
    writeEiDirectory(data.dir, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const argv = ['--data-directory', data.dir, ...experimentFlags(5)];
    const lines: string[] = [];
    const sequential = await experimentCommand(argv, () => {});
    const parallel = await experimentCommand([...argv, '--jobs', '2'], (l) => lines.push(l));
    const strip = (runs: typeof sequential.runs) => runs.map(({ seconds: _s, ...rest }) => rest);
    assert.equal(parallel.runs.length, 6);
    assert.deepEqual(strip(parallel.runs), strip(sequential.runs));
    assert.ok(
      lines.some((l) => /on 2 local worker processes/.test(l)),
      lines.join('\n'),
    );
    assert.throws(() => parseExperimentArgs(['--data-directory', '/d', '--jobs', '0']), /--jobs/);
  } finally {
    data.cleanup();
  }
});

test("experiment mode 'shipped': the payoff check runs and the run is scored and priced as the network that ships", async () => {
  const data = tempDir('exp-shipped-data');
  try {
    writeEiDirectory(data.dir, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const r = await experimentCommand(
      [
        '--data-directory',
        data.dir,
        '--model',
        'dense',
        '--epochs',
        '6',
        '--widths',
        '0.5',
        '--seeds',
        '1',
        '--modes',
        'gd,shipped',
        '--switch-mode',
        'fixed',
        '--first-fixed-switch-num',
        '2',
        '--fixed-switch-num',
        '2',
        '--retain-all-dendrites',
        '1',
      ],
      () => {},
    );
    const [base, gd, shipped] = r.runs;
    assert.equal(shipped!.config.dendritePayoffCheck, true);
    assert.ok(gd!.dendriteSets >= 1, 'the gd run keeps a set (retain-all)');
    // A kept set triggers the check; whichever network ships fits the dendritic model's device budget.
    assert.ok(shipped!.device.ramBytes <= gd!.device.ramBytes && shipped!.device.flashBytes <= gd!.device.flashBytes);
    if (shipped!.dendriteSets === 0) assert.ok(shipped!.parameters >= base!.parameters, 'a shipped plain network is at least as wide');
  } finally {
    data.cleanup();
  }
});
