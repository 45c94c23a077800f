import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DendriteController, type ControllerDecision, type ControllerConfig } from '../../src/dendrites/controller.js';
import { testConfig } from '../helpers/config.js';
import { UserError } from '../../src/errors.js';

/** Feeds scores one per epoch; returns the decisions (epochs are 1-based). */
function run(
  c: DendriteController,
  scores: number[],
  extra: (i: number) => { lr?: number; lrWasLowered?: boolean; valLoss?: number } = () => ({}),
): ControllerDecision[] {
  return scores.map((score, i) => {
    const e = extra(i);
    return c.onEpochEnd({ epoch: i + 1, score, lr: e.lr ?? 0.01, lrWasLowered: e.lrWasLowered, valLoss: e.valLoss });
  });
}

function actions(ds: ControllerDecision[]): string[] {
  return ds.map((d) => d.action);
}

const base: ControllerConfig = testConfig({ nEpochsToSwitch: 3, dontGiveUpUnlessLrLowered: false });

test('history: switches after n epochs without improvement and adds the first set', () => {
  const c = new DendriteController(base);
  const ds = run(c, [0.5, 0.6, 0.6, 0.6, 0.6]);
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'continue', 'add-set']);
  const d = ds[4]!;
  assert.equal(d.restoreBest, true);
  assert.equal(d.bestSets, 0);
  assert.equal(d.event?.type, 'added');
  assert.equal(d.event?.epoch, 5);
  assert.deepEqual(c.best, { epoch: 2, score: 0.6, valLoss: 0, sets: 0 });
  assert.equal(c.sets, 1);
});

test('history: an improvement below the relative threshold does not reset the clock', () => {
  const c = new DendriteController({ ...base, improvementThreshold: [0.01] });
  // 0.6 -> 0.603 is +0.5%, below the 1% margin
  assert.deepEqual(actions(run(c, [0.6, 0.603, 0.604, 0.605])), ['continue', 'continue', 'continue', 'add-set']);
  assert.equal(c.best?.epoch, 1);
});

test('history: raw threshold also applies', () => {
  const c = new DendriteController({ ...base, improvementThreshold: [0], improvementThresholdRaw: 0.05 });
  assert.deepEqual(actions(run(c, [0.6, 0.64, 0.62, 0.63])), ['continue', 'continue', 'continue', 'add-set']);
});

test('set helped -> add another; did not help -> discard and retry up to max tries -> complete', () => {
  const c = new DendriteController({ ...base, maxDendriteTries: 2, maxDendrites: 5 });
  let ds = run(c, [0.5, 0.5, 0.5, 0.5]); // first cycle, no set yet: always adds
  assert.equal(ds[3]!.action, 'add-set');
  // cycle with set 1 improves to 0.7 at its 1st epoch then stalls 3
  ds = [0.7, 0.7, 0.7, 0.7].map((s, i) => c.onEpochEnd({ epoch: 5 + i, score: s, lr: 0.01 }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'add-set']);
  assert.equal(ds[3]!.bestSets, 1);
  assert.equal(c.sets, 2);
  assert.deepEqual(c.best, { epoch: 5, score: 0.7, valLoss: 0, sets: 1 });
  // set 2 never beats 0.7: discard, retry 1
  ds = [0.69, 0.69, 0.69, 0.69].map((s, i) => c.onEpochEnd({ epoch: 9 + i, score: s, lr: 0.01 }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'discard-and-retry']);
  assert.equal(ds[3]!.bestSets, 1, 'restore the weights with one set, then add a fresh one');
  assert.equal(ds[3]!.event?.type, 'discarded');
  assert.equal(c.sets, 2);
  assert.equal(c.tries, 1);
  ds = [0.6, 0.6, 0.6, 0.6].map((s, i) => c.onEpochEnd({ epoch: 13 + i, score: s, lr: 0.01 }));
  assert.equal(ds[3]!.action, 'discard-and-retry');
  assert.equal(c.tries, 2);
  ds = [0.6, 0.6, 0.6, 0.6].map((s, i) => c.onEpochEnd({ epoch: 17 + i, score: s, lr: 0.01 }));
  assert.equal(ds[3]!.action, 'complete');
  assert.equal(ds[3]!.bestSets, 1);
  assert.equal(ds[3]!.event?.type, 'training_complete');
  assert.equal(c.isComplete, true);
  assert.equal(c.sets, 1);
  assert.throws(() => c.onEpochEnd({ epoch: 21, score: 0.5, lr: 0.01 }));
});

