/**
 * Peak RAM of the activations (the tensor arena) of an exported model, estimated the way TFLite Micro's
 * memory planner sees it: every non-constant tensor lives from the operator that writes it (the graph
 * input from the start) to the last operator that reads it (graph outputs to the end); at each operator
 * the tensors alive at once must all fit. The peak of that sum, each tensor aligned to 16 bytes as the
 * planner aligns them, is a lower bound the greedy planner reaches on these chain-like graphs. Not
 * included: the interpreter's own bookkeeping (a few KB, depends on the TFLM build) and kernel scratch.
 */
import type { Graph } from './graph.js';
import { readTfliteGraph, TensorType } from './tflite-schema.js';

const ALIGN = 16;

interface Lifetime {
  bytes: number;
  first: number;
  last: number;
}

/** Largest sum of `bytes` over tensors alive at the same step. */
export function peakLiveBytes(lifetimes: readonly Lifetime[], steps: number): number {
  let peak = 0;
  for (let s = 0; s < steps; s++) {
    let live = 0;
    for (const t of lifetimes) if (t.first <= s && s <= t.last) live += t.bytes;
    peak = Math.max(peak, live);
  }
  return peak;
}

function aligned(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

const ELEMENT_BYTES: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.INT32]: 4,
  [TensorType.INT8]: 1,
};

/** Arena estimate of a .tflite file, read from the file itself. */
export function tfliteArenaBytes(bytes: Uint8Array): number {
  const g = readTfliteGraph(bytes);
  const steps = g.operators.length;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const i of g.inputs) first.set(i, 0);
  g.operators.forEach((op, s) => {
    for (const o of op.outputs) if (!first.has(o)) first.set(o, s);
    for (const i of op.inputs) if (i >= 0) last.set(i, s);
  });
  for (const o of g.outputs) last.set(o, steps - 1);
  const lifetimes: Lifetime[] = [];
  for (const [index, start] of first) {
    const t = g.tensors[index]!;
    if (t.constant) continue;
    const size = ELEMENT_BYTES[t.type];
    if (size === undefined) throw new Error(`tfliteArenaBytes: tensor '${t.name}' has an element type (${t.type}) with no known size`);
    const elements = t.shape.reduce((a, b) => a * b, 1);
    lifetimes.push({ bytes: aligned(elements * size), first: start, last: last.get(index) ?? start });
  }
  return peakLiveBytes(lifetimes, Math.max(1, steps));
}

/**
 * The same estimate for the float32 inference Graph (the ONNX export), node by node. Reshape and flatten
 * produce no copy in either runtime, so they extend their input's lifetime instead of adding a tensor.
 */
export function graphArenaBytes(graph: Graph): number {
  const storage = new Map<string, string>();
  const lifetimes = new Map<string, Lifetime>();
  graph.nodes.forEach((n, s) => {
    const aliasing = (n.spec.op === 'reshape' || n.spec.op === 'flatten') && n.inputs.length === 1;
    for (const input of n.inputs) lifetimes.get(storage.get(input)!)!.last = s;
    if (aliasing) {
      storage.set(n.name, storage.get(n.inputs[0]!)!);
      return;
    }
    storage.set(n.name, n.name);
    const elements = n.shape.reduce((a, b) => a * b, 1);
    lifetimes.set(n.name, { bytes: aligned(elements * 4), first: s, last: s });
  });
  lifetimes.get(storage.get(graph.output)!)!.last = graph.nodes.length - 1;
  return peakLiveBytes([...lifetimes.values()], graph.nodes.length);
}
