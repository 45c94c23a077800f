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

test('random draws follow probabilities and the mu/sigma, a/b distributions, truncated to the parameter range', () => {
  const c = parseSweepConfig(
    `method: random\nrun_cap: 4000\nseed: 3\nparameters:
  optimizer: {values: [adam, sgd, adam], probabilities: [0.7, 0.3, 0]}
  improvement-threshold: {value: 0.001}
  dendrite-rank: {distribution: q_normal, mu: 8, sigma: 2, q: 1}
  dropout: {distribution: beta, a: 2, b: 5}
  learning-rate: {distribution: log_normal, mu: -4.6, sigma: 0.5}
  batch-size: {distribution: q_normal, mu: 32, sigma: 8, q: 4}
  width: {distribution: q_beta, a: 1, b: 1, q: 0.25}\n`,
    'p.yaml',
  );
  const s = createSearch(c);
  const pts = Array.from({ length: 4000 }, (_, i) => s.propose(i, []));
  const share = (v: string) => pts.filter((p) => p.optimizer === v).length / pts.length;
  assert.ok(Math.abs(share('adam') - 0.7) < 0.03, `adam ${share('adam')}`);
  assert.ok(Math.abs(share('sgd') - 0.3) < 0.03); // the third value (probability 0) never adds to adam's share
  const mean = (k: string) => pts.reduce((a, p) => a + (p[k] as number), 0) / pts.length;
  const sd = (k: string) => Math.sqrt(pts.reduce((a, p) => a + ((p[k] as number) - mean(k)) ** 2, 0) / pts.length);
  assert.ok(
    Math.abs(mean('dendrite-rank') - 8) < 0.1 && Math.abs(sd('dendrite-rank') - 2) < 0.15,
    `q_normal ${mean('dendrite-rank')} ${sd('dendrite-rank')}`,
  );
  assert.ok(Math.abs(mean('dropout') - 2 / 7) < 0.01, `beta mean ${mean('dropout')}`); // beta(2,5): mean a/(a+b)
  const logLr = pts.map((p) => Math.log(p['learning-rate'] as number));
  assert.ok(Math.abs(logLr.reduce((a, b) => a + b, 0) / logLr.length + 4.6) < 0.03, 'log_normal: mean of log(x) = mu');
  assert.ok(pts.every((p) => (p['batch-size'] as number) % 4 === 0 && (p['batch-size'] as number) >= 1));
  assert.ok(Math.abs(mean('batch-size') - 32) < 0.6);
  // q_beta on [0, 1] rounded to 0.25; width > 0, so 0 is never proposed
  assert.deepEqual([...new Set(pts.map((p) => p.width))].sort(), [0.25, 0.5, 0.75, 1]);
});

test('bayes: a 20-trial sweep proposes no trial twice and puts no more at the range limits than random search does', () => {
  const text = `method: bayes\nrun_cap: 20\nparameters:
  learning-rate: {distribution: log_uniform_values, min: 0.0005, max: 0.05}
  dropout: {distribution: uniform, min: 0, max: 0.5}
  width: {min: 0.5, max: 2.0}
  batch-size: {distribution: int_uniform, min: 8, max: 64}
  optimizer: {values: [adam, sgd]}\n`;
  const c = parseSweepConfig(text, 'b.yaml');
  // A made-up objective with its best inside the ranges, near no limit.
  const objective = (p: Record<string, unknown>) =>
    -Math.abs(Math.log10(p['learning-rate'] as number) + 2.3) -
    Math.abs((p.dropout as number) - 0.2) -
    Math.abs((p.width as number) - 1.2) -
    Math.abs((p['batch-size'] as number) - 30) / 60;
  let continuousAtLimit = 0;
  let batchAtLimit = 0;
  const seeds = 10;
  for (let seed = 0; seed < seeds; seed++) {
    const s = createSearch({ ...c, seed });
    const obs: Observation[] = [];
    const seen: Array<Record<string, string | number | boolean>> = [];
    for (let i = 0; i < 20; i++) {
      const p = s.propose(i, obs, seen);
      assert.ok(!seen.some((q) => JSON.stringify(q) === JSON.stringify(p)), `seed ${seed}: trial ${i} repeats ${JSON.stringify(p)}`);
      seen.push(p);
      obs.push({ params: p, score: objective(p) });
      for (const [k, lo, hi] of [
        ['learning-rate', 0.0005, 0.05],
        ['dropout', 0, 0.5],
        ['width', 0.5, 2],
      ] as const) {
        if (p[k] === lo || p[k] === hi) continuousAtLimit++;
      }
      if (p['batch-size'] === 8 || p['batch-size'] === 64) batchAtLimit++;
    }
  }
  assert.equal(continuousAtLimit, 0); // a continuous value exactly at a limit has probability 0
  const chance = (2 / 57) * 20 * seeds; // int_uniform 8..64: 2 of 57 values are limits
  assert.ok(batchAtLimit <= chance, `batch-size at a limit ${batchAtLimit} times, chance ${chance.toFixed(1)}`);
});

test('bayes never repeats a trial of a small categorical space while unseen points remain', () => {
  const c = parseSweepConfig('method: bayes\nrun_cap: 6\nparameters:\n  width: {values: [1, 2, 3]}\n  optimizer: {values: [adam, sgd]}\n', 'c.yaml');
  const s = createSearch(c);
  const obs: Observation[] = [];
  const seen: Array<Record<string, string | number | boolean>> = [];
  for (let i = 0; i < 6; i++) {
    const p = s.propose(i, obs, seen);
    seen.push(p);
    obs.push({ params: p, score: p.width === 2 ? 1 : 0 });
  }
  assert.equal(new Set(seen.map((p) => JSON.stringify(p))).size, 6);
});
