import { userError } from '../errors.js';
import type { Config, ConfigKey } from '../params/schema.js';

/**
 * The dendrite cycle as a state machine over validation scores. It knows nothing of tensors: the training
 * loop reports each epoch, the controller answers what to do (continue, add a set, discard the last set
 * and retry, or stop), and the loop carries it out. Semantics follow the reference library's tracker
 * (docs/dendrites.md, "The cycle"); deviations are documented where they occur.
 */

export type SwitchMode = Config['switchMode'];
/** What counts as an improvement: the validation accuracy (loss breaks exact ties) or the validation loss. */
export type SwitchScore = Config['switchScore'];

/**
 * The controller's slice of the configuration (named, defaulted and validated once, in params/schema.ts).
 * The runtime list lets report/applied.ts record the values the controller ran with.
 */
export const CONTROLLER_KEYS = [
  'switchMode',
  'switchScore',
  'nEpochsToSwitch',
  'historyLookback',
  'initialHistoryAfterSwitches',
  'fixedSwitchNum',
  'firstFixedSwitchNum',
  'improvementThreshold',
  'improvementThresholdRaw',
  'maxDendriteTries',
  'maxDendrites',
  'retainAllDendrites',
  'findBestLr',
  'dontGiveUpUnlessLrLowered',
  'lrSchedule',
] as const satisfies readonly ConfigKey[];
export type ControllerConfig = Pick<Config, (typeof CONTROLLER_KEYS)[number]>;

/**
 * restartsOnly: the schedule without sets (`restarts` with dendrites off); find-best-lr is then off, since no
 * set is added whose rate could be searched.
 */
export interface ControllerMode {
  restartsOnly: boolean;
}

export interface EpochReport {
  /** The loop's epoch number, used only for events and bestEpoch. */
  epoch: number;
  /** Higher is better (validation accuracy). */
  score: number;
  /** Optional: breaks exact ties of the (running) score; lower is better. */
  valLoss?: number;
  lr: number;
  /** True when the scheduler lowered the rate at the end of this epoch. */
  lrWasLowered?: boolean;
}

export interface CycleEventRecord {
  epoch: number;
  type: 'added' | 'discarded' | 'training_complete';
  detail: string;
}

export interface ControllerDecision {
  action: 'continue' | 'add-set' | 'discard-and-retry' | 'complete';
  /** Always true for a restructure: restore the best weights before acting. */
  restoreBest: boolean;
  /**
   * Number of dendrite sets the restored best weights belong to. The loop must remove sets down to this
   * count before restoring; then, for 'add-set' and 'discard-and-retry', add exactly one new set.
   */
  bestSets: number;
  event?: CycleEventRecord;
  /** find-best-lr: distinct learning rates of the last neuron cycle, highest first (see docs/dendrites.md). */
  lrCandidates?: number[];
  /** With 'complete': the cap was reached, or the last set(s) did not raise the best score. */
  completeReason?: 'max-dendrites' | 'no-improvement';
}

/** Running-mean score and loss compared as one key: score first, loss breaks exact ties. */
interface Score {
  score: number;
  loss: number;
}

export interface ControllerState {
  version: 1;
  epochsRun: number;
  lastSwitchAt: number;
  lastImprovedAt: number;
  running: Score | null;
  cycleBest: Score | null;
  globalBest: Score | null;
  cycleSetGlobalBest: boolean;
  sets: number;
  setsAddedTotal: number;
  tries: number;
  best: { epoch: number; score: number; valLoss: number; sets: number } | null;
  cycleLrs: number[];
  lastCycleLrs: number[];
  lrLoweredThisCycle: boolean;
  complete: boolean;
}

export class DendriteController {
  readonly config: ControllerConfig;
  /** find-best-lr as applied: off in a restarts-only cycle. */
  readonly findBestLr: boolean;
  /** Whether a scheduler can lower the rate at all; without one dontGiveUpUnlessLrLowered has no effect. */
  readonly hasScheduler: boolean;
  private s: ControllerState;

