import type { Param } from '../engine/layer.js';
import { Rng } from '../engine/rng.js';
import { distillationLoss, softmaxCrossEntropy } from '../engine/loss.js';
import { Adam, SGD, type Optimizer, type OptimizerState } from '../engine/optim.js';
import { ReduceLROnPlateau } from '../engine/schedule.js';
import { makeAugmenter } from '../data/augment.js';
import type { Config } from '../params/schema.js';
import type { TrainableModel } from '../engine/model.js';
import { BatchIterator } from './batches.js';
import type { LabelledSet, Tensor } from '../engine/tensor.js';
import { isSplitState, makeSplitOptimizer } from '../dendrites/split-rate.js';
import type { StopReason, TrainingBudget } from './budget.js';
import type { DendriteCycle } from '../dendrites/cycle.js';
import type { ControllerDecision } from '../dendrites/controller.js';
import { UserError } from '../errors.js';

export type { TrainableModel };

export interface LrScheduler {
  /** Called once per epoch with the validation score (higher is better); returns true when it lowered the rate. */
  step(score: number, optimizer: Optimizer): boolean;
  getState(): unknown;
  setState(state: never): void;
}

export interface EpochRecord {
  epoch: number;
  phase: 'neuron' | 'dendrite';
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
  lr: number;
  seconds: number;
  dendrite_sets: number;
}

export interface CycleEvent {
  epoch: number;
  type: 'added' | 'discarded' | 'restored_best' | 'pruned' | 'training_complete' | 'time_limit' | 'interrupted';
  detail?: string;
}

export interface TrainingObserver {
  epochStart?(epoch: number, totalEpochs: number, batches: number): void;
  batchDone?(done: number, samples: number): void;
  epochEnd?(record: EpochRecord): void;
  event?(event: CycleEvent): void;
}

/** The loop's collaborators, built from the configuration (loopParts) or by a test. */
export interface LoopParts {
  makeOptimizer(params: Param[], lr: number): Optimizer;
  makeScheduler(optimizer: Optimizer): LrScheduler | null;
  /** Builds the training-time augmentation from the loop's own seeded stream (saved in checkpoints). */
  makeAugmenter?: (rng: Rng) => (x: Float32Array, n: number, features: number) => void;
}

/** What a caller hooks into a run: time limit, progress, checkpoints, resume. */
export interface LoopHooks {
  budget?: TrainingBudget;
  observer?: TrainingObserver;
  /** Called after every completed epoch with the full resumable state (see checkpoint.ts). */
  onCheckpoint?: (state: LoopState) => void;
  resumeFrom?: LoopState;
  /**
   * Distillation (dendrite-route distill): the teacher's logits for each (augmented) training batch, in
   * inference mode; the loss is then distillationLoss with this temperature and alpha instead of the
   * cross-entropy. Validation, best-weight choice and everything else are unchanged.
   */
  teacher?: { logits: (x: Tensor) => Tensor; temperature: number; alpha: number };
}

/** The loop's slice of the configuration (callers pass the whole Config), its parts, its cycle and hooks. */
export type LoopOptions = Pick<Config, 'epochs' | 'batchSize' | 'learningRate' | 'seed'> & LoopParts & LoopHooks & { cycle?: DendriteCycle | undefined };

/** Coefficients per MFCC frame in Edge Impulse's audio features; SpecAugment needs the frame layout. */
const MFCC_COEFFS = 13;

/** Optimizer, learning-rate schedule and augmentation as the configuration asks for them. */
export function loopParts(
  config: Pick<Config, 'optimizer' | 'learningRate' | 'lrSchedule' | 'lrPatience' | 'noise' | 'specAugment'>,
  features: number,
): LoopParts {
  const mfccLike = features % MFCC_COEFFS === 0;
  const augmenting = config.noise !== 'none' || (config.specAugment !== 'none' && mfccLike);
  const specAugment = mfccLike ? config.specAugment : 'none';
  return {
    makeOptimizer: (params, lr) => (config.optimizer === 'sgd' ? new SGD(params, { lr, momentum: 0.9 }) : new Adam(params, { lr })),
    makeScheduler: () =>
      config.lrSchedule === 'plateau' ? new ReduceLROnPlateau({ patience: config.lrPatience, factor: 0.5, minLr: config.learningRate / 64 }) : null,
    makeAugmenter: augmenting
      ? (rng) => makeAugmenter({ noise: config.noise, specAugment }, rng, { coeffs: MFCC_COEFFS, frames: features / MFCC_COEFFS })
      : undefined,
  };
}

