import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DendriteCycle } from '../../src/dendrites/cycle.js';
import { dendriteSetCount } from '../../src/dendrites/apply.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Sequential } from '../../src/engine/model.js';
import { Adam } from '../../src/engine/optim.js';
import { Rng } from '../../src/engine/rng.js';
import { trainLoop } from '../../src/train/loop.js';
import { testConfig } from '../helpers/config.js';

function xor(n: number, rng: Rng): { x: Float32Array; y: Int32Array; n: number; features: number } {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i % 2;
    const b = (i >> 1) % 2;
    x[2 * i] = (a ? 1 : -1) + rng.normal() * 0.1;
    x[2 * i + 1] = (b ? 1 : -1) + rng.normal() * 0.1;
    y[i] = a ^ b;
  }
  return { x, y, n, features: 2 };
}

for (const training of ['gd', 'correlation'] as const) {
  test(`the training loop with the ${training} cycle adds a set when XOR stalls and ends near 100%`, () => {
    const rng = new Rng(5);
    const train = xor(64, rng);
    const val = xor(32, rng);
    const model = new Sequential([2], [new Dense({ name: 'out', inFeatures: 2, units: 2, rng })]);
    const cycle = new DendriteCycle(
      testConfig({
        switchMode: 'history',
        nEpochsToSwitch: 15,
        maxDendrites: 2,
        dontGiveUpUnlessLrLowered: false,
        dendriteLayers: 'all',
        dendriteActivation: 'sigmoid',
        candidateWeightInit: training === 'gd' ? 0.5 : 0.01,
        dendriteTraining: training,
        correlationEpochs: 30,
        correlationCandidates: 4,
        learningRate: 0.05,
        batchSize: 16,
      }),
    );
    const result = trainLoop(model, train, val, {
      epochs: 300,
      batchSize: 16,
      learningRate: 0.05,
      seed: 1,
      makeOptimizer: (params, lr) => new Adam(params, { lr }),
      makeScheduler: () => null,
      cycle,
    });
    const added = result.events.filter((e) => e.type === 'added');
    assert.ok(added.length >= 1, JSON.stringify(result.events));
    assert.ok(dendriteSetCount(model) >= 1);
    const firstAdd = added[0]!.epoch;
    const plainBest = Math.max(...result.history.filter((h) => h.epoch <= firstAdd).map((h) => h.val_acc));
    assert.ok(plainBest <= 0.8, `linear phase ${plainBest}`);
    assert.ok(result.best.val_acc >= 0.95, `after dendrites ${result.best.val_acc}; events ${JSON.stringify(result.events)}`);
  });
}
