/**
 * What ticking "dendrites" does when dendrite-payoff-check is on (issue 22): the checkbox improves the
 * network the user configured, at that network's device cost, under any time limit.
 *
 * 1. Train the configured network exactly as the same command with dendrites off would (same seed, same
 *    `restarts` schedule, the whole time limit and the checkpoint): the plain candidate. Its int8 price
 *    is the budget, so the shipped model has had at least the training the dendrites-off run would have
 *    had and never costs more on the device than it.
 * 2. With what is left of the time limit (none is reserved: the plain run may use it all), train the
 *    dendritic candidate for up to `epochs` epochs. dendrite-route expand (the default, src/train/expand.ts):
 *    the configured network from fresh weights with one linear set per layer at v = 1, at the initial rate
 *    and the restarts schedule, no further sets. dendrite-route fold: from the plain candidate's best
 *    weights, at the rate they were found with (`continuationRate`), sets added in cycles as configured.
 *    Linear sets are folded into the layers' own weights, so the candidate is the plain network again, at
 *    identical cost.
 *    dendrite-route distill instead: a dendritic teacher with non-linear sets (gated when the form is
 *    linear) continues from those weights in half the time left; then the configured network, again
 *    from the plain best weights at the same rate, trains in the rest on the teacher's soft targets
 *    (distillationLoss). That network is the candidate; the teacher never ships.
 * 3. Ship the dendritic candidate only when each budget figure is within `max-cost-ratio` of the plain
 *    candidate's and it validates strictly better; a tie ships the plain network.
 */
import type { Sequential } from '../engine/model.js';
import { dendriteSetCount, foldLinearSets } from '../dendrites/apply.js';
import type { Config } from '../params/schema.js';
import { evaluate, type LoopResult, type LoopState, type TrainingObserver } from './loop.js';
import { finishedPlain, plainFromCheckpoint, type SecondRunCheckpoint } from './checkbox-resume.js';
import { buildNetwork, trainNetwork, type RunHooks, type TrainData } from './run.js';
import {
  checkExplicit,
  checkFigures,
  explicitBudgetOf,
  fitsAll,
  overLimit,
  priceInt8,
  type ExplicitBudget,
  type FigureCheck,
  type Int8Price,
} from './device-budget.js';
import { widestPlainWidth } from './payoff.js';
import { expandLinearly, unusedByExpandWarning } from './expand.js';
import { specFor } from '../params/schema.js';
import { TrainingBudget } from './budget.js';
import { Rng } from '../engine/rng.js';
import type { Tensor } from '../engine/tensor.js';

export interface CheckboxCandidate {
  valAcc: number;
  price: Int8Price;
  parameters: number;
  /** Each budget figure against max-cost-ratio times the plain candidate's. */
  figures: FigureCheck[];
  fits: boolean;
}

export type TrainedNetwork = ReturnType<typeof trainNetwork>;

export interface CheckboxOutcome {
  ratio: number;
  plain: TrainedNetwork & { config: Config; candidate: CheckboxCandidate };
  /** null when no time was left after the plain run (or it was stopped by a signal): `reason` says so. */
  dendritic: (TrainedNetwork & { candidate: CheckboxCandidate; sets: number; folded: boolean; distilled?: DistillTeacher }) | null;
  /** 'wider': the widest plain width within the explicit budget (explicit.wider), trained and better on validation. */
  shipped: 'plain' | 'dendritic' | 'wider';
  reason: string;
  warning?: string;
  /** Only when max-ram-kb, max-flash-kb or max-latency-ms is set: each candidate against that budget. */
  explicit?: ExplicitOutcome;
}

/**
 * The explicit budget's part of the outcome. A dendritic candidate over it does not ship. The widest
 * plain width within it is searched and priced (not trained: it is not a candidate yet).
 */
export interface ExplicitOutcome {
  budget: ExplicitBudget;
  plain: FigureCheck[];
  dendritic: FigureCheck[] | null;
  /** The widest plain width on the 1/8 grid within every explicit figure; null when none fits. */
  widestPlain: { width: number; figures: FigureCheck[]; priced: number } | null;
  /**
   * That width trained (dendrites off, same seed and schedule, from scratch) in the time left, when it is
   * wider than the configured network: a candidate that ships when it validates strictly better than the
   * network the checkbox would ship otherwise. null when not trained (`widerNote` says why).
   */
  wider: (TrainedNetwork & { width: number; valAcc: number; price: Int8Price; figures: FigureCheck[]; parameters: number }) | null;
  widerNote: string;
}