interface Snapshot {
  sets: number;
  values: Float32Array[];
}

type BestSnapshot = Snapshot & { epoch: number; score: number; valLoss: number };

export interface LoopState {
  epoch: number;
  current: Snapshot;
  /** Best-validation snapshot per dendrite-set count (index = sets), so a discarded set is undone exactly. */
  bests: Array<BestSnapshot | null>;
  optimizer: OptimizerState;
  scheduler: unknown;
  cycle: unknown;
  rng: { shuffle: unknown; dropout: unknown; augment: unknown; dendrites: unknown };
  history: EpochRecord[];
  events: CycleEvent[];
  lr: number;
}

/** Settings read back from the components the loop actually ran with (proof that parameters arrived). */
export interface LoopApplied {
  epochs: number;
  batchSize: number;
  seed: number;
  initialLr: number;
  optimizer: string;
  scheduler: { patience: number; factor: number } | null;
  augmenting: boolean;
}

export interface LoopResult {
  applied: LoopApplied;
  history: EpochRecord[];
  events: CycleEvent[];
  best: { epoch: number; val_acc: number; val_loss: number };
  stoppedBy: 'completed' | 'epochs' | StopReason;
  epochsRun: number;
}

/** Validation accuracy decides; validation loss breaks ties (accuracy on small sets moves in coarse steps). */
function isBetter(score: number, loss: number, best: { score: number; valLoss: number }): boolean {
  return score > best.score || (score === best.score && loss < best.valLoss);
}

export function evaluate(model: TrainableModel, set: LabelledSet, batchSize = 256): { loss: number; acc: number } {
  const it = new BatchIterator(set, batchSize);
  const ctx = { training: false, rng: new Rng(0) };
  let lossSum = 0;
  let correct = 0;
  for (const b of it.batches()) {
    const logits = model.forward({ data: b.x, shape: [b.n, set.features] }, ctx);
    const r = softmaxCrossEntropy(logits, b.y);
    lossSum += r.loss * b.n;
    correct += r.correct;
  }
  return { loss: lossSum / set.n, acc: correct / set.n };
}

/**
 * Trains with per-epoch validation, keeps the best-validation weights and restores them at the end.
 * Dendrite sets are added or discarded when the cycle says so; the optimizer and scheduler are rebuilt
 * at every restructure because the parameter list changed.
 */
export function trainLoop(model: TrainableModel, train: LabelledSet, val: LabelledSet, opts: LoopOptions): LoopResult {
  return new Trainer(model, train, val, opts).run();
}

/** The loop's random streams. The key ORDER is part of the checkpoint (and of resume). */
interface LoopRngs {
  shuffle: Rng;
  dropout: Rng;
  augment: Rng;
  dendrites: Rng;
}

type Restructure = ControllerDecision & { action: 'add-set' | 'discard-and-retry' | 'complete' };

/**
 * One training run as explicit state and small steps. The call order inside each step is part of the
 * model bytes (random draws, restores, optimizer rebuilds) and of the checkpoint: keep it when editing.
 */
export class Trainer {
  readonly applied: LoopApplied;
  private readonly rng: LoopRngs;
  private readonly iterator: BatchIterator;
  private readonly augment: ((x: Float32Array, n: number, features: number) => void) | undefined;
  private readonly cycle: DendriteCycle | undefined;
  private lr: number;
  private optimizer: Optimizer;
  private scheduler: LrScheduler | null;
  private history: EpochRecord[] = [];
  private events: CycleEvent[] = [];
  /** Best-validation snapshot per dendrite-set count (index = sets). */
  private bests: Array<BestSnapshot | null> = [];
  private finalSets: number | undefined;
  /**
   * Sets the model carried before this loop began (dendrite-route expand installs its expansion before
   * training). The cycle and its controller count only the sets the cycle adds, so these are left out of
   * every count the loop keys its bests and snapshots by.
   */
  private readonly presetSets: number;
  private stoppedBy: LoopResult['stoppedBy'] = 'epochs';
  private startEpoch = 1;

