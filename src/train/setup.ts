/**
 * Turns the effective configuration into the loop's collaborators: optimizer, learning-rate schedule,
 * augmentation and the dendrite cycle. One place, so `train`, `demo` and `experiment` build them alike.
 */
import type { Config } from '../params/schema.js';
import { Adam, SGD } from '../engine/optim.js';
import { ReduceLROnPlateau } from '../engine/schedule.js';
import { makeAugmenter } from '../data/augment.js';
import { DendriteCycle } from '../dendrites/cycle.js';
import type { LoopOptions } from './loop.js';

/** Coefficients per MFCC frame in Edge Impulse's audio features; SpecAugment needs the frame layout. */
const MFCC_COEFFS = 13;

export function dendritesActive(config: Config): boolean {
  return config.dendrites && config.switchMode !== 'none';
}

/**
 * `restarts` with dendrites off: the dendrite cycle's schedule (switch decisions, restore the best weights,
 * continue at their rate, stop when the controller gives up) without any set. `switch-mode none` means no
 * switches, so no restarts either: the experiment's baselines (switch-mode none) stay plain.
 */
export function restartsActive(config: Config): boolean {
  return !dendritesActive(config) && config.restarts && config.switchMode !== 'none';
}

export function buildCycle(config: Config): DendriteCycle | undefined {
  const restartsOnly = restartsActive(config);
  if (!dendritesActive(config) && !restartsOnly) return undefined;
  return new DendriteCycle({
    switchMode: config.switchMode,
    nEpochsToSwitch: config.nEpochsToSwitch,
    historyLookback: config.historyLookback,
    initialHistoryAfterSwitches: config.initialHistoryAfterSwitches,
    fixedSwitchNum: config.fixedSwitchNum,
    firstFixedSwitchNum: config.firstFixedSwitchNum,
    improvementThreshold: config.improvementThreshold,
    improvementThresholdRaw: config.improvementThresholdRaw,
    maxDendriteTries: config.maxDendriteTries,
    maxDendrites: config.maxDendrites,
    retainAllDendrites: config.retainAllDendrites,
    findBestLr: config.findBestLr && !restartsOnly,
    dontGiveUpUnlessLrLowered: config.dontGiveUpUnlessLrLowered,
    hasScheduler: config.lrSchedule !== 'none',
    switchScore: config.switchScore,
    layers: config.dendriteLayers,
    activation: config.dendriteActivation,
    initScale: config.candidateWeightInit,
    rank: config.dendriteRank,
    form: config.dendriteForm,
    training: config.dendriteTraining,
    correlationEpochs: config.correlationEpochs,
    correlationCandidates: config.correlationCandidates,
    correlationLr: config.learningRate,
    correlationBatchSize: config.batchSize,
    splitLearningRate: config.splitLearningRate && !restartsOnly,
    newDendriteRate: config.newDendriteRate,
    pruneDendrites: config.pruneDendrites && !restartsOnly,
    pruneSignificance: config.pruneSignificance,
    restartsOnly,
  });
}

export type ConfiguredLoopOptions = Omit<LoopOptions, 'budget' | 'observer' | 'onCheckpoint' | 'resumeFrom' | 'cycle'> & {
  cycle: DendriteCycle | undefined;
};

export function loopOptions(config: Config, features: number): ConfiguredLoopOptions {
  const mfccLike = features % MFCC_COEFFS === 0;
  const augmenting = config.noise !== 'none' || (config.specAugment !== 'none' && mfccLike);
  return {
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    seed: config.seed,
    makeOptimizer: (params, lr) => (config.optimizer === 'sgd' ? new SGD(params, { lr, momentum: 0.9 }) : new Adam(params, { lr })),
    makeScheduler: () =>
      config.lrSchedule === 'plateau' ? new ReduceLROnPlateau({ patience: config.lrPatience, factor: 0.5, minLr: config.learningRate / 64 }) : null,
    makeAugmenter: augmenting
      ? (rng) =>
          makeAugmenter(
            { noise: config.noise, specAugment: mfccLike ? config.specAugment : 'none', coeffs: MFCC_COEFFS, frames: features / MFCC_COEFFS },
            rng,
          )
      : undefined,
    cycle: buildCycle(config),
  };
}
