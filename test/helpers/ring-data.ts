import { Rng } from '../../src/engine/rng.js';
import type { LabelledSet } from '../../src/train/batches.js';
import { Sequential } from '../../src/engine/model.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { ReLU } from '../../src/engine/layers/activation.js';

/** Three classes on a ring plus two noise features: learnable, not trivially separable by one direction. */
export function ringData(n: number, seed: number): LabelledSet {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const angle = (c * 2 * Math.PI) / 3 + rng.normal() * 0.3;
    x.set([Math.cos(angle) + rng.normal() * 0.1, Math.sin(angle) + rng.normal() * 0.1, rng.normal(), rng.normal()], i * 4);
    y[i] = c;
  }
  return { x, y, n, features: 4 };
}

/** A small MLP for ringData: 4 -> 8 (relu) -> 3, seeded. */
export function ringModel(seed: number): Sequential {
  const rng = new Rng(seed);
  return new Sequential(
    [4],
    [new Dense({ name: 'hidden', inFeatures: 4, units: 8, rng }), new ReLU('relu'), new Dense({ name: 'out', inFeatures: 8, units: 3, rng })],
  );
}
