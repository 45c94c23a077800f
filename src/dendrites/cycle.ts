import type { Layer, Param } from '../engine/layer.js';
import { Rng } from '../engine/rng.js';
import type { Tensor } from '../engine/tensor.js';
import { addDendriteSet, dendriteSetCount, removeLastDendriteSet, type DendriteLayerSelection } from './apply.js';
import { DendriteController, type ControllerDecision, type DendriteControllerConfig, type EpochReport } from './controller.js';
import { trainCandidatesByCorrelation, type CorrelationBatch } from './correlation.js';
import type { DendriteActivation, DendriteForm } from './dendritic-layer.js';

/**
 * Glue for the training loop: the controller's decisions plus the means to change the architecture,
 * shaped like train/loop.ts's DendriteCycle (structurally; dendrites does not import the loop).
 */

export interface DendriteCycleConfig extends Partial<DendriteControllerConfig> {
  layers: DendriteLayerSelection;
  activation: DendriteActivation;
  initScale: number;
  /** Branch rank: 0 = full copy of each wrapped layer (the reference), r >= 1 = low-rank branches. */
  rank?: number;
  /** gated (default): f on the layer's outputs, gate after it; merged: f in rank space, sets merge at export. */
  form?: DendriteForm;
  training: 'gd' | 'correlation';
  correlationEpochs: number;
  correlationCandidates: number;
  /** Adam rate of the correlation phase. */
  correlationLr: number;
  /** Batch size of the correlation phase. */
  correlationBatchSize: number;
  /** After a switch: newest set at the initial rate, the rest at its best-weights rate (dendrites/split-rate.ts). */
  splitLearningRate?: boolean;
  /** Split rate: the newest set's rate on a log scale from the network's restored rate (0) to the initial rate (1). */
  newDendriteRate?: number;
  /** After training, remove the newest sets while validation is not worse without them. */
  pruneDendrites?: boolean;
  /** z of the one-sided McNemar test a set must pass on validation to stay (0: any net gain). */
  pruneSignificance?: number;
  /**
   * The schedule without sets (`restarts` with dendrites off): the controller decides when to switch and
   * when to stop, the loop restores the best weights at a switch and continues at their rate, and no set
   * is ever added (addSet refuses).
   */
  restartsOnly?: boolean;
}

interface CycleModel {
  layers: Layer[];
  forward(x: Tensor, ctx: { training: boolean; rng: Rng }): Tensor;
  backward(dlogits: Tensor): unknown;
  params(): Param[];
}

interface LabelledRows {
  x: Float32Array;
  y: Int32Array;
  n: number;
  features: number;
}

export class DendriteCycle {
  readonly controller: DendriteController;
  readonly c: DendriteCycleConfig;

  get splitLearningRate(): boolean {
    return this.c.splitLearningRate ?? false;
  }

  /** retain-all-dendrites asks for every set to stay, so it switches pruning off. */
  get pruneDendrites(): boolean {
    return (this.c.pruneDendrites ?? false) && !this.controller.config.retainAllDendrites && !this.restartsOnly;
  }

  get pruneSignificance(): number {
    return this.c.pruneSignificance ?? 0;
  }

  get restartsOnly(): boolean {
    return this.c.restartsOnly ?? false;
  }

  get newDendriteRate(): number {
    return this.c.newDendriteRate ?? 1;
  }

  constructor(config: DendriteCycleConfig) {
    this.c = config;
    this.controller = new DendriteController(config);
  }

  onEpochEnd(info: EpochReport): ControllerDecision {
    return this.controller.onEpochEnd(info);
  }

  /** Adds one set with fresh random branches (also used to rebuild the architecture of a snapshot). */
  addSet(model: CycleModel, rng: Rng): void {
    if (this.restartsOnly) throw new Error('DendriteCycle.addSet: a restarts-only cycle adds no sets');
    addDendriteSet(model, {
      layers: this.c.layers, rng, initScale: this.c.initScale, activation: this.c.activation, rank: this.c.rank ?? 0, form: this.c.form ?? 'gated',
    });
  }

  removeLastSet(model: CycleModel): void {
    removeLastDendriteSet(model);
  }

  setCount(model: CycleModel): number {
    return dendriteSetCount(model);
  }

  /**
   * Correlation mode: replaces the set addSet just added by the best of a pool of candidates trained on
   * the frozen network to correlate with each neuron's error. Returns a line for the event log.
   */
  prepareSet(model: CycleModel, train: LabelledRows, rng: Rng, shouldStop?: () => boolean): string | void {
    if (this.c.training !== 'correlation') return;
    removeLastDendriteSet(model);
    const bs = this.c.correlationBatchSize;
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
    const r = trainCandidatesByCorrelation(model, batches, {
      epochs: this.c.correlationEpochs,
      candidates: this.c.correlationCandidates,
      lr: this.c.correlationLr,
      rng,
      activation: this.c.activation,
      initScale: this.c.initScale,
      layers: this.c.layers,
      rank: this.c.rank ?? 0,
      form: this.c.form ?? 'gated',
      ...(shouldStop ? { shouldStop } : {}),
    });
    return `correlation-trained set ${dendriteSetCount(model)}: ${r.layers.map((l, i) => `${l} |r|=${r.correlations[i]!.toFixed(3)}`).join(', ')}`;
  }

  getState(): unknown {
    return this.controller.getState();
  }

  setState(state: unknown): void {
    this.controller.setState(state);
  }
}
