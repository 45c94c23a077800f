/**
 * The checkbox's plain-first flow (src/train/checkbox.ts, issue 22): the dendrites-off network is trained
 * first, exactly as with dendrites off, and is the budget; the dendritic network trained next ships only
 * when every int8 figure is within max-cost-ratio and it validates strictly better. Under a time limit
 * the first run may use all of it (no reserve), and nothing ships that validates worse than dendrites off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continuationRate, trainCheckbox, plainConfigOf, shipsDendritic, withExplicit } from '../../src/train/checkbox.js';
import type { LoopResult } from '../../src/train/loop.js';
import { checkExplicit, checkFigures, explicitBudgetOf, latencyAtClock, priceInt8, BUDGET_FIGURES } from '../../src/train/device-budget.js';
import { buildNetwork, trainNetwork, type TrainData } from '../../src/train/run.js';
import { trainAndChoose } from '../../src/train/payoff.js';
import { TrainingBudget } from '../../src/train/budget.js';
import { dendriteSetCount } from '../../src/dendrites/apply.js';
import { Rng } from '../../src/engine/rng.js';
import { defaultConfig, type Config } from '../../src/params/schema.js';
import { syntheticSplit } from '../helpers/ei-data.js';

function data(): TrainData {
  const features = 12;
  const classes = 3;
  const rng = new Rng(4);
  const train = { ...syntheticSplit(90, features, classes, rng), n: 90, features };
  const val = { ...syntheticSplit(45, features, classes, rng), n: 45, features };
  return { train, val, classes, inputShape: undefined };
}

/** Sets are added every 2 epochs and kept, so the dendritic network has some. */
const config = (over: Partial<Config> = {}): Config => ({
  ...defaultConfig(),
  model: 'dense',
  epochs: 8,
  seed: 2,
  switchMode: 'fixed',
  firstFixedSwitchNum: 2,
  fixedSwitchNum: 2,
  maxDendrites: 2,
  retainAllDendrites: true,
  // the fold route's mechanics (sets grown in cycles from the plain optimum); expand has test/train/expand.test.ts
  dendriteRoute: 'fold',
  ...over,
});

test('the plain candidate is exactly the dendrites-off run (same epochs, same validation); a shipped dendritic network validates strictly better', () => {
  const c = config();
  const d = data();
  const off = trainNetwork(plainConfigOf(c), d);
  const o = trainCheckbox(c, d);
  assert.deepEqual(
    o.plain.loop.history.map((h) => [h.epoch, h.val_acc, h.val_loss]),
    off.loop.history.map((h) => [h.epoch, h.val_acc, h.val_loss]),
  );
  assert.equal(o.plain.candidate.valAcc, off.loop.best.val_acc);
  assert.ok(o.dendritic, o.reason);
  assert.ok(o.dendritic.sets > 0, 'the dendritic network kept sets');
  assert.equal(o.dendritic.folded, true);
  assert.equal(dendriteSetCount(o.dendritic.model), 0, 'folded: the plain network again');
  // folded linear sets: identical device cost
  for (const f of o.dendritic.candidate.figures) assert.equal(f.value, o.plain.candidate.figures.find((g) => g.name === f.name)!.value, f.name);
  const shipped = o.shipped === 'dendritic' ? o.dendritic.candidate : o.plain.candidate;
  assert.ok(shipped.valAcc >= off.loop.best.val_acc, 'never validates worse than dendrites off');
  assert.equal(o.shipped, o.dendritic.candidate.valAcc > o.plain.candidate.valAcc ? 'dendritic' : 'plain');
});

test('shipsDendritic: strictly better, within the budget, and trained; a tie ships plain', () => {
  assert.equal(shipsDendritic(0.9, { valAcc: 0.9, fits: true, epochsRun: 5 }), false);
  assert.equal(shipsDendritic(0.9, { valAcc: 0.91, fits: true, epochsRun: 5 }), true);
  assert.equal(shipsDendritic(0.9, { valAcc: 0.99, fits: false, epochsRun: 5 }), false);
  assert.equal(shipsDendritic(0.9, { valAcc: 0.99, fits: true, epochsRun: 0 }), false);
});

