import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoKind, buildModel, describeModel, formatModel } from '../../src/models/select.js';
import { UserError } from '../../src/errors.js';
import { Rng } from '../../src/engine/rng.js';
import { Adam } from '../../src/engine/optim.js';
import { softmaxCrossEntropy } from '../../src/engine/loss.js';
import type { Sequential } from '../../src/engine/model.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { testConfig } from '../helpers/config.js';

const base = { classes: 12, width: 1, dropout: 0.25, seed: 0 };

test('ei-kws parameter counts equal the PyTorch reference (docs/dendrites.md table)', () => {
  // Counts printed by /work/shared/bench/torch_kws_ref.py for 650 features, 12 classes.
  for (const [width, params] of [
    [0.5, 1524],
    [1, 3228],
    [2, 7212],
    [4, 17484],
  ] as const) {
    const m = buildModel({ ...base, kind: 'ei-kws', features: 650, width });
    assert.equal(m.parameterCount(), params, `width ${width}`);
  }
  const d = describeModel(buildModel({ ...base, kind: 'ei-kws', features: 650 }));
  assert.deepEqual(
    d.layers.map((l) => l.outputShape),
    [[50, 8], [50, 8], [25, 8], [25, 8], [25, 16], [25, 16], [13, 16], [13, 16], [208], [12]],
  );
  assert.match(formatModel(d), /params 3228/);
});

test('auto rule: image shape -> conv2d, multiple of 13 -> ei-kws, else dense', () => {
  assert.equal(autoKind({ features: 96 * 96, inputShape: [96, 96, 1] }), 'conv2d');
  assert.equal(autoKind({ features: 650 }), 'ei-kws');
  assert.equal(autoKind({ features: 650, inputShape: [650] }), 'ei-kws');
  assert.equal(autoKind({ features: 33 }), 'dense');
  // A multiple of 13 that is too short to be a spectrogram (3 or 7 frames) is a feature vector.
  assert.equal(autoKind({ features: 39 }), 'dense');
  assert.equal(autoKind({ features: 7 * 13 }), 'dense');
  assert.equal(autoKind({ features: 8 * 13 }), 'ei-kws');
  const img = buildModel({ ...base, kind: 'auto', features: 12 * 10 * 3, inputShape: [12, 10, 3] });
  assert.deepEqual(img.inputShape, [12, 10, 3]);
  assert.deepEqual(describeModel(img).layers.at(-3)!.outputShape, [3, 3, 16]);
  assert.deepEqual(buildModel({ ...base, kind: 'conv2d', features: 28 * 28 }).inputShape, [28, 28, 1]);
  assert.deepEqual(
    buildModel({ ...base, kind: 'dense', features: 33, width: 2 })
      .params()
      .map((p) => p.shape),
    [[33, 40], [40], [40, 20], [20], [20, 12], [12]],
  );
  assert.equal(buildModel({ ...base, kind: 'ei-kws', features: 650, width: 0.01 }).parameterCount() > 0, true, 'channels at least 1');
});

test('a shape that does not fit the model is a UserError naming model and the feature count', () => {
  assert.throws(
    () => buildModel({ ...base, kind: 'ei-kws', features: 100 }),
    (e: unknown) => e instanceof UserError && /model/.test(e.message) && /100 features/.test(e.message) && /13/.test(e.message),
  );
  assert.throws(
    () => buildModel({ ...base, kind: 'conv2d', features: 101 }),
    (e: unknown) => e instanceof UserError && /model/.test(e.message) && /101 features/.test(e.message),
  );
  assert.throws(() => buildModel({ ...base, kind: 'dense', features: 10, inputShape: [3, 3, 1] }), UserError);
  assert.throws(() => buildModel({ ...base, kind: 'dense', features: 10, classes: 1 }), /classes/);
});

/** Plain training loop: returns training accuracy after the last epoch, in inference mode. */
function train(m: Sequential, X: Float32Array, Y: Int32Array, epochs: number, lr: number): number {
  const n = Y.length;
  const f = m.features;
  const rng = new Rng(1);
  const opt = new Adam(m.params(), { lr });
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const xb = new Float32Array(32 * f);
  const yb = new Int32Array(32);
  for (let e = 0; e < epochs; e++) {
    rng.shuffle(order);
    for (let s = 0; s + 32 <= n; s += 32) {
      for (let b = 0; b < 32; b++) {
        xb.set(X.subarray(order[s + b]! * f, (order[s + b]! + 1) * f), b * f);
        yb[b] = Y[order[s + b]!]!;
      }
      opt.zeroGrad();
      const { dlogits } = softmaxCrossEntropy(m.forward({ data: xb, shape: [32, f] }, { training: true, rng }), yb);
      m.backward(dlogits);
      opt.step();
    }
  }
  const p = m.predictProbs(X, n);
  const k = m.classes;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let arg = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + arg]!) arg = j;
    if (arg === Y[i]) correct++;
  }
  return correct / n;
}

test('dense model learns a separable synthetic problem to > 90% in a few epochs', () => {
  const rng = new Rng(21);
  const n = 640,
    f = 20,
    k = 3;
  const centres = Array.from({ length: k }, () => Float32Array.from({ length: f }, () => rng.uniform(-1, 1)));
  const X = new Float32Array(n * f);
  const Y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    Y[i] = rng.int(k);
    for (let j = 0; j < f; j++) X[i * f + j] = centres[Y[i]!]![j]! + 0.3 * rng.normal();
  }
  const m = buildModel({ ...base, kind: 'auto', features: f, classes: k, dropout: 0.1 });
  assert.equal(m.layers[0]!.kind, 'dense');
  const acc = train(m, X, Y, 5, 0.01);
  assert.ok(acc > 0.9, `accuracy ${acc}`);
});

test('ei-kws overfits a small random synthetic set', () => {
  const rng = new Rng(22);
  const n = 64,
    f = 130,
    k = 4;
  const X = Float32Array.from({ length: n * f }, () => rng.normal());
  const Y = Int32Array.from({ length: n }, () => rng.int(k));
  const m = buildModel({ ...base, kind: 'auto', features: f, classes: k, dropout: 0, width: 2 });
  assert.equal(m.layers[0]!.kind, 'conv1d');
  const acc = train(m, X, Y, 60, 0.01);
  assert.ok(acc >= 0.95, `training accuracy ${acc}`);
});

test("describeModel names a dendritic layer by what it wraps, as report.json's layers[].kind documents", () => {
  const model = buildModel({ ...base, kind: 'ei-kws', features: 650 });
  addDendriteSet(model, testConfig({ dendriteLayers: 'hidden' }), new Rng(1));
  const d = describeModel(model);
  assert.deepEqual(
    d.layers.map((l) => l.kind),
    ['dendritic(conv1d)', 'relu', 'maxpool1d', 'dropout', 'dendritic(conv1d)', 'relu', 'maxpool1d', 'dropout', 'flatten', 'dense'],
  );
  assert.match(formatModel(d), /^conv1d_1 +dendritic\(conv1d\) \[50, 8\]/m);
});
