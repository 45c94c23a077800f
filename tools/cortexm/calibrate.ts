/**
 * Regenerates src/export/tflite/cortex-m-calibration.ts: the coefficients of the Cortex-M instruction model
 * (src/export/tflite/cortex-m-cost.ts), fitted to measurements on the emulated Cortex-M4F.
 *
 *   node --import tsx tools/cortexm/calibrate.ts            (needs what test/helpers/cortexm.ts needs)
 *
 * For each kernel set (CMSIS-NN, reference) every model of test/helpers/model-cases.ts (every family and
 * export form, float and int8) plus Edge Impulse KWS networks of widths 0.5-2 with and without dendrites is
 * run on one of its input rows by tools/cortexm/runner.cc in its `profile` mode (every kernel's init, prepare and invoke timed on its
 * own) and in its normal mode (whole Invoke and per-call setup). Least squares per cost group (kernel set,
 * operator, input type, code path) on the features cortex-m-cost.ts computes; the rest of Invoke (TFLM's
 * dispatch) and of the setup (allocator, planner, interpreter) against the graph's counts. Prints each
 * model's modelled vs measured totals; writes the table.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/engine/rng.js';
import { addDendriteSet } from '../../src/dendrites/apply.js';
import { buildModel } from '../../src/models/select.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { readTfliteGraph } from '../../src/export/tflite/schema.js';
import { costGroup, cortexMInstructions, graphSetupFeatures, invokeFeatures, setupFeatures } from '../../src/export/tflite/cortex-m-cost.js';
import type { TflmKernels } from '../../src/export/tflite/tflm-arena.js';
import type { KernelCalibration } from '../../src/export/tflite/cortex-m-calibration.js';
import { cortexMBuild, profileCortexM, runCortexM } from '../../test/helpers/cortexm.js';
import { familyCases, otherOpsCase } from '../../test/helpers/model-cases.js';
import { testConfig } from '../../test/helpers/config.js';
import { REPO_ROOT } from '../../test/helpers/ei-data.js';

type Row = { x: Record<string, number>; y: number };

/**
 * Least squares on relative errors (each row weighted by 1 / its measurement, so small operators, which
 * dominate small networks, are priced as well as large ones), columns scaled to unit norm, a tiny ridge
 * (collinear or all-zero columns get ~0).
 */
function fit(input: readonly Row[], relative = true): Record<string, number> {
  const rows = input.map((r) => {
    const w = relative ? 1 / Math.max(Math.abs(r.y), 40) : 1;
    return { x: Object.fromEntries(Object.entries(r.x).map(([k, v]) => [k, v * w])), y: r.y * w };
  });
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.x)))];
  const n = names.length;
  const scale = names.map((k) => Math.sqrt(rows.reduce((s, r) => s + (r.x[k] ?? 0) ** 2, 0)) || 1);
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  for (const r of rows) {
    const v = names.map((k, i) => (r.x[k] ?? 0) / scale[i]!);
    for (let i = 0; i < n; i++) {
      b[i]! += v[i]! * r.y;
      for (let j = 0; j < n; j++) a[i]![j]! += v[i]! * v[j]!;
    }
  }
  for (let i = 0; i < n; i++) a[i]![i]! += 1e-9;
  // Gaussian elimination with partial pivoting on the normal equations (n <= 9).
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    [b[c], b[p]] = [b[p]!, b[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < n; k++) a[r]![k]! -= f * a[c]![k]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return Object.fromEntries(names.map((k, i) => [k, Number((x[i]! / scale[i]!).toPrecision(5))]));
}

/** The models, each with an input row (the data-dependent kernels, activations above all, see real values). */
function models(): { name: string; bytes: Uint8Array; row: Float32Array }[] {
  const out: { name: string; bytes: Uint8Array; row: Float32Array }[] = [];
  for (const c of [...familyCases(), otherOpsCase()]) {
    const row = c.x.slice(0, c.features);
    out.push({ name: `${c.name} float`, bytes: c.float, row }, { name: `${c.name} int8`, bytes: c.int8, row });
  }
  const rng = new Rng(7);
  for (const [width, sets] of [
    [0.5, 1],
    [1.5, 0],
    [2, 0],
    [1, 3],
  ] as const) {
    const model = buildModel({ kind: 'ei-kws', features: 650, classes: 6, width, dropout: 0.25, seed: 1 });
    for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
    for (let s = 0; s < sets; s++) {
      addDendriteSet(
        model,
        testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: 2, dendriteForm: 'gated' }),
        rng,
      );
    }
    const x = Float32Array.from({ length: 16 * model.features }, () => rng.normal());
    const graph = model.toGraph();
    const row = x.slice(0, model.features);
    out.push({ name: `kws width ${width} ${sets} sets float`, bytes: exportTfliteFloat(graph), row });
    out.push({ name: `kws width ${width} ${sets} sets int8`, bytes: exportTfliteInt8(graph, x, 16).bytes, row });
  }
  return out;
}