test('a retry that helps resets the tries and adds the next set', () => {
  const c = new DendriteController({ ...base, maxDendriteTries: 1, maxDendrites: 5 });
  run(c, [0.5, 0.5, 0.5, 0.5]); // add set 1
  const ds = [0.5, 0.5, 0.5, 0.5, 0.8, 0.8, 0.8, 0.8].map((s, i) => c.onEpochEnd({ epoch: 5 + i, score: s, lr: 0.01 }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'discard-and-retry', 'continue', 'continue', 'continue', 'add-set']);
  assert.equal(c.tries, 0);
  assert.equal(c.sets, 2);
  assert.equal(c.best?.sets, 1);
  assert.equal(c.best?.epoch, 9);
});

test('max-dendrites reached after a helpful set -> complete with the best model', () => {
  const c = new DendriteController({ ...base, maxDendrites: 1 });
  run(c, [0.5, 0.5, 0.5, 0.5]);
  const ds = [0.6, 0.6, 0.6, 0.6].map((s, i) => c.onEpochEnd({ epoch: 5 + i, score: s, lr: 0.01 }));
  assert.equal(ds[3]!.action, 'complete');
  assert.equal(ds[3]!.bestSets, 1);
  assert.match(ds[3]!.event!.detail, /max-dendrites/);
});

test('retain-all keeps a set that did not help and builds on it', () => {
  const c = new DendriteController({ ...base, retainAllDendrites: true, maxDendrites: 3 });
  run(c, [0.7, 0.7, 0.7, 0.7]);
  const ds = [0.6, 0.6, 0.6, 0.6].map((s, i) => c.onEpochEnd({ epoch: 5 + i, score: s, lr: 0.01 }));
  assert.equal(ds[3]!.action, 'add-set');
  assert.equal(ds[3]!.bestSets, 1);
  assert.equal(c.sets, 2);
  // the weights to keep are now this cycle's best (reference semantics)
  assert.deepEqual(c.best, { epoch: 5, score: 0.6, valLoss: 0, sets: 1 });
});

test('history-lookback judges a running mean', () => {
  const c = new DendriteController({ ...base, historyLookback: 2, improvementThreshold: [0], improvementThresholdRaw: 0 });
  // running: 0.4, 0.6 (0.4*.5+0.8*.5), 0.5, 0.45, 0.425: best stays at epoch 2 although epoch 2's raw score (0.8) is unique
  const ds = run(c, [0.4, 0.8, 0.4, 0.4, 0.4]);
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'continue', 'add-set']);
  assert.ok(Math.abs(c.best!.score - 0.6) < 1e-12);
});

test('initial-history-after-switches ignores the first epochs of each cycle', () => {
  const c = new DendriteController({ ...base, initialHistoryAfterSwitches: 2, improvementThreshold: [0], improvementThresholdRaw: 0 });
  // Epochs 1-2 cannot count; epoch 3 (0.5) is the first counted best; then 3 stalled epochs.
  const ds = run(c, [0.9, 0.9, 0.5, 0.5, 0.5, 0.5]);
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'continue', 'continue', 'add-set']);
  // running mean over ignored epochs is a plain mean, then lookback 1 takes the raw score
  assert.equal(c.best!.epoch, 3);
  assert.equal(c.best!.score, 0.5);
});

test('valLoss breaks exact score ties and resets the stall clock', () => {
  const c = new DendriteController(base);
  const losses = [1.0, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7];
  const ds = run(c, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], (i) => ({ valLoss: losses[i] }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'continue', 'continue', 'continue', 'add-set']);
  assert.equal(c.best!.epoch, 4);
  assert.equal(c.best!.valLoss, 0.7);
});

test('switch-score loss: the running validation loss alone decides improvements', () => {
  const c = new DendriteController({ ...base, switchScore: 'loss' });
  // Accuracy rises while the loss stalls from epoch 2: under 'loss' only epoch 2 counts, so the switch
  // comes 3 epochs later and the best is epoch 2 (under 'accuracy' epochs 3-5 would each count).
  const losses = [1.0, 0.8, 0.8, 0.85, 0.9];
  const ds = run(c, [0.5, 0.6, 0.7, 0.8, 0.9], (i) => ({ valLoss: losses[i] }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'continue', 'add-set']);
  assert.equal(c.best!.epoch, 2);
  assert.equal(c.best!.valLoss, 0.8);
  const a = new DendriteController(base);
  assert.deepEqual(actions(run(a, [0.5, 0.6, 0.7, 0.8, 0.9], (i) => ({ valLoss: losses[i] }))), Array(5).fill('continue'));
  // The relative threshold applies to the loss: 0.8 -> 0.799 is below a 1% margin.
  const t = new DendriteController({ ...base, switchScore: 'loss', improvementThreshold: [0.01] });
  run(t, [0.5, 0.5], (i) => ({ valLoss: [0.8, 0.799][i] }));
  assert.equal(t.best!.epoch, 1);
  // A set is kept only when it lowered the loss: here accuracy rises with set 1, the loss does not.
  const k = new DendriteController({ ...base, switchScore: 'loss', maxDendriteTries: 0 });
  run(k, [0.5, 0.5, 0.5, 0.5], () => ({ valLoss: 0.7 }));
  const after = [0.9, 0.9, 0.9, 0.9].map((score, i) => k.onEpochEnd({ epoch: 5 + i, score, valLoss: 0.75, lr: 0.01 }));
  assert.equal(after[3]!.action, 'complete');
  assert.equal(after[3]!.bestSets, 0);
});

