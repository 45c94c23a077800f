/**
 * The one training pipeline: model assembly, loop options from the configuration and the loop. Used by
 * `train`, the experiment's runs and the payoff check's plain run, so all three train alike.
 */
import type { Config } from '../params/schema.js';
import type { LabelledSet } from '../engine/tensor.js';
import type { Sequential } from '../engine/model.js';
import { buildModel, type BuildModelOptions } from '../models/select.js';
import { cycleFor, type DendriteCycle } from '../dendrites/cycle.js';
import { loopParts, trainLoop, type LoopHooks, type LoopOptions, type LoopResult, type TrainableModel } from './loop.js';

export interface TrainData {
  train: LabelledSet;
  val: LabelledSet;
  classes: number;
  /** The per-sample input shape when known (train_input.json, --input-shape). */
  inputShape: number[] | undefined;
}

export interface RunHooks extends LoopHooks {
  /** Called after each set the cycle adds (also when a restore re-adds one), e.g. the experiment's frozen control. */
  onSetAdded?(model: TrainableModel): void;
}

/** Everything buildModel needs except the width (the payoff check varies it). */
export function buildOptions(config: Pick<Config, 'model' | 'dropout' | 'seed'>, data: TrainData): Omit<BuildModelOptions, 'width'> {
  return {
    kind: config.model,
    features: data.train.features,
    inputShape: data.inputShape,
    classes: data.classes,
    dropout: config.dropout,
    seed: config.seed,
  };
}

export function buildNetwork(config: Pick<Config, 'model' | 'width' | 'dropout' | 'seed'>, data: TrainData): Sequential {
  return buildModel({ ...buildOptions(config, data), width: config.width });
}

/** The loop's options for a configuration: its slice, its parts, its cycle and the caller's hooks. */
export function loopOptionsFor(config: Config, features: number, hooks: RunHooks = {}): LoopOptions {
  const { onSetAdded, ...loopHooks } = hooks;
  const cycle = cycleFor(config);
  if (cycle && onSetAdded) {
    const addSet = cycle.addSet.bind(cycle);
    cycle.addSet = (m, rng) => {
      addSet(m, rng);
      onSetAdded(m);
    };
  }
  return { ...config, ...loopParts(config, features), cycle, ...loopHooks };
}

/** Builds (unless given) and trains one network as the configuration says. */
export function trainNetwork(
  config: Config,
  data: TrainData,
  hooks: RunHooks = {},
  model: Sequential = buildNetwork(config, data),
): { model: Sequential; cycle: DendriteCycle | undefined; loop: LoopResult } {
  const options = loopOptionsFor(config, data.train.features, hooks);
  const loop = trainLoop(model, data.train, data.val, options);
  return { model, cycle: options.cycle, loop };
}