test('gated sets cost more than 1.05x the configured network: the dendritic network is priced over budget and never ships; a larger max-cost-ratio lets it compete', () => {
  const d = data();
  const gated = trainCheckbox(config({ dendriteForm: 'gated' }), d);
  assert.ok(gated.dendritic && gated.dendritic.sets > 0);
  assert.equal(gated.dendritic.folded, false);
  assert.equal(gated.dendritic.candidate.fits, false);
  assert.equal(gated.shipped, 'plain');
  assert.match(gated.reason, /exceeds 1\.05x the configured network's device cost \(.*(ram_bytes|flash_bytes|macs)/);
  const loose = trainCheckbox(config({ dendriteForm: 'gated', maxCostRatio: 100 }), d);
  assert.equal(loose.dendritic!.candidate.fits, true);
  assert.equal(loose.shipped, loose.dendritic!.candidate.valAcc > loose.plain.candidate.valAcc ? 'dendritic' : 'plain');
});

test('budget figures: RAM, flash, file, MACs and the Cortex-M default deployment by name, each against ratio x the budget', () => {
  assert.deepEqual(
    BUDGET_FIGURES.map((f) => f.name),
    ['ram_bytes', 'flash_bytes', 'model_bytes', 'macs', 'cmsis_nn_ram_bytes', 'cmsis_nn_flash_bytes', 'cortex_m_instructions'],
  );
  const budget = {
    ...{ ramBytes: 1000, flashBytes: 50_000, modelBytes: 5000, operators: 5, latencyMs: 1, macs: 20_000 },
    ...{ cmsisNnRamBytes: 1048, cmsisNnFlashBytes: 61_000, cortexMInstructions: 200_000 },
  };
  const checks = checkFigures({ ...budget, ramBytes: 1060, macs: 21_000, cortexMInstructions: 210_001 }, budget, 1.05);
  assert.deepEqual(
    checks.map((c) => [c.name, c.fits]),
    [
      ['ram_bytes', false],
      ['flash_bytes', true],
      ['model_bytes', true],
      ['macs', true],
      ['cmsis_nn_ram_bytes', true],
      ['cmsis_nn_flash_bytes', true],
      ['cortex_m_instructions', false],
    ],
  );
  assert.equal(checks[0]!.limit, 1050);
});

/** A clock that moves `step` ms every time it is read: a time limit is reached after a known number of polls. */
function tickingBudget(seconds: number, step: number): TrainingBudget {
  let now = 0;
  return new TrainingBudget(seconds, () => (now += step));
}

test('time limit: the dendrites-off run may use the whole limit (no reserve); then nothing else is trained and the report says why', () => {
  const d = data();
  const c = config({ epochs: 200, switchMode: 'none' });
  const o = trainCheckbox(c, d, { budget: tickingBudget(2, 5) });
  assert.equal(o.plain.loop.stoppedBy, 'time_limit');
  assert.ok(o.plain.loop.epochsRun > 0);
  assert.equal(o.dendritic, null);
  assert.equal(o.shipped, 'plain');
  assert.match(o.reason, /used the whole time limit/);
  assert.match(o.warning ?? '', /no time was left to train dendrites/);
  // the same budget with dendrites off stops at the same point: the checkbox's first run is that run
  const off = trainNetwork(plainConfigOf(c), d, { budget: tickingBudget(2, 5) });
  assert.equal(off.loop.epochsRun, o.plain.loop.epochsRun);
  assert.equal(off.loop.best.val_acc, o.plain.candidate.valAcc);
});

test('time limit: what the dendrites-off run leaves goes to the dendritic network, which stops at the limit', () => {
  const d = data();
  // restarts end the plain run by itself (switch-mode fixed, max 2 restarts), long before the limit
  const o = trainCheckbox(config({ epochs: 400 }), d, { budget: tickingBudget(4, 1) });
  assert.notEqual(o.plain.loop.stoppedBy, 'time_limit');
  assert.ok(o.dendritic, o.reason);
  assert.ok(o.dendritic.loop.epochsRun > 0);
  assert.ok(['time_limit', 'completed', 'epochs'].includes(o.dendritic.loop.stoppedBy));
  // too little left for one teacher epoch: nothing is distilled and the dendrites-off network ships
  const none = trainCheckbox(config({ epochs: 400, dendriteRoute: 'distill' }), d, { budget: tickingBudget(0.02, 1) });
  assert.equal(none.plain.loop.stoppedBy, 'completed');
  assert.equal(none.dendritic, null);
  assert.equal(none.shipped, 'plain');
  assert.match(none.reason, /teacher did not complete an epoch/);
});

test('trainAndChoose: the checkbox for dendrites on with the check; the dendritic network alone without it', () => {
  const d = data();
  const on = trainAndChoose(config(), d);
  assert.ok(on.payoff?.checkbox);
  assert.equal(on.primary.loop, on.payoff.plain!.loop);
  assert.equal(on.payoff.checkbox.ratio, 1.05);
  assert.deepEqual(
    on.payoff.checkbox.budget.map((f) => f.name),
    BUDGET_FIGURES.map((f) => f.name),
  );
  const off = trainAndChoose(config({ dendritePayoffCheck: false }), d);
  assert.equal(off.payoff, undefined);
  assert.equal(off.shipped.network, 'dendritic');
  assert.ok(dendriteSetCount(off.shipped.model) > 0);
});

test('the dendritic network continues from the dendrites-off best weights at the rate they were found with', () => {
  const loop = { history: [{ lr: 0.005 }, { lr: 0.0025 }, { lr: 0.00125 }], best: { epoch: 2 } } as unknown as LoopResult;
  assert.equal(continuationRate(loop, 0.005), 0.0025);
  assert.equal(continuationRate({ ...loop, history: [] } as unknown as LoopResult, 0.005), 0.005, 'no history: the initial rate');
  const c = config({ lrPatience: 1 });
  const o = trainCheckbox(c, data());
  assert.ok(o.dendritic);
  assert.equal(o.dendritic.loop.history[0]!.lr, continuationRate(o.plain.loop, c.learningRate));
});

test('dendrite-route distill: a gated teacher with sets teaches the configured network, which alone can ship, at the plain cost', () => {
  const c = config({ dendriteRoute: 'distill', distillTemperature: 3, distillAlpha: 0.7 });
  const d = data();
  const o = trainCheckbox(c, d);
  assert.ok(o.dendritic, o.reason);
  const t = o.dendritic.distilled;
  assert.ok(t, 'the candidate records its teacher');
  assert.equal(t.form, 'gated');
  assert.ok(t.sets > 0 && t.epochsRun > 0, 'the teacher trained and kept sets');
  assert.deepEqual([t.temperature, t.alpha], [3, 0.7]);
  assert.equal(o.dendritic.folded, false);
  assert.equal(dendriteSetCount(o.dendritic.model), 0, 'the candidate is the configured network');
  assert.ok(o.dendritic.loop.epochsRun > 0);
  for (const f of o.dendritic.candidate.figures) assert.equal(f.value, o.plain.candidate.figures.find((g) => g.name === f.name)!.value, f.name);
  assert.equal(o.shipped, o.dendritic.candidate.valAcc > o.plain.candidate.valAcc ? 'dendritic' : 'plain');
  assert.match(o.reason, /distilled from a dendritic teacher \(\d+ gated set/);
});

test('dendrite-route distill: alpha 0 is exactly the plain continuation (the teacher changes nothing); alpha > 0 changes the training', () => {
  const d = data();
  const o0 = trainCheckbox(config({ dendriteRoute: 'distill', distillAlpha: 0 }), d);
  const o1 = trainCheckbox(config({ dendriteRoute: 'distill', distillAlpha: 0.9 }), d);
  const plainC = plainConfigOf(config());
  const m = trainNetwork(plainC, d).model;
  const control = trainNetwork({ ...plainC, learningRate: continuationRate(o0.plain.loop, plainC.learningRate) }, d, {}, m);
  const losses = (l: LoopResult): number[] => l.history.map((h) => h.loss);
  assert.deepEqual(losses(o0.dendritic!.loop), losses(control.loop));
  assert.notDeepEqual(losses(o1.dendritic!.loop), losses(control.loop));
});

test('dendrite-route distill under a time limit: the teacher stops at half the time left, the configured network trains in the rest', () => {
  const d = data();
  // 50 polls: the plain run completes its restarts first; the teacher then gets half of what is left
  const o = trainCheckbox(config({ epochs: 400, dendriteRoute: 'distill' }), d, { budget: tickingBudget(0.05, 1) });
  assert.notEqual(o.plain.loop.stoppedBy, 'time_limit');
  assert.ok(o.dendritic?.distilled, o.reason);
  assert.ok(o.dendritic.distilled.epochsRun > 0);
  assert.equal(o.dendritic.distilled.stoppedBy, 'time_limit');
  assert.ok(o.dendritic.loop.epochsRun > 0, 'the student had time of its own');
  assert.ok(['time_limit', 'completed', 'epochs'].includes(o.dendritic.loop.stoppedBy));
  // too little left for one teacher epoch: nothing is distilled and the dendrites-off network ships
  const none = trainCheckbox(config({ epochs: 400, dendriteRoute: 'distill' }), d, { budget: tickingBudget(0.02, 1) });
  assert.equal(none.plain.loop.stoppedBy, 'completed');
  assert.equal(none.dendritic, null);
  assert.equal(none.shipped, 'plain');
  assert.match(none.reason, /teacher did not complete an epoch/);
});

test('explicit budget: none set is null; only the figures set are checked; latency scales with the target clock', () => {
  const none = { maxRamKb: 0, maxFlashKb: 0, maxLatencyMs: 0, targetClockMhz: 80 };
  assert.equal(explicitBudgetOf(none), null);
  const b = explicitBudgetOf({ ...none, maxFlashKb: 100, maxLatencyMs: 2, targetClockMhz: 160 })!;
  assert.deepEqual([b.ramBytes, b.flashBytes, b.latencyMs, b.clockMhz], [null, 102_400, 2, 160]);
  assert.match(b.latencyReference, /CMSIS-NN.* at 160 MHz: instructions per inference.*lower bound/);
  const price = {
    ...{ ramBytes: 5000, flashBytes: 90_000, modelBytes: 3000, operators: 4, latencyMs: 3.5, macs: 1000 },
    ...{ cmsisNnRamBytes: 5048, cmsisNnFlashBytes: 102_401, cortexMInstructions: 280_000 },
  };
  assert.equal(latencyAtClock(price, 160), 1.75);
  assert.deepEqual(checkExplicit(price, b), [
    { name: 'flash_bytes', value: 102_401, limit: 102_400, fits: false },
    { name: 'latency_ms', value: 1.75, limit: 2, fits: true },
  ]);
});

test('explicit budget: a dendritic candidate over it does not ship; the widest plain width within it is found and priced', () => {
  const d = data();
  // gated sets cost more than the plain network; max-cost-ratio 100 lets them compete on the ratio
  const c = config({ dendriteForm: 'gated', maxCostRatio: 100 });
  const o = trainCheckbox(c, d);
  assert.ok(o.dendritic && o.explicit === undefined, o.reason);
  const plainPrice = o.plain.candidate.price;
  assert.ok(o.dendritic.candidate.price.cmsisNnFlashBytes > plainPrice.cmsisNnFlashBytes);
  // a flash budget (the Cortex-M default deployment's: CMSIS-NN) the plain network meets exactly, the dendritic one does not
  const b = explicitBudgetOf({ maxRamKb: 0, maxFlashKb: plainPrice.cmsisNnFlashBytes / 1024, maxLatencyMs: 0, targetClockMhz: 80 })!;
  const forced = withExplicit({ ...o, shipped: 'dendritic' }, b, c, d);
  assert.equal(forced.shipped, 'plain');
  assert.match(forced.reason, /exceeds the explicit budget \(flash_bytes/);
  assert.deepEqual(forced.explicit!.plain, [
    { name: 'flash_bytes', value: plainPrice.cmsisNnFlashBytes, limit: plainPrice.cmsisNnFlashBytes, fits: true },
  ]);
  assert.equal(forced.explicit!.dendritic![0]!.fits, false);
  assert.equal(forced.warning, undefined, 'the configured network is within the budget');
  // the widest plain width within it: the configured width here (wider costs more flash)
  assert.equal(forced.explicit!.widestPlain!.width, c.width);
  assert.equal(forced.explicit!.wider, null);
  assert.match(forced.explicit!.widerNote, /no plain width wider than the configured 1 fits/);
  // a budget with room: a wider plain width fits, the next 1/8 step does not
  const roomy = explicitBudgetOf({ maxRamKb: 0, maxFlashKb: (plainPrice.cmsisNnFlashBytes + 4000) / 1024, maxLatencyMs: 0, targetClockMhz: 80 })!;
  const withWider = withExplicit(o, roomy, c, d);
  const wide = withWider.explicit!.widestPlain!;
  assert.ok(wide.width > c.width, `width ${wide.width}`);
  // ... and is trained as a candidate (dendrites off, from scratch), shipping only when strictly better
  const w = withWider.explicit!.wider!;
  assert.ok(w, withWider.explicit!.widerNote);
  assert.equal(w.width, wide.width);
  assert.ok(w.loop.epochsRun > 0 && dendriteSetCount(w.model) === 0);
  assert.ok(w.figures.every((f) => f.fits));
  const best = o.shipped === 'dendritic' ? o.dendritic.candidate.valAcc : o.plain.candidate.valAcc;
  assert.equal(withWider.shipped, w.valAcc > best ? 'wider' : o.shipped, withWider.reason);
  assert.match(withWider.reason, /plain width-[\d.]+ network/);
  assert.ok(wide.figures.every((f) => f.fits));
  const next = priceInt8(buildNetwork({ ...plainConfigOf(c), width: wide.width + 0.125 }, d), d.val);
  assert.ok(next.cmsisNnFlashBytes > roomy.flashBytes!, 'the next grid width is over the budget');
  // a budget nothing fits: the configured network is reported over it, and no plain width fits
  const tight = withExplicit(o, explicitBudgetOf({ maxRamKb: 0.01, maxFlashKb: 0, maxLatencyMs: 0, targetClockMhz: 80 })!, c, d);
  assert.match(tight.warning ?? '', /configured network exceeds the explicit budget \(ram_bytes/);
  assert.equal(tight.explicit!.widestPlain, null);
});

test('explicit budget under a time limit: the dendritic candidate gets half of what the plain run leaves, the wider plain network the rest', () => {
  const d = data();
  const c = config({ epochs: 400, maxDendrites: 8, maxFlashKb: 100_000 });
  const o = trainCheckbox(c, d, { budget: tickingBudget(0.08, 1) });
  assert.equal(o.plain.loop.stoppedBy, 'completed');
  assert.equal(o.dendritic?.loop.stoppedBy, 'time_limit');
  assert.ok(o.dendritic.loop.epochsRun > 0);
  const w = o.explicit?.wider;
  assert.ok(w, o.explicit?.widerNote);
  assert.equal(w.width, 16, 'a 100 MB flash budget fits the widest width');
  assert.ok(w.loop.epochsRun > 0, 'the wider network had time of its own');
  assert.equal(w.loop.stoppedBy, 'time_limit');
});
