/**
 * The split learning rate after a switch (src/dendrites/split-rate.ts, wired in train/loop.ts): the newest
 * set's parameters and only those train at the fresh rate, the schedule scales both rates, the state
 * round-trips, and a loop resumed from a checkpoint taken after a switch ends with identical weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/engine/model.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { ReLU } from '../../src/engine/layers/activation.js';
import { Adam, SGD } from '../../src/engine/optim.js';
import { ReduceLROnPlateau } from '../../src/engine/schedule.js';
import { Rng } from '../../src/engine/rng.js';
import { ringData } from '../helpers/ring-data.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { DendriteCycle } from '../../src/dendrites/cycle.js';
import { makeSplitOptimizer, partitionNewestSet, SplitRateOptimizer, isSplitState } from '../../src/dendrites/split-rate.js';
import { logInterpolate, trainLoop, type LoopOptions, type LoopState } from '../../src/train/loop.js';
import { testConfig } from '../helpers/config.js';

function net(seed: number): Sequential {
  const rng = new Rng(seed);
  return new Sequential(
    [4],
    [new Dense({ name: 'hidden', inFeatures: 4, units: 8, rng }), new ReLU('relu'), new Dense({ name: 'out', inFeatures: 8, units: 3, rng })],
  );
}

test('partitionNewestSet picks exactly the newest set (branch stages, v, cascade) on every wrapped layer', () => {
  const m = net(1);
  const rng = new Rng(2);
  addDendriteSet(m, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid', dendriteRank: 2 }), rng);
  addDendriteSet(m, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid', dendriteRank: 0 }), rng);
  const { fresh, rest } = partitionNewestSet(m.params(), 1);
  assert.deepEqual(
    fresh.map((p) => p.name),
    ['hidden/dendrite1/kernel', 'hidden/dendrite1/bias', 'hidden/v1', 'hidden/w1_0', 'out/dendrite1/kernel', 'out/dendrite1/bias', 'out/v1', 'out/w1_0'],
  );
  assert.equal(fresh.length + rest.length, m.params().length);
  assert.ok(rest.some((p) => p.name === 'out/dendrite0/down/kernel'));
});

test('SplitRateOptimizer: each group steps at its own rate; setting lr scales both; state round-trips', () => {
  const m = net(3);
  addDendriteSet(m, testConfig({ dendriteLayers: 'output', candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: 1 }), new Rng(4));
  const params = m.params();
  for (const p of params) p.grad.fill(1);
  const before = params.map((p) => p.value.slice());
  const opt = makeSplitOptimizer(params, 0, (ps, lr) => new SGD(ps, { lr, momentum: 0 }), 0.001, 0.1) as SplitRateOptimizer;
  opt.step();
  params.forEach((p, i) => {
    const expected = /\/(dendrite0\/|v0$)/.test(p.name) ? 0.1 : 0.001;
    assert.ok(Math.abs(before[i]![0]! - p.value[0]! - expected) < 1e-6, `${p.name}: moved ${before[i]![0]! - p.value[0]!}`);
  });
  opt.lr = 0.05;
  assert.equal(opt.lr, 0.05);
  assert.ok(Math.abs(opt.base.lr - 0.0005) < 1e-12);
  const adam = makeSplitOptimizer(params, 0, (ps, lr) => new Adam(ps, { lr }), 0.002, 0.02);
  adam.step();
  const state = JSON.parse(JSON.stringify(adam.getState()));
  assert.ok(isSplitState(state));
  const again = makeSplitOptimizer(params, 0, (ps, lr) => new Adam(ps, { lr }), 1, 1) as SplitRateOptimizer;
  again.setState(state);
  assert.deepEqual(JSON.parse(JSON.stringify(again.getState())), state);
  assert.equal(again.base.lr, 0.002);
  assert.throws(() => makeSplitOptimizer(net(5).params(), 0, (ps, lr) => new Adam(ps, { lr }), 1, 1), /no parameters of dendrite set 0/);
});

test('trainLoop with split-learning-rate: fresh set at the initial rate, base at its best-epoch rate; resume is exact', () => {
  const train = ringData(240, 5),
    val = ringData(60, 6);
  const cycle = (): DendriteCycle =>
    new DendriteCycle(
      testConfig({
        switchMode: 'fixed',
        fixedSwitchNum: 4,
        firstFixedSwitchNum: 4,
        maxDendrites: 2,
        maxDendriteTries: 1,
        retainAllDendrites: true,
        dendriteLayers: 'all',
        dendriteActivation: 'sigmoid',
        candidateWeightInit: 0.01,
        dendriteRank: 2,
        dendriteTraining: 'gd',
        splitLearningRate: true,
        correlationEpochs: 1,
        correlationCandidates: 1,
        learningRate: 0.01,
        batchSize: 32,
      }),
    );
  const opts = (extra: Partial<LoopOptions>): LoopOptions => ({
    epochs: 10,
    batchSize: 16,
    learningRate: 0.01,
    seed: 5,
    makeOptimizer: (params, lr) => new Adam(params, { lr }),
    makeScheduler: () => new ReduceLROnPlateau({ patience: 1, factor: 0.5, minLr: 0.01 / 64 }),
    ...extra,
  });
  const states: LoopState[] = [];
  const a = net(3);
  const r = trainLoop(a, train, val, opts({ cycle: cycle(), onCheckpoint: (s) => states.push(structuredClone(s)) }));
  const afterSwitch = states.find((s) => isSplitState(s.optimizer));
  assert.ok(afterSwitch, 'a checkpoint after the first switch holds a split optimizer state');
  const split = (afterSwitch!.optimizer as unknown as { split: { baseLr: number } }).split;
  // the base continues at a rate the schedule had reached before the switch; the fresh set starts at the initial rate
  const firstCycle = r.history.filter((h) => h.dendrite_sets === 0).map((h) => h.lr);
  assert.ok(firstCycle.includes(split.baseLr), `base rate ${split.baseLr} not among ${firstCycle.join(', ')}`);
  assert.equal(r.history.find((h) => h.dendrite_sets === 1)!.lr, 0.01);
  const b = net(3);
  trainLoop(b, train, val, opts({ cycle: cycle(), resumeFrom: structuredClone(afterSwitch!) }));
  assert.deepEqual(b.snapshot(), a.snapshot());
});

test('new-dendrite-rate: the fresh set starts on a log scale between the restored base rate (0) and the initial rate (1)', () => {
  assert.equal(logInterpolate(0.001, 0.01, 1), 0.01);
  assert.equal(logInterpolate(0.001, 0.01, 0), 0.001);
  assert.ok(Math.abs(logInterpolate(0.001, 0.01, 0.5) - Math.sqrt(0.001 * 0.01)) < 1e-15);
  const train = ringData(240, 5),
    val = ringData(60, 6);
  for (const t of [0, 0.5]) {
    const cycle = new DendriteCycle(
      testConfig({
        switchMode: 'fixed',
        fixedSwitchNum: 4,
        firstFixedSwitchNum: 4,
        maxDendrites: 1,
        maxDendriteTries: 0,
        retainAllDendrites: true,
        dendriteLayers: 'all',
        dendriteActivation: 'tanh',
        candidateWeightInit: 0.01,
        dendriteRank: 2,
        dendriteTraining: 'gd',
        splitLearningRate: true,
        newDendriteRate: t,
        correlationEpochs: 1,
        correlationCandidates: 1,
        learningRate: 0.01,
        batchSize: 32,
      }),
    );
    const states: LoopState[] = [];
    const r = trainLoop(net(3), train, val, {
      epochs: 6,
      batchSize: 16,
      learningRate: 0.01,
      seed: 5,
      makeOptimizer: (params, lr) => new Adam(params, { lr }),
      makeScheduler: () => new ReduceLROnPlateau({ patience: 1, factor: 0.5, minLr: 0.01 / 64 }),
      cycle,
      onCheckpoint: (s) => states.push(structuredClone(s)),
    });
    const split = (states.find((s) => isSplitState(s.optimizer))!.optimizer as unknown as { split: { baseLr: number } }).split;
    // the headline rate of the first dendritic epoch is the fresh set's
    const fresh = r.history.find((h) => h.dendrite_sets === 1)!.lr;
    assert.ok(Math.abs(fresh - logInterpolate(split.baseLr, 0.01, t)) < 1e-12, `t=${t}: fresh ${fresh}, base ${split.baseLr}`);
  }
});
