/** Options shared by every model family. */
export interface ModelOptions {
  classes: number;
  /** Channel multiplier of the base network. */
  width: number;
  /** Dropout rate after each hidden block (0 disables dropout layers' effect). */
  dropout: number;
  seed: number;
}

/** A width-scaled channel count: round(base * width), at least 1. */
export function scaled(base: number, width: number): number {
  return Math.max(1, Math.round(base * width));
}
