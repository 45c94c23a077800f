/**
 * One MAC rule (docs/report-json.md, "MACs"): the engine's count (Layer.macs, report.json's model.macs and
 * ONNX deployment[].macs) equals the count read from the exported .tflite file (tfliteDeviceCost, the
 * checkbox's `macs` budget figure and TFLite deployment[].macs), for every family, plain and with dendrites.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel, type BuildModelOptions } from '../../src/models/select.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { tfliteDeviceCost } from '../../src/export/tflite/device-cost.js';
import { testConfig } from '../helpers/config.js';

const FAMILIES: BuildModelOptions[] = [
  { kind: 'ei-kws', features: 650, classes: 10, width: 1, dropout: 0.25, seed: 1 },
  { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
  { kind: 'conv2d', features: 12 * 12, inputShape: [12, 12, 1], classes: 4, width: 0.5, dropout: 0.25, seed: 3 },
];

const int8Macs = (model: ReturnType<typeof buildModel>, rng: Rng): number => {
  const rows = 16;
  const x = Float32Array.from({ length: rows * model.features }, () => rng.normal());
  return tfliteDeviceCost(exportTfliteInt8(model.toGraph(), x, rows).bytes).macs;
};

test('MAC rule: engine count = .tflite count (int8 and float) for ei-kws, dense, conv2d, plain and with gated/merged/linear sets', () => {
  const rng = new Rng(7);
  for (const options of FAMILIES) {
    for (const [sets, form, rank] of [
      [0, 'gated', 0],
      [2, 'gated', 2],
      [2, 'merged', 2],
      [1, 'linear', 2],
    ] as const) {
      const model = buildModel(options);
      for (let s = 0; s < sets; s++) {
        addDendriteSet(
          model,
          testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: rank, dendriteForm: form }),
          rng,
        );
      }
      const what = `${options.kind} ${sets} ${form} sets`;
      const engine = model.macs();
      assert.equal(int8Macs(model, rng), engine, `${what}: int8 file`);
      assert.equal(tfliteDeviceCost(exportTfliteFloat(model.toGraph())).macs, engine, `${what}: float file`);
      if (sets > 0 && form !== 'linear') assert.ok(engine > buildModel(options).macs(), `${what}: the branches' conv/dense are MACs`);
      if (form === 'linear') assert.equal(engine, buildModel(options).macs(), `${what}: linear sets fold, adding none`);
    }
  }
});

test('MAC rule: ei-kws width 1 on 50 x 13 MFCC, 10 classes, is 27,280 MACs (pooling taps are not MACs)', () => {
  const model = buildModel(FAMILIES[0]!);
  // Conv1D 50*8*(3*13) + Conv1D 25*16*(3*8) + Dense 13*16*10; the pools' 400 + 416 window taps are not counted.
  assert.equal(model.macs(), 15_600 + 9_600 + 2_080);
  assert.equal(model.macs(), 27_280);
  assert.equal(int8Macs(model, new Rng(1)), 27_280);
});

test('MAC rule: conv2d width 0.25 on 8x8 digits, 10 classes, is 2,464 MACs', () => {
  const model = buildModel({ kind: 'conv2d', features: 64, inputShape: [8, 8, 1], classes: 10, width: 0.25, dropout: 0.25, seed: 1 });
  assert.equal(model.macs(), 2_464);
  assert.equal(int8Macs(model, new Rng(1)), 2_464);
});
