import type { Param, WrappableLayer } from '../engine/layer.js';
import type { TrainableModel } from '../engine/model.js';
import { Adam } from '../engine/optim.js';
import type { Rng } from '../engine/rng.js';
import { softmaxCrossEntropy } from '../engine/loss.js';
import type { Tensor } from '../engine/tensor.js';
import type { Activation } from '../engine/kernels.js';
import type { Config, ConfigKey } from '../params/schema.js';
import { wrapDendriteLayers, dendriteSetCount, type AddSetConfig } from './apply.js';
import { accumulateChannelDot, activate, addScaled, derive, newBranch, type DendriteForm, type DendriticLayer } from './dendritic-layer.js';

/**
 * Correlation-trained dendrites (the idea of Perforated Backpropagation, after Fahlman's
 * cascade-correlation; this implementation is ours). With the network frozen, a pool of candidate
 * branches per layer is trained to maximise the correlation between each candidate's output d_c and its
 * neuron's error signal e_c = dL/d(out_c), which DendriticLayer.backward receives anyway. The best
 * candidate per layer is installed with zero output weight v, so the function is unchanged and neuron
 * training then learns v (whose gradient sum(e * d) is as large as the correlation made it).
 *
 * The objective per batch is the mean over channels of |Pearson r| between d_c and e_c across every
 * sample and position: S = (1/C) sum_c |cov(d_c, e_c)| / (std d_c std e_c). Pearson (rather than the raw
 * covariance of cascade-correlation) is scale-free, so it neither rewards blowing up d nor depends on
 * the loss scale or batch size.
 */

/**
 * The correlation phase's slice of the configuration: passes over the batches, candidates per layer (the
 * best is kept), the Adam rate of the candidates (the run's initial learning rate) and the batch size.
 */
export const CORRELATION_KEYS = ['correlationEpochs', 'correlationCandidates', 'learningRate', 'batchSize'] as const satisfies readonly ConfigKey[];
export type CorrelationConfig = Pick<Config, (typeof CORRELATION_KEYS)[number]>;

/** What a dendrite phase reads: its own slice, the new set's and which layers carry it. */
export type CorrelationPhaseConfig = CorrelationConfig & AddSetConfig;

export interface CorrelationRun {
  rng: Rng;
  /** Polled before every batch: true ends candidate training early (time limit, signal). */
  shouldStop?: () => boolean;
}

export interface CorrelationResult {
  /** Per wrapped layer (model order): the kept candidate's mean |r| over the last epoch. */
  correlations: number[];
  layers: string[];
}

export interface CorrelationBatch {
  x: Tensor;
  labels: ArrayLike<number>;
}

const EPS = 1e-8;

/**
 * Mean over channels of |Pearson r(d_c, e_c)| over rows of channels-last [.., C] buffers, and its
 * gradient with respect to d (written into `grad`). Exported for the gradient test.
 */
export function correlationObjective(d: Float32Array, e: Float32Array, C: number, grad?: Float32Array): number {
  const rows = d.length / C;
  const md = new Float64Array(C);
  const me = new Float64Array(C);
  for (let r = 0; r < d.length; r += C) {
    for (let c = 0; c < C; c++) {
      md[c] += d[r + c];
      me[c] += e[r + c];
    }
  }
  for (let c = 0; c < C; c++) {
    md[c] /= rows;
    me[c] /= rows;
  }
  const sde = new Float64Array(C);
  const sdd = new Float64Array(C);
  const see = new Float64Array(C);
  for (let r = 0; r < d.length; r += C) {
    for (let c = 0; c < C; c++) {
      const a = d[r + c] - md[c];
      const b = e[r + c] - me[c];
      sde[c] += a * b;
      sdd[c] += a * a;
      see[c] += b * b;
    }
  }
  let value = 0;
  const corr = new Float64Array(C);
  const sigD = new Float64Array(C);
  const sigE = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    sigD[c] = Math.sqrt(sdd[c] + EPS);
    sigE[c] = Math.sqrt(see[c] + EPS);
    corr[c] = sde[c] / (sigD[c] * sigE[c]);
    value += Math.abs(corr[c]) / C;
  }
  if (grad !== undefined) {
    // dr/dd_p = (e_p - me)/(sigD sigE) - r (d_p - md)/sigD^2; the mean's own derivative sums to zero.
    for (let r = 0; r < d.length; r += C) {
      for (let c = 0; c < C; c++) {
        const sign = corr[c] > 0 ? 1 : corr[c] < 0 ? -1 : 0;
        const a = d[r + c] - md[c];
        const b = e[r + c] - me[c];
        grad[r + c] = (sign / C) * (b / (sigD[c] * sigE[c]) - (corr[c] * a) / (sigD[c] * sigD[c]));
      }
    }
  }
  return value;
}

/** One candidate branch with its cascade weights from the layer's existing sets. */
export class Candidate {
  readonly branch: WrappableLayer;
  readonly activation: Activation;
  readonly form: DendriteForm;
  readonly cascade: Param[];
  private d: Float32Array | undefined;
  private g: Float32Array | undefined;
  private optimizer: Adam | undefined;
  /** Sum and count of the objective in the current epoch. */
  epochSum = 0;
  epochBatches = 0;

