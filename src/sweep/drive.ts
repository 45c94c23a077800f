/**
 * The loop a sweep (coordinator.ts) and an experiment (src/experiment/runner.ts) share: keep up to
 * `window` trials on a backend, hand each finished one to `record` (which makes it durable) before the
 * backend may forget it, and stop at SIGINT/SIGTERM. A stop hands out no new trial and drops results
 * that arrive after it (a local trial killed by the stop is not a failure); the caller publishes what was
 * recorded and exits with signalExitCode. Queued trials stay queued: a rerun awaits them.
 */
import type { Backend } from './backend.js';
import type { TrialResult, TrialSpec } from './trial.js';

const STOPPED: unique symbol = Symbol('stopped');

/** SIGINT/SIGTERM, caught from construction until dispose(). */
export class StopSignals {
  private caught: NodeJS.Signals | null = null;
  private wake!: () => void;
  /**
   * Resolves at the first signal, with a symbol no backend result can be: a null from a backend is an
   * error, never a quiet end of the loop (a null once ended a resumed sweep with exit 0, half recorded).
   */
  readonly stopped = new Promise<typeof STOPPED>((resolve) => (this.wake = () => resolve(STOPPED)));
  private readonly listener = (signal: NodeJS.Signals) => {
    if (this.caught) return;
    this.caught = signal;
    this.wake();
    this.onStop(signal);
  };

  /** `onStop` runs once, at the first signal: say what happens, abort the backend. */
  constructor(private readonly onStop: (signal: NodeJS.Signals) => void) {
    process.on('SIGINT', this.listener);
    process.on('SIGTERM', this.listener);
  }

  get signal(): NodeJS.Signals | null {
    return this.caught;
  }

  dispose(): void {
    process.off('SIGINT', this.listener);
    process.off('SIGTERM', this.listener);
  }
}

/** The conventional exit status of a command stopped by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

export interface DriveOptions {
  backend: Backend;
  /** Trials in flight at once: local slots, or with a queue the trials kept queued and running. */
  window: number;
  /** The next trial to start, or undefined when there is none left to start. */
  propose(): TrialSpec | undefined | Promise<TrialSpec | undefined>;
  /** Makes a finished trial durable; the backend is told to forget it only after this returns. */
  record(result: TrialResult): void | Promise<void>;
  stop: StopSignals;
}

/** Runs trials until none is left in flight or proposed; returns the signal that stopped it, or null. */
export async function driveTrials(opts: DriveOptions): Promise<NodeJS.Signals | null> {
  const { backend, stop } = opts;
  for (;;) {
    while (!stop.signal && backend.inFlight() < opts.window) {
      const spec = await opts.propose();
      if (spec === undefined) break;
      await backend.submit(spec);
    }
    if (stop.signal || backend.inFlight() === 0) break;
    const result = await Promise.race([backend.next(), stop.stopped]);
    if (stop.signal || result === STOPPED) break;
    if (typeof result !== 'object' || result === null) throw new Error(`sweep: the backend returned ${String(result)} instead of a trial's result`);
    await opts.record(result);
    await backend.acknowledge(result.id);
  }
  return stop.signal;
}
