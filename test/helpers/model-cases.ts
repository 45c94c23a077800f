/**
 * The exported TFLite files the device oracles (test/export/tflm.test.ts, cortexm.test.ts) run: every model
 * family, plain and with dendrites (low-rank and full, every activation, gated and merged), float and int8,
 * and a graph with the operators no family uses today.
 */
import { Rng } from '../../src/engine/rng.js';
import type { Sequential } from '../../src/engine/model.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel, type BuildModelOptions } from '../../src/models/select.js';
import { GraphBuilder, type Graph } from '../../src/engine/graph.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { testConfig } from './config.js';

export const ROWS = 96;

export interface Case {
  name: string;
  float: Uint8Array;
  int8: Uint8Array;
  x: Float32Array;
  features: number;
  classes: number;
}

function randomize(model: Sequential, rng: Rng): void {
  for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
}

/** Every family, with 0, 1 and 3 dendrite sets (full and rank-2 branches, sigmoid/tanh/relu; both dendrite forms). */
export function familyCases(): Case[] {
  const rng = new Rng(33);
  const families: BuildModelOptions[] = [
    { kind: 'ei-kws', features: 650, classes: 6, width: 1, dropout: 0.25, seed: 1 },
    { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
    { kind: 'conv2d', features: 12 * 12, inputShape: [12, 12, 1], classes: 4, width: 0.5, dropout: 0.25, seed: 3 },
  ];
  const cases: Case[] = [];
  for (const options of families) {
    // dendrite-form merged: 1 and 3 tanh sets merge into one down/f/up/ADD per layer; with mixed
    // activations (rank 0) each activation's sets merge on their own.
    const variants = [
      [0, 0, 'gated', false],
      [1, 2, 'gated', false],
      [3, 0, 'gated', false],
      [3, 2, 'gated', false],
      [1, 2, 'merged', true],
      [3, 2, 'merged', true],
      [3, 0, 'merged', false],
    ] as const;
    for (const [sets, rank, form, tanhOnly] of variants) {
      const model = buildModel(options);
      randomize(model, rng);
      for (let s = 0; s < sets; s++) {
        const activation = tanhOnly ? 'tanh' : (['tanh', 'sigmoid', 'relu'] as const)[s]!;
        addDendriteSet(
          model,
          testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: activation, dendriteRank: rank, dendriteForm: form }),
          rng,
        );
      }
      for (const p of model.params()) if (/\/(v|w)\d/.test(p.name)) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.5;
      const x = Float32Array.from({ length: ROWS * model.features }, () => rng.normal());
      const graph = model.toGraph();
      cases.push({
        name: `${options.kind} ${sets} sets rank ${rank}${form === 'merged' ? ' merged' : ''}`,
        float: exportTfliteFloat(graph),
        int8: exportTfliteInt8(graph, x, ROWS).bytes,
        x,
        features: model.features,
        classes: model.classes,
      });
    }
  }
  return cases;
}

/** Operators no family uses today but the exporter can emit: average pooling and a per-channel affine. */
export function otherOpsCase(): Case {
  const rng = new Rng(5);
  const randn = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * s);
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 24], { op: 'input', features: 24 });
  const r = g.add('r', [x], [1, 4, 6, 1], { op: 'reshape', shape: [4, 6, 1] });
  const c = g.add('c', [r], [1, 4, 6, 5], {
    op: 'conv',
    dims: 2,
    kernel: randn(3 * 3 * 1 * 5, 0.5),
    kernelShape: [3, 3, 1, 5],
    bias: randn(5, 0.1),
    strides: [1, 1],
    padding: 'same',
  });
  const a = g.add('a', [c], [1, 4, 6, 5], { op: 'channel_affine', scale: randn(5, 1), shift: randn(5, 0.2) });
  const p = g.add('p', [a], [1, 2, 3, 5], { op: 'avgpool', dims: 2, pool: [2, 2], strides: [2, 2], padding: 'valid' });
  const f = g.add('f', [p], [1, 30], { op: 'flatten' });
  const d = g.add('d', [f], [1, 3], { op: 'dense', kernel: randn(90, 0.3), inFeatures: 30, outFeatures: 3, bias: randn(3, 0.1) });
  const s = g.add('probs', [d], [1, 3], { op: 'softmax' });
  const graph: Graph = { nodes: g.nodes, input: x, output: s, classes: 3 };
  const xs = randn(ROWS * 24, 1);
  return {
    name: 'avgpool + channel affine',
    float: exportTfliteFloat(graph),
    int8: exportTfliteInt8(graph, xs, ROWS).bytes,
    x: xs,
    features: 24,
    classes: 3,
  };
}
