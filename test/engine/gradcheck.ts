/**
 * Finite-difference gradient checking for float32 layers: float64 central differences of the scalar
 * L = sum(y * r) (r a fixed random projection), compared elementwise with the analytic gradients.
 */
import assert from 'node:assert/strict';
import type { ForwardContext, Layer } from '../../src/engine/layer.js';
import { Rng } from '../../src/engine/rng.js';
import type { Tensor } from '../../src/engine/tensor.js';

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  training?: boolean;
  /** Seed of the forward context's rng: reset before every forward so dropout masks repeat. */
  ctxSeed?: number;
  /** Skip the input gradient check (e.g. for the first layer of a model). */
  skipInput?: boolean;
}

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-scale, scale);
  return a;
}

/** Distinct values spaced at least `gap` apart, in random order (no ties for max-pool). */
export function distinctArray(rng: Rng, n: number, gap: number): Float32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  rng.shuffle(idx);
  return Float32Array.from(idx, (i) => (i - n / 2) * gap);
}

function scalarLoss(layer: Layer, x: Tensor, r: Float32Array, o: GradCheckOptions): number {
  const ctx: ForwardContext = { training: o.training ?? true, rng: new Rng(o.ctxSeed ?? 7) };
  const y = layer.forward(x, ctx);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += y.data[i]! * r[i]!;
  return s;
}

function compare(what: string, analytic: ArrayLike<number>, numeric: Float64Array, rtol: number, atol: number): void {
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    const excess = Math.abs(a - n) - (atol + rtol * Math.max(Math.abs(a), Math.abs(n)));
    if (excess > worst) {
      worst = excess;
      worstAt = i;
    }
  }
  assert.ok(worstAt < 0, `${what}: analytic ${analytic[worstAt]} vs numeric ${numeric[worstAt]} at index ${worstAt}`);
  // The check must not pass vacuously: some gradient has to be non-zero.
  assert.ok(
    numeric.some((v) => Math.abs(v) > atol),
    `${what}: all numeric gradients are ~0`,
  );
}

/** Checks dL/dx and dL/dparam of `layer` at input `x`. */
export function gradCheck(layer: Layer, x: Tensor, opts: GradCheckOptions = {}): void {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rng = new Rng(99);
  const ctx: ForwardContext = { training: opts.training ?? true, rng: new Rng(opts.ctxSeed ?? 7) };
  const y = layer.forward(x, ctx);
  const r = randomArray(rng, y.data.length);
  for (const p of layer.params()) p.grad.fill(0);
  const dx = layer.backward({ data: Float32Array.from(r), shape: [...y.shape] });
  const dxCopy = Float64Array.from(dx.data);
  assert.deepEqual(dx.shape, x.shape, `${layer.kind}: input gradient shape`);

  const numericFor = (values: Float32Array): Float64Array => {
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const keep = values[i]!;
      values[i] = keep + eps;
      const up = scalarLoss(layer, x, r, opts);
      values[i] = keep - eps;
      const down = scalarLoss(layer, x, r, opts);
      values[i] = keep;
      // Divide by the float32 step actually taken, not the nominal one.
      out[i] = (up - down) / (Math.fround(keep + eps) - Math.fround(keep - eps));
    }
    return out;
  };

  if (!opts.skipInput) compare(`${layer.kind} dL/dx`, dxCopy, numericFor(x.data), rtol, atol);
  for (const p of layer.params()) {
    if (!p.trainable) continue;
    const analytic = Float64Array.from(p.grad);
    compare(`${layer.kind} dL/d${p.name}`, analytic, numericFor(p.value), rtol, atol);
  }
}
