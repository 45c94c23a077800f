import type { Rng } from './rng.js';

/**
 * Keras' default kernel initialiser: U(-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)).
 * For convolutions Keras uses fanIn = receptive field x Cin and fanOut = receptive field x Cout.
 */
export function glorotUniform(rng: Rng, n: number, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
  return out;
}

/** N(0, 1) x scale: the dendrite-branch initialiser of the reference library. */
export function normal(rng: Rng, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

export function zeros(n: number): Float32Array {
  return new Float32Array(n);
}
