import type { TrainableModel } from '../engine/model.js';
import type { Rng } from '../engine/rng.js';
import type { LabelledSet } from '../engine/tensor.js';
import type { Config, ConfigKey } from '../params/schema.js';
import { addDendriteSet, dendriteSetCount, removeLastDendriteSet } from './apply.js';
import { DendriteController, type ControllerConfig, type ControllerDecision, type EpochReport } from './controller.js';
import { trainCandidatesByCorrelation, type CorrelationBatch, type CorrelationPhaseConfig } from './correlation.js';

/**
 * Glue for the training loop: the controller's decisions plus the means to change the architecture.
 */

/** The cycle's own knobs (besides its controller's, its sets' and its correlation phase's). */
export const CYCLE_KEYS = [
  'dendrites',
  'restarts',
  'dendriteLayers',
  'dendriteTraining',
  'splitLearningRate',
  'newDendriteRate',
  'pruneDendrites',
  'pruneSignificance',
] as const satisfies readonly ConfigKey[];
export type CycleConfig = ControllerConfig & CorrelationPhaseConfig & Pick<Config, (typeof CYCLE_KEYS)[number]>;

/**
 * 'dendrites': sets are added at switches. 'restarts' (`restarts` with dendrites off): the dendrite cycle's
 * schedule (switch decisions, restore the best weights, continue at their rate, stop when the controller
 * gives up) without any set. `switch-mode none` means no switches, so no restarts either: the experiment's
 * baselines (switch-mode none) stay plain ('none').
 */
export function cycleMode(c: Pick<Config, 'dendrites' | 'restarts' | 'switchMode'>): 'dendrites' | 'restarts' | 'none' {
  if (c.switchMode === 'none') return 'none';
  if (c.dendrites) return 'dendrites';
  return c.restarts ? 'restarts' : 'none';
}

/** The cycle a configuration trains with, or undefined for plain training. */
export function cycleFor(config: CycleConfig): DendriteCycle | undefined {
  return cycleMode(config) === 'none' ? undefined : new DendriteCycle(config);
}

export class DendriteCycle {
  readonly controller: DendriteController;
  readonly config: CycleConfig;
  /**
   * The schedule without sets (`restarts` with dendrites off): the controller decides when to switch and
   * when to stop, the loop restores the best weights at a switch and continues at their rate, and no set
   * is ever added (addSet refuses).
   */
  readonly restartsOnly: boolean;

  /** After a switch: newest set at the initial rate, the rest at its best-weights rate (dendrites/split-rate.ts). */
  get splitLearningRate(): boolean {
    return this.config.splitLearningRate && !this.restartsOnly;
  }

  /** After training, remove the newest sets while validation is not worse without them; retain-all-dendrites switches it off. */
  get pruneDendrites(): boolean {
    return this.config.pruneDendrites && !this.config.retainAllDendrites && !this.restartsOnly;
  }

  /** z of the one-sided McNemar test a set must pass on validation to stay (0: any net gain). */
  get pruneSignificance(): number {
    return this.config.pruneSignificance;
  }

  /** Split rate: the newest set's rate on a log scale from the network's restored rate (0) to the initial rate (1). */
  get newDendriteRate(): number {
    return this.config.newDendriteRate;
  }

  constructor(config: CycleConfig) {
    this.config = config;
    this.restartsOnly = cycleMode(config) === 'restarts';
    this.controller = new DendriteController(config, { restartsOnly: this.restartsOnly });
  }

  onEpochEnd(info: EpochReport): ControllerDecision {
    return this.controller.onEpochEnd(info);
  }

  /** Adds one set with fresh random branches (also used to rebuild the architecture of a snapshot). */
  addSet(model: TrainableModel, rng: Rng): void {
    if (this.restartsOnly) throw new Error('DendriteCycle.addSet: a restarts-only cycle adds no sets');
    addDendriteSet(model, this.config, rng);
  }

  removeLastSet(model: TrainableModel): void {
    removeLastDendriteSet(model);
  }

  setCount(model: TrainableModel): number {
    return dendriteSetCount(model);
  }

  /**
   * Correlation mode: replaces the set addSet just added by the best of a pool of candidates trained on
   * the frozen network to correlate with each neuron's error. Returns a line for the event log.
   */
  prepareSet(model: TrainableModel, train: LabelledSet, rng: Rng, shouldStop?: () => boolean): string | void {
    if (this.config.dendriteTraining !== 'correlation') return;
    removeLastDendriteSet(model);
    const bs = this.config.batchSize;
    const order = new Int32Array(train.n).map((_, i) => i);
    const batches = function* (): Iterable<CorrelationBatch> {
      rng.shuffle(order);
      for (let s = 0; s < train.n; s += bs) {
        const m = Math.min(bs, train.n - s);
        const x = new Float32Array(m * train.features);
        const labels = new Int32Array(m);
        for (let r = 0; r < m; r++) {
          const i = order[s + r]!;
          x.set(train.x.subarray(i * train.features, (i + 1) * train.features), r * train.features);
          labels[r] = train.y[i]!;
        }
        yield { x: { data: x, shape: [m, train.features] }, labels };
      }
    };
    const r = trainCandidatesByCorrelation(model, batches, this.config, { rng, ...(shouldStop ? { shouldStop } : {}) });
    return `correlation-trained set ${dendriteSetCount(model)}: ${r.layers.map((l, i) => `${l} |r|=${r.correlations[i]!.toFixed(3)}`).join(', ')}`;
  }

  getState(): unknown {
    return this.controller.getState();
  }

  setState(state: unknown): void {
    this.controller.setState(state);
  }
}
