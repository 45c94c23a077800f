/**
 * A relu whose only input is an ADD or MUL (a dendritic layer's last ADD, a set's pre-activation sum, an
 * unfolded channel_affine) is fused into that operator's fused_activation_function, as it is into
 * CONV_2D / FULLY_CONNECTED: one RELU operator and one tensor fewer per dendritic layer followed by relu.
 * Checked on every model family with 1 and 3 dendrite sets (operator counts, float parity with the
 * reference interpreter and the engine, int8 agreement) and on hand-built graphs for MUL and
 * channel_affine. The RAM table of docs/dendrites.md ("Operators per dendrite set on the device") comes
 * from the last test: `DENDRITIC_FUSION_TABLE=1 node --import tsx --test test/export/tflite-fusion.test.ts`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import type { Activation } from '../../src/engine/kernels.js';
import { ReLU } from '../../src/engine/layers/activation.js';
import type { Sequential } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import { evalGraphBatch } from '../../src/export/graph-eval.js';
import { GraphBuilder, type Graph } from '../../src/engine/graph.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { BuiltinOperator, readTfliteGraph } from '../../src/export/tflite/schema.js';
import { tflmArena } from '../../src/export/tflite/tflm-arena.js';
import { buildModel, type BuildModelOptions } from '../../src/models/select.js';
import { testConfig } from '../helpers/config.js';

const N = 128;

const FAMILIES: BuildModelOptions[] = [
  { kind: 'ei-kws', features: 650, classes: 6, width: 1, dropout: 0.25, seed: 1 },
  { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
  { kind: 'conv2d', features: 12 * 12, inputShape: [12, 12, 1], classes: 4, width: 0.5, dropout: 0.25, seed: 3 },
];

function randomize(model: Sequential, rng: Rng): void {
  for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
}

function countOps(bytes: Uint8Array, code: BuiltinOperator): number {
  return readTfliteGraph(bytes).operators.filter((op) => op.code === code).length;
}

/**
 * RELU operators the lowering emitted before ADD/MUL fusion: a relu stays an operator unless its input
 * is a conv/dense (or a channel_affine folded into one) that nothing else reads.
 */
function relusBeforeAddFusion(graph: Graph): number {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const readers = (name: string): number => graph.nodes.filter((n) => n.inputs.includes(name)).length;
  const sole = (name: string): boolean => name !== graph.output && readers(name) === 1;
  let count = 0;
  for (const node of graph.nodes) {
    if (node.spec.op !== 'relu') continue;
    let src = byName.get(node.inputs[0]!)!;
    let fused = false;
    if (sole(src.name)) {
      if (src.spec.op === 'channel_affine') {
        const before = byName.get(src.inputs[0]!)!;
        if ((before.spec.op === 'conv' || before.spec.op === 'dense') && sole(before.name)) src = before;
      }
      fused = src.spec.op === 'conv' || src.spec.op === 'dense';
    }
    if (!fused) count++;
  }
  return count;
}

function dendriticLayersFollowedByRelu(model: Sequential): number {
  return model.layers.filter((l, i) => l instanceof DendriticLayer && l.setCount > 0 && model.layers[i + 1] instanceof ReLU).length;
}

function argmax(p: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[row * classes + c]! > p[row * classes + best]!) best = c;
  return best;
}

/** Float TFLite vs `reference` (max |dp| <= 1e-5, every argmax equal); int8 argmax agreement >= 0.9. */
async function checkParity(name: string, graph: Graph, x: Float32Array, features: number, engine?: Float32Array): Promise<void> {
  const classes = graph.classes;
  const reference = evalGraphBatch(graph, x, N);
  const float = await runTflite(exportTfliteFloat(graph), x, N, features);
  for (const [what, ref] of [['reference interpreter', reference], ...(engine ? [['engine', engine] as const] : [])] as const) {
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(float[i]! - ref[i]!));
    assert.ok(maxDiff <= 1e-5, `${name} float vs ${what}: max |dp| ${maxDiff}`);
    for (let r = 0; r < N; r++) assert.equal(argmax(float, r, classes), argmax(ref, r, classes), `${name} float vs ${what}: row ${r} changes class`);
  }
  const int8 = await runTflite(exportTfliteInt8(graph, x, N).bytes, x, N, features);
  let agree = 0;
  for (let r = 0; r < N; r++) if (argmax(int8, r, classes) === argmax(reference, r, classes)) agree++;
  assert.ok(agree / N >= 0.9, `${name} int8: argmax agreement ${agree}/${N}`);
}