  /** earlierSets: cascade weights from the layer's existing sets (gated form; the merged form has none). */
  constructor(branch: WrappableLayer, activation: Activation, earlierSets: number, form: DendriteForm = 'gated') {
    if (form === 'merged' && earlierSets !== 0) throw new Error('Candidate: merged-form candidates have no cascade weights');
    this.branch = branch;
    this.activation = activation;
    this.form = form;
    const C = branch.outChannels;
    this.cascade = Array.from({ length: earlierSets }, (_, j) => ({
      name: `w_${j}`,
      shape: [C],
      value: new Float32Array(C),
      grad: new Float32Array(C),
      trainable: true,
    }));
  }

  params(): Param[] {
    return [...this.branch.params().map((p, i) => ({ ...p, name: `branch${i}/${p.name}` })), ...this.cascade];
  }

  /**
   * Forward on the layer's input x and its existing dendrite outputs ds, then the objective against the
   * error e; accumulates the gradient of -objective into the params (so a minimiser ascends it).
   */
  objectiveAndGrad(x: Tensor, e: Tensor, ds: Float32Array[]): number {
    const C = this.branch.outChannels;
    const ctx = { training: false, rng: undefined as never };
    const z = this.branch.forward(x, ctx);
    const d = (this.d = this.d?.length === z.data.length ? this.d : new Float32Array(z.data.length));
    d.set(z.data);
    // merged: f is inside the branch and there is no cascade, so d is the branch output as it is.
    const gated = this.form === 'gated';
    if (gated) {
      for (let j = 0; j < ds.length; j++) addScaled(d, ds[j]!, this.cascade[j]!.value, C);
      activate(this.activation, d);
    }
    const g = (this.g = this.g?.length === d.length ? this.g : new Float32Array(d.length));
    const value = correlationObjective(d, e.data, C, g);
    for (let k = 0; k < g.length; k++) g[k] = -g[k];
    if (gated) {
      derive(this.activation, d, g);
      for (let j = 0; j < ds.length; j++) accumulateChannelDot(g, ds[j]!, this.cascade[j]!.grad, C);
    }
    this.branch.backward({ data: g, shape: z.shape });
    return value;
  }

  step(x: Tensor, e: Tensor, ds: Float32Array[], lr: number): void {
    this.optimizer ??= new Adam(this.params(), { lr });
    this.optimizer.zeroGrad();
    this.epochSum += this.objectiveAndGrad(x, e, ds);
    this.epochBatches++;
    this.optimizer.step();
  }
}

/**
 * Runs a dendrite phase: wraps the selected layers (if needed), trains `candidates` new branches per layer
 * for `epochs` passes with the network frozen, installs the best one per layer as a new set (v = 0) and
 * leaves every parameter trainable with zero grads. The model gains exactly one set.
 */
export function trainCandidatesByCorrelation(
  model: TrainableModel,
  batches: () => Iterable<CorrelationBatch>,
  c: CorrelationPhaseConfig,
  o: CorrelationRun,
): CorrelationResult {
  const targets = wrapDendriteLayers(model, c.dendriteLayers);
  const sets = dendriteSetCount(model);
  for (const t of targets) {
    if (t.setCount !== sets) throw new Error(`dendrites: layer '${t.name}' has ${t.setCount} sets, the model ${sets}`);
  }
  const form = c.dendriteForm;
  const pools = targets.map((t) =>
    Array.from(
      { length: c.correlationCandidates },
      (_, k) => new Candidate(newBranch(t.base, `${t.name}/candidate${k}`, o.rng, c), c.dendriteActivation, form === 'merged' ? 0 : sets, form),
    ),
  );
  targets.forEach((t, ti) => {
    t.errorProbe = (x, dy) => {
      const ds = form === 'merged' ? [] : Array.from({ length: sets }, (_, j) => t.dendriteOutput(j));
      for (const k of pools[ti]!) k.step(x, dy, ds, c.learningRate);
    };
  });
  const ctx = { training: false, rng: o.rng };
  try {
    training: for (let epoch = 0; epoch < c.correlationEpochs; epoch++) {
      if (o.shouldStop?.()) break;
      for (const pool of pools) for (const k of pool) k.epochSum = k.epochBatches = 0;
      for (const b of batches()) {
        // A time limit or a signal ends the phase at once: the candidates trained so far are installed
        // with v = 0 as usual, so the network's function is unchanged and can be exported.
        if (o.shouldStop?.()) break training;
        const logits = model.forward(b.x, ctx);
        model.backward(softmaxCrossEntropy(logits, b.labels).dlogits);
      }
    }
  } finally {
    for (const t of targets) t.errorProbe = undefined;
    // The network's own grads were accumulated by the frozen backward passes and must not leak.
    for (const p of model.params()) p.grad.fill(0);
  }
  const correlations = targets.map((t, ti) => installBest(t, pools[ti]!));
  return { correlations, layers: targets.map((t) => t.name) };
}

function installBest(layer: DendriticLayer, pool: Candidate[]): number {
  let best = pool[0]!;
  const mean = (c: Candidate): number => (c.epochBatches > 0 ? c.epochSum / c.epochBatches : 0);
  for (const c of pool) if (mean(c) > mean(best)) best = c;
  for (const p of best.branch.params()) p.grad.fill(0);
  layer.installSet({ branch: best.branch, activation: best.activation, cascade: best.cascade.map((w) => w.value), form: best.form });
  return mean(best);
}
