/**
 * A small dense network and one batch with an XOR-like label, for correlation-training tests of each
 * dendrite form: the candidates have a residual error to correlate with.
 */
import { Dense } from '../../src/engine/layers/dense.js';
import { ReLU } from '../../src/engine/layers/activation.js';
import { Sequential } from '../../src/engine/model.js';
import type { Rng } from '../../src/engine/rng.js';

export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

export interface CorrelationProblem {
  model: Sequential;
  x: Float32Array;
  labels: Int32Array;
  n: number;
}

/** 8 features -> dense 6 -> relu -> dense 3; 48 rows. */
export function correlationProblem(rng: Rng): CorrelationProblem {
  const model = new Sequential(
    [8],
    [new Dense({ name: 'h', inFeatures: 8, units: 6, rng }), new ReLU('r'), new Dense({ name: 'out', inFeatures: 6, units: 3, rng })],
  );
  const n = 48;
  const x = randn(rng, n * 8);
  const labels = Int32Array.from({ length: n }, (_, i) => (x[i * 8]! * x[i * 8 + 1]! > 0 ? 1 : i % 3));
  return { model, x, labels, n };
}
