/**
 * Which network ships. `trainAndChoose` is the one place that decides: with dendrites on and
 * dendrite-payoff-check, the checkbox's plain-first flow (src/train/checkbox.ts, issue 22: the
 * dendrites-off network first, at whose device cost the dendritic one must validate strictly better);
 * otherwise the configured network as trained.
 *
 * The width search (`widestPlainWidth`) finds the widest plain network within an explicit budget
 * (max-ram-kb, max-flash-kb, max-latency-ms; src/train/checkbox.ts). Before issue 22 it also sized a plain
 * rival to every dendritic model by RAM and flash alone, which let a few TFLite kernels buy a 3-7.5x wider
 * network; that flow is gone.
 */
import type { Sequential } from '../engine/model.js';
import type { Config } from '../params/schema.js';
import { cycleMode } from '../dendrites/cycle.js';
import type { LoopResult, TrainingObserver } from './loop.js';
import { buildNetwork, trainNetwork, type RunHooks, type TrainData } from './run.js';

/** Plain widths tried: multiples of 1/8 (exact in binary), up to the schema's maximum width. */
export const PLAIN_WIDTH_STEP = 1 / 8;

export { priceInt8, type DeviceBudget, type Int8Price } from './device-budget.js';
import { explicitBudgetOf, type DeviceBudget, type ExplicitBudget, type FigureCheck, type Int8Price } from './device-budget.js';
import { trainCheckbox, type CheckboxOutcome, type CheckboxHooks, type DistillTeacher, type ExplicitOutcome } from './checkbox.js';

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
  /** dendrite-route expand's rank multiple (held, unused, with the other routes). */
  expandFactor: number;
  /** max-ram-kb / max-flash-kb / max-latency-ms at target-clock-mhz; null when none is set. */
  explicit: ExplicitBudget | null;
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
  /** The checkpoint's second phase (CheckboxHooks); only the checkbox has one. */
  onSecondCheckpoint?: CheckboxHooks['onSecondCheckpoint'];
  resumeSecond?: CheckboxHooks['resumeSecond'];
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
  const {
    payoffCheck = cycleMode(config) === 'dendrites' && config.dendritePayoffCheck,
    payoffObserver,
    info,
    onSecondCheckpoint,
    resumeSecond,
    ...runHooks
  } = hooks;
  if (payoffCheck && cycleMode(config) === 'dendrites') {
    const checkboxHooks: CheckboxHooks = {
      ...runHooks,
      ...(payoffObserver ? { candidateObserver: payoffObserver } : {}),
      ...(info ? { info } : {}),
      ...(onSecondCheckpoint ? { onSecondCheckpoint } : {}),
      ...(resumeSecond ? { resumeSecond } : {}),
    };
    return fromCheckbox(trainCheckbox(config, data, checkboxHooks, model), config);
  }
  const dendritic = trainNetwork(config, data, runHooks, model);
  return { primary: dendritic, dendritic, payoff: undefined, shipped: { model, loop: dendritic.loop, width: config.width, network: 'dendritic' } };
}

/**
 * Whether a signal cut any of the choice's training short: the run then keeps its checkpoint, so
 * `--resume` continues whichever run it stopped.
 */
export function stoppedBySignal(choice: Choice): boolean {
  const loops = [choice.primary.loop, choice.dendritic.loop, choice.payoff?.explicit?.wider?.loop];
  return loops.some((l) => l?.stoppedBy === 'signal') || choice.payoff?.dendritic?.distilled?.stoppedBy === 'signal';
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
      settings: {
        route: config.dendriteRoute,
        temperature: config.distillTemperature,
        alpha: config.distillAlpha,
        expandFactor: config.expandFactor,
        explicit: explicitBudgetOf(config),
      },
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
