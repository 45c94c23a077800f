/**
 * Local trials: up to N `train` child processes of the sweep process at once (`--workers N`). Each slot
 * is a worker named `local-<slot>` in sweep.json.
 */
import type { Backend } from './backend.js';
import { MemoryMilestones } from './hyperband.js';
import { startTrial, type RunningTrial, type TrialResult, type TrialSpec } from './trial.js';

export class LocalBackend implements Backend {
  private readonly running = new Map<string, { trial: RunningTrial; slot: number; done: Promise<TrialResult> }>();
  private readonly milestones = new MemoryMilestones();

  constructor(readonly slots: number) {}

  async submit(spec: TrialSpec): Promise<void> {
    if (this.running.has(spec.id)) return;
    const used = new Set([...this.running.values()].map((r) => r.slot));
    let slot = 1;
    while (used.has(slot)) slot++;
    const trial = startTrial(spec, `local-${slot}`, spec.pruning ? this.milestones : null);
    this.running.set(spec.id, { trial, slot, done: trial.result });
  }

  inFlight(): number {
    return this.running.size;
  }

  async next(): Promise<TrialResult> {
    if (this.running.size === 0) throw new Error('local backend: next() with no trial running');
    const result = await Promise.race([...this.running.values()].map((r) => r.done));
    this.running.delete(result.id);
    return result;
  }

  async acknowledge(): Promise<void> {}

  abort(): void {
    for (const r of this.running.values()) r.trial.kill();
  }

  /**
   * Kills what still runs (the loop ended early: a signal, an error) and waits for those processes to
   * exit, so none writes its log or result after the command has published and exited.
   */
  async close(): Promise<void> {
    this.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
    this.running.clear();
  }
}
