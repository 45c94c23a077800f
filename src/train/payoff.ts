/**
 * Which network ships. `trainAndChoose` is the one place that decides: with dendrites on and
 * dendrite-payoff-check, the checkbox's plain-first flow (src/train/checkbox.ts, issue 22: the
 * dendrites-off network first, at whose device cost the dendritic one must validate strictly better);
 * otherwise the configured network as trained.
 *
 * `runPayoffCheck` and the width search are the flow before issue 22 (issue 14): when training kept a
 * set, the widest plain network whose int8 export needs no more RAM and flash than the dendritic model
 * was trained and the better on validation shipped. It let a few TFLite kernels buy a 3-7.5x wider
 * network, so nothing calls it by default any more. It stays, tested, for an explicit opt-in (not wired
 * yet): with max-cost-ratio above 1.05, a wider plain network within that ratio could be a candidate.
 */
import type { Sequential } from '../engine/model.js';
import { buildModel, type BuildModelOptions } from '../models/select.js';
import { specFor, type Config } from '../params/schema.js';
import type { LabelledSet } from '../engine/tensor.js';
import { TrainingBudget } from './budget.js';
import { cycleMode } from '../dendrites/cycle.js';
import { evaluate, type EpochRecord, type LoopResult, type TrainingObserver } from './loop.js';
import { buildNetwork, trainNetwork, type RunHooks, type TrainData } from './run.js';

/** Plain widths tried: multiples of 1/8 (exact in binary), up to the schema's maximum width. */
export const PLAIN_WIDTH_STEP = 1 / 8;

export { priceInt8, type DeviceBudget, type Int8Price } from './device-budget.js';
import { explicitBudgetOf, priceInt8, type DeviceBudget, type ExplicitBudget, type FigureCheck, type Int8Price } from './device-budget.js';
import { trainCheckbox, type CheckboxOutcome, type CheckboxHooks, type DistillTeacher, type ExplicitOutcome } from './checkbox.js';

/** The plain network ships when it validates at least as well: same accuracy, no more device cost, fewer operators. */
export function shipsPlain(plainValAcc: number, dendriticValAcc: number): boolean {
  return plainValAcc >= dendriticValAcc;
}

export function fitsBudget(price: DeviceBudget, budget: DeviceBudget): boolean {
  return price.ramBytes <= budget.ramBytes && price.flashBytes <= budget.flashBytes;
}

/** step, 2 step, ... up to maxWidth. */
export function widthGrid(maxWidth: number, step = PLAIN_WIDTH_STEP): number[] {
  const n = Math.floor(maxWidth / step + 1e-9);
  return Array.from({ length: n }, (_, i) => Number(((i + 1) * step).toPrecision(12)));
}

/**
 * The widest grid width whose price fits both budgets, or null when even the narrowest does not.
 * Prices must not fall as the width grows (more channels: a larger file and larger activations; the
 * operators are the same), so the search gallops from `start` (usually the dendritic model's base width,
 * which fits) and bisects: a handful of prices instead of the whole grid. Each width is priced once.
 */
