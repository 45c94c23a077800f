import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch_oracle.py', import.meta.url));

/** Runs the cases through test/engine/torch_oracle.py in one process (torch imports once). */
export function runTorch<T = Record<string, number[]>>(cases: object[]): T[] {
  const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`torch oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}
