/**
 * TFLite export measured with a real interpreter (node-tflite: TFLite 2.2's C library and kernels).
 * Oracle: the float64 reference interpreter evalGraph (itself tested by hand-computed cases).
 * Float: max |diff| <= 1e-5 on probabilities. Int8 (calibrated on the same inputs): argmax agreement
 * and a small probability difference. The graphs cover every Graph op the lowering handles.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalGraphBatch } from '../../src/export/graph-eval.js';
import { GraphBuilder, type Graph } from '../../src/engine/graph.js';
import { exportTfliteInt8, quantizeWeights, rangeToParams } from '../../src/export/tflite/quantize.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { readTfliteIo, TensorType } from '../../src/export/tflite/schema.js';
import { Rng } from '../../src/engine/rng.js';

function randn(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

type Build = (g: GraphBuilder, rng: Rng) => { output: string; classes: number; features: number };

function makeGraph(build: Build, seed = 1): { graph: Graph; features: number } {
  const g = new GraphBuilder();
  const rng = new Rng(seed);
  const { output, classes, features } = build(g, rng);
  return { graph: { nodes: g.nodes, input: 'input', output, classes }, features };
}

function conv(
  g: GraphBuilder,
  rng: Rng,
  name: string,
  input: string,
  shape: number[],
  dims: 1 | 2,
  k: number[],
  cin: number,
  cout: number,
  strides: number[],
  padding: 'same' | 'valid',
): string {
  const kernelShape = [...k, cin, cout];
  const fanIn = k.reduce((a, b) => a * b, 1) * cin;
  return g.add(name, [input], shape, {
    op: 'conv',
    dims,
    kernel: randn(rng, fanIn * cout, 1 / Math.sqrt(fanIn)),
    kernelShape,
    bias: randn(rng, cout, 0.1),
    strides,
    padding,
  });
}

function dense(g: GraphBuilder, rng: Rng, name: string, input: string, shape: number[], fin: number, fout: number): string {
  return g.add(name, [input], shape, {
    op: 'dense',
    kernel: randn(rng, fin * fout, 1.5 / Math.sqrt(fin)),
    inFeatures: fin,
    outFeatures: fout,
    bias: randn(rng, fout, 0.1),
  });
}

const CASES: Record<string, Build> = {
  // Edge Impulse's keyword-spotting network shape: conv1d same + relu + maxpool same (odd length) x2, dense.
  'conv1d same/valid stride 1/2, odd maxpool, dense': (g, rng) => {
    const x = g.add('input', [], [1, 13 * 4], { op: 'input', features: 52 });
    const r = g.add('r', [x], [1, 13, 4], { op: 'reshape', shape: [13, 4] });
    const c1 = conv(g, rng, 'c1', r, [1, 13, 6], 1, [3], 4, 6, [1], 'same');
    const a1 = g.add('a1', [c1], [1, 13, 6], { op: 'relu' });
    const p1 = g.add('p1', [a1], [1, 7, 6], { op: 'maxpool', dims: 1, pool: [2], strides: [2], padding: 'same' });
    const c2 = conv(g, rng, 'c2', p1, [1, 3, 8], 1, [3], 6, 8, [2], 'valid');
    const a2 = g.add('a2', [c2], [1, 3, 8], { op: 'relu' });
    const f = g.add('f', [a2], [1, 24], { op: 'flatten' });
    const d = dense(g, rng, 'd', f, [1, 5], 24, 5);
    return { output: g.add('probs', [d], [1, 5], { op: 'softmax' }), classes: 5, features: 52 };
  },
  'conv2d same stride 2 + batch-norm folding, avgpool 3x3 same on odd size, conv2d valid': (g, rng) => {
    const x = g.add('input', [], [1, 7 * 5 * 2], { op: 'input', features: 70 });
    const r = g.add('r', [x], [1, 7, 5, 2], { op: 'reshape', shape: [7, 5, 2] });
    const c1 = conv(g, rng, 'c1', r, [1, 4, 3, 4], 2, [3, 3], 2, 4, [2, 2], 'same');
    const bn = g.add('bn', [c1], [1, 4, 3, 4], {
      op: 'channel_affine',
      scale: Float32Array.of(0.5, 1.5, -1, 2),
      shift: Float32Array.of(0.1, -0.2, 0.3, 0),
    });
    const a1 = g.add('a1', [bn], [1, 4, 3, 4], { op: 'relu' });
    const p1 = g.add('p1', [a1], [1, 2, 2, 4], { op: 'avgpool', dims: 2, pool: [3, 3], strides: [2, 2], padding: 'same' });
    const c2 = conv(g, rng, 'c2', p1, [1, 1, 1, 3], 2, [2, 2], 4, 3, [1, 1], 'valid');
    const f = g.add('f', [c2], [1, 3], { op: 'flatten' });
    return { output: g.add('probs', [f], [1, 3], { op: 'softmax' }), classes: 3, features: 70 };
  },
  'dendrite-like DAG: add/mul of two branches, logistic, tanh, unfoldable channel_affine, maxpool 2-D valid': (g, rng) => {
    const x = g.add('input', [], [1, 16], { op: 'input', features: 16 });
    const r = g.add('r', [x], [1, 4, 4, 1], { op: 'reshape', shape: [4, 4, 1] });
    const mp = g.add('mp', [r], [1, 2, 2, 1], { op: 'maxpool', dims: 2, pool: [2, 2], strides: [2, 2], padding: 'valid' });
    const f = g.add('f', [mp], [1, 4], { op: 'flatten' });
    // a channel_affine on a value that is not a conv/dense output stays MUL + ADD with constants
    const aff = g.add('aff', [f], [1, 4], { op: 'channel_affine', scale: Float32Array.of(1, -2, 0.5, 3), shift: Float32Array.of(0, 1, -1, 0.5) });
    const base = dense(g, rng, 'base', aff, [1, 6], 4, 6);
    const branch = dense(g, rng, 'branch', aff, [1, 6], 4, 6);
    const gate = g.add('gate', [branch], [1, 6], { op: 'sigmoid' });
    const t = g.add('t', [branch], [1, 6], { op: 'tanh' });
    const prod = g.add('prod', [gate, t], [1, 6], { op: 'mul' });
    const v = g.add('v', [prod], [1, 6], { op: 'channel_affine', scale: randn(rng, 6, 1) });
    const sum = g.add('sum', [base, v], [1, 6], { op: 'add' });
    const act = g.add('act', [sum], [1, 6], { op: 'relu' });
    const out = dense(g, rng, 'out', act, [1, 4], 6, 4);
    return { output: g.add('probs', [out], [1, 4], { op: 'softmax' }), classes: 4, features: 16 };
  },
  'dense on the last axis of [1, L, C], 1-D avgpool same odd, broadcast add': (g, rng) => {
    const x = g.add('input', [], [1, 15], { op: 'input', features: 15 });
    const r = g.add('r', [x], [1, 5, 3], { op: 'reshape', shape: [5, 3] });
    const d = dense(g, rng, 'd', r, [1, 5, 4], 3, 4);
    const ap = g.add('ap', [d], [1, 3, 4], { op: 'avgpool', dims: 1, pool: [3], strides: [2], padding: 'same' });
    const side = dense(g, rng, 'side', x, [1, 4], 15, 4);
    const sum = g.add('sum', [ap, side], [1, 3, 4], { op: 'add' });
    const f = g.add('f', [sum], [1, 12], { op: 'flatten' });
    const out = dense(g, rng, 'out', f, [1, 3], 12, 3);
    return { output: g.add('probs', [out], [1, 3], { op: 'softmax' }), classes: 3, features: 15 };
  },
};

const N = 200;

for (const [name, build] of Object.entries(CASES)) {
  test(`float and int8 TFLite vs the reference interpreter: ${name}`, async () => {
    const { graph, features } = makeGraph(build);
    const rng = new Rng(7);
    const X = randn(rng, N * features, 1);
    const reference = evalGraphBatch(graph, X, N);

    const floatBytes = exportTfliteFloat(graph);
    const io = readTfliteIo(floatBytes);
    assert.equal(io.inputs[0]!.type, TensorType.FLOAT32);
    assert.deepEqual(io.inputs[0]!.shape, [1, features]);
    assert.deepEqual(io.outputs[0]!.shape, [1, graph.classes]);
    const floatOut = await runTflite(floatBytes, X, N, features);
    let maxDiff = 0;
    for (let i = 0; i < reference.length; i++) maxDiff = Math.max(maxDiff, Math.abs(floatOut[i]! - reference[i]!));
    assert.ok(maxDiff <= 1e-5, `float max |diff| ${maxDiff}`);

    const { bytes, report } = exportTfliteInt8(graph, X, N);
    const qio = readTfliteIo(bytes);
    assert.equal(qio.inputs[0]!.type, TensorType.INT8);
    assert.equal(qio.outputs[0]!.type, TensorType.INT8);
    assert.equal(qio.outputs[0]!.scale, 1 / 256);
    assert.equal(qio.outputs[0]!.zeroPoint, -128);
    const int8Out = await runTflite(bytes, X, N, features);
    let agree = 0;
    let meanDiff = 0;
    for (let s = 0; s < N; s++) {
      const row = (a: Float32Array): Float32Array => a.subarray(s * graph.classes, (s + 1) * graph.classes);
      if (argmax(row(int8Out)) === argmax(row(reference))) agree++;
      for (let c = 0; c < graph.classes; c++) meanDiff += Math.abs(int8Out[s * graph.classes + c]! - reference[s * graph.classes + c]!);
    }
    meanDiff /= N * graph.classes;
    assert.ok(agree / N >= 0.9, `int8 argmax agreement ${agree}/${N}`);
    assert.ok(meanDiff < 0.03, `int8 mean |prob diff| ${meanDiff}`);
    // Min/max calibration on the very inputs it is then run on clips nothing, except the kernel-fixed
    // [0, 255/256] and [-1, 127/128] grids whose top can clip probabilities by less than one step.
    for (const t of report.tensors) {
      if (t.rule !== 'fixed') assert.equal(t.clippedFraction, 0, `${t.tensor} clipped`);
      else assert.ok(t.max <= (127 - t.zeroPoint + 2) * t.scale, `${t.tensor} beyond its fixed grid`);
    }
  });
}

test('fusions: batch-norm folded and relu fused leave only CONV_2D, pool, reshape, FC, softmax', () => {
  const { graph } = makeGraph(CASES['conv2d same stride 2 + batch-norm folding, avgpool 3x3 same on odd size, conv2d valid']!);
  // input reshape, conv(+bn+relu), avgpool, conv, flatten reshape, softmax
  assert.equal(readTfliteIo(exportTfliteFloat(graph)).operatorCount, 6);
});

test('a percentile range clips the rarest values and the report names the saturating tensor', () => {
  const { graph, features } = makeGraph(CASES['conv1d same/valid stride 1/2, odd maxpool, dense']!);
  const rng = new Rng(3);
  const X = randn(rng, N * features, 1);
  X[5] = 40; // one outlier feature value
  const { report } = exportTfliteInt8(graph, X, N, { range: 99.9 });
  const input = report.tensors.find((t) => t.tensor === 'input')!;
  assert.ok(input.max === 40 && input.scale * (127 - input.zeroPoint) < 40, 'the outlier is outside the grid');
  assert.ok(input.clippedFraction > 0 && input.clippedFraction <= 0.002, `input clipped ${input.clippedFraction}`);
  assert.ok(report.worstSaturation !== undefined && report.worstSaturation.clippedFraction > 0);
  assert.throws(() => exportTfliteInt8(graph, X, N, { range: 30 }), /percentile in \(50, 100\)/);
  assert.throws(() => exportTfliteInt8(graph, X.subarray(1), N), /calibX/);
});

test('quantization arithmetic: asymmetric ranges contain 0, symmetric weights per channel', () => {
  const p = rangeToParams(0.5, 2);
  assert.equal(p.zeroPoint, -128);
  assert.ok(Math.abs(p.scale - 2 / 255) < 1e-9);
  const q = rangeToParams(-1, 3);
  // zero is exactly representable
  assert.equal(Math.round(0 / q.scale) + q.zeroPoint, q.zeroPoint);
  assert.ok(Math.abs((127 - q.zeroPoint) * q.scale - 3) < q.scale);
  const w = quantizeWeights(Float32Array.of(1, -0.5, 0, 0.01, 0.03, -0.04), [2, 3], true);
  assert.deepEqual(Array.from(w.values), [127, -64, 0, 32, 95, -127]);
  assert.ok(Math.abs(w.scales[0]! - 1 / 127) < 1e-9 && Math.abs(w.scales[1]! - 0.04 / 127) < 1e-9);
});

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}