for (const options of FAMILIES) {
  for (const sets of [1, 3]) {
    for (const rank of [0, 2]) {
      test(`${options.kind}, ${sets} dendrite set(s), rank ${rank}: relu fused into the dendritic ADD, TFLite still equals the engine`, async () => {
        const rng = new Rng(100 + sets * 10 + rank);
        const model = buildModel(options);
        randomize(model, rng);
        const activations: Activation[] = ['tanh', 'relu', 'sigmoid'];
        for (let s = 0; s < sets; s++)
          addDendriteSet(
            model,
            testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: activations[s]!, dendriteRank: rank }),
            rng,
          );
        // Non-zero dendrite weights, so the branches (and the fused relu's clamp) matter.
        for (const p of model.params()) if (/\/(v|w)\d/.test(p.name)) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.5;
        const graph = model.toGraph();

        const float = exportTfliteFloat(graph);
        const relus = countOps(float, BuiltinOperator.RELU);
        const before = relusBeforeAddFusion(graph);
        const fusedLayers = dendriticLayersFollowedByRelu(model);
        assert.ok(fusedLayers > 0, 'the model has a dendritic layer followed by relu');
        // With 3 sets the second one has relu branches whose pre-activation sum (an ADD) takes the relu too.
        const fusedPre = sets === 3 ? model.layers.filter((l) => l instanceof DendriticLayer).length : 0;
        assert.equal(relus, before - fusedLayers - fusedPre, `RELU operators: ${relus}, before ADD fusion ${before}`);
        assert.equal(relus, 0, 'every relu of these families is fused');
        const x = Float32Array.from({ length: N * model.features }, () => rng.normal());
        const int8 = exportTfliteInt8(graph, x, N).bytes;
        assert.equal(countOps(int8, BuiltinOperator.RELU), 0);
        assert.equal(readTfliteGraph(int8).operators.length, readTfliteGraph(float).operators.length);

        await checkParity(`${options.kind} ${sets} sets rank ${rank}`, graph, x, model.features, model.predictProbs(x, N));
      });
    }
  }
}

function randn(rng: Rng, n: number, s: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * s);
}

function dense(g: GraphBuilder, rng: Rng, name: string, input: string, fin: number, fout: number): string {
  return g.add(name, [input], [1, fout], {
    op: 'dense',
    kernel: randn(rng, fin * fout, 1.5 / Math.sqrt(fin)),
    inFeatures: fin,
    outFeatures: fout,
    bias: randn(rng, fout, 0.3),
  });
}

/**
 * MUL -> relu, channel_affine (scale only: MUL; with shift: MUL + ADD) on a value no conv/dense
 * produces -> relu, and an ADD whose value has a second reader besides its relu (not fused).
 */
function mulAndAffineGraph(): Graph {
  const rng = new Rng(8);
  const g = new GraphBuilder();
  const x = g.add('input', [], [1, 10], { op: 'input', features: 10 });
  const a = dense(g, rng, 'a', x, 10, 6);
  const b = dense(g, rng, 'b', x, 10, 6);
  const ta = g.add('ta', [a], [1, 6], { op: 'tanh' });
  const tb = g.add('tb', [b], [1, 6], { op: 'tanh' });
  const prod = g.add('prod', [ta, tb], [1, 6], { op: 'mul' });
  const r1 = g.add('r1', [prod], [1, 6], { op: 'relu' });
  const s1 = g.add('s1', [r1], [1, 6], { op: 'channel_affine', scale: randn(rng, 6, 2) });
  const r2 = g.add('r2', [s1], [1, 6], { op: 'relu' });
  const s2 = g.add('s2', [ta], [1, 6], { op: 'channel_affine', scale: randn(rng, 6, 2), shift: randn(rng, 6, 0.5) });
  const r3 = g.add('r3', [s2], [1, 6], { op: 'relu' });
  const sum = g.add('sum', [r2, r3], [1, 6], { op: 'add' });
  const r4 = g.add('r4', [sum], [1, 6], { op: 'relu' });
  const both = g.add('both', [r4, sum], [1, 6], { op: 'add' });
  const out = dense(g, rng, 'out', both, 6, 4);
  const probs = g.add('probs', [out], [1, 4], { op: 'softmax' });
  return { nodes: g.nodes, input: x, output: probs, classes: 4 };
}