  constructor(
    private readonly model: TrainableModel,
    private readonly train: LabelledSet,
    private readonly val: LabelledSet,
    private readonly opts: LoopOptions,
  ) {
    const seedRng = new Rng(opts.seed);
    this.rng = { shuffle: seedRng.fork(), dropout: seedRng.fork(), augment: seedRng.fork(), dendrites: seedRng.fork() };
    this.iterator = new BatchIterator(train, opts.batchSize);
    this.augment = opts.makeAugmenter?.(this.rng.augment);
    this.cycle = opts.cycle;
    this.presetSets = opts.cycle ? opts.cycle.setCount(model) : 0;
    this.lr = opts.learningRate;
    this.optimizer = opts.makeOptimizer(model.params(), this.lr);
    this.scheduler = opts.makeScheduler(this.optimizer);
    const scheduler = this.scheduler;
    this.applied = {
      epochs: opts.epochs,
      batchSize: this.iterator.batchSize,
      seed: opts.seed,
      initialLr: this.optimizer.lr,
      optimizer: this.optimizer.getState().kind,
      scheduler:
        scheduler && 'patience' in scheduler ? { patience: Number(scheduler.patience), factor: Number((scheduler as { factor?: number }).factor) } : null,
      augmenting: this.augment !== undefined,
    };
    if (opts.resumeFrom) this.resume(opts.resumeFrom);
  }

  run(): LoopResult {
    for (let epoch = this.startEpoch; epoch <= this.opts.epochs; epoch++) {
      if (this.epoch(epoch) === 'stop') break;
    }
    return this.finish();
  }

  private resume(s: LoopState): void {
    const { model, opts } = this;
    this.restore(s.current);
    this.lr = s.lr;
    this.optimizer = isSplitState(s.optimizer)
      ? makeSplitOptimizer(model.params(), this.sets() - 1, opts.makeOptimizer, this.lr, this.lr)
      : opts.makeOptimizer(model.params(), this.lr);
    this.optimizer.setState(s.optimizer);
    this.scheduler = opts.makeScheduler(this.optimizer);
    if (this.scheduler && s.scheduler !== null) this.scheduler.setState(s.scheduler as never);
    if (this.cycle) this.cycle.setState(s.cycle);
    (Object.keys(this.rng) as Array<keyof LoopRngs>).forEach((k) => this.rng[k].setState(s.rng[k] as never));
    this.history = s.history;
    this.events = s.events;
    this.bests = s.bests;
    this.startEpoch = s.epoch + 1;
  }

  /** One epoch: train, validate, keep the best, let the cycle decide, checkpoint. */
  private epoch(epoch: number): 'go' | 'stop' {
    const { opts, model } = this;
    const t0 = performance.now();
    opts.observer?.epochStart?.(epoch, opts.epochs, this.iterator.batchCount);
    const { loss, acc, interrupted } = this.trainPass(this.optimizer, true);
    if (interrupted) {
      // A partial epoch is not validated: the best complete epoch is what ships.
      this.stoppedBy = interrupted;
      this.emit({ epoch, type: interrupted === 'signal' ? 'interrupted' : 'time_limit' });
      return 'stop';
    }
    // NaN weights would flow on into validation, best-weight choice and the int8 export (where they
    // crash); a diverged run has nothing worth shipping, so it ends here with the likely cause.
    if (!Number.isFinite(loss)) {
      throw new UserError(
        `training: epoch ${epoch}: the training loss is ${loss} (training diverged): expected a finite loss; lower --learning-rate (it was ${opts.learningRate}) or scale the features`,
      );
    }
    const v = evaluate(model, this.val);
    const record: EpochRecord = {
      epoch,
      phase: 'neuron',
      loss,
      acc,
      val_loss: v.loss,
      val_acc: v.acc,
      lr: this.optimizer.lr,
      seconds: (performance.now() - t0) / 1000,
      dendrite_sets: this.sets(),
    };
    this.history.push(record);
    opts.observer?.epochEnd?.(record);
    const setsNow = this.sets();
    const bestHere = this.bests[setsNow];
    if (!bestHere || isBetter(v.acc, v.loss, bestHere)) this.bests[setsNow] = { ...this.snapshot(), epoch, score: v.acc, valLoss: v.loss };
    const lrWasLowered = this.scheduler ? this.scheduler.step(v.acc, this.optimizer) : false;
    if (this.cycle) {
      const decision = this.cycle.onEpochEnd({ epoch, score: v.acc, valLoss: v.loss, lr: this.optimizer.lr, lrWasLowered });
      if (decision.action !== 'continue' && this.restructure(decision as Restructure, epoch) === 'stop') return 'stop';
    }
    this.checkpoint(epoch);
    return 'go';
  }