  constructor(config: ControllerConfig, mode: ControllerMode = { restartsOnly: false }) {
    this.config = config;
    this.findBestLr = config.findBestLr && !mode.restartsOnly;
    this.hasScheduler = config.lrSchedule !== 'none';
    this.s = {
      version: 1,
      epochsRun: 0,
      lastSwitchAt: 0,
      lastImprovedAt: 0,
      running: null,
      cycleBest: null,
      globalBest: null,
      cycleSetGlobalBest: false,
      sets: 0,
      setsAddedTotal: 0,
      tries: 0,
      best: null,
      cycleLrs: [],
      lastCycleLrs: [],
      lrLoweredThisCycle: false,
      complete: false,
    };
  }

  /** Dendrite sets the model has after the last decision was carried out. */
  get sets(): number {
    return this.s.sets;
  }

  /** Best (running) score so far, the loop epoch it was seen and the set count its weights have. */
  get best(): { epoch: number; score: number; valLoss: number; sets: number } | null {
    return this.s.best === null ? null : { ...this.s.best };
  }

  get tries(): number {
    return this.s.tries;
  }

  get isComplete(): boolean {
    return this.s.complete;
  }

  /** find-best-lr: the distinct rates used during the last completed neuron cycle, highest first. */
  get lastCycleLearningRates(): number[] {
    return [...this.s.lastCycleLrs];
  }

  onEpochEnd(report: EpochReport): ControllerDecision {
    if (this.s.complete) throw new Error('DendriteController.onEpochEnd: training is already complete');
    if (!Number.isFinite(report.score)) throw new Error(`DendriteController.onEpochEnd: score must be finite, got ${report.score}`);
    const s = this.s;
    const sinceSwitch = s.epochsRun - s.lastSwitchAt; // epochs already seen in this cycle
    this.updateRunning(report, sinceSwitch);
    s.epochsRun++;
    if (!s.cycleLrs.includes(report.lr)) s.cycleLrs.push(report.lr);
    if (report.lrWasLowered === true) s.lrLoweredThisCycle = true;

    // The first initialHistoryAfterSwitches epochs of a cycle are ignored (the brief's reading of the
    // reference, which also ignores the epoch right after a switch when the setting is 0).
    const enoughHistory = sinceSwitch >= this.config.initialHistoryAfterSwitches;
    const running = s.running!;
    if (enoughHistory && (s.cycleBest === null || this.beats(running, s.cycleBest))) {
      s.cycleBest = { ...running };
      s.lastImprovedAt = s.epochsRun;
      if (s.globalBest === null || this.beats(running, s.globalBest)) {
        s.globalBest = { ...running };
        s.cycleSetGlobalBest = true;
        s.best = { epoch: report.epoch, score: running.score, valLoss: running.loss, sets: s.sets };
      }
    }
    if (s.best === null) {
      // Nothing counted yet (e.g. ignored history): the first weights are the best we have.
      s.best = { epoch: report.epoch, score: running.score, valLoss: running.loss, sets: s.sets };
    }

    if (!this.switchTime()) return { action: 'continue', restoreBest: false, bestSets: s.best.sets };
    return this.switchNow(report.epoch);
  }

  getState(): ControllerState {
    return JSON.parse(JSON.stringify(this.s)) as ControllerState;
  }

  setState(state: unknown): void {
    const st = state as Partial<ControllerState> | null;
    if (st === null || typeof st !== 'object' || st.version !== 1 || typeof st.epochsRun !== 'number') {
      throw userError('checkpoint', 'dendrite controller state', 'expected a version 1 controller state object');
    }
    this.s = JSON.parse(JSON.stringify(st)) as ControllerState;
  }

  private updateRunning(r: EpochReport, sinceSwitch: number): void {
    const s = this.s;
    const loss = r.valLoss ?? 0;
    const initial = this.config.initialHistoryAfterSwitches;
    let w: number;
    if (s.running === null) w = 1;
    else if (sinceSwitch < initial)
      w = 1 / (sinceSwitch + 1); // plain mean over the ignored epochs
    else w = 1 / this.config.historyLookback;
    if (s.running === null) s.running = { score: r.score, loss };
    else s.running = { score: s.running.score * (1 - w) + r.score * w, loss: s.running.loss * (1 - w) + loss * w };
  }

  private threshold(): number {
    const t = this.config.improvementThreshold;
    return t[Math.min(this.s.sets, t.length - 1)]!;
  }

