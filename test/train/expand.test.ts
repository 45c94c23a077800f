/**
 * dendrite-route expand (src/train/expand.ts, issue 22): the configured network trains from its initial
 * weights with one linear set per dense/conv layer at v = 1 (rank expand-factor x channels), and the sets
 * fold away, so what ships is the plain configured graph. Checked: the expansion's shape, that it changes
 * the function (v = 1 from the start) while folding keeps it, that the folded network is the plain one
 * parameter for parameter and at identical device cost, and the checkbox's rules on this route.
 */
import { after, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { expandLinearly, unusedByExpandWarning } from '../../src/train/expand.js';
import { trainCheckbox, plainConfigOf } from '../../src/train/checkbox.js';
import { buildNetwork, trainNetwork, type TrainData } from '../../src/train/run.js';
import { dendriteSetCount, dendriticLayers, foldLinearSets } from '../../src/dendrites/apply.js';
import { LowRankBranch } from '../../src/dendrites/low-rank.js';
import { priceInt8 } from '../../src/train/device-budget.js';
import { Rng } from '../../src/engine/rng.js';
import { defaultConfig, type Config } from '../../src/params/schema.js';
import { trainAndChoose } from '../../src/train/payoff.js';
import { encodeRunCheckpoint, readResumePoint } from '../../src/train/run-checkpoint.js';
import { syntheticSplit, tempDir } from '../helpers/ei-data.js';

const { dir, cleanup } = tempDir('expand');
after(cleanup);

/** 13 x 8 "MFCC frames", so `auto` builds the ei-kws network (two conv1d blocks and the classifier). */
function data(): TrainData {
  const features = 13 * 8;
  const classes = 3;
  const rng = new Rng(6);
  const train = { ...syntheticSplit(90, features, classes, rng), n: 90, features };
  const val = { ...syntheticSplit(45, features, classes, rng), n: 45, features };
  return { train, val, classes, inputShape: undefined };
}

const config = (over: Partial<Config> = {}): Config => ({ ...defaultConfig(), epochs: 6, seed: 3, dendriteRoute: 'expand', ...over });

const ctx = { training: false, rng: new Rng(0) };
const logits = (m: ReturnType<typeof buildNetwork>, d: TrainData): Float32Array =>
  Float32Array.from(m.forward({ data: d.val.x, shape: [d.val.n, d.val.features] }, ctx).data);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

test('expandLinearly: every dense/conv layer gets one linear set of rank factor x channels at v = 1 and its own kernel at 0; folding gives the plain network computing the same function', () => {
  const d = data();
  for (const factor of [1, 4]) {
    const c = config({ expandFactor: factor });
    const plain = buildNetwork(c, d);
    const m = buildNetwork(c, d);
    const before = logits(m, d);
    const layers = expandLinearly(m, c);
    const wrapped = dendriticLayers(m);
    assert.equal(wrapped.length, layers);
    assert.equal(
      layers,
      plain.layers.filter((l) => ['conv1d', 'conv2d', 'dense'].includes(l.kind)).length,
      'every dense/conv layer, the classifier included',
    );
    for (const l of wrapped) {
      assert.equal(l.setCount, 1);
      assert.equal(l.form, 'linear');
      const branch = l.branchOf(0);
      assert.ok(branch instanceof LowRankBranch);
      assert.equal(branch.rank, factor * l.outChannels);
      const v = l.params().find((p) => p.name === 'v0')!;
      assert.ok(
        v.value.every((x) => x === 1),
        'v starts at 1: an expansion, not a correction grown from 0',
      );
      assert.ok(
        l.base.params()[0]!.value.every((x) => x === 0),
        "the layer's own kernel starts at 0: the map is up·down alone",
      );
    }
    const expanded = logits(m, d);
    assert.ok(maxAbsDiff(expanded, before) > 1e-3, 'at v = 1 the expansion is part of the function from the first step');
    assert.equal(foldLinearSets(m), layers);
    assert.equal(dendriteSetCount(m), 0);
    assert.ok(maxAbsDiff(logits(m, d), expanded) < 1e-4, 'folding keeps the function');
    assert.deepEqual(
      m.params().map((p) => [p.name, p.shape]),
      plain.params().map((p) => [p.name, p.shape]),
      'the folded network has the configured network’s parameters, name for name',
    );
  }
});

test('the expansion is seeded: the same seed gives the same branches, another seed others', () => {
  const d = data();
  const weights = (seed: number): number[] => {
    const m = buildNetwork(config({ seed }), d);
    expandLinearly(m, config({ seed }));
    return Array.from(logits(m, d));
  };
  assert.deepEqual(weights(3), weights(3));
  assert.notDeepEqual(weights(3), weights(4));
});

test('dendrite-route expand in the checkbox: the plain candidate is the dendrites-off run; the candidate trains from the initial weights with no set added, folds, and costs exactly the plain network', () => {
  const d = data();
  const c = config();
  const off = trainNetwork(plainConfigOf(c), d);
  const o = trainCheckbox(c, d);
  assert.equal(o.plain.candidate.valAcc, off.loop.best.val_acc);
  assert.ok(o.dendritic, o.reason);
  assert.equal(o.dendritic.sets, 1, 'the expansion, no set added by a cycle');
  assert.equal(o.dendritic.folded, true);
  assert.equal(dendriteSetCount(o.dendritic.model), 0);
  assert.ok(!o.dendritic.loop.events.some((e) => e.type === 'added'), 'no cycle adds sets');
  assert.ok(o.dendritic.loop.epochsRun > 0 && o.dendritic.loop.epochsRun <= c.epochs, 'up to as many epochs as the dendrites-off run may train');
  // from the initial weights at the initial rate, not the continuation at the plain run's rate
  assert.equal(o.dendritic.loop.history[0]!.lr, c.learningRate);
  for (const f of o.dendritic.candidate.figures) assert.equal(f.value, o.plain.candidate.figures.find((g) => g.name === f.name)!.value, f.name);
  assert.deepEqual(priceInt8(o.dendritic.model, d.val), o.dendritic.candidate.price);
  assert.equal(o.shipped, o.dendritic.candidate.valAcc > o.plain.candidate.valAcc ? 'dendritic' : 'plain');
  assert.match(o.reason, /linear expansion \(one set per layer, 4x its channels, folded into the weights; \d+ epochs\)/);
  const again = trainCheckbox(c, d);
  assert.equal(again.dendritic!.candidate.valAcc, o.dendritic.candidate.valAcc, 'deterministic');
});

test('dendrite-route expand resumes in its second phase: from a checkpoint after any of its epochs the shipped and candidate weights are bit-identical', () => {
  const d = data();
  const c = config({ epochs: 5 });
  const second: Uint8Array[] = [];
  const reference = trainAndChoose(c, d, { onSecondCheckpoint: (s) => second.push(encodeRunCheckpoint('fp', { second: s })) });
  assert.ok(reference.payoff?.dendritic, reference.payoff?.reason);
  assert.ok(second.length >= 3, `${second.length} second-phase checkpoints`);
  const snap = (m: { snapshot(): Float32Array[] }): number[][] => m.snapshot().map((a) => Array.from(a));
  for (const at of [0, 2]) {
    const path = join(dir, `expand-${at}.dndckpt`);
    writeFileSync(path, second[at]!);
    const point = readResumePoint(path, 'fp');
    const resumed = trainAndChoose(c, d, { resumeSecond: point.second! });
    assert.deepEqual(snap(resumed.dendritic.model), snap(reference.dendritic.model));
    assert.deepEqual(snap(resumed.shipped.model), snap(reference.shipped.model));
    assert.equal(resumed.payoff!.shipped, reference.payoff!.shipped);
  }
});

test('dendrite-route expand: when the restarts schedule ends the run, the best epoch is restored and counted (the expansion is not a set the cycle added)', () => {
  const d = data();
  const o = trainCheckbox(config({ epochs: 200 }), d);
  const loop = o.dendritic!.loop;
  assert.ok(
    loop.events.some((e) => e.type === 'training_complete'),
    `the schedule ended the run: ${loop.events.map((e) => e.type).join(', ')}`,
  );
  assert.ok(loop.epochsRun > 0 && loop.epochsRun < 200, `${loop.epochsRun} epochs`);
  assert.ok(loop.best.epoch >= 1 && loop.best.epoch <= loop.epochsRun);
  assert.equal(o.dendritic!.candidate.valAcc, loop.best.val_acc, 'the candidate is the best epoch, restored');
  assert.ok(
    loop.history.every((h) => h.dendrite_sets === 0),
    'no set added by the cycle',
  );
});

test('dendrite-route expand uses none of the cycle knobs: set away from their defaults they are named in a warning, never dropped silently', () => {
  assert.equal(unusedByExpandWarning(config()), undefined, 'defaults: nothing to say');
  const w = unusedByExpandWarning(config({ dendriteRank: 3, splitLearningRate: false }));
  assert.match(w ?? '', /--split-learning-rate, --dendrite-rank have no effect with dendrite-route expand .*--dendrite-route fold/);
  const d = data();
  const o = trainCheckbox(config({ dendriteRank: 3 }), d);
  assert.match(o.warning ?? '', /--dendrite-rank has no effect with dendrite-route expand/);
  assert.equal(trainCheckbox(config({ dendriteRank: 3, dendriteRoute: 'fold' }), d).warning, undefined, 'fold uses it');
});
