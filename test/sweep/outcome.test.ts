/**
 * Issue 25: what a sweep shows about each trial (dendrite sets tried and kept, which network shipped,
 * int8 accuracy, latency) and the best trial under constraints on the deployed model; sweep.html's axes,
 * labels and pruned trials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/ei-data.js';
import { readSweep, writeSweepFixture } from './helpers.js';
import { parseSweepConfig } from '../../src/sweep/config.js';
import { renderBest } from '../../src/sweep/coordinator.js';
import { niceTicks, paretoFront, renderSweepHtml } from '../../src/sweep/html.js';
import { observationsOf } from '../../src/sweep/search.js';
import { bestOf, SweepState } from '../../src/sweep/state.js';
import { readReport, trialDendrites, type TrialResult } from '../../src/sweep/trial.js';

test('dendrite outcome from report.json: sets tried and kept, and which network shipped', () => {
  assert.deepEqual(trialDendrites({ enabled: true, tried: 3, added: 1, payoff: { shipped: 'dendritic', dendritic: { sets: 1 } } }), {
    enabled: true,
    tried: 3,
    kept: 1,
    shipped: 'dendritic',
    shipped_sets: 1,
  });
  // the payoff check shipped the plain network: the dendritic run kept 2 sets, none shipped
  assert.deepEqual(trialDendrites({ enabled: true, tried: 4, added: 2, payoff: { shipped: 'plain', dendritic: { sets: 2 } } }), {
    enabled: true,
    tried: 4,
    kept: 2,
    shipped: 'plain',
    shipped_sets: 0,
  });
  assert.deepEqual(trialDendrites({ enabled: true, tried: 2, added: 0 }), { enabled: true, tried: 2, kept: 0, shipped: 'plain', shipped_sets: 0 });
  assert.deepEqual(trialDendrites({ enabled: false, tried: 0, added: 0 }), { enabled: false, tried: 0, kept: 0, shipped: 'plain', shipped_sets: 0 });
  assert.equal(trialDendrites(undefined), null);
});

test('readReport keeps int8 accuracy, latency and the dendrite outcome', () => {
  const { dir, cleanup } = tempDir('sweep-outcome');
  try {
    const path = join(dir, 'report.json');
    writeFileSync(
      path,
      JSON.stringify({
        validation: { accuracy: 0.9, loss: 0.3 },
        exports: [
          { format: 'engine', accuracy: 0.9 },
          { format: 'tflite-int8', accuracy: 0.85 },
        ],
        deployment: [{ variant: 'tflite-int8', ram_bytes: 5000, flash_bytes: 60000, macs: 1234, latency_ms: 2.5 }],
        history: [{}, {}],
        dendrites: { enabled: true, tried: 2, added: 1 },
      }),
    );
    assert.deepEqual(readReport(path), {
      metrics: { accuracy: 0.9, loss: 0.3, int8_accuracy: 0.85 },
      deployment: { variant: 'tflite-int8', ram_bytes: 5000, flash_bytes: 60000, macs: 1234, latency_ms: 2.5 },
      epochs: 2,
      dendrites: { enabled: true, tried: 2, kept: 1, shipped: 'dendritic', shipped_sets: 1 },
    });
  } finally {
    cleanup();
  }
});

function trial(id: string, int8: number, ram: number, extra: Partial<TrialResult> = {}): TrialResult {
  return {
    id,
    params: { width: Number(id.slice(1)) },
    status: 'completed',
    metrics: { accuracy: int8 + 0.01, loss: 0.5, int8_accuracy: int8 },
    deployment: { variant: 'tflite-int8', ram_bytes: ram, flash_bytes: 50000, macs: 1000, latency_ms: 1 },
    epochs: 3,
    dendrites: { enabled: true, tried: 2, kept: 1, shipped: 'dendritic', shipped_sets: 1 },
    seconds: 1,
    worker: 'local-1',
    out: `trials/${id}`,
    ...extra,
  };
}

test('a sweep on int8 accuracy with a RAM constraint: the best trial meets it; bayes sees the others as worst', () => {
  const config = parseSweepConfig(
    'method: bayes\nrun_cap: 3\nmetric: {name: int8_accuracy, goal: maximize}\nconstraints: {ram_bytes: {max: 6000}}\nparameters:\n  width: {min: 0.5, max: 2.0}\n',
    'c.yaml',
  );
  const { dir, cleanup } = tempDir('sweep-constraint');
  try {
    const state = SweepState.open(dir, config, '/data', null);
    state.record(trial('t0001', 0.95, 9000)); // best int8 accuracy, too much RAM
    state.record(trial('t0002', 0.9, 5000));
    state.record(trial('t0003', 0.8, 4000));
    assert.equal(state.file.best!.id, 't0002');
    assert.equal(state.file.best!.value, 0.9);
    assert.deepEqual(state.file.best!.dendrites, { enabled: true, tried: 2, kept: 1, shipped: 'dendritic', shipped_sets: 1 });
    assert.deepEqual(state.file.trials[0]!.constraints_missed, ['ram_bytes 9000 > 6000']);
    assert.equal(state.file.trials[1]!.constraints_missed, undefined);
    assert.deepEqual(state.file.constraints, [{ name: 'ram_bytes', max: 6000 }]);
    const obs = observationsOf(config, state.file.trials);
    assert.ok(obs[0]!.score < Math.min(obs[1]!.score, obs[2]!.score), 'the infeasible trial ranks below every feasible one');
    // no trial meets the constraints: no best
    assert.equal(bestOf(config, [trial('t0001', 0.95, 9000)]), null);
    // sweep best says what dendrites did and that the constraints are met
    const printed = renderBest(state.file, { parameters: [{ param: 'width', value: 1, type: 'float' }] }, (p) => ['--width', String(p.width)]);
    assert.match(
      printed,
      /^# best trial t0002: int8_accuracy 0\.9, RAM 5000 B, flash 50000 B, 1000 MACs; dendrites: 2 tried, 1 kept; shipped dendritic \(1 set\); meets the constraints \(ram_bytes <= 6000\)\n/,
    );
  } finally {
    cleanup();
  }
});

test('metric.target: a trial that reaches it ends the sweep early (no further trial starts)', async () => {
  const { reachesTarget } = await import('../../src/sweep/metrics.js');
  const config = parseSweepConfig(
    'method: random\nrun_cap: 9\nmetric: {name: val_accuracy, target: 0.9}\nparameters:\n  width: {min: 0.5, max: 2.0}\n',
    't.yaml',
  );
  assert.equal(reachesTarget(config, trial('t0001', 0.85, 1)), false); // accuracy 0.86
  assert.equal(reachesTarget(config, trial('t0002', 0.9, 1)), true); // accuracy 0.91
  assert.equal(reachesTarget(config, trial('t0003', 0.95, 1, { status: 'pruned' })), false);
});

test('sweep.html: ticks on every axis, a label per trial, pruned trials marked and off the front, dendrite columns', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3.7, 9.1, 4), [3.7, 6, 8, 9.1]); // step 2; 4 would crowd 3.7's label
  const trials = [
    trial('t0001', 0.8, 4000),
    trial('t0002', 0.9, 5000),
    // pruned: would dominate everything, but its figures are of a model stopped early
    trial('t0003', 0.99, 3000, {
      status: 'pruned',
      pruned_at_epoch: 2,
      dendrites: { enabled: true, tried: 0, kept: 0, shipped: 'plain', shipped_sets: 0 },
    }),
  ];
  const html = renderSweepHtml({
    schema: 1,
    sweep_id: 's1',
    name: null,
    config_file: 'c.yaml',
    config_hash: 'h',
    method: 'random',
    metric: { name: 'accuracy', goal: 'maximize' },
    trials_planned: 3,
    data_directory: '/d',
    queue: null,
    started: 'x',
    updated: 'y',
    trials,
    pending: [],
    best: bestOf({ metric: { name: 'accuracy', goal: 'maximize' } }, trials),
  });
  assert.deepEqual(
    paretoFront(trials, (t) => t.deployment?.ram_bytes).map((t) => t.id),
    ['t0001', 't0002'],
  );
  const ram = /<svg id="pareto-ram"[\s\S]*?<\/svg>/.exec(html)![0];
  assert.match(ram, /<circle class="point pruned" data-trial="t0003"[^>]*fill="none"[^>]*><title>t0003: 1 at 3000 bytes, pruned at epoch 2<\/title>/);
  assert.ok((ram.match(/class="xtick"/g) ?? []).length >= 3 && (ram.match(/class="ytick"/g) ?? []).length >= 3, 'ticks on both axes');
  assert.match(ram, /<text class="label"[^>]*>t3<\/text>/);
  const pc = /<svg id="parallel-coordinates"[\s\S]*?<\/svg>/.exec(html)![0];
  // every line ends on the flash axis at the same point (equal flash): one label names them all
  assert.match(pc, /<text class="label" data-trial="t0001 t0002 t0003"[^>]*>t0001, t0002, t0003 \(pruned\)<\/text>/);
  assert.ok((pc.match(/class="tick"/g) ?? []).length > 8, 'ticks on the axes');
  assert.match(html, /<th>sets tried<\/th><th>sets kept<\/th><th>shipped<\/th>/);
  assert.match(html, /<td>2<\/td><td>1<\/td><td class="shipped">dendritic \(1\)<\/td>/);
  assert.match(html, /<td class="note">pruned at epoch 2<\/td>/);
  assert.match(html, /Best: <b>t0002<\/b>, accuracy 0\.91[^<]*; dendrites: 2 tried, 1 kept; shipped dendritic \(1 set\)/);
});

test('a sweep on int8 accuracy with a RAM constraint runs end to end: its best trial meets the constraint; sweep.json, sweep.html and sweep best show the dendrite outcome', () => {
  const { dir, cleanup } = tempDir('sweep-int8-ram');
  try {
    const { data, config } = writeSweepFixture(
      dir,
      `method: grid
metric: {name: int8_accuracy, goal: maximize}
constraints: {ram_bytes: {max: 920}}
parameters:
  epochs: {value: 3}
  width: {values: [0.5, 1, 2, 4]}
  dendrites: {value: true}
  dendrite-route: {value: fold}
`,
    );
    const out = join(dir, 'out');
    const r = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const s = readSweep(out);
    assert.equal(s.trials.length, 4);
    const feasible = s.trials.filter((t) => t.deployment!.ram_bytes <= 920);
    const infeasible = s.trials.filter((t) => t.deployment!.ram_bytes > 920);
    assert.ok(feasible.length >= 1 && infeasible.length >= 1, `RAM ${s.trials.map((t) => t.deployment!.ram_bytes).join(', ')}`);
    for (const t of infeasible) assert.deepEqual(t.constraints_missed, [`ram_bytes ${t.deployment!.ram_bytes} > 920`]);
    const top = Math.max(...feasible.map((t) => t.metrics!.int8_accuracy!));
    assert.ok(s.best!.id && feasible.some((t) => t.id === s.best!.id));
    assert.equal(s.best!.value, top);
    // the constraint mattered: a wider trial had better int8 accuracy
    assert.ok(Math.max(...infeasible.map((t) => t.metrics!.int8_accuracy!)) > top);
    for (const t of s.trials) {
      const report = JSON.parse(readFileSync(join(out, t.out, 'report.json'), 'utf8'));
      assert.deepEqual([t.dendrites!.tried, t.dendrites!.enabled], [report.dendrites.tried, true]);
    }
    const html = readFileSync(join(out, 'sweep.html'), 'utf8');
    assert.match(html, /<th>sets tried<\/th><th>sets kept<\/th><th>shipped<\/th>/);
    assert.match(html, /misses ram_bytes \d+ &gt; 920/);
    const best = runCli(['sweep', 'best', out]);
    assert.equal(best.code, 0, best.stderr);
    assert.match(
      best.stdout,
      new RegExp(`^# best trial ${s.best!.id}: int8_accuracy [\\d.]+, RAM \\d+ B, .*; dendrites: \\d+ tried, \\d+ kept; shipped (plain|dendritic)`),
    );
    assert.match(best.stdout, /meets the constraints \(ram_bytes <= 920\)/);
  } finally {
    cleanup();
  }
});

/** A backend whose trials finish at once, with an accuracy made up from their parameters. */
class InstantBackend {
  private readonly done: TrialResult[] = [];
  constructor(private readonly accuracy: (p: TrialResult['params']) => number) {}
  async submit(spec: { id: string; params: TrialResult['params'] }): Promise<void> {
    this.done.push({
      ...trial(spec.id, this.accuracy(spec.params), 1000),
      params: spec.params,
      metrics: { accuracy: this.accuracy(spec.params), loss: 0.5, int8_accuracy: null },
    });
  }
  inFlight(): number {
    return this.done.length;
  }
  async next(): Promise<TrialResult> {
    return this.done.shift()!;
  }
  async acknowledge(): Promise<void> {}
  abort(): void {}
  async close(): Promise<void> {}
}

