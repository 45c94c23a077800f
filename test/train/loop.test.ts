import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam } from '../../src/engine/optim.js';
import { ReduceLROnPlateau } from '../../src/engine/schedule.js';
import { ringData, ringModel } from '../helpers/ring-data.js';
import { correctPerSample, evaluate, mcnemar, trainLoop, type LoopOptions, type LoopState } from '../../src/train/loop.js';
import { DendriteCycle } from '../../src/dendrites/cycle.js';
import { dendriteSetCount, dendriticLayers, removeLastDendriteSet } from '../../src/dendrites/apply.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.js';
import { testConfig } from '../helpers/config.js';

const model = ringModel;

function options(extra: Partial<LoopOptions> = {}): LoopOptions {
  return {
    epochs: 12,
    batchSize: 16,
    learningRate: 0.01,
    seed: 5,
    makeOptimizer: (params, lr) => new Adam(params, { lr }),
    makeScheduler: () => new ReduceLROnPlateau({ patience: 3 }),
    ...extra,
  };
}

test('the loop learns, logs every epoch and restores the best-validation weights', () => {
  const m = model(1);
  const train = ringData(300, 1),
    val = ringData(90, 2);
  const r = trainLoop(m, train, val, options());
  assert.equal(r.history.length, 12);
  assert.equal(r.stoppedBy, 'epochs');
  const bestRecord = r.history.reduce((a, b) => (b.val_acc > a.val_acc ? b : a));
  assert.equal(r.best.val_acc, bestRecord.val_acc);
  assert.ok(r.best.val_acc > 0.9, `val_acc ${r.best.val_acc}`);
  // the restored weights reproduce the best epoch's validation accuracy
  const probs = m.predictProbs(val.x, val.n);
  let correct = 0;
  for (let i = 0; i < val.n; i++) {
    const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
    if (row.indexOf(Math.max(...row)) === val.y[i]) correct++;
  }
  assert.equal(correct / val.n, r.best.val_acc);
});

test('same seed and data give identical weights; resuming from a checkpoint gives the same result', () => {
  const train = ringData(200, 3),
    val = ringData(60, 4);
  const a = model(7);
  trainLoop(a, train, val, options({ epochs: 6 }));
  const states: LoopState[] = [];
  const b = model(7);
  trainLoop(b, train, val, options({ epochs: 6, onCheckpoint: (s) => states.push(structuredClone(s)) }));
  assert.deepEqual(b.snapshot(), a.snapshot());
  // "kill" after epoch 3 and resume on a freshly built model
  const c = model(7);
  trainLoop(c, train, val, options({ epochs: 6, resumeFrom: states[2] }));
  assert.deepEqual(c.snapshot(), a.snapshot());
});

test('with a dendrite cycle the loop adds sets, rebuilds the optimizer and ends by itself', () => {
  const train = ringData(240, 5),
    val = ringData(60, 6);
  const m = model(3);
  const events: string[] = [];
  const cycle = new DendriteCycle(
    testConfig({
      switchMode: 'fixed',
      fixedSwitchNum: 3,
      firstFixedSwitchNum: 3,
      maxDendrites: 2,
      maxDendriteTries: 1,
      dendriteLayers: 'all',
      dendriteActivation: 'sigmoid',
      candidateWeightInit: 0.01,
      dendriteTraining: 'gd',
      correlationEpochs: 1,
      correlationCandidates: 1,
      learningRate: 0.01,
      batchSize: 32,
    }),
  );
  const r = trainLoop(m, train, val, options({ epochs: 40, cycle, observer: { event: (e) => events.push(e.type) } }));
  assert.ok(events.includes('added'), `events: ${events.join(',')}`);
  assert.ok(r.stoppedBy === 'completed', `stopped by ${r.stoppedBy}`);
  assert.ok(r.history.length < 40);
  assert.equal(events.at(-1), 'restored_best');
});

for (const form of ['gated', 'merged'] as const) {
  test(`prune-dendrites (${form} sets): sets the network validates as well without are removed, newest first; a set that earns its keep stays`, () => {
    const train = ringData(240, 5),
      val = ringData(60, 6);
    const makeCycle = (pruneDendrites: boolean, retainAllDendrites = false): DendriteCycle =>
      new DendriteCycle(
        testConfig({
          switchMode: 'fixed',
          fixedSwitchNum: 3,
          firstFixedSwitchNum: 3,
          maxDendrites: 2,
          maxDendriteTries: 0,
          retainAllDendrites,
          dendriteLayers: 'all',
          dendriteActivation: 'sigmoid',
          candidateWeightInit: 0.01,
          dendriteTraining: 'gd',
          pruneDendrites,
          dendriteForm: form,
          dendriteRank: form === 'merged' ? 2 : 0,
          correlationEpochs: 1,
          correlationCandidates: 1,
          learningRate: 0.01,
          batchSize: 32,
        }),
      );
    assert.equal(makeCycle(true, true).pruneDendrites, false, 'retain-all-dendrites keeps every set');
    // Frozen sets (v = 0, never trained) change nothing, so pruning must remove every set the cycle kept.
    const frozenRun = (prune: boolean) => {
      const c = makeCycle(prune);
      const addSet = c.addSet.bind(c);
      c.addSet = (m, rng) => {
        addSet(m, rng);
        for (const l of dendriticLayers(m)) l.freezeDendrites(true);
      };
      const m = model(3);
      return { m, r: trainLoop(m, train, val, options({ epochs: 12, cycle: c })) };
    };
    const keptFrozen = dendriteSetCount(frozenRun(false).m);
    assert.ok(keptFrozen >= 1, 'the frozen cycle keeps a set when training on raised validation');
    const frozen = frozenRun(true);
    assert.equal(dendriteSetCount(frozen.m), 0);
    assert.equal(frozen.r.events.filter((e) => e.type === 'pruned').length, keptFrozen);

    // Trained sets: the pruned model is the unpruned one minus its newest sets, and each removal kept validation.
    const plain = model(3),
      pruned = model(3);
    const r0 = trainLoop(plain, train, val, options({ epochs: 9, cycle: makeCycle(false) }));
    const r1 = trainLoop(pruned, train, val, options({ epochs: 9, cycle: makeCycle(true) }));
    const removed = r1.events.filter((e) => e.type === 'pruned').length;
    assert.equal(dendriteSetCount(pruned), dendriteSetCount(plain) - removed);
    assert.ok(r1.best.val_acc >= r0.best.val_acc, `pruned ${r1.best.val_acc} < unpruned ${r0.best.val_acc}`);
    assert.deepEqual(evaluate(pruned, val), { loss: r1.best.val_loss, acc: r1.best.val_acc });
    if (dendriteSetCount(pruned) > 0) {
      // what is left earns its keep: without its newest set the network validates worse
      const withSets = evaluate(pruned, val);
      removeLastDendriteSet(pruned);
      assert.ok(evaluate(pruned, val).acc < withSets.acc);
    }
  });
}

