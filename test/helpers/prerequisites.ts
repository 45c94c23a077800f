/**
 * Optional tools the oracle tests need (Chromium, Python's NumPy/SciPy/PyTorch/Arm NN/protobuf, redis-server,
 * g++-multilib, the Arm toolchain, ...). A test that needs one passes `{ skip: needs('chromium') }`: false
 * when the tool is here, otherwise one line naming the tool and the Debian package that provides it, so a
 * missing tool is a skip, never a failure, and never silent. `npm test`'s skip-summary reporter
 * (test/helpers/skip-summary.ts) lists every such skip again at its end, with one command to install them.
 * `.ci/run` installs them all.
 *
 * DENDRITIC_TEST_PRETEND_MISSING=chromium,redis-server (comma-separated tool names) makes tools count as
 * missing, to check the skips on a machine that has everything.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findSharedDir } from '../../src/util/shared-dir.js';
import { REPO_ROOT } from './ei-data.js';

const PYTHON = '/usr/bin/python3';

interface Tool {
  /** What is missing, as the skip line says it. */
  what: string;
  /** The Debian packages (apt-get install ...) that provide it; empty when it is not a package. */
  debian: string[];
  /** How to get it when it is not a Debian package. */
  otherwise?: string;
  /** True when the tool works here. */
  probe: () => boolean;
}

const runs = (cmd: string, args: string[], input?: string): boolean =>
  spawnSync(cmd, args, { stdio: input === undefined ? 'ignore' : ['pipe', 'ignore', 'ignore'], input }).status === 0;
const python = (module: string): boolean => runs(PYTHON, ['-c', `import ${module}`]);
const onPath = (name: string): boolean => runs('sh', ['-c', `command -v ${name}`]);

const TOOLS = {
  chromium: { what: 'Chromium', debian: ['chromium'], probe: () => onPath('chromium') || onPath('chromium-browser') },
  numpy: { what: `NumPy and SciPy for ${PYTHON}`, debian: ['python3-numpy', 'python3-scipy'], probe: () => python('numpy, scipy') },
  torch: { what: `PyTorch for ${PYTHON}`, debian: ['python3-torch'], probe: () => python('torch') },
  pyarmnn: { what: `Arm NN for ${PYTHON}`, debian: ['python3-pyarmnn'], probe: () => python('pyarmnn') },
  'python-protobuf': { what: `Google's protobuf for ${PYTHON}`, debian: ['python3-protobuf'], probe: () => python('google.protobuf') },
  'redis-server': { what: 'redis-server', debian: ['redis-server'], probe: () => onPath('redis-server') },
  'g++-multilib': {
    what: 'g++ for 32-bit programs (g++ -m32)',
    debian: ['g++-multilib'],
    probe: () => runs('g++', ['-m32', '-x', 'c++', '-', '-o', '/dev/null'], 'int main() { return 0; }\n'),
  },
  'arm-none-eabi-gcc': {
    what: 'the Arm GNU toolchain (arm-none-eabi-gcc with newlib)',
    debian: ['gcc-arm-none-eabi', 'libnewlib-arm-none-eabi', 'libstdc++-arm-none-eabi-newlib'],
    probe: () => runs('arm-none-eabi-gcc', ['--version']),
  },
  'qemu-system-arm': {
    what: 'QEMU for Arm (qemu-system-arm, the emulated Cortex-M4F)',
    debian: ['qemu-system-arm'],
    probe: () => runs('qemu-system-arm', ['--version']),
  },
  script: { what: '/usr/bin/script', debian: ['bsdutils'], probe: () => existsSync('/usr/bin/script') },
  'tflm-sources': {
    what: "Edge Impulse's SDK (TensorFlow Lite Micro sources)",
    debian: [],
    otherwise: 'put it at ../shared/reference/ei-sdk-tflm or set DENDRITIC_SHARED',
    probe: () => existsSync(join(findSharedDir(REPO_ROOT), 'reference/ei-sdk-tflm/edge-impulse-sdk')),
  },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

/** The skip reasons' common start; the skip-summary reporter recognises a missing prerequisite by it. */
export const MISSING_PREFIX = 'missing prerequisite: ';

const pretendMissing = new Set((process.env.DENDRITIC_TEST_PRETEND_MISSING ?? '').split(',').map((s) => s.trim()));
const seen = new Map<ToolName, boolean>();

/** True when the tool works here (probed once per test file). */
export function has(tool: ToolName): boolean {
  let ok = seen.get(tool);
  if (ok === undefined) {
    ok = !pretendMissing.has(tool) && TOOLS[tool].probe();
    seen.set(tool, ok);
  }
  return ok;
}

/** The line a test skips with when the tool is missing, e.g. "missing prerequisite: Chromium (apt-get install chromium)". */
export function missingLine(tool: ToolName): string {
  const t: Tool = TOOLS[tool];
  const how = t.debian.length > 0 ? `apt-get install ${t.debian.join(' ')}` : t.otherwise!;
  return `${MISSING_PREFIX}${t.what} (${how})`;
}

/** A test's `skip` option: false when every tool is here, else the line naming the first missing one. */
export function needs(...tools: ToolName[]): string | false {
  for (const tool of tools) if (!has(tool)) return missingLine(tool);
  return false;
}

/**
 * For a test whose options do not fit its first line: `async (t) => { if (skipWithout(t, 'redis-server')) return; ...`
 * skips it with the same line as `needs` and returns true when a tool is missing.
 */
export function skipWithout(t: { skip: (message?: string) => void }, ...tools: ToolName[]): boolean {
  const why = needs(...tools);
  if (why !== false) t.skip(why);
  return why !== false;
}