test('relu fused into MUL, into an unfolded channel_affine (MUL, MUL + ADD), not into an ADD read twice', async () => {
  const graph = mulAndAffineGraph();
  const float = exportTfliteFloat(graph);
  const ops = readTfliteGraph(float).operators.map((op) => BuiltinOperator[op.code]);
  // FC a, FC b, TANH, TANH, MUL(+relu), MUL(+relu), MUL + ADD(+relu), ADD, RELU (sum has 2 readers), ADD, FC, SOFTMAX.
  assert.deepEqual(ops, [
    'FULLY_CONNECTED',
    'FULLY_CONNECTED',
    'TANH',
    'TANH',
    'MUL',
    'MUL',
    'MUL',
    'ADD',
    'ADD',
    'RELU',
    'ADD',
    'FULLY_CONNECTED',
    'SOFTMAX',
  ]);
  assert.equal(relusBeforeAddFusion(graph), 4);
  const rng = new Rng(12);
  await checkParity('mul/affine graph', graph, randn(rng, N * 10, 1), 10);
});

test('int8: the fused ADD is quantized with the relu output range (zero point -128, min 0)', () => {
  const model = buildModel(FAMILIES[1]!);
  const rng = new Rng(4);
  randomize(model, rng);
  addDendriteSet(model, testConfig({ dendriteLayers: 'hidden', candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: 2 }), rng);
  for (const p of model.params()) if (/\/v\d/.test(p.name)) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.5;
  const graph = model.toGraph();
  const x = Float32Array.from({ length: N * model.features }, () => rng.normal());
  const { report } = exportTfliteInt8(graph, x, N);
  const reluNodes = graph.nodes.filter((n) => n.spec.op === 'relu' && graph.nodes.find((m) => m.name === n.inputs[0])!.spec.op === 'add');
  assert.equal(reluNodes.length, 2);
  for (const relu of reluNodes) {
    const t = report.tensors.find((r) => r.graphValue === relu.name);
    assert.ok(t, `a tensor carries ${relu.name}`);
    assert.equal(t.min, 0);
    assert.equal(t.zeroPoint, -128);
    // The ADD's own (signed) value is no longer a tensor of the model.
    assert.equal(
      report.tensors.find((r) => r.graphValue === relu.inputs[0]),
      undefined,
    );
  }
});

/**
 * The int8 export's operators, tensors, 32-bit TFLM arena and file size for 0-3 dendrite sets on the
 * shipped defaults (layers 'hidden', activation tanh), rank 2 (default) and rank 0 (full copy).
 */
/** TFLM's arena_used_bytes on a Cortex-M, for the printed table. */
function arena32(bytes: Uint8Array): number {
  return tflmArena(bytes, 'cortex-m').arenaBytes;
}

