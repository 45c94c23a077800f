/**
 * Size and count limits on a sweep configuration, checked before any work starts (issue 26): a 50 MB
 * sweep.yaml, a hyperband `s` of 1e9 or a `run_cap` of 1e300 must be a clear error, not gigabytes of
 * memory, a hang or a sweep that never ends.
 */
import { statSync } from 'node:fs';
import { UserError } from '../errors.js';

/** A sweep.yaml larger than this is refused unread (a real one is a few hundred bytes). */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Entries of one parameter's `values` list. */
export const MAX_VALUES = 10_000;
/** Trials a random or bayes sweep may run (`run_cap`). */
export const MAX_RUN_CAP = 100_000;
/** Hyperband brackets (`s`): milestones min_iter * eta^k for k < s. */
export const MAX_HYPERBAND_S = 32;
/** Epoch bounds of hyperband's min_iter and max_iter (the block's own limit on epochs). */
export const MAX_ITER = 100_000;
/** The search seed (a 32-bit generator seed). */
export const MAX_SEED = 2 ** 32 - 1;

/** The config file is a regular file of at most MAX_CONFIG_BYTES (a FIFO or device is never read). */
export function checkConfigFile(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new UserError(`${path}: config: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): expected a sweep YAML file`);
  }
  if (!st.isFile()) throw new UserError(`${path}: config: not a regular file: expected a sweep YAML file`);
  if (st.size > MAX_CONFIG_BYTES)
    throw new UserError(`${path}: config: ${st.size} bytes: expected a sweep YAML file of at most ${MAX_CONFIG_BYTES} bytes`);
}

/** The same limit on text given directly. */
export function checkConfigText(text: string, file: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES) throw new UserError(`${file}: config: ${bytes} bytes: expected a sweep YAML file of at most ${MAX_CONFIG_BYTES} bytes`);
}
