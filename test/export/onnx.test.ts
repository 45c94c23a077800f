/**
 * ONNX export checked end to end: each hand-built Graph is exported, run by onnxruntime, and compared
 * with a naive float64 evaluation of the same Graph (test/export/onnx-naive-eval.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder, type Graph } from '../../src/engine/graph.js';
import type { Activation } from '../../src/engine/kernels.js';
import { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET } from '../../src/export/onnx/exporter.js';
import { decodeModel } from '../../src/export/onnx/proto.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { compareProbabilities } from '../../src/export/compare.js';
import { Rng } from '../../src/engine/rng.js';
import { naiveEvaluate } from './onnx-naive-eval.js';

const TOLERANCE = 1e-5;

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Builds graphs with random weights; every helper returns the new value name. */
class TestGraph {
  readonly g = new GraphBuilder();
  readonly input: string;

  constructor(
    readonly rng: Rng,
    readonly features: number,
  ) {
    this.input = this.g.add('x', [], [1, features], { op: 'input', features });
  }

  reshape(x: string, shape: number[]): string {
    return this.g.add('reshape', [x], [1, ...shape], { op: 'reshape', shape });
  }

  conv(x: string, k: number[], cout: number, strides: number[], padding: 'same' | 'valid'): string {
    const inShape = this.g.shapeOf(x);
    const dims = k.length as 1 | 2;
    const cin = inShape[inShape.length - 1]!;
    const spatial = inShape.slice(1, -1).map((size, i) => outSize(size, k[i]!, strides[i]!, padding));
    const kernelShape = [...k, cin, cout];
    return this.g.add(`conv${dims}d`, [x], [1, ...spatial, cout], {
      op: 'conv',
      dims,
      kernel: randomArray(
        this.rng,
        kernelShape.reduce((a, b) => a * b, 1),
        0.4,
      ),
      kernelShape,
      bias: randomArray(this.rng, cout, 0.1),
      strides,
      padding,
    });
  }

  pool(x: string, op: 'maxpool' | 'avgpool', pool: number[], strides: number[], padding: 'same' | 'valid'): string {
    const inShape = this.g.shapeOf(x);
    const spatial = inShape.slice(1, -1).map((size, i) => outSize(size, pool[i]!, strides[i]!, padding));
    return this.g.add(op, [x], [1, ...spatial, inShape[inShape.length - 1]!], {
      op,
      dims: pool.length as 1 | 2,
      pool,
      strides,
      padding,
    });
  }

  dense(x: string, inFeatures: number, outFeatures: number, outShape: number[]): string {
    return this.g.add('dense', [x], outShape, {
      op: 'dense',
      kernel: randomArray(this.rng, inFeatures * outFeatures, 0.3),
      inFeatures,
      outFeatures,
      bias: randomArray(this.rng, outFeatures, 0.1),
    });
  }

  unary(x: string, op: Activation | 'softmax' | 'flatten'): string {
    const shape = this.g.shapeOf(x);
    const outShape = op === 'flatten' ? [1, shape.slice(1).reduce((a, b) => a * b, 1)] : shape;
    return this.g.add(op, [x], outShape, { op });
  }

  binary(a: string, b: string, op: 'add' | 'mul'): string {
    return this.g.add(op, [a, b], this.g.shapeOf(a), { op });
  }

  affine(x: string, withShift: boolean): string {
    const shape = this.g.shapeOf(x);
    const c = shape[shape.length - 1]!;
    const spec = withShift
      ? { op: 'channel_affine' as const, scale: randomArray(this.rng, c), shift: randomArray(this.rng, c) }
      : { op: 'channel_affine' as const, scale: randomArray(this.rng, c) };
    return this.g.add('affine', [x], shape, spec);
  }

  graph(output: string): Graph {
    const shape = this.g.shapeOf(output);
    return { nodes: this.g.nodes, input: this.input, output, classes: shape[1]! };
  }
}

function outSize(size: number, k: number, s: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1;
}

/** Exports `graph`, runs it on `samples` random inputs and returns the largest |onnx - naive|. */
async function maxDiffAgainstNaive(graph: Graph, rng: Rng, samples = 3, requireProbabilities = false): Promise<number> {
  const inputNode = graph.nodes.find((n) => n.name === graph.input)!;
  const features = inputNode.shape[1]!;
  const model = exportOnnx(graph, { requireProbabilities });
  const x = randomArray(rng, samples * features);
  const onnx = await runOnnx(model, x, samples, features);
  assert.equal(onnx.length, samples * graph.classes);
  const expected = new Float32Array(samples * graph.classes);
  for (let s = 0; s < samples; s++) {
    const values = naiveEvaluate(graph, x.subarray(s * features, (s + 1) * features));
    const out = values.get(graph.output)!;
    assert.equal(out.data.length, graph.classes);
    expected.set(out.data, s * graph.classes);
  }
  return compareProbabilities(expected, onnx, samples, graph.classes).maxAbsDiff;
}