const sum = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0);

const tables: Record<string, unknown> = {};
const all = models();
for (const kernels of ['cmsis-nn', 'reference'] as TflmKernels[]) {
  const build = cortexMBuild(kernels);
  if (typeof build === 'string') throw new Error(build);
  const invoke = new Map<string, Row[]>();
  const setup = new Map<string, Row[]>();
  const invokeRest: Row[] = [];
  const setupRest: Row[] = [];
  const measured: { name: string; invoke: number; setup: number }[] = [];
  for (const m of all) {
    const g = readTfliteGraph(m.bytes);
    const p = profileCortexM(build, m.bytes, m.row);
    const run = runCortexM(build, m.bytes, { x: m.row, n: 1 });
    g.operators.forEach((op, i) => {
      const group = costGroup(op, g, kernels);
      if (!invoke.has(group)) invoke.set(group, []);
      invoke.get(group)!.push({ x: invokeFeatures(op, g, kernels), y: p.invoke[i]! });
      const setupGroup = group.replace(/ (1x1|im2col)$/, '');
      if (!setup.has(setupGroup)) setup.set(setupGroup, []);
      setup.get(setupGroup)!.push({ x: setupFeatures(op, g), y: p.init[i]! + p.prepare[i]! });
    });
    invokeRest.push({ x: { operators: g.operators.length, one: 1 }, y: run.invokeInstructions[0]! - sum(p.invoke) });
    setupRest.push({ x: graphSetupFeatures(g), y: run.setupInstructions[0]! - sum(p.init) - sum(p.prepare) });
    measured.push({ name: m.name, invoke: run.invokeInstructions[0]!, setup: run.setupInstructions[0]! });
  }
  tables[kernels] = {
    // int8 TANH/LOGISTIC are data-dependent (a saturated input skips the arithmetic): fitted on absolute
    // errors, which the full-arithmetic elements dominate, so the model prices every element computed.
    invoke: Object.fromEntries([...invoke].sort().map(([k, rows]) => [k, fit(rows, !/(TANH|LOGISTIC) int8/.test(k))])),
    setup: Object.fromEntries([...setup].sort().map(([k, rows]) => [k, fit(rows)])),
    invokeOverhead: fit(invokeRest),
    setupOverhead: fit(setupRest),
  };
  for (const m of measured) {
    const g = readTfliteGraph(all.find((x) => x.name === m.name)!.bytes);
    const e = cortexMInstructions(g, kernels, tables[kernels] as KernelCalibration);
    console.log(
      `${kernels.padEnd(9)} ${m.name.padEnd(40)} invoke ${e.invoke} / ${m.invoke} (${pct(e.invoke, m.invoke)})  setup ${e.setup} / ${m.setup} (${pct(e.setup, m.setup)})`,
    );
  }
}

function pct(model: number, measured: number): string {
  return `${(((model - measured) / measured) * 100).toFixed(1)}%`;
}

const header = `/**
 * Coefficients of the Cortex-M instruction model (./cortex-m-cost.ts), per kernel set: instructions per unit
 * of each feature, per cost group. Generated by tools/cortexm/calibrate.ts from instruction counts measured on
 * QEMU mps2-an386 (Cortex-M4F, -icount shift=0) of TFLM from Edge Impulse's SDK v1.93.20 built with
 * arm-none-eabi-gcc 12.2 -Os -DNDEBUG -DARM_MATH_LOOPUNROLL; do not edit by hand, rerun the tool.
 */
export type CostGroup = Readonly<Record<string, number>>;

export interface KernelCalibration {
  invoke: Readonly<Record<string, CostGroup>>;
  setup: Readonly<Record<string, CostGroup>>;
  invokeOverhead: CostGroup;
  setupOverhead: CostGroup;
}

// prettier-ignore
export const CORTEX_M_CALIBRATION: Readonly<Record<'cmsis-nn' | 'reference', KernelCalibration>> = ${JSON.stringify(tables, null, 1)};
`;
writeFileSync(join(REPO_ROOT, 'src/export/tflite/cortex-m-calibration.ts'), header);
console.log('wrote src/export/tflite/cortex-m-calibration.ts');
