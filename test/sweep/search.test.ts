import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSweepConfig } from '../../src/sweep/config.js';
import { createSearch, gridPoint, TpeSearch, type Observation } from '../../src/sweep/search.js';
import { hyperbandStops, MemoryMilestones } from '../../src/sweep/hyperband.js';

test('grid: every combination once, the last parameter fastest', () => {
  const c = parseSweepConfig(
    'method: grid\nparameters:\n  width: {values: [1, 2]}\n  epochs: {value: 3}\n  optimizer: {values: [adam, sgd, adam]}\n',
    'g.yaml',
  );
  assert.equal(c.trials, 6);
  const s = createSearch(c);
  const points = Array.from({ length: 6 }, (_, i) => s.propose(i, []));
  assert.deepEqual(
    points.map((p) => `${p.width}/${p.optimizer}/${p.epochs}`),
    ['1/adam/3', '1/sgd/3', '1/adam/3', '2/adam/3', '2/sgd/3', '2/adam/3'],
  );
  assert.deepEqual(Object.keys(points[0]!), ['width', 'epochs', 'optimizer']);
  assert.deepEqual(gridPoint(c.dimensions, 6), points[0]); // wraps
});

test('random: deterministic per (seed, index), within bounds, each distribution as specified', () => {
  const text = (seed: number) => `method: random\nrun_cap: 2000\nseed: ${seed}\nparameters:
  learning-rate: {distribution: log_uniform_values, min: 0.0001, max: 0.1}
  dropout: {distribution: q_uniform, min: 0, max: 0.5, q: 0.1}
  batch-size: {distribution: int_uniform, min: 8, max: 11}
  width: {distribution: uniform, min: 0.5, max: 2.5}
  optimizer: {values: [adam, sgd]}
  dendrite-rank: {distribution: q_log_uniform_values, min: 1, max: 64, q: 1}
  epochs: {value: 7}\n`;
  const c = parseSweepConfig(text(1), 'r.yaml');
  const s = createSearch(c);
  const pts = Array.from({ length: 2000 }, (_, i) => s.propose(i, []));
  assert.deepEqual(createSearch(c).propose(17, []), pts[17]);
  assert.notDeepEqual(createSearch(parseSweepConfig(text(2), 'r.yaml')).propose(17, []), pts[17]);
  const lr = pts.map((p) => p['learning-rate'] as number);
  assert.ok(lr.every((v) => v >= 0.0001 && v <= 0.1));
  // log-uniform: about half the draws below the geometric midpoint 0.00316
  const below = lr.filter((v) => v < Math.sqrt(0.0001 * 0.1)).length / lr.length;
  assert.ok(below > 0.45 && below < 0.55, `log-uniform median: ${below}`);
  const dropouts = new Set(pts.map((p) => p.dropout));
  assert.deepEqual([...dropouts].sort(), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  const bs = pts.map((p) => p['batch-size'] as number);
  for (const v of [8, 9, 10, 11]) {
    const share = bs.filter((b) => b === v).length / bs.length;
    assert.ok(share > 0.2 && share < 0.3, `int_uniform ${v}: ${share}`); // endpoints as likely as the middle
  }
  assert.ok(pts.every((p) => (p.width as number) >= 0.5 && (p.width as number) <= 2.5 && p.epochs === 7));
  assert.deepEqual(new Set(pts.map((p) => p.optimizer)), new Set(['adam', 'sgd']));
  const ranks = pts.map((p) => p['dendrite-rank'] as number);
  assert.ok(ranks.every((r) => Number.isInteger(r) && r >= 1 && r <= 64));
});

test('bayes (TPE): after the random start-up, proposals concentrate where the metric is good and beat random search', () => {
  const c = parseSweepConfig(
    `method: bayes\nrun_cap: 60\nseed: 5\nparameters:
  learning-rate: {distribution: log_uniform_values, min: 0.0001, max: 1}
  optimizer: {values: [adam, sgd]}\n`,
    'b.yaml',
  );
  // A made-up objective: best at learning rate 0.01 with adam.
  const objective = (p: Record<string, unknown>) => -Math.abs(Math.log10(p['learning-rate'] as number) + 2) - (p.optimizer === 'sgd' ? 0.5 : 0);
  const run = (method: 'bayes' | 'random') => {
    const s = createSearch({ ...c, method });
    const obs: Observation[] = [];
    for (let i = 0; i < 60; i++) {
      const p = s.propose(i, obs);
      obs.push({ params: p, score: objective(p) });
    }
    return obs;
  };
  const bayes = run('bayes');
  const random = run('random');
  const tpe = createSearch(c) as TpeSearch;
  assert.equal(tpe.startup, 10);
  // The first `startup` proposals are the random search's.
  assert.deepEqual(
    bayes.slice(0, 10).map((o) => o.params),
    random.slice(0, 10).map((o) => o.params),
  );
  const mean = (o: Observation[]) => o.reduce((a, b) => a + b.score, 0) / o.length;
  const lateBayes = mean(bayes.slice(30));
  const lateRandom = mean(random.slice(30));
  assert.ok(lateBayes > lateRandom + 0.3, `bayes ${lateBayes.toFixed(3)} vs random ${lateRandom.toFixed(3)}`);
  assert.ok(bayes.slice(30).filter((o) => o.params.optimizer === 'adam').length >= 22);
  // Deterministic: the same observations give the same proposal.
  assert.deepEqual(createSearch(c).propose(40, bayes.slice(0, 40)), createSearch(c).propose(40, bayes.slice(0, 40)));
});

test('hyperband: the best 1/eta continue at a milestone; too few results stop nobody', async () => {
  assert.equal(hyperbandStops(0.2, [0.2, 0.9], 3, 'maximize'), false); // 2 < eta results
  assert.equal(hyperbandStops(0.2, [0.2, 0.9, 0.5], 3, 'maximize'), true); // keep 1: 0.9
  assert.equal(hyperbandStops(0.9, [0.2, 0.9, 0.5], 3, 'maximize'), false);
  assert.equal(hyperbandStops(0.5, [0.2, 0.9, 0.5, 0.6, 0.7, 0.8], 3, 'maximize'), true); // keep 2: 0.9, 0.8
  assert.equal(hyperbandStops(0.8, [0.2, 0.9, 0.5, 0.6, 0.7, 0.8], 3, 'maximize'), false);
  assert.equal(hyperbandStops(0.9, [0.9, 0.9, 0.9], 3, 'maximize'), false); // ties kept
  assert.equal(hyperbandStops(0.3, [0.3, 0.1, 0.2], 3, 'minimize'), true); // loss: lower is better
  assert.equal(hyperbandStops(0.1, [0.3, 0.1, 0.2], 3, 'minimize'), false);
  const store = new MemoryMilestones();
  assert.deepEqual(await store.record(2, 't1', 0.5), [0.5]);
  assert.deepEqual(await store.record(2, 't2', 0.7), [0.5, 0.7]);
  assert.deepEqual(await store.record(2, 't1', 0.6), [0.6, 0.7]); // a retried trial replaces its value
  assert.deepEqual(await store.record(4, 't1', 0.8), [0.8]);
});
