import type { Optimizer } from './optim.js';

export interface PlateauOptions {
  /** Multiplies the learning rate at a plateau (Keras default 0.1; ours 0.5). */
  factor?: number;
  /** Epochs without improvement before reducing. */
  patience: number;
  minLr?: number;
  /** An improvement must beat the best score by more than this. */
  minDelta?: number;
}

export interface PlateauState {
  /** null before the first score (JSON has no -Infinity). */
  best: number | null;
  wait: number;
  reductions: number;
}

/** Keras' ReduceLROnPlateau in mode 'max' (higher score is better), without cooldown. */
export class ReduceLROnPlateau {
  readonly factor: number;
  readonly patience: number;
  readonly minLr: number;
  readonly minDelta: number;
  private best = -Infinity;
  private wait = 0;
  private reductions = 0;

  constructor(o: PlateauOptions) {
    this.factor = o.factor ?? 0.5;
    this.patience = o.patience;
    this.minLr = o.minLr ?? 0;
    this.minDelta = o.minDelta ?? 0;
    if (!(this.factor > 0 && this.factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be in (0, 1), got ${this.factor}`);
    if (!(this.patience >= 0)) throw new Error(`ReduceLROnPlateau: patience must be >= 0, got ${this.patience}`);
  }

  /** Records an epoch's score; lowers optimizer.lr when the plateau lasted `patience` epochs. Returns true if lowered. */
  step(score: number, optimizer: Optimizer): boolean {
    if (score > this.best + this.minDelta) {
      this.best = score;
      this.wait = 0;
      return false;
    }
    this.wait++;
    if (this.wait < this.patience || optimizer.lr <= this.minLr) return false;
    optimizer.lr = Math.max(optimizer.lr * this.factor, this.minLr);
    this.wait = 0;
    this.reductions++;
    return true;
  }

  get reductionCount(): number {
    return this.reductions;
  }

  getState(): PlateauState {
    return { best: Number.isFinite(this.best) ? this.best : null, wait: this.wait, reductions: this.reductions };
  }

  setState(s: PlateauState): void {
    this.best = s.best ?? -Infinity;
    this.wait = s.wait;
    this.reductions = s.reductions;
  }
}