/** dendrite-route distill: the teacher the candidate (the configured network) learned from. */
export interface DistillTeacher {
  form: Config['dendriteForm'];
  sets: number;
  valAcc: number;
  epochsRun: number;
  stoppedBy: LoopResult['stoppedBy'];
  temperature: number;
  alpha: number;
}

export interface CheckboxHooks extends RunHooks {
  /** The dendritic candidate's epochs and events (RunHooks.observer gets the plain run's). */
  candidateObserver?: TrainingObserver;
  info?: (line: string) => void;
  /**
   * The checkpoint's second phase: called once the plain candidate is finished (before the dendritic
   * candidate trains) and after each of the dendritic candidate's epochs (RunHooks.onCheckpoint gets the plain run's).
   */
  onSecondCheckpoint?: (checkpoint: SecondRunCheckpoint) => void;
  /** Resume in the second phase: the plain candidate comes from here instead of being trained again. */
  resumeSecond?: SecondRunCheckpoint;
}

const pts = (acc: number): string => `${(100 * acc).toFixed(2)}%`;

/** The dendrites-off configuration the plain candidate trains with: what `train --dendrites 0` would run. */
export function plainConfigOf(config: Config): Config {
  return { ...config, dendrites: false };
}

function candidateOf(model: Sequential, val: TrainData['val'], budget: Int8Price | null, ratio: number): CheckboxCandidate {
  const price = priceInt8(model, val);
  const figures = checkFigures(price, budget ?? price, ratio);
  return { valAcc: evaluate(model, val).acc, price, parameters: model.parameterCount(), figures, fits: fitsAll(figures) };
}

/**
 * The rate the dendrites-off network's best weights were found with. The dendritic network starts from
 * those weights at this rate, as a restart continues (docs/dendrites.md "Restarts"): measured on FSDD
 * (jackson/nicolas, 4 seeds), starting at the initial rate instead shook the weights out of their
 * optimum and lost 1.9 ± 1.8 hold-out points (validation +0.6): it overfit the validation split.
 */
export function continuationRate(loop: LoopResult, initial: number): number {
  const lr = loop.history[loop.best.epoch - 1]?.lr;
  return lr !== undefined && lr > 0 ? lr : initial;
}

/** Whether the dendritic candidate ships: within the budget, trained at least one epoch, strictly better on validation. */
export function shipsDendritic(plainValAcc: number, d: { valAcc: number; fits: boolean; epochsRun: number }): boolean {
  return d.fits && d.epochsRun > 0 && d.valAcc > plainValAcc;
}

function checkboxCore(config: Config, data: TrainData, hooks: CheckboxHooks = {}, model: Sequential = buildNetwork(config, data)): CheckboxOutcome {
  const { candidateObserver, info, onSecondCheckpoint, resumeSecond, ...runHooks } = hooks;
  const ratio = config.maxCostRatio;
  const plainConfig = plainConfigOf(config);
  const plainRun = resumeSecond ? plainFromCheckpoint(plainConfig, resumeSecond.plain, model) : trainNetwork(plainConfig, data, runHooks, model);
  const plainCandidate = candidateOf(plainRun.model, data.val, null, ratio);
  const plain = { ...plainRun, config: plainConfig, candidate: plainCandidate };
  const budget = runHooks.budget ?? new TrainingBudget(0);
  const keepPlain = (reason: string, warning?: string): CheckboxOutcome => ({
    ratio,
    plain,
    dendritic: null,
    shipped: 'plain',
    reason,
    ...(warning ? { warning } : {}),
  });
  if (plainRun.loop.epochsRun === 0) return keepPlain('the dendrites-off run did not complete an epoch; no dendritic network was trained');
  const stop = budget.stopReason();
  if (stop !== null) {
    const why =
      stop === 'signal'
        ? 'training was stopped by a signal'
        : `the dendrites-off run used the whole time limit (${budget.maxSeconds} s; ${plainRun.loop.epochsRun} epochs)`;
    return keepPlain(
      `no dendritic network was trained: ${why}; the network shipped is exactly the dendrites-off one`,
      `dendrites: ${why}, so no time was left to train dendrites; the shipped network is the one training with dendrites off gives`,
    );
  }
  const resumedAt = resumeSecond?.state?.epoch;
  const training = resumeSecond
    ? `resuming the dendritic network ${resumedAt === undefined ? 'from its start' : `after its epoch ${resumedAt}`} (the dendrites-off network is not trained again)`
    : 'training the dendritic network from its weights';
  info?.(
    `checkbox: the dendrites-off network validates at ${pts(plainCandidate.valAcc)} after ${plainRun.loop.epochsRun} epochs; ${training} for up to ${config.epochs} epochs${budget.maxSeconds > 0 ? ` within the ${Math.max(0, budget.maxSeconds - budget.elapsedSeconds()).toFixed(0)} s left` : ''}`,
  );
  // From here on a kill must not cost the plain run again: the checkpoint moves to its second phase. A
  // resumed second phase already has it (rewriting it here would drop the dendritic run's last epoch).
  const finished = resumeSecond?.plain ?? finishedPlain(plainRun);
  if (!resumeSecond) onSecondCheckpoint?.({ plain: finished });
  const checkpoints: SecondRunHooks = {
    ...(onSecondCheckpoint ? { onCheckpoint: (state: LoopState) => onSecondCheckpoint({ plain: finished, state }) } : {}),
    ...(resumeSecond?.state ? { resumeFrom: resumeSecond.state } : {}),
  };
  // An explicit budget trains one more candidate (the widest plain width within it) after this one: with a
  // time limit, the dendritic candidate gets half of what is left.
  const left = budget.maxSeconds - budget.elapsedSeconds();
  if (explicitBudgetOf(config) !== null && budget.maxSeconds > 0) budget.limitPhase((budget.elapsedSeconds() + left / 2) / budget.maxSeconds);
  try {
    return second(config, data, plain, plainRun, budget, ratio, candidateObserver, keepPlain, checkpoints);
  } finally {
    budget.endPhase();
  }
}