export function widestPlainWidth<P extends DeviceBudget>(
  price: (width: number) => P,
  budget: DeviceBudget,
  opts: { maxWidth: number; step?: number; start?: number; fits?: (price: P) => boolean },
): { width: number; price: P; priced: number } | null {
  const grid = widthGrid(opts.maxWidth, opts.step);
  if (grid.length === 0) return null;
  const cache = new Map<number, P>();
  const priceAt = (i: number): P => {
    let p = cache.get(i);
    if (p === undefined) {
      p = price(grid[i]!);
      cache.set(i, p);
    }
    return p;
  };
  const fits = (i: number): boolean => (opts.fits ? opts.fits(priceAt(i)) : fitsBudget(priceAt(i), budget));
  const start = opts.start === undefined ? 0 : Math.max(0, grid.filter((w) => w <= opts.start! + 1e-12).length - 1);
  // Invariant: lo fits (or is -1), hi does not (or is grid.length).
  let lo = -1;
  let hi = grid.length;
  if (fits(start)) {
    lo = start;
    for (let d = 1; ; d *= 2) {
      const j = Math.min(grid.length - 1, lo + d);
      if (j === lo) break;
      if (!fits(j)) {
        hi = j;
        break;
      }
      lo = j;
    }
  } else {
    hi = start;
    for (let d = 1; hi > 0; d *= 2) {
      const j = Math.max(0, hi - d);
      if (fits(j)) {
        lo = j;
        break;
      }
      hi = j;
    }
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo < 0 ? null : { width: grid[lo]!, price: priceAt(lo), priced: cache.size };
}

export interface PayoffCandidate {
  width: number;
  valAcc: number;
  price: Int8Price;
  parameters: number;
  /** Plain-first flow: each budget figure against max-cost-ratio times the configured plain network's. */
  figures?: FigureCheck[];
  fits?: boolean;
}

export interface PlainRun {
  model: Sequential;
  config: Config;
  loop: LoopResult;
  candidate: PayoffCandidate;
}

export interface PayoffOutcome {
  /** Whether both networks were trained and compared. */
  checked: boolean;
  /** 'wider' (checkbox with an explicit budget only): the widest plain width within it, trained (explicit.wider). */
  shipped: 'dendritic' | 'plain' | 'wider';
  /** The plain-first flow (issue 22) has no dendritic candidate when no time was left after the plain run. */
  dendritic: (PayoffCandidate & { sets: number; folded?: boolean; distilled?: DistillTeacher }) | null;
  plain: PlainRun | null;
  /** One sentence for people: why this network was shipped (or why nothing was checked). */
  reason: string;
  /** Set when the check could not be done or was cut short. */
  warning?: string;
  /**
   * The plain-first flow (issue 22, src/train/checkbox.ts): `plain` is the configured network trained
   * exactly as with dendrites off, first; its int8 figures are the budget, `ratio` the factor allowed.
   * Absent: the earlier flow (dendritic run first, then the widest plain network of no more RAM and flash).
   */
  checkbox?: { ratio: number; budget: FigureCheck[]; settings: CheckboxSettings };
  /** max-ram-kb / max-flash-kb / max-latency-ms set: each candidate against that budget (src/train/checkbox.ts). */
  explicit?: ExplicitOutcome;
}

/** What the checkbox ran with (effective-config.json's `applied` reads them back from here). */
export interface CheckboxSettings {
  route: Config['dendriteRoute'];
  /** dendrite-route distill's soft targets (held, unused, with route fold). */
  temperature: number;
  alpha: number;
  /** max-ram-kb / max-flash-kb / max-latency-ms at target-clock-mhz; null when none is set. */
  explicit: ExplicitBudget | null;
}

export interface PayoffInputs {
  config: Config;
  /** Everything buildModel needs except the width. */
  build: Omit<BuildModelOptions, 'width'>;
  /** The trained dendritic model (best weights restored, sets kept). */
  model: Sequential;
  sets: number;
  /** The dendritic run, for the time per epoch. */
  loop: LoopResult;
  train: LabelledSet;
  val: LabelledSet;
  /** The run's own budget: the plain network gets what is left of its time limit, and signals stop it. */
  budget: TrainingBudget;
  observer?: TrainingObserver;
  /** Progress lines: the prices and the width found, the plain run's start. */
  info?: (line: string) => void;
}

const pts = (acc: number): string => `${(100 * acc).toFixed(2)}%`;
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

/**
 * Seconds one epoch of `plain` is expected to take: the dendritic run's epochs without sets (the same
 * family at the base width), scaled by MACs.
 */
export function plainEpochSeconds(history: readonly EpochRecord[], baseMacs: number, plainMacs: number): number {
  const rows = history.filter((h) => h.dendrite_sets === 0);
  const use = rows.length > 0 ? rows : history;
  if (use.length === 0) return 0;
  const mean = use.reduce((a, h) => a + h.seconds, 0) / use.length;
  return mean * (baseMacs > 0 ? plainMacs / baseMacs : 1);
}

export function runPayoffCheck(i: PayoffInputs): PayoffOutcome {
  const { config, val } = i;
  const dendritic: PayoffOutcome['dendritic'] = {
    width: config.width,
    valAcc: evaluate(i.model, val).acc,
    price: priceInt8(i.model, val),
    parameters: i.model.parameterCount(),
    sets: i.sets,
  };
  const keep = (reason: string, warning?: string): PayoffOutcome => ({
    checked: false,
    shipped: 'dendritic',
    dendritic,
    plain: null,
    reason,
    ...(warning ? { warning } : {}),
  });
  const plainConfig = (width: number): Config => ({ ...config, dendrites: false, width });
  const build = (width: number): Sequential => buildModel({ ...i.build, width });
  const maxWidth = (specFor('width') as { max?: number }).max ?? 16;
  const found = widestPlainWidth((w) => priceInt8(build(w), val), dendritic.price, { maxWidth, start: config.width });
  if (found === null) {
    return keep(
      `no plain width on the 1/8 grid fits the dendritic model's ${kib(dendritic.price.ramBytes)} RAM and ${kib(dendritic.price.flashBytes)} flash; nothing to compare with`,
    );
  }
  i.info?.(
    `payoff check: the dendritic model (${i.sets} set(s), val_acc ${pts(dendritic.valAcc)}) needs ${kib(dendritic.price.ramBytes)} RAM and ${kib(dendritic.price.flashBytes)} flash (~${ms(dendritic.price.latencyMs)} per inference); the widest plain network within both is width ${found.width} (${kib(found.price.ramBytes)} RAM, ${kib(found.price.flashBytes)} flash, ~${ms(found.price.latencyMs)}; ${found.priced} widths priced)`,
  );
  const model = build(found.width);
  const perEpoch = plainEpochSeconds(i.loop.history, i.model.macs(), model.macs());
  if (i.budget.stopReason() !== null || !i.budget.hasTimeFor(perEpoch)) {
    const why = i.budget.signal !== null ? 'training was stopped by a signal' : 'no time is left within the time limit';
    return keep(
      `not checked: ${why} for the plain width-${found.width} network`,
      `dendrite payoff check not done (${why}): the dendritic model is shipped without knowing whether a plain network of the same device cost validates better`,
    );
  }
  const cfg = plainConfig(found.width);
  i.info?.(
    `payoff check: training plain width ${found.width} for up to ${cfg.epochs} epochs (${cycleMode(cfg) === 'restarts' ? 'restarts' : 'plain schedule'})`,
  );
  const data = { train: i.train, val, classes: i.build.classes, inputShape: i.build.inputShape };
  const { loop } = trainNetwork(cfg, data, { budget: i.budget, ...(i.observer ? { observer: i.observer } : {}) }, model);
  const plain: PlainRun = {
    model,
    config: cfg,
    loop,
    candidate: { width: found.width, valAcc: evaluate(model, val).acc, price: priceInt8(model, val), parameters: model.parameterCount() },
  };
  const stoppedEarly =
    loop.stoppedBy === 'time_limit' || loop.stoppedBy === 'signal'
      ? `stopped by ${loop.stoppedBy === 'signal' ? 'a signal' : 'the time limit'} after ${loop.epochsRun} of ${cfg.epochs} epochs`
      : '';
  const cut = stoppedEarly ? ` (its run was ${stoppedEarly})` : '';
  // A plain run stopped before its first epoch ended is its untrained initialisation: never shipped.
  const shipPlain = loop.epochsRun > 0 && shipsPlain(plain.candidate.valAcc, dendritic.valAcc);
  const reason = shipPlain
    ? `the plain width-${found.width} network validates ${plain.candidate.valAcc === dendritic.valAcc ? 'as well as' : 'better than'} the dendritic model (${pts(plain.candidate.valAcc)} vs ${pts(dendritic.valAcc)}) at no more RAM or flash${cut}`
    : `the dendritic model validates better than the plain width-${found.width} network of no more RAM and flash (${pts(dendritic.valAcc)} vs ${pts(plain.candidate.valAcc)})${cut}`;
  return {
    checked: true,
    shipped: shipPlain ? 'plain' : 'dendritic',
    dendritic,
    plain,
    reason,
    ...(stoppedEarly
      ? { warning: `dendrite payoff check: the plain network's run was ${stoppedEarly}, so the comparison favours the dendritic model` }
      : {}),
  };
}

/** The network a run ships: the dendritic one it trained, or the plain one the payoff check found better. */
export interface Shipped {
  model: Sequential;
  loop: LoopResult;
  width: number;
  network: 'dendritic' | 'plain';
}

export interface ChooseHooks extends RunHooks {
  /** Whether the payoff check applies; default: the configuration's (dendrites on and dendritePayoffCheck). */
  payoffCheck?: boolean;
  /** The second run's epochs and events: the dendritic candidate (plain-first flow). */
  payoffObserver?: TrainingObserver;
  /** The check's progress lines. */
  info?: (line: string) => void;
}

export interface Choice {
  /** The run that trained first, with the caller's hooks (checkpoint, resume): what `nothing trained` and `--resume` are about. */
  primary: TrainedNetwork;
  /** The dendritic run (the primary run when the check is off; the plain run when no dendritic one was trained). */
  dendritic: TrainedNetwork;
  payoff: PayoffOutcome | undefined;
  shipped: Shipped;
}

type TrainedNetwork = ReturnType<typeof trainNetwork>;

/**
 * The one place that says which network ships. With the check on (dendrites on, dendrite-payoff-check):
 * the plain-first flow of src/train/checkbox.ts. Off: trains the configuration's network (the given
 * model, or one built from the configuration) and ships it as trained. Used by `train` and the
 * experiment's shipped variants.
 */
export function trainAndChoose(config: Config, data: TrainData, hooks: ChooseHooks = {}, model: Sequential = buildNetwork(config, data)): Choice {
  const { payoffCheck = cycleMode(config) === 'dendrites' && config.dendritePayoffCheck, payoffObserver, info, ...runHooks } = hooks;
  if (payoffCheck && cycleMode(config) === 'dendrites') {
    const checkboxHooks: CheckboxHooks = { ...runHooks, ...(payoffObserver ? { candidateObserver: payoffObserver } : {}), ...(info ? { info } : {}) };
    return fromCheckbox(trainCheckbox(config, data, checkboxHooks, model), config);
  }
  const dendritic = trainNetwork(config, data, runHooks, model);
  return { primary: dendritic, dendritic, payoff: undefined, shipped: { model, loop: dendritic.loop, width: config.width, network: 'dendritic' } };
}

/** The checkbox's outcome in the payoff check's terms (report.json dendrites.payoff). */
function fromCheckbox(o: CheckboxOutcome, config: Config): Choice {
  const cand = (c: CheckboxOutcome['plain']['candidate']): PayoffCandidate => ({
    width: config.width,
    valAcc: c.valAcc,
    price: c.price,
    parameters: c.parameters,
    figures: c.figures,
    fits: c.fits,
  });
  const d = o.dendritic;
  const payoff: PayoffOutcome = {
    checked: d !== null,
    shipped: o.shipped,
    dendritic: d ? { ...cand(d.candidate), sets: d.sets, folded: d.folded, ...(d.distilled ? { distilled: d.distilled } : {}) } : null,
    plain: { model: o.plain.model, config: o.plain.config, loop: o.plain.loop, candidate: cand(o.plain.candidate) },
    reason: o.reason,
    ...(o.warning ? { warning: o.warning } : {}),
    checkbox: {
      ratio: o.ratio,
      budget: o.plain.candidate.figures.map((f) => ({ ...f, limit: f.value * o.ratio, fits: true })),
      settings: { route: config.dendriteRoute, temperature: config.distillTemperature, alpha: config.distillAlpha, explicit: explicitBudgetOf(config) },
    },
    ...(o.explicit ? { explicit: o.explicit } : {}),
  };
  const shipped: Shipped =
    o.shipped === 'dendritic'
      ? { model: d!.model, loop: d!.loop, width: config.width, network: 'dendritic' }
      : o.shipped === 'wider'
        ? { model: o.explicit!.wider!.model, loop: o.explicit!.wider!.loop, width: o.explicit!.wider!.width, network: 'plain' }
        : { model: o.plain.model, loop: o.plain.loop, width: config.width, network: 'plain' };
  return { primary: o.plain, dendritic: d ?? o.plain, payoff, shipped };
}