function opTypes(model: Uint8Array): string[] {
  const decoded = decodeModel(model) as { graph: { node: Array<{ op_type: string }> } };
  return decoded.graph.node.map((n) => n.op_type);
}

test('conv1d: same/valid, strides 1/2, odd and even lengths and kernels', async () => {
  const rng = new Rng(1);
  for (const length of [9, 10]) {
    for (const k of [3, 4]) {
      for (const stride of [1, 2]) {
        for (const padding of ['same', 'valid'] as const) {
          const t = new TestGraph(rng, length * 3);
          const conv = t.conv(t.reshape(t.input, [length, 3]), [k], 4, [stride], padding);
          const diff = await maxDiffAgainstNaive(t.graph(t.unary(conv, 'flatten')), rng);
          assert.ok(diff <= TOLERANCE, `L=${length} k=${k} s=${stride} ${padding}: max diff ${diff}`);
        }
      }
    }
  }
});

test('conv2d: same/valid, square and rectangular strides and kernels', async () => {
  const rng = new Rng(2);
  const cases: Array<{ k: number[]; s: number[] }> = [
    { k: [3, 3], s: [1, 1] },
    { k: [3, 2], s: [2, 1] },
    { k: [2, 3], s: [2, 2] },
  ];
  for (const { k, s } of cases) {
    for (const padding of ['same', 'valid'] as const) {
      const t = new TestGraph(rng, 7 * 6 * 2);
      const conv = t.conv(t.reshape(t.input, [7, 6, 2]), k, 3, s, padding);
      const diff = await maxDiffAgainstNaive(t.graph(t.unary(conv, 'flatten')), rng);
      assert.ok(diff <= TOLERANCE, `k=${k} s=${s} ${padding}: max diff ${diff}`);
    }
  }
});

test('max and average pooling, 1-D and 2-D, same padding on odd sizes excludes padded cells', async () => {
  const rng = new Rng(3);
  for (const op of ['maxpool', 'avgpool'] as const) {
    for (const padding of ['same', 'valid'] as const) {
      for (const [pool, stride] of [
        [2, 2],
        [3, 2],
        [3, 1],
      ] as const) {
        const t1 = new TestGraph(rng, 7 * 3);
        const p1 = t1.pool(t1.reshape(t1.input, [7, 3]), op, [pool], [stride], padding);
        const d1 = await maxDiffAgainstNaive(t1.graph(t1.unary(p1, 'flatten')), rng);
        assert.ok(d1 <= TOLERANCE, `1-D ${op} pool=${pool} s=${stride} ${padding}: ${d1}`);
      }
      const t2 = new TestGraph(rng, 5 * 7 * 2);
      const p2 = t2.pool(t2.reshape(t2.input, [5, 7, 2]), op, [2, 3], [2, 2], padding);
      const d2 = await maxDiffAgainstNaive(t2.graph(t2.unary(p2, 'flatten')), rng);
      assert.ok(d2 <= TOLERANCE, `2-D ${op} ${padding}: ${d2}`);
    }
  }
});

test('dense on flat input, on the last axis of [1, L, C], and on an unflattened [1, L, C] input', async () => {
  const rng = new Rng(4);
  const flat = new TestGraph(rng, 12);
  const d1 = await maxDiffAgainstNaive(flat.graph(flat.dense(flat.input, 12, 5, [1, 5])), rng);
  assert.ok(d1 <= TOLERANCE, `flat dense: ${d1}`);

  const seq = new TestGraph(rng, 12);
  const perStep = seq.dense(seq.reshape(seq.input, [4, 3]), 3, 2, [1, 4, 2]);
  const d2 = await maxDiffAgainstNaive(seq.graph(seq.unary(perStep, 'flatten')), rng);
  assert.ok(d2 <= TOLERANCE, `last-axis dense: ${d2}`);

  const whole = new TestGraph(rng, 12);
  const d3 = await maxDiffAgainstNaive(whole.graph(whole.dense(whole.reshape(whole.input, [4, 3]), 12, 3, [1, 3])), rng);
  assert.ok(d3 <= TOLERANCE, `dense over a flattened [4, 3]: ${d3}`);
});

test('channel_affine with and without shift, on channels-first and channels-last values', async () => {
  const rng = new Rng(5);
  for (const withShift of [false, true]) {
    const t = new TestGraph(rng, 8 * 3);
    const conv = t.conv(t.reshape(t.input, [8, 3]), [3], 4, [1], 'same');
    const affConv = t.affine(t.unary(conv, 'tanh'), withShift);
    const dense = t.dense(t.unary(affConv, 'flatten'), 32, 6, [1, 6]);
    const out = t.affine(dense, withShift);
    const diff = await maxDiffAgainstNaive(t.graph(out), rng);
    assert.ok(diff <= TOLERANCE, `shift=${withShift}: ${diff}`);
  }
});