/** The dendritic candidate's checkpoint hooks (the distilled route has none: it starts its second phase over). */
type SecondRunHooks = Pick<RunHooks, 'onCheckpoint' | 'resumeFrom'>;

/** The second run's epochs and how it ended, for the reason; a signal also gets a warning (see stoppedWarning). */
function secondRunNote(loop: LoopResult, more = ' more'): string {
  return loop.stoppedBy === 'signal' ? `stopped by a signal after ${loop.epochsRun}${more} epochs` : `${loop.epochsRun}${more} epochs`;
}

/**
 * A signal in the second run ends it like the time limit does: its best weights so far are the candidate
 * and the comparison is made as usual; the warning says so, and that `--resume` would continue it.
 */
function stoppedWarning(loop: LoopResult): { warning?: string } {
  if (loop.stoppedBy !== 'signal') return {};
  return {
    warning: `dendrites: the dendritic network's training was stopped by a signal after ${loop.epochsRun} epochs; the choice was made with its best weights so far (train --resume continues it)`,
  };
}

/** Step 2 (the dendritic or distilled candidate) and step 3. */
function second(
  config: Config,
  data: TrainData,
  plain: CheckboxOutcome['plain'],
  plainRun: TrainedNetwork,
  budget: TrainingBudget,
  ratio: number,
  candidateObserver: TrainingObserver | undefined,
  keepPlain: (reason: string) => CheckboxOutcome,
  checkpoints: SecondRunHooks,
): CheckboxOutcome {
  const plainCandidate = plain.candidate;
  if (config.dendriteRoute === 'distill') return distill(config, data, plain, budget, ratio, candidateObserver, keepPlain);
  const expanding = config.dendriteRoute === 'expand';
  const dm = buildNetwork(config, data);
  if (expanding) expandLinearly(dm, config);
  else dm.restore(plainRun.model.snapshot());
  // expand trains from fresh weights (the expansion) at the initial rate with no further sets (the restarts schedule
  // as configured); fold continues the dendrites-off network's best weights at their rate, sets in cycles.
  const dendriticConfig: Config = expanding
    ? { ...config, dendrites: false }
    : { ...config, learningRate: continuationRate(plainRun.loop, config.learningRate) };
  const run = trainNetwork(dendriticConfig, data, { budget, ...checkpoints, ...(candidateObserver ? { observer: candidateObserver } : {}) }, dm);
  const sets = dendriteSetCount(dm);
  const folded = (expanding || config.dendriteForm === 'linear') && foldLinearSets(dm) > 0;
  const candidate = candidateOf(dm, data.val, plainCandidate.price, ratio);
  const dendritic = { ...run, candidate, sets, folded };
  const ships = shipsDendritic(plainCandidate.valAcc, { ...candidate, epochsRun: run.loop.epochsRun });
  const what = expanding
    ? `the configured network trained again from fresh weights with a linear expansion (one set per layer, ${config.expandFactor}x its channels${folded ? ', folded into the weights' : ''}; ${secondRunNote(run.loop, '')})`
    : `the dendritic network (${sets} set(s)${folded ? ', folded into the weights' : ''}, ${secondRunNote(run.loop)})`;
  const reason = ships
    ? `${what} validates better than the dendrites-off network (${pts(candidate.valAcc)} vs ${pts(plainCandidate.valAcc)}) within ${ratio}x its device cost`
    : !candidate.fits
      ? `${what} exceeds ${ratio}x the configured network's device cost (${overLimit(candidate.figures)}); the dendrites-off network ships`
      : `${what} does not validate better than the dendrites-off network (${pts(candidate.valAcc)} vs ${pts(plainCandidate.valAcc)}); the dendrites-off network ships`;
  const warnings = [stoppedWarning(run.loop).warning, expanding ? unusedByExpandWarning(config) : undefined].filter((w) => w !== undefined);
  return { ratio, plain, dendritic, shipped: ships ? 'dendritic' : 'plain', reason, ...(warnings.length ? { warning: warnings.join('; ') } : {}) };
}

