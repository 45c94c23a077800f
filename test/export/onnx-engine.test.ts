/**
 * Parity of the exported ONNX model with the engine itself: the engine's predictProbs and onnxruntime must
 * give the same probabilities (|diff| <= 1e-4) and the same argmax on every sample, with random weights
 * (including non-trivial biases and batch-norm statistics, which fresh layers would leave at 0 and 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/engine/model.js';
import type { Layer } from '../../src/engine/layer.js';
import { Rng } from '../../src/engine/rng.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { ReLU, Sigmoid, Tanh } from '../../src/engine/layers/activation.js';
import { AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D } from '../../src/engine/layers/pool.js';
import { Dropout } from '../../src/engine/layers/dropout.js';
import { Flatten } from '../../src/engine/layers/reshape.js';
import { BatchNorm } from '../../src/engine/layers/batchnorm.js';
import { exportOnnx } from '../../src/export/onnx/exporter.js';
import { verifyOnnx } from '../../src/export/onnx/verify.js';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import type { Activation } from '../../src/engine/kernels.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel, type BuildModelOptions } from '../../src/models/select.js';
import { testConfig } from '../helpers/config.js';

const SAMPLES = 24;

function randomizeParams(model: Sequential, rng: Rng): void {
  for (const p of model.params()) {
    for (let i = 0; i < p.value.length; i++) {
      p.value[i] = p.name.endsWith('moving_variance') ? rng.uniform(0.5, 2) : rng.normal() * 0.3;
    }
  }
}

async function assertParity(name: string, model: Sequential, rng: Rng): Promise<void> {
  randomizeParams(model, rng);
  const x = new Float32Array(SAMPLES * model.features);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(SAMPLES).map(() => rng.int(model.classes));
  const engine = model.predictProbs(x, SAMPLES);
  const onnx = exportOnnx(model.toGraph());
  const result = await verifyOnnx(onnx, x, SAMPLES, model.features, engine, model.classes, labels);
  assert.ok(result.maxAbsDiff <= 1e-4, `${name}: max |engine - onnx| = ${result.maxAbsDiff}`);
  assert.equal(result.disagreements, 0, `${name}: argmax differs on ${result.disagreements} samples`);
  assert.equal(result.accuracyCandidate, result.accuracyReference);
}

test('engine parity: Edge Impulse keyword-spotting shape (conv1d, maxpool same, dropout, flatten, dense)', async () => {
  const rng = new Rng(11);
  const layers: Layer[] = [
    new Conv1D({ name: 'conv1', inChannels: 13, filters: 8, kernelSize: 3, padding: 'same', rng }),
    new ReLU('relu1'),
    new MaxPool1D({ name: 'pool1', poolSize: 2, stride: 2, padding: 'same' }),
    new Dropout({ name: 'drop1', rate: 0.25 }),
    new Conv1D({ name: 'conv2', inChannels: 8, filters: 16, kernelSize: 3, padding: 'same', rng }),
    new ReLU('relu2'),
    new MaxPool1D({ name: 'pool2', poolSize: 2, stride: 2, padding: 'same' }),
    new Dropout({ name: 'drop2', rate: 0.25 }),
    new Flatten({ name: 'flatten' }),
    new Dense({ name: 'out', inFeatures: 13 * 16, units: 4, rng }),
  ];
  await assertParity('ei-kws', new Sequential([50, 13], layers), rng);
});

test('engine parity: dense network with sigmoid and tanh', async () => {
  const rng = new Rng(12);
  const layers: Layer[] = [
    new Dense({ name: 'd1', inFeatures: 650, units: 20, rng }),
    new Sigmoid('s1'),
    new Dense({ name: 'd2', inFeatures: 20, units: 10, rng }),
    new Tanh('t2'),
    new Dense({ name: 'out', inFeatures: 10, units: 3, rng }),
  ];
  await assertParity('dense', new Sequential([650], layers), rng);
});

test('engine parity: conv2d with batch norm, a strided valid conv, max and avg pools with same padding', async () => {
  const rng = new Rng(13);
  const layers: Layer[] = [
    new Conv2D({ name: 'c1', inChannels: 1, filters: 6, kernelSize: 3, padding: 'same', rng }),
    new BatchNorm({ name: 'bn1', channels: 6 }),
    new ReLU('r1'),
    new MaxPool2D({ name: 'p1', poolSize: 2, padding: 'same' }),
    new Conv2D({ name: 'c2', inChannels: 6, filters: 8, kernelSize: [3, 2], stride: [2, 1], padding: 'valid', rng }),
    new ReLU('r2'),
    new AvgPool2D({ name: 'p2', poolSize: 2, padding: 'same' }),
    new Flatten({ name: 'flat' }),
    new Dense({ name: 'out', inFeatures: 2 * 3 * 8, units: 5, rng }),
  ];
  await assertParity('conv2d', new Sequential([15, 11, 1], layers), rng);
});

test('engine parity: conv1d stride 2 with batch norm and avgpool same on an odd length', async () => {
  const rng = new Rng(14);
  const layers: Layer[] = [
    new Conv1D({ name: 'c1', inChannels: 13, filters: 6, kernelSize: 4, stride: 2, padding: 'same', rng }),
    new BatchNorm({ name: 'bn', channels: 6 }),
    new Tanh('t'),
    new AvgPool1D({ name: 'p', poolSize: 3, stride: 2, padding: 'same' }),
    new Flatten({ name: 'f' }),
    new Dense({ name: 'out', inFeatures: 13 * 6, units: 3, rng }),
  ];
  await assertParity('conv1d-s2', new Sequential([49, 13], layers), rng);
});

test('engine parity: dendritic conv1d, conv2d and dense layers with two cascaded dendrite sets', async () => {
  const rng = new Rng(15);
  const wrap = (layer: Conv1D | Conv2D | Dense, activations: Activation[]): DendriticLayer => {
    const wrapped = new DendriticLayer(layer);
    for (const activation of activations) wrapped.addSet(rng, testConfig({ candidateWeightInit: 0.5, dendriteActivation: activation }));
    return wrapped;
  };
  const conv1d: Layer[] = [
    wrap(new Conv1D({ name: 'c1', inChannels: 13, filters: 6, kernelSize: 3, stride: 2, padding: 'same', rng }), ['sigmoid', 'tanh']),
    new ReLU('r1'),
    new MaxPool1D({ name: 'p1', poolSize: 2, padding: 'same' }),
    wrap(new Conv1D({ name: 'c2', inChannels: 6, filters: 8, kernelSize: 3, padding: 'valid', rng }), ['relu', 'sigmoid']),
    new ReLU('r2'),
    new Flatten({ name: 'f' }),
    wrap(new Dense({ name: 'out', inFeatures: 6 * 8, units: 4, rng }), ['sigmoid', 'sigmoid']),
  ];
  // randomizeParams also makes v and the cascade weights non-zero, so every dendrite path matters.
  await assertParity('dendritic conv1d', new Sequential([31, 13], conv1d), rng);

  const conv2d: Layer[] = [
    wrap(new Conv2D({ name: 'c1', inChannels: 2, filters: 4, kernelSize: 3, padding: 'same', rng }), ['tanh', 'sigmoid']),
    new ReLU('r1'),
    new AvgPool2D({ name: 'p1', poolSize: 2, padding: 'same' }),
    new Flatten({ name: 'f' }),
    wrap(new Dense({ name: 'out', inFeatures: 4 * 3 * 4, units: 3, rng }), ['sigmoid']),
  ];
  await assertParity('dendritic conv2d', new Sequential([7, 6, 2], conv2d), rng);
});

test('engine parity: the shipped model families (buildModel ei-kws, dense, conv2d), plain and with dendrites', async () => {
  const rng = new Rng(16);
  const families: BuildModelOptions[] = [
    { kind: 'ei-kws', features: 650, classes: 4, width: 1, dropout: 0.25, seed: 1 },
    { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
    { kind: 'conv2d', features: 20 * 20, inputShape: [20, 20, 1], classes: 5, width: 0.5, dropout: 0.25, seed: 3 },
  ];
  for (const options of families) {
    await assertParity(options.kind, buildModel(options), rng);
    const dendritic = buildModel(options);
    addDendriteSet(dendritic, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: 'sigmoid' }), rng);
    addDendriteSet(dendritic, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: 'tanh' }), rng);
    await assertParity(`${options.kind} + 2 dendrite sets`, dendritic, rng);
  }
});