test('fixed mode: first switch at first-fixed-switch-num, then every fixed-switch-num', () => {
  const c = new DendriteController(
    testConfig({ switchMode: 'fixed', firstFixedSwitchNum: 3, fixedSwitchNum: 2, maxDendrites: 10, retainAllDendrites: true }),
  );
  const ds = run(c, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  assert.deepEqual(actions(ds), ['continue', 'continue', 'add-set', 'continue', 'add-set', 'continue', 'add-set']);
});

test('every-epoch switches at every epoch; none never switches', () => {
  const e = new DendriteController(testConfig({ switchMode: 'every-epoch', maxDendrites: 2 }));
  assert.deepEqual(actions(run(e, [0.1, 0.2, 0.3])), ['add-set', 'add-set', 'complete']);
  const n = new DendriteController(testConfig({ switchMode: 'none' }));
  const ds = run(
    n,
    Array.from({ length: 50 }, () => 0.5),
  );
  assert.ok(ds.every((d) => d.action === 'continue'));
  assert.equal(n.best?.epoch, 1);
});

test('dont-give-up-unless-lr-lowered waits for a lowered rate (3x patience at most)', () => {
  const cfg = testConfig({ nEpochsToSwitch: 2, dontGiveUpUnlessLrLowered: true, lrSchedule: 'plateau' });
  const c = new DendriteController(cfg);
  const ds = run(c, [0.5, 0.5, 0.5, 0.5, 0.5], (i) => ({ lrWasLowered: i === 3 }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue', 'add-set', 'continue']);
  const w = new DendriteController(cfg);
  assert.deepEqual(actions(run(w, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])).indexOf('add-set'), 6, 'waived after 3 x 2 stalled epochs');
  const noSched = new DendriteController({ ...cfg, lrSchedule: 'none' });
  assert.deepEqual(actions(run(noSched, [0.5, 0.5, 0.5])), ['continue', 'continue', 'add-set']);
});

test('find-best-lr exposes the distinct rates of the last cycle, highest first', () => {
  const c = new DendriteController({ ...base, findBestLr: true });
  const lrs = [0.01, 0.01, 0.005, 0.0025];
  const ds = run(c, [0.5, 0.5, 0.5, 0.5], (i) => ({ lr: lrs[i] }));
  assert.deepEqual(ds[3]!.lrCandidates, [0.01, 0.005, 0.0025]);
  assert.deepEqual(c.lastCycleLearningRates, [0.01, 0.005, 0.0025]);
  const off = new DendriteController({ ...base, findBestLr: false });
  assert.equal(run(off, [0.5, 0.5, 0.5, 0.5])[3]!.lrCandidates, undefined);
});

test('relative threshold list is indexed by the number of sets', () => {
  // 0 sets: 10% margin; 1+ sets: 0 margin
  const c = new DendriteController({ ...base, improvementThreshold: [0.1, 0], improvementThresholdRaw: 0 });
  assert.deepEqual(actions(run(c, [0.5, 0.52, 0.53, 0.54])), ['continue', 'continue', 'continue', 'add-set']);
  const ds = [0.55, 0.56, 0.57].map((s, i) => c.onEpochEnd({ epoch: 5 + i, score: s, lr: 0.01 }));
  assert.deepEqual(actions(ds), ['continue', 'continue', 'continue']);
  assert.equal(c.best!.score, 0.57);
});

test('getState/setState round-trips through JSON and resumes identically', () => {
  const scores = [0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.65, 0.65, 0.65, 0.66, 0.6, 0.6, 0.6];
  const a = new DendriteController(base);
  const full = actions(run(a, scores));
  const b = new DendriteController(base);
  const first = actions(run(b, scores.slice(0, 7)));
  const c = new DendriteController(base);
  c.setState(JSON.parse(JSON.stringify(b.getState())));
  const rest = scores.slice(7).map((s, i) => c.onEpochEnd({ epoch: 8 + i, score: s, lr: 0.01 }).action);
  assert.deepEqual([...first, ...rest], full);
  assert.deepEqual(c.getState(), a.getState());
  assert.throws(() => c.setState({ version: 2 }), UserError);
});