test('prune-significance: McNemar counts, per-sample correctness agrees with evaluate, a stricter test keeps no more sets', () => {
  assert.deepEqual(mcnemar(Uint8Array.from([1, 1, 0, 0, 1]), Uint8Array.from([1, 0, 1, 0, 0])), { fixed: 2, broken: 1 });
  const train = ringData(240, 5),
    val = ringData(60, 6);
  const m = model(3);
  trainLoop(m, train, val, options({ epochs: 3 }));
  const correct = correctPerSample(m, val);
  assert.equal(correct.reduce((a, b) => a + b, 0) / val.n, evaluate(m, val).acc);
  const run = (pruneSignificance: number) => {
    const cycle = new DendriteCycle(
      testConfig({
        switchMode: 'fixed',
        fixedSwitchNum: 3,
        firstFixedSwitchNum: 3,
        maxDendrites: 3,
        maxDendriteTries: 0,
        dendriteLayers: 'all',
        dendriteActivation: 'tanh',
        candidateWeightInit: 0.01,
        dendriteTraining: 'gd',
        pruneDendrites: true,
        pruneSignificance,
        correlationEpochs: 1,
        correlationCandidates: 1,
        learningRate: 0.01,
        batchSize: 32,
      }),
    );
    const net = model(3);
    const r = trainLoop(net, train, val, options({ epochs: 12, cycle }));
    return { sets: dendriteSetCount(net), r };
  };
  const lenient = run(0),
    strict = run(5);
  assert.ok(
    strict.r.events.some((e) => e.type === 'pruned'),
    'the strict test pruned at least one set',
  );
  assert.ok(strict.sets <= lenient.sets, `z=5 kept ${strict.sets} sets, z=0 kept ${lenient.sets}`);
  for (const e of strict.r.events.filter((x) => x.type === 'pruned')) assert.match(e.detail ?? '', /fixed \d+ and broke \d+ validation samples/);
});

for (const form of ['gated', 'merged'] as const) {
  test(`a dendrite cycle (${form} sets, rank 2) resumes from any checkpoint, through the checkpoint file format, to the same weights and sets`, () => {
    const train = ringData(240, 5),
      val = ringData(60, 6);
    const cycle = (): DendriteCycle =>
      new DendriteCycle(
        testConfig({
          switchMode: 'fixed',
          fixedSwitchNum: 2,
          firstFixedSwitchNum: 2,
          maxDendrites: 3,
          maxDendriteTries: 1,
          retainAllDendrites: true,
          dendriteLayers: 'all',
          dendriteActivation: 'tanh',
          candidateWeightInit: 0.01,
          dendriteTraining: 'gd',
          dendriteRank: 2,
          dendriteForm: form,
          splitLearningRate: true,
          newDendriteRate: 0.5,
          correlationEpochs: 1,
          correlationCandidates: 1,
          learningRate: 0.01,
          batchSize: 32,
        }),
      );
    const states: LoopState[] = [];
    const a = model(9);
    trainLoop(a, train, val, options({ epochs: 9, cycle: cycle(), onCheckpoint: (s) => states.push(decodeCheckpoint(encodeCheckpoint(s)) as LoopState) }));
    assert.ok(dendriteSetCount(a) >= 2, `sets kept: ${dendriteSetCount(a)}`);
    for (const l of dendriticLayers(a)) assert.equal(l.form, form);
    const names = a.params().map((p) => p.name);
    assert.equal(
      names.some((n) => /\/w\d_\d$/.test(n)),
      form === 'gated',
      'cascade weights exist only in the gated form',
    );
    for (const k of [2, 5]) {
      const b = model(9);
      trainLoop(b, train, val, options({ epochs: 9, cycle: cycle(), resumeFrom: states[k] }));
      assert.equal(dendriteSetCount(b), dendriteSetCount(a));
      assert.deepEqual(b.snapshot(), a.snapshot(), `resumed after epoch ${k + 1}`);
    }
  });
}