  /** One pass over the training set; stops between batches when the budget says so. */
  private trainPass(opt: Optimizer, observe: boolean): { loss: number; acc: number; interrupted: StopReason | null } {
    const { model, train, opts } = this;
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let done = 0;
    let interrupted: StopReason | null = null;
    for (const b of this.iterator.batches(this.rng.shuffle)) {
      interrupted = opts.budget?.stopReason() ?? null;
      if (interrupted) break;
      this.augment?.(b.x, b.n, train.features);
      const logits = model.forward({ data: b.x, shape: [b.n, train.features] }, { training: true, rng: this.rng.dropout });
      const r = opts.teacher
        ? distillationLoss(logits, b.y, opts.teacher.logits({ data: b.x, shape: [b.n, train.features] }), opts.teacher.temperature, opts.teacher.alpha)
        : softmaxCrossEntropy(logits, b.y);
      opt.zeroGrad();
      model.backward(r.dlogits);
      opt.step();
      lossSum += r.loss * b.n;
      correct += r.correct;
      seen += b.n;
      if (observe) opts.observer?.batchDone?.(++done, seen);
    }
    return { loss: lossSum / Math.max(seen, 1), acc: correct / Math.max(seen, 1), interrupted };
  }

  /**
   * The controller judges with thresholds and running means, so its notion of which sets helped rules:
   * restore the best weights among architectures it kept, dropping sets it discarded, then act.
   */
  private restructure(decision: Restructure, epoch: number): 'go' | 'stop' {
    this.bests.length = Math.min(this.bests.length, decision.bestSets + 1);
    const keep = this.bestUpTo(decision.bestSets);
    if (decision.restoreBest && keep) this.restore(keep);
    if (decision.action === 'complete') {
      this.complete(decision, epoch, keep);
      return 'stop';
    }
    if (this.cycle!.restartsOnly) this.restart(keep, decision, epoch);
    else this.growSet(keep, decision, epoch);
    return 'go';
  }

  private restartsSoFar(): number {
    return this.events.filter((e) => e.type === 'restored_best').length;
  }

  private complete(decision: Restructure, epoch: number, keep: BestSnapshot | null): void {
    if (this.cycle!.restartsOnly) {
      const why = decision.completeReason === 'max-dendrites' ? 'the cap (max-dendrites) was reached' : 'the last restarts did not raise the best score';
      const best = keep ? `; best val_acc ${keep.score.toFixed(4)} at epoch ${keep.epoch}` : '';
      this.emit({ epoch, type: 'training_complete', detail: `no further restart after ${this.restartsSoFar()}: ${why}${best}` });
    } else if (decision.event) this.emit(decision.event);
    this.finalSets = decision.bestSets;
    this.stoppedBy = 'completed';
  }

  /** The rate the restored best weights were found with (the current rate when nothing was restored). */
  private restoredRate(keep: BestSnapshot | null, decision: Restructure): number {
    const restoredAt = keep && decision.restoreBest ? this.history.find((h) => h.epoch === keep.epoch) : undefined;
    return restoredAt?.lr ?? this.optimizer.lr;
  }

  /** A restart: the best weights are back; train on from them at the rate they were found with. */
  private restart(keep: BestSnapshot | null, decision: Restructure, epoch: number): void {
    const restarts = this.restartsSoFar();
    this.lr = this.restoredRate(keep, decision);
    this.optimizer = this.opts.makeOptimizer(this.model.params(), this.lr);
    this.scheduler = this.opts.makeScheduler(this.optimizer);
    const from = keep && decision.restoreBest ? `epoch ${keep.epoch}'s weights (val_acc ${keep.score.toFixed(4)})` : 'the current weights';
    const note = decision.action === 'discard-and-retry' ? '; the last restart did not raise the best score' : '';
    this.emit({
      epoch,
      type: 'restored_best',
      detail: `restart ${restarts + 1}: validation stalled; continuing from ${from} at lr ${this.lr.toPrecision(3)}${note}`,
    });
  }

