import { Rng } from '../../src/engine/rng.js';
import type { LabelledSet } from '../../src/train/batches.js';

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
