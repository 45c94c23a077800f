/**
 * The checkbox's device budget (issue 22): the plain configured network (same family and width, int8
 * export under TFLM on a Cortex-M) is the budget, and a candidate may ship only when each named figure
 * is within `max-cost-ratio` times the budget's (default 1.05). The figures are a list, each shown in
 * report.json and report.html: the reference-kernel arena and flash of schema 2, the file, MACs, and the
 * deployment Edge Impulse ships to a Cortex-M (CMSIS-NN kernels: arena, NDEBUG flash, and instructions per
 * inference, setup + Invoke, from the instruction model the tests check against an emulated Cortex-M4F).
 */
import type { Sequential } from '../engine/model.js';
import type { LabelledSet } from '../engine/tensor.js';
import { exportTfliteInt8 } from '../export/tflite/quantize.js';
import { tfliteDeviceCost } from '../export/tflite/device-cost.js';
import type { Config } from '../params/schema.js';

export interface DeviceBudget {
  ramBytes: number;
  flashBytes: number;
}

export interface Int8Price extends DeviceBudget {
  modelBytes: number;
  operators: number;
  /** Estimated milliseconds per inference (from MACs and operators; the budget bounds MACs themselves). */
  latencyMs: number;
  /** Multiply-accumulates per inference, counted from the .tflite file. */
  macs: number;
  /** Edge Impulse's Cortex-M default deployment (CMSIS-NN kernels, NDEBUG): arena, flash (file + code). */
  cmsisNnRamBytes: number;
  cmsisNnFlashBytes: number;
  /** Instructions per inference on a Cortex-M4F with CMSIS-NN: run_nn_inference's per-call setup + Invoke. */
  cortexMInstructions: number;
}

/** What the int8 export of `model` (calibrated on `calib`, as the train command exports it) costs under TFLM. */
export function priceInt8(model: Sequential, calib: LabelledSet): Int8Price {
  const bytes = exportTfliteInt8(model.toGraph(), calib.x, calib.n).bytes;
  const d = tfliteDeviceCost(bytes);
  const m = d.cortexM.cmsisNn;
  return {
    ramBytes: d.ramBytes,
    flashBytes: d.flashBytes,
    modelBytes: d.modelBytes,
    operators: d.operators,
    latencyMs: d.latencyMs,
    macs: d.macs,
    cmsisNnRamBytes: m.ramBytes,
    cmsisNnFlashBytes: m.flashBytes,
    cortexMInstructions: m.setupInstructions + m.invokeInstructions,
  };
}

export interface BudgetFigure {
  /** report.json's name of the figure. */
  name: string;
  /** What it measures, for people (report.html). */
  label: string;
  of: (p: Int8Price) => number;
}

export const BUDGET_FIGURES: readonly BudgetFigure[] = [
  { name: 'ram_bytes', label: 'TFLM RAM (arena on a Cortex-M)', of: (p) => p.ramBytes },
  { name: 'flash_bytes', label: 'flash (model file + TFLM kernel code)', of: (p) => p.flashBytes },
  { name: 'model_bytes', label: 'int8 model file', of: (p) => p.modelBytes },
  { name: 'macs', label: 'multiply-accumulates per inference (counted from the .tflite file)', of: (p) => p.macs },
  { name: 'cmsis_nn_ram_bytes', label: "TFLM RAM with CMSIS-NN kernels (Edge Impulse's Cortex-M default)", of: (p) => p.cmsisNnRamBytes },
  { name: 'cmsis_nn_flash_bytes', label: 'flash with CMSIS-NN kernels (model file + TFLM code, NDEBUG)', of: (p) => p.cmsisNnFlashBytes },
  {
    name: 'cortex_m_instructions',
    label: 'Cortex-M4F instructions per inference with CMSIS-NN (per-call setup + Invoke)',
    of: (p) => p.cortexMInstructions,
  },
];

export interface FigureCheck {
  name: string;
  value: number;
  /** The budget network's figure times the ratio allowed. */
  limit: number;
  fits: boolean;
}

/** Each figure of `price` against `ratio` times `budget`'s. */
export function checkFigures(price: Int8Price, budget: Int8Price, ratio: number): FigureCheck[] {
  return BUDGET_FIGURES.map((f) => {
    const value = f.of(price);
    const limit = f.of(budget) * ratio;
    return { name: f.name, value, limit, fits: value <= limit };
  });
}

export const fitsAll = (checks: readonly FigureCheck[]): boolean => checks.every((c) => c.fits);

/** "ram_bytes 4,812 > 4,604" for each figure over its limit. */
export function overLimit(checks: readonly FigureCheck[]): string {
  return checks
    .filter((c) => !c.fits)
    .map((c) => `${c.name} ${Math.round(c.value).toLocaleString('en-US')} > ${Math.round(c.limit).toLocaleString('en-US')}`)
    .join(', ');
}

/**
 * The explicit opt-in budget (max-ram-kb, max-flash-kb, max-latency-ms at target-clock-mhz): absolute
 * limits instead of (as well as) the configured network's cost. null figures are not set.
 */
export interface ExplicitBudget {
  ramBytes: number | null;
  flashBytes: number | null;
  /** Milliseconds per inference at clockMhz. */
  latencyMs: number | null;
  clockMhz: number;
  /** What the latency is: Cortex-M4F instructions with CMSIS-NN at clockMhz, a lower bound. */
  latencyReference: string;
}

/** The explicit budget the configuration sets, or null when none of its figures is set (all 0). */
export function explicitBudgetOf(c: Pick<Config, 'maxRamKb' | 'maxFlashKb' | 'maxLatencyMs' | 'targetClockMhz'>): ExplicitBudget | null {
  if (c.maxRamKb <= 0 && c.maxFlashKb <= 0 && c.maxLatencyMs <= 0) return null;
  return {
    ramBytes: c.maxRamKb > 0 ? c.maxRamKb * 1024 : null,
    flashBytes: c.maxFlashKb > 0 ? c.maxFlashKb * 1024 : null,
    latencyMs: c.maxLatencyMs > 0 ? c.maxLatencyMs : null,
    clockMhz: c.targetClockMhz,
    latencyReference: `Cortex-M4F with CMSIS-NN kernels (Edge Impulse's default) at ${c.targetClockMhz} MHz: instructions per inference (per-call setup + Invoke, the instruction model checked against an emulated Cortex-M4F) at one per cycle, a lower bound`,
  };
}

/** Milliseconds per inference at `clockMhz` if every instruction took one cycle: a lower bound. */
export function latencyAtClock(p: Pick<Int8Price, 'cortexMInstructions'>, clockMhz: number): number {
  return p.cortexMInstructions / (clockMhz * 1000);
}

/**
 * Each figure the explicit budget sets, `price`'s value against it: RAM and flash of the Cortex-M default
 * deployment (CMSIS-NN, the larger of the two kernel sets), latency_ms its lower bound at the target clock.
 */
export function checkExplicit(price: Int8Price, b: ExplicitBudget): FigureCheck[] {
  const rows: Array<[string, number, number | null]> = [
    ['ram_bytes', price.cmsisNnRamBytes, b.ramBytes],
    ['flash_bytes', price.cmsisNnFlashBytes, b.flashBytes],
    ['latency_ms', latencyAtClock(price, b.clockMhz), b.latencyMs],
  ];
  return rows.filter((r) => r[2] !== null).map(([name, value, limit]) => ({ name, value, limit: limit!, fits: value <= limit! }));
}
