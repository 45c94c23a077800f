/**
 * The checkbox's second phase in the checkpoint (src/train/checkbox.ts): once the dendrites-off network is
 * finished, the checkpoint holds it (best weights, its run's record, its schedule's state) and, after each
 * of the dendritic candidate's epochs, that run's loop state. `train --resume` then neither trains the
 * plain network again nor starts the dendritic one over, and ends with the uninterrupted run's weights.
 */
import type { Sequential } from '../engine/model.js';
import { cycleFor } from '../dendrites/cycle.js';
import type { Config } from '../params/schema.js';
import type { LoopResult, LoopState } from './loop.js';
import type { trainNetwork } from './run.js';

/** The finished plain candidate: what the second run and the report need of it. */
export interface FinishedPlain {
  /** Its best weights, as Sequential.snapshot gives them. */
  values: Float32Array[];
  loop: LoopResult;
  /** Its restarts schedule's state (report: what the schedule ran with); null without one. */
  cycle: unknown;
}

/** The checkpoint's second phase. `state` is absent until the dendritic candidate's first epoch ended. */
export interface SecondRunCheckpoint {
  plain: FinishedPlain;
  state?: LoopState;
}

type TrainedNetwork = ReturnType<typeof trainNetwork>;

export function finishedPlain(run: TrainedNetwork): FinishedPlain {
  return { values: run.model.snapshot(), loop: run.loop, cycle: run.cycle ? run.cycle.getState() : null };
}

/** The plain candidate as its run left it, into `model` (built from the same configuration), without training. */
export function plainFromCheckpoint(plainConfig: Config, saved: FinishedPlain, model: Sequential): TrainedNetwork {
  model.restore(saved.values);
  const cycle = cycleFor(plainConfig);
  if (cycle && saved.cycle !== null) cycle.setState(saved.cycle);
  return { model, cycle, loop: saved.loop };
}