test('the coordinator: a 20-trial bayes sweep (2 at once) runs no trial twice; metric.target ends it once reached', async () => {
  const { runSweep } = await import('../../src/sweep/coordinator.js');
  const { dir, cleanup } = tempDir('sweep-coordinator');
  try {
    // a small space (3 x 2 x 4 = 24 points) where repeats are likely without the rule
    const config = parseSweepConfig(
      'method: bayes\nrun_cap: 20\nparameters:\n  width: {values: [0.5, 1, 2]}\n  optimizer: {values: [adam, sgd]}\n  batch-size: {distribution: int_uniform, min: 8, max: 11}\n',
      'b.yaml',
    );
    const accuracy = (p: TrialResult['params']) =>
      (p.width === 1 ? 0.9 : 0.8) + (p.optimizer === 'adam' ? 0.05 : 0) - Math.abs((p['batch-size'] as number) - 9) / 100;
    const lines: string[] = [];
    const run = (c: typeof config, out: string) =>
      runSweep({
        config: c,
        dataDirectory: dir,
        outDirectory: join(dir, out),
        window: 2,
        queueUrl: null,
        makeBackend: async () => new InstantBackend(accuracy),
        log: (l) => lines.push(l),
      });
    const { state } = await run(config, 'o1');
    assert.equal(state.file.trials.length, 20);
    const keys = state.file.trials.map((t) => JSON.stringify(t.params));
    assert.equal(new Set(keys).size, 20, `repeated: ${keys.filter((k, i) => keys.indexOf(k) !== i).join(' ')}`);
    // target: the sweep stops proposing once a trial reaches it
    const withTarget = parseSweepConfig(
      'method: random\nrun_cap: 20\nmetric: {name: accuracy, goal: maximize, target: 0.9}\nparameters:\n  width: {values: [0.5, 1, 2]}\n  optimizer: {values: [adam, sgd]}\n  batch-size: {value: 9}\n',
      't.yaml',
    );
    const t = await run(withTarget, 'o2');
    const reached = t.state.file.trials.findIndex((x) => x.metrics!.accuracy! >= 0.9);
    assert.ok(reached >= 0 && t.state.file.trials.length < 20, `${t.state.file.trials.length} trials`);
    assert.ok(t.state.file.trials.length <= reached + 2, 'at most the trials already running when it was reached');
    assert.ok(lines.some((l) => /reached metric\.target 0\.9: no further trial is started/.test(l)));
  } finally {
    cleanup();
  }
});