/**
 * The checkbox (steps 1-3 above); with an explicit budget (max-ram-kb, max-flash-kb, max-latency-ms),
 * also each candidate against it: a dendritic candidate over it does not ship, and the widest plain
 * width within it is found and priced for the report.
 */
export function trainCheckbox(
  config: Config,
  data: TrainData,
  hooks: CheckboxHooks = {},
  model: Sequential = buildNetwork(config, data),
): CheckboxOutcome {
  const o = checkboxCore(config, data, hooks, model);
  const b = explicitBudgetOf(config);
  if (b === null) return o;
  return withExplicit(o, b, config, data, hooks.budget);
}

/** The explicit budget applied to a checkbox outcome (see ExplicitOutcome). */
export function withExplicit(
  o: CheckboxOutcome,
  b: ExplicitBudget,
  config: Config,
  data: TrainData,
  budget: TrainingBudget = new TrainingBudget(0),
): CheckboxOutcome {
  const plain = checkExplicit(o.plain.candidate.price, b);
  const dendritic = o.dendritic ? checkExplicit(o.dendritic.candidate.price, b) : null;
  const maxWidth = (specFor('width') as { max?: number }).max ?? 16;
  const fits = (p: Int8Price): boolean => fitsAll(checkExplicit(p, b));
  const found = widestPlainWidth((w) => priceInt8(buildNetwork({ ...o.plain.config, width: w }, data), data.val), o.plain.candidate.price, {
    maxWidth,
    start: config.width,
    fits,
  });
  let wider: ExplicitOutcome['wider'] = null;
  let widerNote: string;
  if (!found) widerNote = 'no plain width on the 1/8 grid fits the explicit budget';
  else if (found.width <= config.width) widerNote = `no plain width wider than the configured ${config.width} fits the explicit budget`;
  else if (budget.stopReason() !== null)
    widerNote = `plain width ${found.width} was not trained: ${budget.stopReason() === 'signal' ? 'stopped by a signal' : 'no time was left'}`;
  else {
    const cfg: Config = { ...o.plain.config, width: found.width };
    const run = trainNetwork(cfg, data, { budget }, buildNetwork(cfg, data));
    if (run.loop.epochsRun === 0) widerNote = `plain width ${found.width} did not complete an epoch in the time left`;
    else {
      const price = priceInt8(run.model, data.val);
      wider = {
        ...run,
        width: found.width,
        valAcc: evaluate(run.model, data.val).acc,
        price,
        figures: checkExplicit(price, b),
        parameters: run.model.parameterCount(),
      };
      widerNote = `plain width ${found.width} trained ${run.loop.epochsRun} epochs`;
    }
  }
  const explicit: ExplicitOutcome = {
    budget: b,
    plain,
    dendritic,
    widestPlain: found ? { width: found.width, figures: checkExplicit(found.price, b), priced: found.priced } : null,
    wider,
    widerNote,
  };
  const warnings = [o.warning, fitsAll(plain) ? '' : `the configured network exceeds the explicit budget (${overLimit(plain)})`].filter(Boolean);
  const warning = warnings.length ? { warning: warnings.join('; ') } : {};
  const base: CheckboxOutcome =
    o.shipped === 'dendritic' && dendritic && !fitsAll(dendritic)
      ? {
          ...o,
          shipped: 'plain',
          reason: `the dendritic candidate exceeds the explicit budget (${overLimit(dendritic)}); the dendrites-off network ships`,
        }
      : o;
  const best = base.shipped === 'dendritic' ? base.dendritic!.candidate.valAcc : base.plain.candidate.valAcc;
  if (wider && fitsAll(wider.figures) && wider.valAcc > best) {
    return {
      ...base,
      ...warning,
      shipped: 'wider',
      reason: `the plain width-${wider.width} network, the widest within the explicit budget, validates better (${pts(wider.valAcc)} vs ${pts(best)}) than the ${base.shipped === 'dendritic' ? 'dendritic' : 'dendrites-off'} network`,
      explicit,
    };
  }
  const note = wider
    ? `; the plain width-${wider.width} network within the explicit budget does not validate better (${pts(wider.valAcc)} vs ${pts(best)})`
    : `; ${widerNote}`;
  return { ...base, ...warning, reason: base.reason + note, explicit };
}

