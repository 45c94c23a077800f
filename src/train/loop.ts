import type { Param } from '../engine/layer.js';
import { Rng } from '../engine/rng.js';
import { softmaxCrossEntropy } from '../engine/loss.js';
import { Adam, SGD, type Optimizer, type OptimizerState } from '../engine/optim.js';
import { ReduceLROnPlateau } from '../engine/schedule.js';
import { makeAugmenter } from '../data/augment.js';
import type { Config } from '../params/schema.js';
import type { TrainableModel } from '../engine/model.js';
import { BatchIterator } from './batches.js';
import type { LabelledSet } from '../engine/tensor.js';
import { isSplitState, makeSplitOptimizer } from '../dendrites/split-rate.js';
import type { StopReason, TrainingBudget } from './budget.js';
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

export interface CycleDecision {
  action: 'continue' | 'add-set' | 'discard-and-retry' | 'complete';
  /** Restore the best weights (and the architecture they belong to) before acting. */
  restoreBest: boolean;
  event?: CycleEvent;
  /** Number of dendrite sets the best weights belong to (the loop restores that architecture). */
  bestSets?: number;
  /** find-best-lr: rates to try after a restructure (one trial epoch each); else the initial rate. */
  lrCandidates?: number[];
  /** With 'complete': the cap on sets was reached, or the last set(s) did not raise the best score. */
  completeReason?: 'max-dendrites' | 'no-improvement';
}

/**
 * The dendrite cycle as the loop sees it: a decision per epoch and the means to change the architecture.
 * `prepareSet` runs an optional dendrite phase (correlation training) after the new set is added.
 */