  /** Beats by both margins on the score, or ties the score exactly and beats the loss by both margins. */
  private beats(a: Score, b: Score): boolean {
    const rel = this.threshold();
    const raw = this.config.improvementThresholdRaw;
    if (this.config.switchScore === 'loss') return a.loss * (1 + rel) < b.loss && a.loss + raw < b.loss;
    if (a.score * (1 - rel) > b.score && a.score - raw > b.score) return true;
    return a.score === b.score && a.loss * (1 + rel) < b.loss && a.loss + raw < b.loss;
  }

  private switchTime(): boolean {
    const c = this.config;
    const s = this.s;
    switch (c.switchMode) {
      case 'none':
        return false;
      case 'every-epoch':
        return true;
      case 'fixed': {
        const n = s.epochsRun;
        return n >= c.firstFixedSwitchNum && (n - c.firstFixedSwitchNum) % c.fixedSwitchNum === 0;
      }
      case 'history': {
        const stalled = s.epochsRun - s.lastImprovedAt;
        const cycleLength = s.epochsRun - s.lastSwitchAt;
        if (stalled < c.nEpochsToSwitch || cycleLength < c.initialHistoryAfterSwitches + c.nEpochsToSwitch) return false;
        // Waived after 3x the patience: a scheduler at its floor never lowers again, and we must not stall forever.
        const waitForLr = c.dontGiveUpUnlessLrLowered && this.hasScheduler && !s.lrLoweredThisCycle;
        return !waitForLr || stalled >= 3 * c.nEpochsToSwitch;
      }
    }
  }

  private switchNow(epoch: number): ControllerDecision {
    const c = this.config;
    const s = this.s;
    const best = s.best!;
    const helped = s.sets === 0 || s.cycleSetGlobalBest || c.retainAllDendrites;
    let decision: ControllerDecision;
    if (!helped) {
      if (s.tries < c.maxDendriteTries) {
        s.tries++;
        decision = {
          action: 'discard-and-retry',
          restoreBest: true,
          bestSets: best.sets,
          event: {
            epoch,
            type: 'discarded',
            detail: `set ${s.sets} did not raise the best score ${fmt(best.score)}; retry ${s.tries} of ${c.maxDendriteTries} with a fresh initialisation`,
          },
        };
        s.sets = best.sets + 1;
        s.setsAddedTotal++;
      } else {
        decision = this.complete(epoch, `set ${s.sets} did not raise the best score after ${s.tries} retries`, 'no-improvement');
      }
    } else if (s.sets >= c.maxDendrites) {
      decision = this.complete(epoch, `reached max-dendrites (${c.maxDendrites})`, 'max-dendrites');
    } else {
      s.tries = 0;
      // With retain-all the current weights carry every set, so the current cycle's best is what we build on.
      const base = c.retainAllDendrites ? s.sets : best.sets;
      decision = {
        action: 'add-set',
        restoreBest: true,
        bestSets: base,
        event: { epoch, type: 'added', detail: `set ${base + 1} added; best score ${fmt(best.score)} at epoch ${best.epoch}` },
      };
      s.sets = base + 1;
      s.setsAddedTotal++;
    }
    if (decision.action !== 'complete') {
      if (this.findBestLr) decision.lrCandidates = [...s.cycleLrs].sort((a, b) => b - a);
      this.startCycle();
    }
    return decision;
  }

  private complete(epoch: number, why: string, reason: 'max-dendrites' | 'no-improvement'): ControllerDecision {
    const best = this.s.best!;
    this.s.complete = true;
    this.s.sets = best.sets;
    return {
      action: 'complete',
      restoreBest: true,
      bestSets: best.sets,
      completeReason: reason,
      event: { epoch, type: 'training_complete', detail: `${why}; best score ${fmt(best.score)} with ${best.sets} set(s) at epoch ${best.epoch}` },
    };
  }

  private startCycle(): void {
    const s = this.s;
    s.lastSwitchAt = s.epochsRun;
    s.lastImprovedAt = s.epochsRun;
    s.cycleBest = null;
    s.lastCycleLrs = [...s.cycleLrs].sort((a, b) => b - a);
    s.cycleLrs = [];
    s.lrLoweredThisCycle = false;
    s.cycleSetGlobalBest = false;
    if (this.config.retainAllDendrites) {
      // Reference semantics: with retain-all, the new cycle's best becomes the weights to keep.
      s.globalBest = null;
    }
  }
}

function fmt(x: number): string {
  return x.toFixed(4);
}
