import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDendriteSet,
  countParameters,
  dendriteSetCount,
  parametersPerNextSet,
  removeLastDendriteSet,
  selectDendriteLayers,
} from '../../src/dendrites/apply.js';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D } from '../../src/engine/layers/conv.js';
import { ReLU } from '../../src/engine/layers/activation.js';
import { Flatten } from '../../src/engine/layers/reshape.js';
import { Sequential } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import { testConfig } from '../helpers/config.js';

function model(): Sequential {
  const rng = new Rng(1);
  return new Sequential(
    [8, 2],
    [
      new Conv1D({ name: 'conv', inChannels: 2, filters: 4, kernelSize: 3, rng }),
      new ReLU('relu'),
      new Flatten({ name: 'flat' }),
      new Dense({ name: 'out', inFeatures: 32, units: 3, rng }),
    ],
  );
}

test('layer selection: all, output, hidden, first', () => {
  const m = model();
  assert.deepEqual(selectDendriteLayers(m, 'all'), [0, 3]);
  assert.deepEqual(selectDendriteLayers(m, 'output'), [3]);
  assert.deepEqual(selectDendriteLayers(m, 'hidden'), [0]);
  assert.deepEqual(selectDendriteLayers(m, 'first'), [0]);
  const rng = new Rng(3);
  const three = new Sequential(
    [8, 2],
    [
      new Conv1D({ name: 'c1', inChannels: 2, filters: 4, kernelSize: 3, rng }),
      new Conv1D({ name: 'c2', inChannels: 4, filters: 4, kernelSize: 3, rng }),
      new Flatten({ name: 'flat' }),
      new Dense({ name: 'out', inFeatures: 32, units: 3, rng }),
    ],
  );
  assert.deepEqual(selectDendriteLayers(three, 'hidden'), [0, 1]);
  assert.deepEqual(selectDendriteLayers(three, 'first'), [0]);
  const single = new Sequential([4], [new Dense({ name: 'only', inFeatures: 4, units: 2, rng })]);
  assert.deepEqual(selectDendriteLayers(single, 'first'), [0]);
});

test('adding sets wraps in place, keeps the outputs and parameter names; removing restores the count and values', () => {
  const m = model();
  const rng = new Rng(2);
  const x = new Float32Array(3 * 16).map(() => rng.normal());
  const before = m.predictProbs(x, 3);
  const namesBefore = m.params().map((p) => p.name);
  const plain = countParameters(m);
  assert.equal(plain.dendrite, 0);
  const perSet = parametersPerNextSet(m, testConfig({ dendriteLayers: 'all' }));
  assert.equal(perSet, plain.total + 4 + 3, 'a set copies the wrapped layers plus one v per neuron');
  addDendriteSet(m, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid' }), rng);
  assert.ok(m.layers[0] instanceof DendriticLayer && m.layers[3] instanceof DendriticLayer);
  assert.deepEqual(m.predictProbs(x, 3), before);
  assert.deepEqual(
    m
      .params()
      .map((p) => p.name)
      .slice(0, 2),
    namesBefore.slice(0, 2),
  );
  assert.equal(countParameters(m).total, plain.total + perSet);
  addDendriteSet(m, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid' }), rng);
  assert.equal(dendriteSetCount(m), 2);
  assert.equal(countParameters(m).total, plain.total + 2 * perSet + 4 + 3, 'second set adds its cascade weights');
  removeLastDendriteSet(m);
  removeLastDendriteSet(m);
  assert.equal(dendriteSetCount(m), 0);
  assert.equal(countParameters(m).total, plain.total);
  assert.deepEqual(
    m.params().map((p) => p.name),
    namesBefore,
  );
  assert.throws(() => removeLastDendriteSet(m));
});

test('output-only dendrites leave hidden layers unwrapped and cost only the output layer', () => {
  const m = model();
  const plain = countParameters(m).total;
  addDendriteSet(m, testConfig({ dendriteLayers: 'output', candidateWeightInit: 0.01, dendriteActivation: 'tanh' }), new Rng(3));
  assert.ok(!(m.layers[0] instanceof DendriticLayer));
  assert.equal(countParameters(m).total - plain, 32 * 3 + 3 + 3);
});
