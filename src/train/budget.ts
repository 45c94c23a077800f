/**
 * Decides when training must stop early: the time budget (max-training-seconds) or a SIGTERM/SIGINT.
 * The loop polls `stopReason()` between batches, so a stop takes effect within one batch; it then restores
 * the best weights and exports normally. Edge Impulse kills jobs at their time limit, so ending with a
 * verified model before that matters more than the last epochs.
 */
export type StopReason = 'time_limit' | 'signal';

export class TrainingBudget {
  private readonly startMs: number;
  private signalled: NodeJS.Signals | null = null;
  private readonly handlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(
    readonly maxSeconds: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startMs = now();
  }

  /** Listens for SIGTERM/SIGINT; a second signal exits at once (the user insists). */
  watchSignals(onFirst?: (signal: NodeJS.Signals) => void): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as NodeJS.Signals[]) {
      const handler = (): void => {
        if (this.signalled !== null) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
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
    return this.signalled;
  }

  stopReason(): StopReason | null {
    if (this.signalled !== null) return 'signal';
    if (this.maxSeconds > 0 && this.elapsedSeconds() >= this.maxSeconds) return 'time_limit';
    return null;
  }

  /** Whether another epoch of about `epochSeconds` fits into what is left. */
  hasTimeFor(epochSeconds: number): boolean {
    if (this.maxSeconds <= 0) return true;
    return this.elapsedSeconds() + epochSeconds <= this.maxSeconds;
  }
}
