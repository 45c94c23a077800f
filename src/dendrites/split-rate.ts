import type { Param } from '../engine/layer.js';
import type { Optimizer, OptimizerState } from '../engine/optim.js';

interface SplitRates {
  baseLr: number;
  baseStep: number;
}

/**
 * Two learning rates after a switch: the newest dendrite set (its branches, v and cascade weights)
 * trains at `freshLr` while every other parameter continues at `baseLr`. The base network was restored
 * to its best weights, found at a low rate at the end of a cycle; restarting it at the initial rate
 * throws that minimum away (measured: validation fell ~6 points and did not recover within a cycle),
 * while a new set that only gets the low rate cannot learn. `lr` is the fresh rate (the headline the
 * schedule lowers); setting it scales both, so their ratio is kept.
 */
export class SplitRateOptimizer implements Optimizer {
  readonly base: Optimizer;
  readonly fresh: Optimizer;

  constructor(base: Optimizer, fresh: Optimizer) {
    this.base = base;
    this.fresh = fresh;
  }

  get lr(): number {
    return this.fresh.lr;
  }

  set lr(v: number) {
    const ratio = this.base.lr / this.fresh.lr;
    this.fresh.lr = v;
    this.base.lr = v * ratio;
  }

  step(): void {
    this.base.step();
    this.fresh.step();
  }

  zeroGrad(): void {
    this.base.zeroGrad();
    this.fresh.zeroGrad();
  }

  /** One OptimizerState (slots of both, keyed by their unique names) plus the base rate under `split`. */
  getState(): OptimizerState & { split: SplitRates } {
    const b = this.base.getState();
    const f = this.fresh.getState();
    return { kind: f.kind, lr: f.lr, step: f.step, slots: { ...b.slots, ...f.slots }, split: { baseLr: b.lr, baseStep: b.step } };
  }

  setState(state: OptimizerState): void {
    const split = (state as OptimizerState & { split?: SplitRates }).split;
    if (split === undefined) throw new Error('SplitRateOptimizer.setState: state has no split rates');
    this.base.setState({ kind: state.kind, lr: split.baseLr, step: split.baseStep, slots: state.slots });
    this.fresh.setState({ kind: state.kind, lr: state.lr, step: state.step, slots: state.slots });
  }
}

/** Whether an optimizer state was saved by a SplitRateOptimizer. */
export function isSplitState(state: OptimizerState): boolean {
  return typeof (state as { split?: unknown }).split === 'object' && (state as { split?: unknown }).split !== null;
}

/**
 * The model-level parameters of the newest dendrite set `index` ("<layer>/dendrite<i>/...",
 * "<layer>/v<i>", "<layer>/w<i>_<j>") and all others, in model order.
 */
export function partitionNewestSet(params: readonly Param[], index: number): { fresh: Param[]; rest: Param[] } {
  const re = new RegExp(`/(dendrite${index}/|v${index}$|w${index}_\\d+$)`);
  const fresh: Param[] = [];
  const rest: Param[] = [];
  for (const p of params) (re.test(p.name) ? fresh : rest).push(p);
  return { fresh, rest };
}

export function makeSplitOptimizer(
  params: readonly Param[],
  newestSet: number,
  make: (params: Param[], lr: number) => Optimizer,
  baseLr: number,
  freshLr: number,
): Optimizer {
  const { fresh, rest } = partitionNewestSet(params, newestSet);
  if (fresh.length === 0) throw new Error(`makeSplitOptimizer: no parameters of dendrite set ${newestSet}`);
  return new SplitRateOptimizer(make(rest, baseLr), make(fresh, freshLr));
}
