/**
 * Where each parameter ended up: values read back from the components a run actually built (the
 * optimizer, the batch iterator, the model's layers, the dendrite controller, the logger, ...), not from
 * the parsed configuration. Written next to each value in effective-config.json, so "the block used its
 * defaults silently" is visible at a glance and testable for every parameter.
 */
import type { CheckboxSettings } from '../train/payoff.js';
import type { Sequential } from '../engine/model.js';
import type { Config, ConfigKey } from '../params/schema.js';
import type { LoopApplied } from '../train/loop.js';
import type { TrainingBudget } from '../train/budget.js';
import type { DendriteCycle } from '../dendrites/cycle.js';
import { CONTROLLER_KEYS } from '../dendrites/controller.js';
import { DENDRITE_SET_KEYS } from '../dendrites/dendritic-layer.js';
import { UNUSED_BY_EXPAND } from '../train/expand.js';

export interface AppliedValue {
  value: unknown;
  consumer: string;
}

export interface RunComponents {
  config: Config;
  model: Sequential;
  family: string;
  loop: LoopApplied;
  cycle: DendriteCycle | undefined;
  budget: TrainingBudget;
  logMode: string;
  dataDirectory: string;
  infoFile: string | undefined;
  outDirectory: string;
  resumedFromEpoch: number | null;
  exportFiles: string[];
  int8DropLimit: number | null;
  augmentation: { noise: string; specAugment: string } | null;
  modelWidth: number;
  /**
   * The payoff check's settings when dendrites are on (null when they are off); `maxCostRatio` is the
   * ratio the checkbox priced its candidates against (null when the checkbox did not run).
   */
  payoffCheck: { enabled: boolean; restarts: boolean; maxCostRatio: number | null; settings: CheckboxSettings | null } | null;
  /** Whether a TensorBoard event file was written. */
  tensorboard: boolean;
  /** The input shape the data loader settled on (X's, train_input.json's or --input-shape). */
  inputShape: readonly number[] | undefined;
}

