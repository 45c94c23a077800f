/**
 * The device cost a report states, checked on the Cortex-M itself: TensorFlow Lite Micro as Edge Impulse's
 * SDK ships it to a Cortex-M4F, cross-built with CMSIS-NN (the SDK's default there) and with the reference
 * kernels, NDEBUG, run bare-metal on QEMU's mps2-an386 counting instructions (test/helpers/cortexm.ts).
 * For every model family and export form (plain, dendritic gated and merged, float and int8), both kernel sets:
 * - RAM (src/export/tflite/tflm-arena.ts) equals the emulated arena_used_bytes exactly;
 * - instructions per Invoke and per call's setup (src/export/tflite/cortex-m-cost.ts, priced without the
 *   emulator) are within 10% of the emulator's count, on the calibration's models and on KWS networks it
 *   never saw (other weights and seeds: width 1, 1.5, three dendrite sets; float and int8), run on real rows;
 * - flash (file + src/export/tflite/cortex-m-cost.ts's code bytes) is within 2% of the file plus a real link
 *   of TFLM with the file's operators (tools/cortexm/sizeprobe.cc);
 * - a training run's report.json states those figures for every TFLite file (`deployment[].cortex_m`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tflmArena } from '../../src/export/tflite/tflm-arena.js';
import { tfliteDeviceCost } from '../../src/export/tflite/device-cost.js';
import { cortexMCodeBytes, cortexMInstructions } from '../../src/export/tflite/cortex-m-cost.js';
import { BuiltinOperator, readTfliteGraph } from '../../src/export/tflite/schema.js';
import type { Report } from '../../src/report/schema.js';
import { Rng } from '../../src/engine/rng.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel } from '../../src/models/select.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { testConfig } from '../helpers/config.js';
import { cortexMBuild, linkedCodeBytes, runCortexM, type CortexMBuild, type CortexMKernels } from '../helpers/cortexm.js';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { familyCases, otherOpsCase, type Case } from '../helpers/model-cases.js';

const KERNELS: CortexMKernels[] = ['cmsis-nn', 'reference'];
const builds = new Map(KERNELS.map((k) => [k, cortexMBuild(k)] as const));
const skip = [...builds.values()].find((b): b is string => typeof b === 'string') ?? false;
if (skip) console.log(skip);
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

const operatorNames = (bytes: Uint8Array): string[] => readTfliteGraph(bytes).operators.map((op) => BuiltinOperator[op.code]!);

test('flash: file + modelled code is within 2% of the file + a real link of its operators, both kernel sets', { skip, timeout: 900_000 }, () => {
  for (const kernels of KERNELS) {
    const build = builds.get(kernels) as CortexMBuild;
    for (const c of [...cases, ...(skip ? [] : kwsCases())]) {
      for (const bytes of [c.float, c.int8]) {
        const ops = operatorNames(bytes);
        const model = bytes.length + cortexMCodeBytes(ops, kernels);
        const linked = bytes.length + linkedCodeBytes(build, ops);
        assert.ok(Math.abs(model - linked) <= 0.02 * linked, `${c.name} ${kernels} [${[...new Set(ops)].join(' ')}]: model ${model}, link ${linked}`);
      }
    }
  }
});

test("a training run's report.json states the Cortex-M figures of each TFLite file, checked on the emulator", { skip, timeout: 900_000 }, () => {
  const { dir, cleanup } = tempDir('dendritic-cortexm-run-');
  try {
    const data = join(dir, 'data');
    const out = join(dir, 'out');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 80, valRows: 30, features: 13 * 10, classes: 3, seed: 5 });
    // Dendrites kept (retain-all) so the dendritic lowering's operators are priced as well.
    const r = runCli(
      [
        'train',
        '--data-directory',
        data,
        '--out-directory',
        out,
        '--epochs',
        '4',
        '--n-epochs-to-switch',
        '1',
        '--switch-mode',
        'fixed',
        '--fixed-switch-num',
        '1',
        '--first-fixed-switch-num',
        '1',
        '--retain-all-dendrites',
        '1',
        '--dendrite-payoff-check',
        '0',
        '--quiet',
      ],
      { timeoutMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    assert.equal(report.schema_version, 4);
    const tflite = report.deployment.filter((d) => d.runtime === 'tflm');
    assert.equal(tflite.length, 2);
    for (const d of tflite) {
      const bytes = new Uint8Array(readFileSync(join(out, report.exports.find((x) => x.format === d.variant)!.file!)));
      const m = d.cortex_m!;
      assert.equal(m.default_kernels, 'cmsis-nn');
      assert.equal(m.reference.ram_bytes, d.ram_bytes, 'the reference kernels RAM is ram_bytes');
      for (const kernels of KERNELS) {
        const k = m[kernels === 'cmsis-nn' ? 'cmsis_nn' : 'reference'];
        const build = builds.get(kernels) as CortexMBuild;
        const run = runCortexM(build, bytes);
        const what = `${d.variant} ${kernels}`;
        assert.equal(k.ram_bytes, run.arenaUsedBytes, `${what}: RAM is the emulated arena`);
        assert.ok(
          Math.abs(k.invoke_instructions - run.invokeInstructions[0]!) <= 0.1 * run.invokeInstructions[0]!,
          `${what}: Invoke ${k.invoke_instructions} vs ${run.invokeInstructions[0]}`,
        );
        assert.ok(
          Math.abs(k.setup_instructions - run.setupInstructions[0]!) <= 0.1 * run.setupInstructions[0]!,
          `${what}: setup ${k.setup_instructions} vs ${run.setupInstructions[0]}`,
        );
        const linked = bytes.length + linkedCodeBytes(build, operatorNames(bytes));
        assert.ok(Math.abs(k.flash_bytes - linked) <= 0.02 * linked, `${what}: flash ${k.flash_bytes} vs link ${linked}`);
        assert.equal(k.flash_bytes, bytes.length + k.code_bytes);
        assert.equal(k.latency_lower_bound_ms, Math.round(((k.invoke_instructions + k.setup_instructions) / m.clock_hz) * 1000 * 100) / 100);
      }
    }
  } finally {
    cleanup();
  }
});

// Without the emulator (runs everywhere): how the figures relate, the ones a budget relies on.
test('the Cortex-M cost of a KWS network: CMSIS-NN is the default, needs more RAM, and only it makes int8 fast', () => {
  const [kws] = kwsCases();
  const float = tfliteDeviceCost(kws!.float).cortexM;
  const int8 = tfliteDeviceCost(kws!.int8).cortexM;
  for (const m of [float, int8]) {
    assert.equal(m.defaultKernels, 'cmsis-nn');
    // CMSIS-NN's kernel data: at least FULLY_CONNECTED's and SOFTMAX's larger OpData (+16 B and +8 B -> +16 B each).
    assert.ok(m.cmsisNn.ramBytes >= m.reference.ramBytes + 32, `${m.cmsisNn.ramBytes} vs ${m.reference.ramBytes}`);
    for (const k of [m.cmsisNn, m.reference]) {
      assert.equal(k.latencyLowerBoundMs, (1000 * (k.invokeInstructions + k.setupInstructions)) / m.clockHz);
      assert.ok(k.setupInstructions > 0 && k.codeBytes > 0);
    }
  }
  assert.equal(int8.reference.ramBytes, tfliteDeviceCost(kws!.int8).ramBytes, 'reference kernels: the schema-2 ram_bytes');
  // Float runs the reference code with either kernel set; int8 is fast only with CMSIS-NN (several times fewer instructions).
  assert.ok(Math.abs(float.cmsisNn.invokeInstructions - float.reference.invokeInstructions) < 0.01 * float.reference.invokeInstructions);
  assert.ok(int8.cmsisNn.invokeInstructions * 4 < int8.reference.invokeInstructions);
  assert.ok(int8.reference.invokeInstructions > float.reference.invokeInstructions, 'reference int8 is slower than float on a Cortex-M4F');
  assert.ok(int8.cmsisNn.codeBytes > int8.reference.codeBytes, 'CMSIS-NN kernels are more code');
});
