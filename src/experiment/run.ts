/**
 * One experiment run = one `train`-equivalent training (the same trainAndChoose as `train`) with
 * the best-validation weights restored, then scored on a hold-out split no training decision saw.
 * Baseline and dendritic runs differ only in the dendrite knobs (`runConfig` is the one place that
 * says how), so any difference in the score is the dendrites'.
 */
import type { Config } from '../params/schema.js';
import { evaluate, type TrainableModel } from '../train/loop.js';
import type { TrainData } from '../train/run.js';
import type { LabelledSet } from '../engine/tensor.js';
import { countParameters, dendriteSetCount, dendriticLayers, removeLastDendriteSet } from '../dendrites/apply.js';
import type { Sequential } from '../engine/model.js';
// The same choice of the shipped network as `train`; the experiment measures what it ships.
import { priceInt8, trainAndChoose } from '../train/payoff.js';
import type { DendriteMode } from './args.js';

export type Variant = 'baseline' | DendriteMode;

export interface ExperimentData {
  train: LabelledSet;
  validation: LabelledSet;
  holdout: LabelledSet;
  classes: number;
  inputShape?: number[];
}

export interface RunResult {
  width: number;
  seed: number;
  variant: Variant;
  /** Every parameter of the deployed (restored) network, dendrites included. */
  parameters: number;
  dendriteParameters: number;
  dendriteSets: number;
  holdoutAccuracy: number;
  validationAccuracy: number;
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
  /** The configuration the run trained with (for the record and the fairness test). */
  config: Config;
  /** What the deployed int8 model costs on a Cortex-M under TFLM (src/export/tflite/device-cost.ts). */
  device: RunDeviceCost;
  /**
   * Mode 'shipped' only: the network the payoff check shipped. From issue 22 on 'plain' is the
   * dendrites-off network of the run's own width (the checkbox's first run); before, it was the wider
   * plain network of `width` that replaced the dendritic one.
   */
  shipped?: {
    network: 'dendritic' | 'plain';
    width: number;
    /**
     * Since issue 22: sets the checkbox's dendritic network kept (folded into its weights when linear, so
     * `dendriteSets` of the shipped network is 0), whichever network shipped; null when none was trained.
     */
    dendriticSets?: number | null;
  };
}

export interface RunDeviceCost {
  ramBytes: number;
  flashBytes: number;
  modelBytes: number;
  operators: number;
  /** Multiply-accumulates per inference, counted from the int8 file (absent in experiment.json files before issue 22). */
  macs?: number;
}

/**
 * Prices the network as the block would ship it: the int8 TFLite file (calibrated on validation, as the
 * train command does) under TFLM. A frozen control ships without its zero sets, so they are removed first.
 */
function deployedCost(model: Sequential, validation: LabelledSet, stripSets: boolean): RunDeviceCost {
  if (stripSets) while (dendriteSetCount(model) > 0) removeLastDendriteSet(model);
  const { ramBytes, flashBytes, modelBytes, operators, macs } = priceInt8(model, validation);
  return { ramBytes, flashBytes, modelBytes, operators, macs };
}

/** Knobs a baseline run switches off; every other setting is shared with the dendritic runs. */
export function runConfig(base: Config, variant: Variant, width: number, seed: number): Config {
  if (variant === 'baseline') return { ...base, width, seed, switchMode: 'none' };
  if (variant === 'restarts') return { ...base, width, seed, dendrites: false, restarts: true };
  if (variant === 'shipped') return { ...base, width, seed, dendrites: true, dendriteTraining: 'gd', dendritePayoffCheck: true };
  if (variant === 'shipped-merged')
    return { ...base, width, seed, dendrites: true, dendriteTraining: 'gd', dendritePayoffCheck: true, dendriteForm: 'merged' };
  return { ...base, width, seed, dendrites: true, dendriteTraining: variant === 'frozen' ? 'gd' : variant };
}

export function runOne(data: ExperimentData, config: Config, variant: Variant): RunResult {
  const started = performance.now();
  const trainData: TrainData = { train: data.train, val: data.validation, classes: data.classes, inputShape: data.inputShape };
  // The frozen control: the same cycle, but each added set is frozen with v = 0 (the function never changes).
  const frozen = { onSetAdded: (m: TrainableModel) => dendriticLayers(m).forEach((l) => l.freezeDendrites(true)) };
  const shipsByPayoff = variant === 'shipped' || variant === 'shipped-merged';
  const { dendritic, shipped, payoff } = trainAndChoose(config, trainData, { ...(variant === 'frozen' ? frozen : {}), payoffCheck: shipsByPayoff });
  const model = dendritic.model;
  const shippedModel = shipped.model;
  const loop = shipped.loop;
  const scored = evaluate(shippedModel, data.holdout);
  // A frozen control deploys the plain network: its zero sets add nothing and are not counted.
  const counts =
    variant === 'frozen' ? { total: countParameters(model).total - countParameters(model).dendrite, dendrite: 0 } : countParameters(shippedModel);
  return {
    width: config.width,
    seed: config.seed,
    variant,
    parameters: counts.total,
    dendriteParameters: counts.dendrite,
    dendriteSets: variant === 'frozen' ? 0 : dendriteSetCount(shippedModel),
    holdoutAccuracy: scored.acc,
    validationAccuracy: loop.best.val_acc,
    bestEpoch: loop.best.epoch,
    epochsRun: loop.epochsRun,
    seconds: (performance.now() - started) / 1000,
    config,
    device: deployedCost(shippedModel, data.validation, variant === 'frozen'),
    ...(shipsByPayoff
      ? {
          shipped: {
            network: shipped.network,
            width: shipped.width,
            ...(payoff?.checkbox ? { dendriticSets: payoff.dendritic ? payoff.dendritic.sets : null } : {}),
          },
        }
      : {}),
  };
}

/** What one run's child process needs (src/commands/experiment-run.ts): the data by path, and the run. */
export interface ExperimentRunSpec {
  dataDirectory: string;
  holdoutDirectory: string | null;
  /** Seeds the halving of the validation split when there is no hold-out directory (the experiment's --seed). */
  dataSeed: number;
  variant: Variant;
  config: Config;
}

export interface PlanEntry {
  variant: Variant;
  config: Config;
}

/**
 * Every run of the sweep: per width, per seed, the baseline then each dendritic mode, all at equal epochs;
 * then the plain-only widths (baseline runs that map the accuracy-versus-parameters front).
 */
export function planRuns(
  base: Config,
  widths: readonly number[],
  seeds: number,
  modes: readonly DendriteMode[],
  plainWidths: readonly number[] = [],
): PlanEntry[] {
  const plan: PlanEntry[] = [];
  for (const width of widths) {
    for (let s = 0; s < seeds; s++) {
      const seed = base.seed + s;
      for (const variant of ['baseline', ...modes] as Variant[]) plan.push({ variant, config: runConfig(base, variant, width, seed) });
    }
  }
  for (const width of plainWidths) {
    if (widths.includes(width)) continue;
    for (let s = 0; s < seeds; s++) plan.push({ variant: 'baseline', config: runConfig(base, 'baseline', width, base.seed + s) });
  }
  return plan;
}