export function appliedParameters(c: RunComponents): Partial<Record<ConfigKey, AppliedValue>> {
  const dropoutRates = c.model.layers.filter((l) => l.kind === 'dropout').map((l) => (l as unknown as { rate: number }).rate);
  const out: Partial<Record<ConfigKey, AppliedValue>> = {
    epochs: { value: c.loop.epochs, consumer: 'train/loop (epoch limit)' },
    learningRate: { value: c.loop.initialLr, consumer: `engine/optim ${c.loop.optimizer} (initial rate)` },
    batchSize: { value: c.loop.batchSize, consumer: 'train/batches BatchIterator' },
    seed: { value: c.loop.seed, consumer: 'train/loop random streams and models/ initialisation' },
    model: { value: c.family, consumer: 'models/select (family built)' },
    width: { value: c.modelWidth, consumer: `models/${c.family} (channel multiplier)` },
    dropout: { value: dropoutRates.length ? dropoutRates[0] : c.config.dropout, consumer: `engine/layers/dropout (${dropoutRates.length} layers)` },
    optimizer: { value: c.loop.optimizer, consumer: 'engine/optim' },
    lrSchedule: { value: c.loop.scheduler ? 'plateau' : 'none', consumer: 'engine/schedule' },
    lrPatience: { value: c.loop.scheduler?.patience ?? null, consumer: 'engine/schedule ReduceLROnPlateau' },
    noise: { value: c.augmentation?.noise ?? 'none', consumer: 'data/augment' },
    specAugment: { value: c.augmentation?.specAugment ?? 'none', consumer: 'data/augment' },
    maxTrainingSeconds: { value: c.budget.maxSeconds, consumer: 'train/budget' },
    exportFormat: { value: c.exportFiles, consumer: 'export/pipeline (files written)' },
    maxInt8Drop: { value: c.int8DropLimit, consumer: 'export/pipeline (int8 accuracy check)' },
    dendrites: { value: c.cycle !== undefined && !c.cycle.restartsOnly, consumer: 'dendrites/cycle (cycleFor)' },
    restarts: c.payoffCheck
      ? { value: c.payoffCheck.restarts, consumer: "commands/payoff (the plain network's schedule)" }
      : { value: c.cycle?.restartsOnly ?? false, consumer: 'train/loop (restarts-only cycle)' },
    dataDirectory: { value: c.dataDirectory, consumer: 'data/ei-directory' },
    outDirectory: { value: c.outDirectory, consumer: 'commands/train (artifacts)' },
    infoFile: { value: c.infoFile ?? null, consumer: 'data/train-input' },
    quiet: { value: c.logMode === 'quiet', consumer: 'report/progress' },
    jsonLogs: { value: c.logMode === 'json', consumer: 'report/progress' },
    resume: { value: c.resumedFromEpoch !== null, consumer: 'train/checkpoint' },
    tensorboard: { value: c.tensorboard, consumer: 'report/tensorboard (event file written)' },
    inputShape: {
      value: c.inputShape === undefined ? null : c.inputShape.length === 1 ? `(${c.inputShape[0]},)` : `(${c.inputShape.join(', ')})`,
      consumer: 'data/ei-directory (input shape used)',
    },
  };
  if (c.cycle) Object.assign(out, cycleApplied(c.cycle));
  if (c.payoffCheck?.settings?.route === 'expand') {
    // the expansion's run grows no sets: the cycle's knobs were read and held, not used (a warning names any set)
    for (const k of UNUSED_BY_EXPAND)
      out[k] ??= { value: c.config[k], consumer: 'held, unused: dendrite-route expand grows no sets in cycles (dendrite-route fold does)' };
  }
  if (c.payoffCheck)
    out.maxCostRatio = {
      value: c.payoffCheck.maxCostRatio,
      consumer: "train/checkbox (device budget: each int8 figure at most this times the dendrites-off network's)",
    };
  const cb = c.payoffCheck?.settings;
  if (cb) {
    const distilling = cb.route === 'distill' ? 'soft targets of the dendritic teacher' : `held, unused: dendrite-route is ${cb.route}`;
    const expanding = cb.route === 'expand' ? 'rank of each layer’s expansion set, times its channels' : `held, unused: dendrite-route is ${cb.route}`;
    out.dendriteRoute = { value: cb.route, consumer: 'train/checkbox (how the dendritic candidate is made)' };
    out.distillTemperature = { value: cb.temperature, consumer: `train/checkbox distill (${distilling})` };
    out.distillAlpha = { value: cb.alpha, consumer: `train/checkbox distill (${distilling})` };
    out.expandFactor = { value: cb.expandFactor, consumer: `train/checkbox expand (${expanding})` };
    const x = cb.explicit;
    const unset = 'train/checkbox explicit budget (0: not set)';
    out.maxRamKb = { value: x?.ramBytes != null ? x.ramBytes / 1024 : 0, consumer: unset };
    out.maxFlashKb = { value: x?.flashBytes != null ? x.flashBytes / 1024 : 0, consumer: unset };
    out.maxLatencyMs = { value: x?.latencyMs ?? 0, consumer: unset };
    out.targetClockMhz = {
      value: x?.clockMhz ?? c.config.targetClockMhz,
      consumer: x ? 'train/checkbox explicit budget (latency lower bound at this clock)' : 'train/checkbox (held, unused: no explicit budget is set)',
    };
  }
  if (c.payoffCheck)
    out.dendritePayoffCheck = {
      value: c.payoffCheck.enabled,
      consumer: 'train/checkbox (the dendrites-off network first, then the dendritic one; the better on validation within max-cost-ratio ships)',
    };
  return out;
}

/**
 * What the dendrite cycle ran with, read back from it and its controller. A restarts-only cycle uses the
 * controller's schedule knobs and nothing of the sets. The learning rate, batch size and schedule the
 * controller and correlation phase also read are recorded from the loop's own components above.
 */
function cycleApplied(cycle: DendriteCycle): Partial<Record<ConfigKey, AppliedValue>> {
  const out: Partial<Record<ConfigKey, AppliedValue>> = {};
  const record = (keys: readonly ConfigKey[], from: Record<string, unknown>, consumer: string): void => {
    for (const k of keys) out[k] = { value: from[k], consumer };
  };
  const scheduleKeys = CONTROLLER_KEYS.filter((k) => k !== 'lrSchedule' && k !== 'findBestLr');
  record(scheduleKeys, cycle.controller.config, 'dendrites/controller');
  if (cycle.restartsOnly) return out;
  const applied = {
    findBestLr: cycle.controller.findBestLr,
    splitLearningRate: cycle.splitLearningRate,
    newDendriteRate: cycle.newDendriteRate,
    pruneDendrites: cycle.pruneDendrites,
    pruneSignificance: cycle.pruneSignificance,
  };
  record(['findBestLr'], applied, 'dendrites/controller');
  record(['dendriteTraining'], cycle.config, 'dendrites/cycle');
  record(DENDRITE_SET_KEYS, cycle.config, 'dendrites/dendritic-layer (a new set)');
  record(['dendriteLayers'], cycle.config, 'dendrites/apply');
  record(['splitLearningRate', 'newDendriteRate'], applied, 'train/loop (restructure)');
  record(['pruneDendrites', 'pruneSignificance'], applied, 'train/loop (after the final restore)');
  record(['correlationEpochs', 'correlationCandidates'], cycle.config, 'dendrites/correlation');
  return out;
}
