/**
 * Activation memory computed by hand on a small KWS-shaped graph: the memory plan of TFLM's arena for
 * the exported TFLite files (float and int8; the whole arena is checked against TFLM in tflm.test.ts)
 * and the peak-activation estimate of the inference Graph (ONNX).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphArenaBytes, peakLiveBytes } from '../../src/export/onnx/arena.js';
import { tflmArena } from '../../src/export/tflite/tflm-arena.js';
import { GraphBuilder, type Graph } from '../../src/engine/graph.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { BuiltinOperator, TensorType, readTfliteGraph } from '../../src/export/tflite/schema.js';
import { Rng } from '../../src/engine/rng.js';

const randn = (rng: Rng, n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * s);

/** input [1,12] -> reshape [1,6,2] -> conv1d k3 same 4ch + relu -> maxpool 2 -> flatten [1,12] -> dense 3 -> softmax. */
function kwsLike(): Graph {
  const g = new GraphBuilder();
  const rng = new Rng(3);
  const x = g.add('input', [], [1, 12], { op: 'input', features: 12 });
  const r = g.add('r', [x], [1, 6, 2], { op: 'reshape', shape: [6, 2] });
  const c = g.add('c', [r], [1, 6, 4], {
    op: 'conv',
    dims: 1,
    kernel: randn(rng, 3 * 2 * 4, 0.5),
    kernelShape: [3, 2, 4],
    bias: randn(rng, 4, 0.1),
    strides: [1],
    padding: 'same',
  });
  const a = g.add('a', [c], [1, 6, 4], { op: 'relu' });
  const p = g.add('p', [a], [1, 3, 4], { op: 'maxpool', dims: 1, pool: [2], strides: [2], padding: 'same' });
  const f = g.add('f', [p], [1, 12], { op: 'flatten' });
  const d = g.add('d', [f], [1, 3], { op: 'dense', kernel: randn(rng, 36, 0.3), inFeatures: 12, outFeatures: 3, bias: randn(rng, 3, 0.1) });
  const s = g.add('probs', [d], [1, 3], { op: 'softmax' });
  return { nodes: g.nodes, input: x, output: s, classes: 3 };
}

test('peakLiveBytes: the largest sum over tensors alive at one step', () => {
  const lifetimes = [
    { bytes: 100, first: 0, last: 1 },
    { bytes: 50, first: 1, last: 2 },
    { bytes: 30, first: 2, last: 3 },
  ];
  assert.equal(peakLiveBytes(lifetimes, 4), 150);
  assert.equal(peakLiveBytes([], 1), 0);
});

test('arena of the exported TFLite files and of the graph, computed by hand', () => {
  const graph = kwsLike();
  const float = exportTfliteFloat(graph);
  const g = readTfliteGraph(float);
  // RESHAPE, CONV_2D (relu fused), MAX_POOL_2D, FULLY_CONNECTED (reads the pool's output itself: the
  // flatten costs no RESHAPE), SOFTMAX; RESHAPE takes its target from new_shape (no int32 shape tensor).
  assert.deepEqual(
    g.operators.map((o) => BuiltinOperator[o.code]),
    ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX'],
  );
  assert.equal(g.operators[0]!.inputs.length, 1);
  assert.ok(g.tensors.every((t) => t.type !== TensorType.INT32));
  // Float, 16-byte aligned: conv reads 48 B and writes 96 B; the pool reads 96 B and writes 48 B.
  assert.equal(tflmArena(float, 'cortex-m').plannedBytes, 48 + 96);
  const rng = new Rng(1);
  const calib = randn(rng, 12 * 16, 1);
  const int8 = exportTfliteInt8(graph, calib, 16).bytes;
  // int8: 12 B -> 16, 24 B -> 32: conv (16 + 32) and pool (32 + 16) tie.
  assert.equal(tflmArena(int8, 'cortex-m').plannedBytes, 16 + 32);
  // The graph: reshape and flatten alias their input; conv->relu is the peak (96 + 96).
  assert.equal(graphArenaBytes(graph), 96 + 96);
});
