/**
 * Decides when training must stop early: the time budget (max-training-seconds) or a SIGTERM/SIGINT.
 * The loop polls `stopReason()` between batches, so a stop takes effect within one batch; it then restores
 * the best weights and exports normally. Edge Impulse kills jobs at their time limit, so ending with a
 * verified model before that matters more than the last epochs.
 *
 * Signals and a synchronous loop: Node runs a `process.on('SIGTERM')` handler only when the thread
 * returns to its event loop, which a training loop never does. So `train` trains in a worker thread and
 * the main thread, idle, relays signals into a shared stop flag (`relaySignals`) that the worker's
 * budget reads with Atomics at every batch.
 */
import { exitAfterPublish } from '../util/out-transaction.js';

export type StopReason = 'time_limit' | 'signal';

const SIGNAL_NUMBERS: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 2, SIGTERM: 15 };

/** One Int32 in shared memory: 0, or the number of the first signal received. */
export function createStopFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Conventional exit status of a process stopped by `signal` (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal as 'SIGINT' | 'SIGTERM'] ?? 15);
}

/**
 * Main thread: the first SIGTERM/SIGINT is stored in `flag` (training sees it at its next batch and
 * exports the best weights); a second one exits at once (the user insists), or, when it comes while
 * `publishing` is set, right after that publish. Returns the undo function.
 */
export function relaySignals(flag: Int32Array, publishing?: Int32Array): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const handler = (): void => {
      // A publish under way finishes first: the out directory holds the new run whole or the old one.
      if (Atomics.load(flag, 0) !== 0) return exitAfterPublish(publishing, signalExitCode(sig));
      Atomics.store(flag, 0, SIGNAL_NUMBERS[sig]);
    };
    process.on(sig, handler);
    handlers.push([sig, handler]);
  }
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}

export class TrainingBudget {
  private readonly startMs: number;
  private signalled: NodeJS.Signals | null = null;
  private readonly handlers: Array<[NodeJS.Signals, () => void]> = [];
  private stopFlag: Int32Array | undefined;
  private onSignal: ((signal: NodeJS.Signals) => void) | undefined;

  constructor(
    readonly maxSeconds: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startMs = now();
  }

  /**
   * Reads signals from a flag that `relaySignals` fills in another thread; `onFirst` runs (in this
   * thread) when a poll first sees one.
   */
  watchStopFlag(flag: Int32Array, onFirst?: (signal: NodeJS.Signals) => void): void {
    this.stopFlag = flag;
    this.onSignal = onFirst;
  }

  /**
   * Listens for SIGTERM/SIGINT in this thread; a second signal exits at once. Only useful where the
   * thread reaches its event loop during training (an asynchronous caller); `train` uses the stop flag.
   */
  watchSignals(onFirst?: (signal: NodeJS.Signals) => void): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as NodeJS.Signals[]) {
      const handler = (): void => {
        if (this.signalled !== null) process.exit(signalExitCode(sig));
        this.signalled = sig;
        onFirst?.(sig);
      };
      process.on(sig, handler);
      this.handlers.push([sig, handler]);
    }
  }

  dispose(): void {
    for (const [sig, handler] of this.handlers) process.off(sig, handler);
    this.handlers.length = 0;
  }

  elapsedSeconds(): number {
    return (this.now() - this.startMs) / 1000;
  }

  get signal(): NodeJS.Signals | null {
    if (this.signalled === null && this.stopFlag !== undefined) {
      const n = Atomics.load(this.stopFlag, 0);
      if (n !== 0) {
        this.signalled = n === SIGNAL_NUMBERS.SIGINT ? 'SIGINT' : 'SIGTERM';
        this.onSignal?.(this.signalled);
      }
    }
    return this.signalled;
  }

  /** Seconds from the start at which the current phase must end (the whole limit unless a phase is set). */
  private phaseEndSeconds = Infinity;

  private phaseApplies: () => boolean = () => true;

  /**
   * Ends the current phase at `fraction` of the time limit while `applies()` holds (checked at every
   * poll), so a later phase (the payoff check's plain run) is left time of its own; `endPhase` gives the
   * rest of the limit back. No effect without a limit.
   */
  limitPhase(fraction: number, applies: () => boolean = () => true): void {
    if (this.maxSeconds > 0) this.phaseEndSeconds = this.maxSeconds * fraction;
    this.phaseApplies = applies;
  }

  endPhase(): void {
    this.phaseEndSeconds = Infinity;
    this.phaseApplies = () => true;
  }

  private get limitSeconds(): number {
    return this.phaseEndSeconds < this.maxSeconds && this.phaseApplies() ? this.phaseEndSeconds : this.maxSeconds;
  }

  stopReason(): StopReason | null {
    if (this.signal !== null) return 'signal';
    if (this.maxSeconds > 0 && this.elapsedSeconds() >= this.limitSeconds) return 'time_limit';
    return null;
  }

  /** Whether another epoch of about `epochSeconds` fits into what is left. */
  hasTimeFor(epochSeconds: number): boolean {
    if (this.maxSeconds <= 0) return true;
    return this.elapsedSeconds() + epochSeconds <= this.limitSeconds;
  }
}
