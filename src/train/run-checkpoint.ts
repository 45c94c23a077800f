/**
 * What `train`'s checkpoint.dndckpt holds (the container is checkpoint.ts). Format 1 (no `format` field):
 * `{ fingerprint, state }`, the loop state of the one run that was checkpointed. Format 2 adds the
 * checkbox's second phase: `{ format: 2, fingerprint, second: { plain, state? } }` once the dendrites-off
 * network is finished (src/train/checkbox-resume.ts); before that it is format 1's `{ fingerprint, state }`
 * with `format: 2`. A second-phase checkpoint has no `state` at the top, so a reader of format 1 refuses it
 * instead of resuming the dendritic run's state as the plain network.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { encodeCheckpoint, loadCheckpoint } from './checkpoint.js';
import type { LoopState } from './loop.js';
import type { SecondRunCheckpoint } from './checkbox-resume.js';

export const CHECKPOINT_FORMAT = 2;

/** Where `--resume` continues: the first run's loop state, or the checkbox's second phase. */
export type ResumePoint = { state: LoopState; second?: undefined } | { state?: undefined; second: SecondRunCheckpoint };

export function encodeRunCheckpoint(fingerprint: string, point: ResumePoint): Uint8Array {
  return encodeCheckpoint({ format: CHECKPOINT_FORMAT, fingerprint, ...point });
}

export function readResumePoint(path: string, fingerprint: string): ResumePoint {
  if (!existsSync(path))
    throw new UserError(`${path}: resume: no checkpoint in the out directory to resume from: expected the out directory of an interrupted run`);
  const saved = loadCheckpoint(path) as { format?: number; fingerprint?: string; state?: LoopState; second?: SecondRunCheckpoint };
  if (saved.format !== undefined && saved.format > CHECKPOINT_FORMAT) {
    throw new UserError(
      `${path}: resume: checkpoint format ${saved.format} was written by a newer Dendritic: expected format ${CHECKPOINT_FORMAT} or older (rerun without --resume, or with that version)`,
    );
  }
  if (saved.fingerprint !== fingerprint || (!saved.state && !saved.second)) {
    throw new UserError(
      `${path}: resume: the checkpoint was written with other data or parameters: expected the same data and parameters as the interrupted run (or rerun without --resume)`,
    );
  }
  return saved.second ? { second: saved.second } : { state: saved.state! };
}

/** A short description for the log: which run resumes where. */
export function describeResumePoint(point: ResumePoint): string {
  if (!point.second) return `after epoch ${point.state.epoch}`;
  const s = point.second.state;
  const plain = `the dendrites-off network finished after ${point.second.plain.loop.epochsRun} epochs`;
  return s ? `the dendritic candidate after its epoch ${s.epoch} (${plain})` : `the dendritic candidate from its start (${plain})`;
}