export interface DendriteCycle {
  onEpochEnd(info: { epoch: number; score: number; valLoss: number; lr: number; lrWasLowered: boolean }): CycleDecision;
  addSet(model: TrainableModel, rng: Rng): void;
  removeLastSet(model: TrainableModel): void;
  setCount(model: TrainableModel): number;
  prepareSet?(model: TrainableModel, train: LabelledSet, rng: Rng, shouldStop?: () => boolean): string | void;
  /**
   * After a switch the newest set trains at the initial rate while the rest of the network continues at
   * the rate its restored best weights were found with (see dendrites/split-rate.ts); find-best-lr is
   * then not used.
   */
  readonly splitLearningRate?: boolean;
  /** The newest set's rate on a log scale between the restored network rate (0) and the initial rate (1); default 1. */
  readonly newDendriteRate?: number;
  /** After the best weights are restored, remove the newest sets while validation does not get worse without them. */
  readonly pruneDendrites?: boolean;
  /** A set stays only if (fixed - broken) > z * sqrt(fixed + broken) on validation (McNemar); 0 = any net gain. */
  readonly pruneSignificance?: number;
  /**
   * The cycle's schedule without sets (`restarts`): at a switch the loop restores the best weights and
   * continues at the rate they were found with (one optimizer, a fresh schedule); addSet is never called.
   */
  readonly restartsOnly?: boolean;
  getState(): unknown;
  setState(state: unknown): void;
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
      ? (rng) => makeAugmenter({ noise: config.noise, specAugment, coeffs: MFCC_COEFFS, frames: features / MFCC_COEFFS }, rng)
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

export function evaluate(
  model: TrainableModel,
  set: LabelledSet,
  batchSize = 256,
): { loss: number; acc: number } {
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
  const seedRng = new Rng(opts.seed);
  const rng = { shuffle: seedRng.fork(), dropout: seedRng.fork(), augment: seedRng.fork(), dendrites: seedRng.fork() };
  const iterator = new BatchIterator(train, opts.batchSize);
  const augment = opts.makeAugmenter?.(rng.augment);
  const cycle = opts.cycle;
  const sets = (): number => (cycle ? cycle.setCount(model) : 0);

  const snapshot = (): Snapshot => ({ sets: sets(), values: model.params().map((p) => p.value.slice()) });
  const restore = (s: Snapshot): void => {
    if (!cycle && s.sets !== 0) throw new Error('trainLoop: snapshot has dendrite sets but no cycle is configured');
    while (cycle && cycle.setCount(model) > s.sets) cycle.removeLastSet(model);
    while (cycle && cycle.setCount(model) < s.sets) cycle.addSet(model, new Rng(0));
    const params = model.params();
    if (params.length !== s.values.length) {
      throw new Error(`trainLoop: snapshot holds ${s.values.length} parameters, model has ${params.length}`);
    }
    params.forEach((p, i) => p.value.set(s.values[i]!));
  };

  let lr = opts.learningRate;
  let optimizer = opts.makeOptimizer(model.params(), lr);
  let scheduler = opts.makeScheduler(optimizer);
  const applied: LoopApplied = {
    epochs: opts.epochs,
    batchSize: iterator.batchSize,
    seed: opts.seed,
    initialLr: optimizer.lr,
    optimizer: optimizer.getState().kind,
    scheduler: scheduler && 'patience' in scheduler ? { patience: Number(scheduler.patience), factor: Number((scheduler as { factor?: number }).factor) } : null,
    augmenting: augment !== undefined,
  };
  let history: EpochRecord[] = [];
  let events: CycleEvent[] = [];
  let bests: Array<BestSnapshot | null> = [];
  /** Best over every architecture with at most `maxSets` sets (all when undefined). */
  const bestUpTo = (maxSets = Infinity): BestSnapshot | null => {
    let found: BestSnapshot | null = null;
    bests.forEach((b, sets) => {
      if (b && sets <= maxSets && (!found || isBetter(b.score, b.valLoss, found))) found = b;
    });
    return found;
  };
  let finalSets: number | undefined;
  let startEpoch = 1;

  if (opts.resumeFrom) {
    const s = opts.resumeFrom;
    restore(s.current);
    lr = s.lr;
    optimizer = isSplitState(s.optimizer)
      ? makeSplitOptimizer(model.params(), sets() - 1, opts.makeOptimizer, lr, lr)
      : opts.makeOptimizer(model.params(), lr);
    optimizer.setState(s.optimizer);
    scheduler = opts.makeScheduler(optimizer);
    if (scheduler && s.scheduler !== null) scheduler.setState(s.scheduler as never);
    if (cycle) cycle.setState(s.cycle);
    (Object.keys(rng) as Array<keyof typeof rng>).forEach((k) => rng[k].setState(s.rng[k] as never));
    history = s.history;
    events = s.events;
    bests = s.bests;
    startEpoch = s.epoch + 1;
  }

  const emit = (e: CycleEvent): void => {
    events.push(e);
    opts.observer?.event?.(e);
  };
  let stoppedBy: LoopResult['stoppedBy'] = 'epochs';
  let epoch = startEpoch;

  /** One pass over the training set; stops between batches when the budget says so. */
  const runEpoch = (opt: Optimizer, observe: boolean) => {
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let done = 0;
    let interrupted: StopReason | null = null;
    for (const b of iterator.batches(rng.shuffle)) {
      interrupted = opts.budget?.stopReason() ?? null;
      if (interrupted) break;
      augment?.(b.x, b.n, train.features);
      const logits = model.forward({ data: b.x, shape: [b.n, train.features] }, { training: true, rng: rng.dropout });
      const r = softmaxCrossEntropy(logits, b.y);
      opt.zeroGrad();
      model.backward(r.dlogits);
      opt.step();
      lossSum += r.loss * b.n;
      correct += r.correct;
      seen += b.n;
      if (observe) opts.observer?.batchDone?.(++done, seen);
    }
    return { loss: lossSum / Math.max(seen, 1), acc: correct / Math.max(seen, 1), interrupted };
  };

  /**
   * find-best-lr: one trial epoch per candidate rate from the same weights and random streams; the rate
   * whose trial validates best is kept and the trial is undone, so the choice does not leak into training.
   */
  const pickLearningRate = (candidates: number[]): number => {
    const start = snapshot();
    const rngStates = (Object.keys(rng) as Array<keyof typeof rng>).map((k) => rng[k].getState());
    let chosen = candidates[0]!;
    let bestTrial = { score: -Infinity, valLoss: Infinity };
    for (const candidate of candidates) {
      const trial = runEpoch(opts.makeOptimizer(model.params(), candidate), false);
      if (trial.interrupted) break;
      const v = evaluate(model, val);
      if (isBetter(v.acc, v.loss, bestTrial)) {
        bestTrial = { score: v.acc, valLoss: v.loss };
        chosen = candidate;
      }
      restore(start);
      (Object.keys(rng) as Array<keyof typeof rng>).forEach((k, i) => rng[k].setState(rngStates[i]!));
    }
    restore(start);
    return chosen;
  };

  for (; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    opts.observer?.epochStart?.(epoch, opts.epochs, iterator.batchCount);
    const { loss, acc, interrupted } = runEpoch(optimizer, true);
    if (interrupted) {
      // A partial epoch is not validated: the best complete epoch is what ships.
      stoppedBy = interrupted;
      emit({ epoch, type: interrupted === 'signal' ? 'interrupted' : 'time_limit' });
      break;
    }
    // NaN weights would flow on into validation, best-weight choice and the int8 export (where they
    // crash); a diverged run has nothing worth shipping, so it ends here with the likely cause.
    if (!Number.isFinite(loss)) {
      throw new UserError(
        `training: epoch ${epoch}: the training loss is ${loss} (training diverged): expected a finite loss; lower --learning-rate (it was ${opts.learningRate}) or scale the features`,
      );
    }
    const v = evaluate(model, val);
    const record: EpochRecord = {
      epoch,
      phase: 'neuron',
      loss,
      acc,
      val_loss: v.loss,
      val_acc: v.acc,
      lr: optimizer.lr,
      seconds: (performance.now() - t0) / 1000,
      dendrite_sets: sets(),
    };
    history.push(record);
    opts.observer?.epochEnd?.(record);
    const setsNow = sets();
    const bestHere = bests[setsNow];
    if (!bestHere || isBetter(v.acc, v.loss, bestHere)) bests[setsNow] = { ...snapshot(), epoch, score: v.acc, valLoss: v.loss };
    const lrWasLowered = scheduler ? scheduler.step(v.acc, optimizer) : false;

    if (cycle) {
      const decision = cycle.onEpochEnd({ epoch, score: v.acc, valLoss: v.loss, lr: optimizer.lr, lrWasLowered });
      if (decision.action !== 'continue') {
        // The controller judges with thresholds and running means, so its notion of which sets helped
        // rules: restore the best weights among architectures it kept, dropping sets it discarded.
        if (decision.bestSets !== undefined) bests.length = Math.min(bests.length, decision.bestSets + 1);
        const keep = bestUpTo(decision.bestSets);
        if (decision.restoreBest && keep) restore(keep);
        const restarts = events.filter((e) => e.type === 'restored_best').length;
        if (decision.action === 'complete') {
          if (cycle.restartsOnly) {
            const why = decision.completeReason === 'max-dendrites' ? 'the cap (max-dendrites) was reached' : 'the last restarts did not raise the best score';
            emit({ epoch, type: 'training_complete', detail: `no further restart after ${restarts}: ${why}${keep ? `; best val_acc ${keep.score.toFixed(4)} at epoch ${keep.epoch}` : ''}` });
          } else if (decision.event) emit(decision.event);
          finalSets = decision.bestSets;
          stoppedBy = 'completed';
          break;
        }
        if (cycle.restartsOnly) {
          // A restart: the best weights are back; train on from them at the rate they were found with.
          const restoredAt = keep && decision.restoreBest ? history.find((h) => h.epoch === keep.epoch) : undefined;
          lr = restoredAt?.lr ?? optimizer.lr;
          optimizer = opts.makeOptimizer(model.params(), lr);
          scheduler = opts.makeScheduler(optimizer);
          const from = keep && decision.restoreBest ? `epoch ${keep.epoch}'s weights (val_acc ${keep.score.toFixed(4)})` : 'the current weights';
          const note = decision.action === 'discard-and-retry' ? '; the last restart did not raise the best score' : '';
          emit({ epoch, type: 'restored_best', detail: `restart ${restarts + 1}: validation stalled; continuing from ${from} at lr ${lr.toPrecision(3)}${note}` });
        } else {
          if (decision.action === 'discard-and-retry' && decision.event) emit(decision.event);
          cycle.addSet(model, rng.dendrites);
          const prepared = cycle.prepareSet?.(model, train, rng.dendrites, () => (opts.budget?.stopReason() ?? null) !== null);
          const detail = [decision.action === 'add-set' ? decision.event?.detail : undefined, prepared].filter(Boolean).join('; ');
          emit({ epoch, type: 'added', ...(detail ? { detail } : {}) });
          if (cycle.splitLearningRate) {
            const restoredAt = keep && decision.restoreBest ? history.find((h) => h.epoch === keep.epoch) : undefined;
            const baseLr = restoredAt?.lr ?? optimizer.lr;
            const freshLr = logInterpolate(baseLr, opts.learningRate, cycle.newDendriteRate ?? 1);
            optimizer = makeSplitOptimizer(model.params(), sets() - 1, opts.makeOptimizer, baseLr, freshLr);
            lr = optimizer.lr;
          } else {
            lr = decision.lrCandidates && decision.lrCandidates.length > 1
              ? pickLearningRate(decision.lrCandidates)
              : decision.lrCandidates?.[0] ?? opts.learningRate;
            optimizer = opts.makeOptimizer(model.params(), lr);
          }
          scheduler = opts.makeScheduler(optimizer);
        }
      }
    }
    opts.onCheckpoint?.({
      epoch,
      current: snapshot(),
      bests,
      optimizer: optimizer.getState(),
      scheduler: scheduler ? scheduler.getState() : null,
      cycle: cycle ? cycle.getState() : null,
      rng: { shuffle: rng.shuffle.getState(), dropout: rng.dropout.getState(), augment: rng.augment.getState(), dendrites: rng.dendrites.getState() },
      history,
      events,
      lr,
    });
  }

  /**
   * A set must earn its parameters on the device: newest first, a set is removed when the restored network
   * validates at least as well without it (the weights it was trained with stay). Sets are nested through
   * their cascade weights, so only the newest can go without changing the ones before it.
   */
  const pruneSets = (kept: BestSnapshot): BestSnapshot => {
    const z = cycle?.pruneSignificance ?? 0;
    let withSets = correctPerSample(model, val);
    while (cycle && sets() > 0) {
      const withSet = snapshot();
      cycle.removeLastSet(model);
      const without = correctPerSample(model, val);
      const test = mcnemar(withSets, without);
      if (test.fixed - test.broken > z * Math.sqrt(test.fixed + test.broken)) {
        restore(withSet);
        break;
      }
      const v = evaluate(model, val);
      emit({
        epoch: kept.epoch,
        type: 'pruned',
        detail: `set ${withSet.sets} removed: val_acc ${v.acc.toFixed(4)} without it, ${kept.score.toFixed(4)} with it (it fixed ${test.fixed} and broke ${test.broken} validation samples)`,
      });
      kept = { ...snapshot(), epoch: kept.epoch, score: v.acc, valLoss: v.loss };
      withSets = without;
    }
    return kept;
  };

  let best = bestUpTo(finalSets);
  if (!best) {
    // Stopped before the first epoch finished (epochsRun 0): no epoch was validated, so there is no best
    // to restore; the result describes the current weights and the caller decides (train ships nothing).
    const v = evaluate(model, val);
    return { applied, history, events, best: { epoch: 0, val_acc: v.acc, val_loss: v.loss }, stoppedBy, epochsRun: 0 };
  }
  restore(best);
  emit({ epoch: best.epoch, type: 'restored_best', detail: `val_acc ${best.score.toFixed(4)}` });
  if (cycle?.pruneDendrites === true) best = pruneSets(best);
  return {
    applied,
    history,
    events,
    best: { epoch: best.epoch, val_acc: best.score, val_loss: best.valLoss },
    stoppedBy,
    epochsRun: history.length,
  };
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