const TABLE_FAMILIES: BuildModelOptions[] = [
  { kind: 'ei-kws', features: 650, classes: 6, width: 1, dropout: 0.25, seed: 1 },
  { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
  { kind: 'conv2d', features: 32 * 32, inputShape: [32, 32, 1], classes: 4, width: 1, dropout: 0.25, seed: 3 },
];

test('operators per dendrite set: each set adds branch (down, up), activation, MUL v, ADD (+ MUL w, ADD per earlier set) per layer', () => {
  const rows: string[] = [];
  // Checked after the table is printed, so it prints on any lowering (the "before" column of the docs).
  const checks: (() => void)[] = [];
  for (const options of TABLE_FAMILIES) {
    for (const rank of [2, 0]) {
      const counts: { ops: number; tensors: number }[] = [];
      for (const sets of [0, 1, 2, 3]) {
        const o = options;
        const rng = new Rng(7);
        const model = buildModel(o);
        const previous = counts.at(-1);
        for (let s = 0; s < sets; s++)
          addDendriteSet(model, testConfig({ dendriteLayers: 'hidden', candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: rank }), rng);
        const x = Float32Array.from({ length: 32 * model.features }, () => rng.normal());
        const bytes = exportTfliteInt8(model.toGraph(), x, 32).bytes;
        const g = readTfliteGraph(bytes);
        const arena = { operators: g.operators.length, tensors: g.tensors.length };
        counts.push({ ops: arena.operators, tensors: arena.tensors });
        rows.push(`| ${o.kind} | ${rank} | ${sets} | ${arena.operators} | ${arena.tensors} | ${arena32(bytes)} | ${bytes.length} |`);
        if (previous) {
          const layers = model.layers.filter((l) => l instanceof DendriticLayer).length;
          const earlier = sets - 1;
          // Branch (rank r: down + up; rank 0: one copy of the layer), activation, MUL v, ADD; each earlier
          // set's d feeds this set's sum through MUL w + ADD. No RELU: the layer's relu stays fused.
          const branchOps = rank > 0 ? 2 : 1;
          checks.push(() =>
            assert.equal(arena.operators - previous.ops, layers * (branchOps + 3 + 2 * earlier), `${o.kind} rank ${rank}: operators of set ${sets}`),
          );
          // Each branch conv/dense: weights, bias, out; d; v and v*d; the sum; earlier sets: w, w*d, sum each.
          checks.push(() =>
            assert.equal(arena.tensors - previous.tensors, layers * (3 * branchOps + 4 + 3 * earlier), `${o.kind} rank ${rank}: tensors of set ${sets}`),
          );
        }
      }
    }
  }
  if (process.env.DENDRITIC_FUSION_TABLE) {
    console.log(['| family | rank | sets | operators | tensors | TFLM arena B (32-bit) | file B |', '|---|---|---|---|---|---|---|', ...rows].join('\n'));
  }
  for (const check of checks) check();
});

test('operators per dendrite set, dendrite-form merged: 4 operators and 8 tensors per dendritic layer whatever the number of sets', () => {
  const rows: string[] = [];
  const checks: (() => void)[] = [];
  for (const options of TABLE_FAMILIES) {
    for (const rank of [2, 0]) {
      let plain: { ops: number; tensors: number } | undefined;
      for (const sets of [0, 1, 2, 3]) {
        const rng = new Rng(7);
        const model = buildModel(options);
        for (let s = 0; s < sets; s++)
          addDendriteSet(
            model,
            testConfig({ dendriteLayers: 'hidden', candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: rank, dendriteForm: 'merged' }),
            rng,
          );
        const x = Float32Array.from({ length: 32 * model.features }, () => rng.normal());
        const bytes = exportTfliteInt8(model.toGraph(), x, 32).bytes;
        const g = readTfliteGraph(bytes);
        const counts = { ops: g.operators.length, tensors: g.tensors.length };
        rows.push(`| ${options.kind} | ${rank} | ${sets} | ${counts.ops} | ${counts.tensors} | ${arena32(bytes)} | ${bytes.length} |`);
        if (sets === 0) plain = counts;
        else {
          const layers = model.layers.filter((l) => l instanceof DendriticLayer).length;
          const base = plain!;
          // down (k·r outputs), f, up (k·r -> C, gates folded), ADD (+ the layer's relu): weights, bias, out
          // for down and up, f's value, the sum.
          checks.push(() => assert.equal(counts.ops - base.ops, 4 * layers, `${options.kind} rank ${rank}: operators with ${sets} merged sets`));
          checks.push(() => assert.equal(counts.tensors - base.tensors, 8 * layers, `${options.kind} rank ${rank}: tensors with ${sets} merged sets`));
        }
      }
    }
  }
  if (process.env.DENDRITIC_FUSION_TABLE) {
    console.log(
      ['merged form:', '| family | rank | sets | operators | tensors | TFLM arena B (32-bit) | file B |', '|---|---|---|---|---|---|---|', ...rows].join(
        '\n',
      ),
    );
  }
  for (const check of checks) check();
});