test('dendrite DAG: out = base + v * sigmoid(D(x)), then a second conv, a pool and a softmax head', async () => {
  const rng = new Rng(6);
  const t = new TestGraph(rng, 6 * 5 * 2);
  const x = t.reshape(t.input, [6, 5, 2]);
  const base = t.conv(x, [3, 3], 4, [1, 1], 'same');
  const dendrite = t.conv(x, [3, 3], 4, [1, 1], 'same');
  const gated = t.affine(t.unary(dendrite, 'sigmoid'), false);
  const sum = t.unary(t.binary(base, gated, 'add'), 'relu');
  const pooled = t.pool(sum, 'maxpool', [2, 2], [2, 2], 'same');
  const conv2 = t.conv(pooled, [2, 2], 3, [1, 1], 'valid');
  const multiplied = t.binary(conv2, t.unary(conv2, 'sigmoid'), 'mul');
  const logits = t.dense(t.unary(multiplied, 'flatten'), 2 * 2 * 3, 4, [1, 4]);
  const graph = t.graph(t.unary(logits, 'softmax'));
  const diff = await maxDiffAgainstNaive(graph, rng, 5, true);
  assert.ok(diff <= TOLERANCE, `dendrite DAG: ${diff}`);

  // Layout is kept channels-first through the whole conv section: one Transpose in, one out.
  const ops = opTypes(exportOnnx(graph));
  assert.equal(ops.filter((o) => o === 'Transpose').length, 2, ops.join(' '));
});

test('Edge Impulse contract: opset 13, IR 7, input [1, F], output [1, classes] probabilities', async () => {
  const rng = new Rng(7);
  const t = new TestGraph(rng, 650);
  const conv = t.conv(t.reshape(t.input, [50, 13]), [3], 8, [1], 'same');
  const pooled = t.pool(t.unary(conv, 'relu'), 'maxpool', [2], [2], 'same');
  const logits = t.dense(t.unary(pooled, 'flatten'), 25 * 8, 3, [1, 3]);
  const graph = t.graph(t.unary(logits, 'softmax'));
  const model = exportOnnx(graph, { metadata: { labels: 'no,yes,noise' } });

  const decoded = decodeModel(model) as {
    ir_version: number;
    producer_name: string;
    doc_string: string;
    opset_import: Array<{ domain?: string; version: number }>;
    metadata_props: Array<{ key: string; value: string }>;
    graph: { input: Array<{ name: string; type: unknown }>; output: Array<{ name: string; type: unknown }> };
  };
  assert.equal(decoded.ir_version, ONNX_IR_VERSION);
  assert.equal(decoded.producer_name, 'dendritic');
  assert.ok(decoded.doc_string.length > 0);
  assert.deepEqual(
    decoded.opset_import.map((o) => [o.domain ?? '', o.version]),
    [['', ONNX_OPSET]],
  );
  assert.deepEqual(decoded.metadata_props, [{ key: 'labels', value: 'no,yes,noise' }]);
  const dims = (v: { type: unknown }): number[] =>
    (v.type as { tensor_type: { shape: { dim: Array<{ dim_value: number }> } } }).tensor_type.shape.dim.map((d) => d.dim_value);
  assert.deepEqual(
    decoded.graph.input.map((v) => [v.name, dims(v)]),
    [['input', [1, 650]]],
  );
  assert.deepEqual(
    decoded.graph.output.map((v) => [v.name, dims(v)]),
    [['output', [1, 3]]],
  );

  const samples = 4;
  const probs = await runOnnx(model, randomArray(rng, samples * 650), samples, 650);
  for (let s = 0; s < samples; s++) {
    const row = Array.from(probs.subarray(s * 3, s * 3 + 3));
    assert.ok(
      row.every((p) => p >= 0 && p <= 1),
      row.join(','),
    );
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, row.join(','));
  }
  assert.ok((await maxDiffAgainstNaive(graph, rng, 4, true)) <= TOLERANCE);
});

test('exportOnnx refuses an output that is not softmax probabilities, or of the wrong shape', () => {
  const rng = new Rng(8);
  const t = new TestGraph(rng, 6);
  const logits = t.dense(t.input, 6, 3, [1, 3]);
  assert.throws(() => exportOnnx(t.graph(logits)), /softmax/);
  const wrongClasses = { ...t.graph(t.unary(logits, 'softmax')), classes: 4 };
  assert.throws(() => exportOnnx(wrongClasses), /expected \[1, 4\]/);
});

test('a reshape that keeps the shape adds no node; a dense network is Gemm, Relu, Gemm, Softmax', async () => {
  const rng = new Rng(9);
  const t = new TestGraph(rng, 10);
  const same = t.reshape(t.input, [10]);
  const hidden = t.unary(t.dense(same, 10, 6, [1, 6]), 'relu');
  const graph = t.graph(t.unary(t.dense(hidden, 6, 3, [1, 3]), 'softmax'));
  assert.deepEqual(opTypes(exportOnnx(graph)), ['Gemm', 'Relu', 'Gemm', 'Softmax']);
  assert.ok((await maxDiffAgainstNaive(graph, rng, 3, true)) <= TOLERANCE);
});
