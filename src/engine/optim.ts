import type { Param } from './layer.js';
import { kernels } from './kernels.js';

/** JSON-able optimizer state: step count and per-parameter slots keyed by parameter name. */
export interface OptimizerState {
  kind: string;
  lr: number;
  step: number;
  slots: Record<string, number[][]>;
}

export interface Optimizer {
  lr: number;
  /** Applies one update from the accumulated grads (params with trainable = false are left alone). */
  step(): void;
  zeroGrad(): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
}

/**
 * Shared bookkeeping: the parameter list and lazily created per-parameter slots, so construction is
 * cheap (a fresh optimizer is built whenever the model grows) and state is saved by name.
 */
abstract class SlotOptimizer implements Optimizer {
  lr: number;
  protected t = 0;
  protected readonly slots = new Map<string, Float32Array[]>();
  abstract readonly kind: string;
  protected abstract readonly slotCount: number;

  constructor(
    protected readonly params: Param[],
    lr: number,
  ) {
    if (!(lr > 0)) throw new Error(`optimizer: learning rate must be positive, got ${lr}`);
    this.lr = lr;
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new Error(`optimizer: duplicate parameter name '${p.name}'`);
      seen.add(p.name);
    }
  }

  protected slotsOf(p: Param): Float32Array[] {
    let s = this.slots.get(p.name);
    if (s === undefined) {
      s = Array.from({ length: this.slotCount }, () => new Float32Array(p.value.length));
      this.slots.set(p.name, s);
    }
    return s;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  abstract step(): void;

  getState(): OptimizerState {
    const slots: Record<string, number[][]> = {};
    for (const [name, s] of this.slots) slots[name] = s.map((a) => Array.from(a));
    return { kind: this.kind, lr: this.lr, step: this.t, slots };
  }

  setState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`optimizer: state of a ${state.kind} given to ${this.kind}`);
    this.lr = state.lr;
    this.t = state.step;
    this.slots.clear();
    const sizes = new Map(this.params.map((p) => [p.name, p.value.length]));
    for (const [name, s] of Object.entries(state.slots)) {
      const size = sizes.get(name);
      // Slots of parameters this model no longer has are dropped; a size mismatch is corruption.
      if (size === undefined) continue;
      if (s.length !== this.slotCount || s.some((a) => a.length !== size)) {
        throw new Error(`optimizer: saved slots of '${name}' do not match its size ${size}`);
      }
      this.slots.set(
        name,
        s.map((a) => Float32Array.from(a)),
      );
    }
  }
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  /** 1e-7 as Keras (PyTorch defaults to 1e-8). */
  eps?: number;
}

/**
 * Adam with bias correction, in the form of Kingma & Ba and torch.optim.Adam:
 * p -= lr * mhat / (sqrt(vhat) + eps), mhat = m / (1 - b1^t), vhat = v / (1 - b2^t).
 */
export class Adam extends SlotOptimizer {
  readonly kind = 'adam';
  protected readonly slotCount = 2;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(params: Param[], o: AdamOptions) {
    super(params, o.lr);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-7;
  }

  step(): void {
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    const stepSize = this.lr / c1;
    const sqrtC2 = Math.sqrt(c2);
    const eps = this.eps;
    for (const p of this.params) {
      if (!p.trainable) continue;
      const [m, v] = this.slotsOf(p) as [Float32Array, Float32Array];
      kernels.adam(p.value, p.grad, m, v, b1, b2, stepSize, sqrtC2, eps);
    }
  }
}

/** SGD with (heavy-ball) momentum as torch.optim.SGD: v = mu*v + g; p -= lr*v. */
export class SGD extends SlotOptimizer {
  readonly kind = 'sgd';
  protected readonly slotCount = 1;
  readonly momentum: number;

  constructor(params: Param[], o: { lr: number; momentum?: number }) {
    super(params, o.lr);
    this.momentum = o.momentum ?? 0;
  }

  step(): void {
    this.t++;
    const mu = this.momentum;
    for (const p of this.params) {
      if (!p.trainable) continue;
      const w = p.value;
      const g = p.grad;
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) w[i] -= this.lr * g[i];
        continue;
      }
      const [v] = this.slotsOf(p) as [Float32Array];
      for (let i = 0; i < w.length; i++) {
        v[i] = mu * v[i] + g[i];
        w[i] -= this.lr * v[i];
      }
    }
  }
}
