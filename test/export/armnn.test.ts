/**
 * A second, independent TFLite runtime: Arm NN (Debian's python3-pyarmnn: Arm's own TFLite parser and
 * CpuRef reference kernels, no TensorFlow code) runs the exported model.tflite and
 * model_quantized_int8_io.tflite of every shipped model family, plain and with dendrites, and must
 * agree with the TensorFlow Lite interpreter the training run measures with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpyFloat32, writeNpy } from '../../src/data/npy.js';
import { Rng } from '../../src/engine/rng.js';
import type { Sequential } from '../../src/engine/model.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel, type BuildModelOptions } from '../../src/models/select.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { readTfliteIo } from '../../src/export/tflite/schema.js';
import { REPO_ROOT, tempDir } from '../helpers/ei-data.js';
import { testConfig } from '../helpers/config.js';
import { needs } from '../helpers/prerequisites.js';

const PYTHON = '/usr/bin/python3';
const RUNNER = join(REPO_ROOT, 'test/export/armnn_run.py');
const SAMPLES = 64;

// .ci/run installs python3-pyarmnn; a machine without it cannot run this oracle.
const skip = needs('pyarmnn');

function runArmnn(dir: string, name: string, model: Uint8Array, x: Float32Array, n: number, features: number): Float32Array {
  const modelPath = join(dir, `${name}.tflite`);
  const xPath = join(dir, `${name}-x.npy`);
  const yPath = join(dir, `${name}-y.npy`);
  writeFileSync(modelPath, model);
  writeNpy(xPath, x, [n, features], 'float32');
  const r = spawnSync(PYTHON, [RUNNER, modelPath, xPath, yPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${name}: Arm NN failed: ${r.stderr}`);
  return readNpyFloat32(yPath).data;
}

function randomize(model: Sequential, rng: Rng): void {
  for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
}

function compare(a: Float32Array, b: Float32Array, n: number, classes: number): { maxDiff: number; agreement: number } {
  let maxDiff = 0;
  let agree = 0;
  for (let s = 0; s < n; s++) {
    let ia = 0;
    let ib = 0;
    for (let c = 0; c < classes; c++) {
      const k = s * classes + c;
      maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
      if (a[k]! > a[s * classes + ia]!) ia = c;
      if (b[k]! > b[s * classes + ib]!) ib = c;
    }
    if (ia === ib) agree++;
  }
  return { maxDiff, agreement: agree / n };
}

test('Arm NN runs every exported TFLite file like the TFLite interpreter (float and int8, dendrites included)', { skip, timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir('dendritic-armnn-');
  try {
    const rng = new Rng(21);
    const families: BuildModelOptions[] = [
      { kind: 'ei-kws', features: 650, classes: 6, width: 1, dropout: 0.25, seed: 1 },
      { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
      { kind: 'conv2d', features: 12 * 12, inputShape: [12, 12, 1], classes: 4, width: 0.5, dropout: 0.25, seed: 3 },
    ];
    for (const options of families) {
      for (const sets of [0, 2]) {
        const model = buildModel(options);
        randomize(model, rng);
        for (let s = 0; s < sets; s++)
          addDendriteSet(model, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: s === 0 ? 'sigmoid' : 'tanh' }), rng);
        // Non-zero dendrite output weights, so the branches matter.
        for (const p of model.params()) if (/\/(v|w)\d/.test(p.name)) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.5;
        const name = `${options.kind}-${sets}sets`;
        const x = Float32Array.from({ length: SAMPLES * model.features }, () => rng.normal());
        const graph = model.toGraph();

        const float = exportTfliteFloat(graph);
        const tfl = await runTflite(float, x, SAMPLES, model.features);
        const arm = runArmnn(dir, `${name}-float`, float, x, SAMPLES, model.features);
        const f = compare(tfl, arm, SAMPLES, model.classes);
        assert.ok(f.maxDiff <= 1e-5, `${name} float: max |TFLite - Arm NN| = ${f.maxDiff}`);
        assert.equal(f.agreement, 1, `${name} float: argmax agreement ${f.agreement}`);

        const int8 = exportTfliteInt8(graph, x, SAMPLES).bytes;
        const tflQ = await runTflite(int8, x, SAMPLES, model.features);
        const armQ = runArmnn(dir, `${name}-int8`, int8, x, SAMPLES, model.features);
        const q = compare(tflQ, armQ, SAMPLES, model.classes);
        // The int8 kernels are independent implementations (TFLite's softmax uses fixed-point exp, Arm NN's
        // reference backend dequantises): measured here, they differ by up to 10 output steps (0.039) on
        // the KWS model and 1-4 elsewhere, with every argmax equal. The bound is 13 steps of 1/256.
        const step = readTfliteIo(int8).outputs[0]!.scale!;
        assert.ok(q.maxDiff <= 13 * step + 1e-7, `${name} int8: max |TFLite - Arm NN| = ${q.maxDiff} (output step ${step})`);
        assert.ok(q.agreement >= 0.95, `${name} int8: argmax agreement ${q.agreement}`);
      }
    }
  } finally {
    cleanup();
  }
});