  /** Adds a set (and runs its dendrite phase), then picks the rates it trains on with. */
  private growSet(keep: BestSnapshot | null, decision: Restructure, epoch: number): void {
    const { cycle, model, opts } = this;
    if (decision.action === 'discard-and-retry' && decision.event) this.emit(decision.event);
    cycle!.addSet(model, this.rng.dendrites);
    const prepared = cycle!.prepareSet(model, this.train, this.rng.dendrites, () => (opts.budget?.stopReason() ?? null) !== null);
    const detail = [decision.action === 'add-set' ? decision.event?.detail : undefined, prepared].filter(Boolean).join('; ');
    this.emit({ epoch, type: 'added', ...(detail ? { detail } : {}) });
    this.chooseLearningRate(keep, decision);
    this.scheduler = opts.makeScheduler(this.optimizer);
  }

  /** Split rate (new set fast, network at its restored rate), else find-best-lr's choice, else the initial rate. */
  private chooseLearningRate(keep: BestSnapshot | null, decision: Restructure): void {
    const { cycle, model, opts } = this;
    if (cycle!.splitLearningRate) {
      const baseLr = this.restoredRate(keep, decision);
      const freshLr = logInterpolate(baseLr, opts.learningRate, cycle!.newDendriteRate);
      this.optimizer = makeSplitOptimizer(model.params(), this.sets() - 1, opts.makeOptimizer, baseLr, freshLr);
      this.lr = this.optimizer.lr;
      return;
    }
    this.lr =
      decision.lrCandidates && decision.lrCandidates.length > 1
        ? this.pickLearningRate(decision.lrCandidates)
        : (decision.lrCandidates?.[0] ?? opts.learningRate);
    this.optimizer = opts.makeOptimizer(model.params(), this.lr);
  }

  /**
   * find-best-lr: one trial epoch per candidate rate from the same weights and random streams; the rate
   * whose trial validates best is kept and the trial is undone, so the choice does not leak into training.
   */
  private pickLearningRate(candidates: number[]): number {
    const rng = this.rng;
    const start = this.snapshot();
    const rngStates = (Object.keys(rng) as Array<keyof LoopRngs>).map((k) => rng[k].getState());
    let chosen = candidates[0]!;
    let bestTrial = { score: -Infinity, valLoss: Infinity };
    for (const candidate of candidates) {
      const trial = this.trainPass(this.opts.makeOptimizer(this.model.params(), candidate), false);
      if (trial.interrupted) break;
      const v = evaluate(this.model, this.val);
      if (isBetter(v.acc, v.loss, bestTrial)) {
        bestTrial = { score: v.acc, valLoss: v.loss };
        chosen = candidate;
      }
      this.restore(start);
      (Object.keys(rng) as Array<keyof LoopRngs>).forEach((k, i) => rng[k].setState(rngStates[i]!));
    }
    this.restore(start);
    return chosen;
  }

  private checkpoint(epoch: number): void {
    const { rng, cycle } = this;
    this.opts.onCheckpoint?.({
      epoch,
      current: this.snapshot(),
      bests: this.bests,
      optimizer: this.optimizer.getState(),
      scheduler: this.scheduler ? this.scheduler.getState() : null,
      cycle: cycle ? cycle.getState() : null,
      rng: { shuffle: rng.shuffle.getState(), dropout: rng.dropout.getState(), augment: rng.augment.getState(), dendrites: rng.dendrites.getState() },
      history: this.history,
      events: this.events,
      lr: this.lr,
    });
  }

  private finish(): LoopResult {
    const { applied, history, events, stoppedBy } = this;
    let best = this.bestUpTo(this.finalSets);
    if (!best) {
      // Stopped before the first epoch finished (epochsRun 0): no epoch was validated, so there is no best
      // to restore; the result describes the current weights and the caller decides (train ships nothing).
      const v = evaluate(this.model, this.val);
      return { applied, history, events, best: { epoch: 0, val_acc: v.acc, val_loss: v.loss }, stoppedBy, epochsRun: 0 };
    }
    this.restore(best);
    this.emit({ epoch: best.epoch, type: 'restored_best', detail: `val_acc ${best.score.toFixed(4)}` });
    if (this.cycle?.pruneDendrites === true) best = this.prune(best);
    return { applied, history, events, best: { epoch: best.epoch, val_acc: best.score, val_loss: best.valLoss }, stoppedBy, epochsRun: history.length };
  }

