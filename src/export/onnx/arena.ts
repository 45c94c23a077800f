/**
 * Peak activation memory of the float32 inference Graph (the ONNX export, which no microcontroller
 * runs): every value lives from the node that writes it to the last node that reads it, each aligned to
 * 16 bytes; the peak of the sum over values alive at once. An estimate for desktop runtimes only: the
 * RAM of a TFLite file on the device is TFLM's exact arena (../tflite/tflm-arena.ts).
 */
import type { Graph } from '../../engine/graph.js';

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

/** Node by node. Reshape and flatten produce no copy, so they extend their input's lifetime instead of adding a value. */
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