/** The non-linear form the distillation teacher trains with: linear sets would teach nothing a plain network cannot hold. */
export function teacherForm(form: Config['dendriteForm']): Config['dendriteForm'] {
  return form === 'linear' ? 'gated' : form;
}

/** Step 2 of dendrite-route distill (see the top of this file). */
function distill(
  config: Config,
  data: TrainData,
  plain: CheckboxOutcome['plain'],
  budget: TrainingBudget,
  ratio: number,
  candidateObserver: TrainingObserver | undefined,
  keepPlain: (reason: string) => CheckboxOutcome,
): CheckboxOutcome {
  const rate = continuationRate(plain.loop, config.learningRate);
  const form = teacherForm(config.dendriteForm);
  const teacher = buildNetwork(config, data);
  teacher.restore(plain.model.snapshot());
  if (budget.maxSeconds > 0) budget.limitPhase((budget.elapsedSeconds() + (budget.maxSeconds - budget.elapsedSeconds()) / 2) / budget.maxSeconds);
  const taught = trainNetwork({ ...config, dendriteForm: form, learningRate: rate }, data, { budget }, teacher);
  budget.endPhase();
  if (taught.loop.epochsRun === 0) return keepPlain('the dendritic teacher did not complete an epoch; the dendrites-off network ships');
  const t: DistillTeacher = {
    form,
    sets: dendriteSetCount(teacher),
    valAcc: evaluate(teacher, data.val).acc,
    epochsRun: taught.loop.epochsRun,
    stoppedBy: taught.loop.stoppedBy,
    temperature: config.distillTemperature,
    alpha: config.distillAlpha,
  };
  const ctx = { training: false, rng: new Rng(0) };
  const student = buildNetwork(plain.config, data);
  student.restore(plain.model.snapshot());
  const hooks = {
    budget,
    teacher: { logits: (x: Tensor) => teacher.forward(x, ctx), temperature: t.temperature, alpha: t.alpha },
    ...(candidateObserver ? { observer: candidateObserver } : {}),
  };
  const run = trainNetwork({ ...plain.config, learningRate: rate }, data, hooks, student);
  const candidate = candidateOf(student, data.val, plain.candidate.price, ratio);
  const dendritic = { ...run, candidate, sets: t.sets, folded: false, distilled: t };
  const ships = shipsDendritic(plain.candidate.valAcc, { ...candidate, epochsRun: run.loop.epochsRun });
  const what = `the configured network distilled from a dendritic teacher (${t.sets} ${form} set(s), ${t.epochsRun} epochs${t.stoppedBy === 'signal' ? ', stopped by a signal' : ''}, validating at ${pts(t.valAcc)}; T ${t.temperature}, alpha ${t.alpha}; ${secondRunNote(run.loop)})`;
  const reason = ships
    ? `${what} validates better than the dendrites-off network (${pts(candidate.valAcc)} vs ${pts(plain.candidate.valAcc)}) at its device cost`
    : !candidate.fits
      ? `${what} exceeds ${ratio}x the configured network's device cost (${overLimit(candidate.figures)}); the dendrites-off network ships`
      : `${what} does not validate better than the dendrites-off network (${pts(candidate.valAcc)} vs ${pts(plain.candidate.valAcc)}); the dendrites-off network ships`;
  return { ratio, plain, dendritic, shipped: ships ? 'dendritic' : 'plain', reason, ...stoppedWarning(run.loop) };
}

/** The loop of the network a checkbox run ships. */
export function shippedLoop(o: CheckboxOutcome): LoopResult {
  return o.shipped === 'dendritic' ? o.dendritic!.loop : o.shipped === 'wider' ? o.explicit!.wider!.loop : o.plain.loop;
}