  /**
   * A set must earn its parameters on the device: newest first, a set is removed when the restored network
   * validates at least as well without it (the weights it was trained with stay). Sets are nested through
   * their cascade weights, so only the newest can go without changing the ones before it.
   */
  private prune(kept: BestSnapshot): BestSnapshot {
    const { cycle, model, val } = this;
    const z = cycle?.pruneSignificance ?? 0;
    let withSets = correctPerSample(model, val);
    while (cycle && this.sets() > 0) {
      const withSet = this.snapshot();
      cycle.removeLastSet(model);
      const without = correctPerSample(model, val);
      const test = mcnemar(withSets, without);
      if (test.fixed - test.broken > z * Math.sqrt(test.fixed + test.broken)) {
        this.restore(withSet);
        break;
      }
      const v = evaluate(model, val);
      this.emit({
        epoch: kept.epoch,
        type: 'pruned',
        detail: `set ${withSet.sets} removed: val_acc ${v.acc.toFixed(4)} without it, ${kept.score.toFixed(4)} with it (it fixed ${test.fixed} and broke ${test.broken} validation samples)`,
      });
      kept = { ...this.snapshot(), epoch: kept.epoch, score: v.acc, valLoss: v.loss };
      withSets = without;
    }
    return kept;
  }

  private sets(): number {
    return this.cycle ? this.cycle.setCount(this.model) - this.presetSets : 0;
  }

  private snapshot(): Snapshot {
    return { sets: this.sets(), values: this.model.params().map((p) => p.value.slice()) };
  }

  /** Rebuilds the snapshot's architecture (sets re-added with new Rng(0), then overwritten) and its values. */
  private restore(s: Snapshot): void {
    const { cycle, model } = this;
    if (!cycle && s.sets !== 0) throw new Error('trainLoop: snapshot has dendrite sets but no cycle is configured');
    while (cycle && this.sets() > s.sets) cycle.removeLastSet(model);
    while (cycle && this.sets() < s.sets) cycle.addSet(model, new Rng(0));
    const params = model.params();
    if (params.length !== s.values.length) {
      throw new Error(`trainLoop: snapshot holds ${s.values.length} parameters, model has ${params.length}`);
    }
    params.forEach((p, i) => p.value.set(s.values[i]!));
  }

  /** Best over every architecture with at most `maxSets` sets (all when undefined). */
  private bestUpTo(maxSets = Infinity): BestSnapshot | null {
    let found: BestSnapshot | null = null;
    this.bests.forEach((b, sets) => {
      if (b && sets <= maxSets && (!found || isBetter(b.score, b.valLoss, found))) found = b;
    });
    return found;
  }

  private emit(e: CycleEvent): void {
    this.events.push(e);
    this.opts.observer?.event?.(e);
  }
}

/** 1 where the model's argmax (first maximum, as softmaxCrossEntropy counts it) is the label. */
export function correctPerSample(model: TrainableModel, set: LabelledSet, batchSize = 256): Uint8Array {
  const it = new BatchIterator(set, batchSize);
  const ctx = { training: false, rng: new Rng(0) };
  const out = new Uint8Array(set.n);
  let i = 0;
  for (const b of it.batches()) {
    const z = model.forward({ data: b.x, shape: [b.n, set.features] }, ctx).data;
    const k = z.length / b.n;
    for (let r = 0; r < b.n; r++, i++) {
      let arg = 0;
      for (let j = 1; j < k; j++) if (z[r * k + j]! > z[r * k + arg]!) arg = j;
      out[i] = arg === b.y[r] ? 1 : 0;
    }
  }
  return out;
}

/** McNemar's counts for two classifiers on the same samples: right only with the first, right only with the second. */
export function mcnemar(first: Uint8Array, second: Uint8Array): { fixed: number; broken: number } {
  let fixed = 0;
  let broken = 0;
  for (let i = 0; i < first.length; i++) {
    if (first[i] === 1 && second[i] === 0) fixed++;
    else if (first[i] === 0 && second[i] === 1) broken++;
  }
  return { fixed, broken };
}

/** a^(1-t) * b^t: t = 0 gives a, t = 1 gives b (exactly, so the default keeps the initial rate bit for bit). */
export function logInterpolate(a: number, b: number, t: number): number {
  if (t <= 0) return a;
  if (t >= 1) return b;
  return Math.exp(Math.log(a) * (1 - t) + Math.log(b) * t);
}
