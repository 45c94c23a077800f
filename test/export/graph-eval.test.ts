/**
 * evalGraph against values computed by hand for small graphs (every op, Keras 'same' edge cases).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalGraph, evalGraphBatch } from '../../src/export/graph-eval.js';
import { GraphBuilder, type Graph } from '../../src/engine/graph.js';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

function graphOf(g: GraphBuilder, output: string, classes: number): Graph {
  return { nodes: g.nodes, input: 'input', output, classes };
}

test('conv1d same, stride 1: zero padding of one cell each side', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 4], { op: 'input', features: 4 });
  const r = g.add('r', [x], [1, 4, 1], { op: 'reshape', shape: [4, 1] });
  // kernel [K=3, Cin=1, Cout=1] = [1, 2, 3], bias 0.5
  const c = g.add('c', [r], [1, 4, 1], {
    op: 'conv',
    dims: 1,
    kernel: Float32Array.of(1, 2, 3),
    kernelShape: [3, 1, 1],
    bias: Float32Array.of(0.5),
    strides: [1],
    padding: 'same',
  });
  const out = evalGraph(graphOf(g, c, 4), Float32Array.of(1, 2, 3, 4)).output;
  // y[i] = 1*x[i-1] + 2*x[i] + 3*x[i+1] + 0.5
  close(out, [0 + 2 + 6 + 0.5, 1 + 4 + 9 + 0.5, 2 + 6 + 12 + 0.5, 3 + 8 + 0 + 0.5]);
});

test('conv1d same, stride 2, even kernel: Keras puts the extra padding after', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 5], { op: 'input', features: 5 });
  const r = g.add('r', [x], [1, 5, 1], { op: 'reshape', shape: [5, 1] });
  // in 5, k 2, s 2: out 3, total pad = (3-1)*2+2-5 = 1, before 0, after 1
  const c = g.add('c', [r], [1, 3, 1], {
    op: 'conv',
    dims: 1,
    kernel: Float32Array.of(1, 10),
    kernelShape: [2, 1, 1],
    bias: Float32Array.of(0),
    strides: [2],
    padding: 'same',
  });
  close(evalGraph(graphOf(g, c, 3), Float32Array.of(1, 2, 3, 4, 5)).output, [1 + 20, 3 + 40, 5 + 0]);
});

test('conv2d valid with two in/out channels', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 8], { op: 'input', features: 8 });
  const r = g.add('r', [x], [1, 2, 2, 2], { op: 'reshape', shape: [2, 2, 2] });
  // kernel [KH=2, KW=2, Cin=2, Cout=2]: out0 sums channel 0, out1 = 2 * channel 1 at tap (1,1) only
  const kernel = new Float32Array(16);
  for (let t = 0; t < 4; t++) kernel[(t * 2 + 0) * 2 + 0] = 1;
  kernel[(3 * 2 + 1) * 2 + 1] = 2;
  const c = g.add('c', [r], [1, 1, 1, 2], {
    op: 'conv',
    dims: 2,
    kernel,
    kernelShape: [2, 2, 2, 2],
    bias: Float32Array.of(1, -1),
    strides: [1, 1],
    padding: 'valid',
  });
  // x laid out [h][w][c]: channel 0 = 1,3,5,7; channel 1 = 2,4,6,8
  close(evalGraph(graphOf(g, c, 2), Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8)).output, [1 + 3 + 5 + 7 + 1, 2 * 8 - 1]);
});

test('max and average pool, same padding with an odd size: padded cells neither win nor count', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 3], { op: 'input', features: 3 });
  const r = g.add('r', [x], [1, 3, 1], { op: 'reshape', shape: [3, 1] });
  const mp = g.add('mp', [r], [1, 2, 1], { op: 'maxpool', dims: 1, pool: [2], strides: [2], padding: 'same' });
  const ap = g.add('ap', [r], [1, 2, 1], { op: 'avgpool', dims: 1, pool: [2], strides: [2], padding: 'same' });
  const sum = g.add('sum', [mp, ap], [1, 2, 1], { op: 'add' });
  const res = evalGraph(graphOf(g, sum, 2), Float32Array.of(-1, -3, -5), { keepAll: true });
  close(res.values!.get('mp')!.data, [-1, -5]);
  close(res.values!.get('ap')!.data, [-2, -5]);
  close(res.output, [-3, -10]);
});

test('2-D pools 3x3 stride 2 same on 5x5', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 25], { op: 'input', features: 25 });
  const r = g.add('r', [x], [1, 5, 5, 1], { op: 'reshape', shape: [5, 5, 1] });
  // out 3, total = (3-1)*2+3-5 = 2, before 1: windows rows {-1..1}, {1..3}, {3..5}
  const ap = g.add('ap', [r], [1, 3, 3, 1], { op: 'avgpool', dims: 2, pool: [3, 3], strides: [2, 2], padding: 'same' });
  const xs = Float32Array.from({ length: 25 }, (_, i) => i);
  const out = evalGraph(graphOf(g, ap, 9), xs).output;
  // corner window covers rows 0..1, cols 0..1: (0+1+5+6)/4
  assert.equal(out[0], 3);
  // centre window rows 1..3, cols 1..3: mean of 6,7,8,11,12,13,16,17,18 = 12
  assert.equal(out[4], 12);
  // last window rows 3..4, cols 3..4: (18+19+23+24)/4
  assert.equal(out[8], 21);
});

test('dense, activations, softmax, channel_affine and a dendrite-like DAG', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 2], { op: 'input', features: 2 });
  // kernel [Fin=2, Fout=2] = [[1, 2], [3, 4]]: y = [x0 + 3 x1, 2 x0 + 4 x1] + bias
  const base = g.add('base', [x], [1, 2], {
    op: 'dense',
    kernel: Float32Array.of(1, 2, 3, 4),
    inFeatures: 2,
    outFeatures: 2,
    bias: Float32Array.of(0, -1),
  });
  const d = g.add('d', [x], [1, 2], { op: 'dense', kernel: Float32Array.of(1, 0, 0, 1), inFeatures: 2, outFeatures: 2, bias: Float32Array.of(0, 0) });
  const s = g.add('s', [d], [1, 2], { op: 'sigmoid' });
  const t = g.add('t', [d], [1, 2], { op: 'tanh' });
  const m = g.add('m', [s, t], [1, 2], { op: 'mul' });
  const v = g.add('v', [m], [1, 2], { op: 'channel_affine', scale: Float32Array.of(2, -1), shift: Float32Array.of(0.25, 0) });
  const sum = g.add('sum', [base, v], [1, 2], { op: 'add' });
  const relu = g.add('relu', [sum], [1, 2], { op: 'relu' });
  const probs = g.add('probs', [relu], [1, 2], { op: 'softmax' });
  const res = evalGraph(graphOf(g, probs, 2), Float32Array.of(1, -1), { keepAll: true });
  const sig = (z: number): number => 1 / (1 + Math.exp(-z));
  const m0 = sig(1) * Math.tanh(1);
  const m1 = sig(-1) * Math.tanh(-1);
  const sum0 = 1 - 3 + 2 * m0 + 0.25;
  const sum1 = 2 - 4 - 1 - m1;
  close(res.values!.get('sum')!.data, [sum0, sum1]);
  const r0 = Math.max(sum0, 0);
  const r1 = Math.max(sum1, 0);
  const z = Math.exp(r0) + Math.exp(r1);
  close(res.output, [Math.exp(r0) / z, Math.exp(r1) / z]);
});

test('dense on the last axis of a [1, L, C] value and flatten', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 4], { op: 'input', features: 4 });
  const r = g.add('r', [x], [1, 2, 2], { op: 'reshape', shape: [2, 2] });
  const d = g.add('d', [r], [1, 2, 1], { op: 'dense', kernel: Float32Array.of(1, 10), inFeatures: 2, outFeatures: 1, bias: Float32Array.of(0) });
  const f = g.add('f', [d], [1, 2], { op: 'flatten' });
  close(evalGraph(graphOf(g, f, 2), Float32Array.of(1, 2, 3, 4)).output, [21, 43]);
});

test('add broadcasts a [1, C] value over [1, L, C]; evalGraphBatch runs rows', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 4], { op: 'input', features: 4 });
  const r = g.add('r', [x], [1, 2, 2], { op: 'reshape', shape: [2, 2] });
  const p = g.add('p', [r], [1, 1, 2], { op: 'maxpool', dims: 1, pool: [2], strides: [2], padding: 'valid' });
  const f = g.add('f', [p], [1, 2], { op: 'flatten' });
  const a = g.add('a', [r, f], [1, 2, 2], { op: 'add' });
  const flat = g.add('flat', [a], [1, 4], { op: 'flatten' });
  const graph = graphOf(g, flat, 4);
  // max over L per channel of [[1,2],[3,0]] = [3, 2]
  close(evalGraph(graph, Float32Array.of(1, 2, 3, 0)).output, [4, 4, 6, 2]);
  const batch = evalGraphBatch(graph, Float32Array.of(1, 2, 3, 0, 0, 0, 0, 1), 2);
  close(batch, [4, 4, 6, 2, 0, 1, 0, 2]);
});

test('bad inputs are reported', () => {
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 3], { op: 'input', features: 3 });
  assert.throws(() => evalGraph(graphOf(g, x, 3), Float32Array.of(1, 2)), /expects 3 features, got 2/);
  const g2 = new GraphBuilder();
  const x2 = g2.add('input', [], [1, 3], { op: 'input', features: 3 });
  const bad = g2.add('bad', [x2], [1, 4], { op: 'relu' });
  assert.throws(() => evalGraph(graphOf(g2, bad, 4), Float32Array.of(1, 2, 3)), /declares shape \[1, 4\] but produced 3/);
});
