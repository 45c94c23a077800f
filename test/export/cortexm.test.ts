/**
 * The device cost a report states, checked on the Cortex-M itself: TensorFlow Lite Micro as Edge Impulse's
 * SDK ships it to a Cortex-M4F, cross-built with CMSIS-NN (the SDK's default there) and with the reference
 * kernels, NDEBUG, run bare-metal on QEMU's mps2-an386 counting instructions (test/helpers/cortexm.ts).
 * For every model family and export form (plain, dendritic gated and merged, float and int8), both kernel sets:
 * - RAM (src/export/tflite/tflm-arena.ts) equals the emulated arena_used_bytes exactly;
 * - instructions per Invoke and per call's setup (src/export/tflite/cortex-m-cost.ts, priced without the
 *   emulator) are within 10% of the emulator's count, on the calibration's models and on KWS networks it
 *   never saw (other weights and seeds: width 1, 1.5, three dendrite sets; float and int8), run on real rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tflmArena } from '../../src/export/tflite/tflm-arena.js';
import { cortexMInstructions } from '../../src/export/tflite/cortex-m-cost.js';
import { readTfliteGraph } from '../../src/export/tflite/schema.js';
import { Rng } from '../../src/engine/rng.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel } from '../../src/models/select.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { testConfig } from '../helpers/config.js';
import { cortexMBuild, runCortexM, type CortexMBuild, type CortexMKernels } from '../helpers/cortexm.js';
import { familyCases, otherOpsCase, type Case } from '../helpers/model-cases.js';

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

/** The networks: Edge Impulse KWS of width 1 and 1.5, and width 1 with three dendrite sets (weights unlike the calibration's). */
function kwsCases(): Case[] {
  const rng = new Rng(2026);
  return (
    [
      [1, 0],
      [1.5, 0],
      [1, 3],
    ] as const
  ).map(([width, sets]) => {
    const model = buildModel({ kind: 'ei-kws', features: 650, classes: 6, width, dropout: 0.25, seed: 11 });
    for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.2;
    for (let s = 0; s < sets; s++) {
      addDendriteSet(
        model,
        testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.3, dendriteActivation: 'tanh', dendriteRank: 2, dendriteForm: 'gated' }),
        rng,
      );
    }
    const x = Float32Array.from({ length: 32 * model.features }, () => rng.normal());
    const graph = model.toGraph();
    return {
      name: `kws width ${width} ${sets} sets`,
      float: exportTfliteFloat(graph),
      int8: exportTfliteInt8(graph, x, 32).bytes,
      x,
      features: model.features,
      classes: model.classes,
    };
  });
}

test(
  'instructions: the model is within 10% of the emulated Cortex-M4F per Invoke and per call setup, both kernel sets',
  { skip, timeout: 600_000 },
  () => {
    const within = (model: number, measured: number, what: string): void => {
      assert.ok(
        Math.abs(model - measured) <= 0.1 * measured,
        `${what}: model ${model}, emulator ${measured} (${(((model - measured) / measured) * 100).toFixed(1)}%)`,
      );
    };
    for (const kernels of KERNELS) {
      const build = builds.get(kernels) as CortexMBuild;
      for (const c of [...cases, ...(skip ? [] : kwsCases())]) {
        for (const [kind, bytes] of [
          ['float', c.float],
          ['int8', c.int8],
        ] as const) {
          const run = runCortexM(build, bytes, { x: c.x.subarray(0, 3 * c.features), n: 3 });
          const model = cortexMInstructions(readTfliteGraph(bytes), kernels);
          // The second call: the first also pays one-time static initialisation a device pays once per boot.
          within(model.invoke, Math.max(...run.invokeInstructions), `${c.name} ${kind} ${kernels} Invoke`);
          within(model.setup, run.setupInstructions[1]!, `${c.name} ${kind} ${kernels} setup`);
        }
      }
    }
  },
);
