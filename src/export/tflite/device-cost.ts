/**
 * What a .tflite file costs on the microcontroller, read from the file itself (so a dendrite lowering's
 * extra operators are priced):
 * - RAM: TFLM's arena_used_bytes on a Cortex-M, exactly (./tflm-arena.ts; the tests check it against
 *   TFLM built from Edge Impulse's SDK), plus the 64-bit desktop figure;
 * - flash: the model file plus the code of TFLM's runtime and of the kernels the file uses, as measured
 *   for a Cortex-M4F (./tflm-code-size.ts);
 * - latency: an estimate for a Cortex-M4F at 80 MHz from the file's MACs, element-wise work and operator
 *   count (constants below); not measured on hardware. Kept as it was (report.json's latency_ms); the
 *   measured-model figures below supersede it.
 * - `cortexM`: the deployment Edge Impulse ships to a Cortex-M, for both kernel sets (CMSIS-NN, its default
 *   there, and the reference kernels), TFLM built as shipped (NDEBUG): RAM exactly (./tflm-arena.ts),
 *   instructions per Invoke and per call's setup (./cortex-m-cost.ts, fitted to and checked against an
 *   emulated Cortex-M4F), flash = file + the code linked for the file's operators (./cortex-m-code-size.ts),
 *   and a latency lower bound: (setup + Invoke) instructions at one instruction per cycle at `clockHz`.
 */
import { BuiltinOperator, readTfliteGraph, TensorType, type TfliteGraph } from './schema.js';
import { TFLM_REFERENCE, tflmArena } from './tflm-arena.js';
import { tflmCodeBytes, TFLM_CODE_SIZE_METHOD } from './tflm-code-size.js';
import { cortexMCodeBytes, cortexMInstructions } from './cortex-m-cost.js';
import type { TflmKernels } from './tflm-arena.js';

export const LATENCY_REFERENCE = 'Cortex-M4F at 80 MHz, TFLM reference kernels (estimate from MACs and operators, not measured)';
/** The clock latencyMs is estimated at (LATENCY_REFERENCE). */
export const LATENCY_CLOCK_MHZ = 80;
const CLOCK_HZ = LATENCY_CLOCK_MHZ * 1e6;
/**
 * Cycles per unit of work assumed for TFLM's portable reference kernels on a Cortex-M4F (no CMSIS-NN):
 * an int8 MAC goes through offset arithmetic and requantization per output, a float MAC through the
 * single-precision FPU; element-wise operators (activations, add, mul, pooling, copies) cost a few
 * cycles per element; each operator's Invoke has a fixed dispatch and setup overhead.
 */
const CYCLES = { int8Mac: 6, floatMac: 4, element: 8, operator: 2000 };

/** One kernel set's cost on a Cortex-M4F, TFLM as Edge Impulse ships it (NDEBUG). */
export interface KernelCost {
  /** arena_used_bytes with these kernels, exactly. */
  ramBytes: number;
  /** Instructions of one Invoke() (the model, within 10% of the emulator in the tests). */
  invokeInstructions: number;
  /** Instructions of what run_nn_inference() repeats on every call: interpreter, AllocateTensors, delete. */
  setupInstructions: number;
  /** Flash of TFLM's code for the file's operators with these kernels (linked, NDEBUG). */
  codeBytes: number;
  /** The file plus codeBytes. */
  flashBytes: number;
  /** (setupInstructions + invokeInstructions) / clock: a lower bound (a Cortex-M4 needs >= 1 cycle per instruction). */
  latencyLowerBoundMs: number;
}

export interface CortexMCost {
  /** The kernels Edge Impulse's SDK builds for a Cortex-M (EI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN defaults to 1 there). */
  defaultKernels: 'cmsis-nn';
  /** The clock the latency lower bounds are stated at. */
  clockHz: number;
  cmsisNn: KernelCost;
  reference: KernelCost;
  /** One line for reports: how these figures are obtained. */
  method: string;
}

export const CORTEX_M_CLOCK_HZ = 80e6;
export const CORTEX_M_METHOD =
  "TFLM from Edge Impulse's SDK v1.93.20 for a Cortex-M4F (arm-none-eabi-gcc 12.2 -Os -DNDEBUG); RAM exact; instructions " +
  'from a per-operator model fitted to and checked against QEMU mps2-an386 instruction counts (tools/cortexm); flash = file + linked code; ' +
  'latency = (setup + Invoke) instructions at one per cycle: a lower bound';

export interface DeviceCost {
  /** TFLM arena_used_bytes on a Cortex-M (gcc's struct layout). */
  ramBytes: number;
  ramBytes64: number;
  ramPlannedBytes: number;
  ramPersistentBytes: number;
  ramCheckedAgainst: string;
  operators: number;
  tensors: number;
  modelBytes: number;
  codeBytes: number;
  flashBytes: number;
  flashMethod: string;
  /** MACs counted from the file's operators (dendrite branches included), by the rule of operatorWork. */
  macs: number;
  /** The old estimate (LATENCY_REFERENCE), unchanged; `cortexM` holds the measured-model figures. */
  latencyMs: number;
  latencyReference: string;
  /** The deployment on a Cortex-M4F, both kernel sets; CMSIS-NN is Edge Impulse's default there. */
  cortexM: CortexMCost;
}

function kernelCost(bytes: Uint8Array, g: TfliteGraph, kernels: TflmKernels): KernelCost {
  const { invoke, setup } = cortexMInstructions(g, kernels);
  const codeBytes = cortexMCodeBytes(
    g.operators.map((op) => BuiltinOperator[op.code]!),
    kernels,
  );
  return {
    ramBytes: tflmArena(bytes, 'cortex-m', kernels).arenaBytes,
    invokeInstructions: invoke,
    setupInstructions: setup,
    codeBytes,
    flashBytes: bytes.length + codeBytes,
    latencyLowerBoundMs: (1000 * (invoke + setup)) / CORTEX_M_CLOCK_HZ,
  };
}

const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Multiply-accumulates and element-wise work of one operator, from its tensors' shapes. MACs follow the
 * project's one rule (docs/report-json.md, "MACs"; the engine's Layer.macs gives the same count, tested):
 * CONV_2D and FULLY_CONNECTED only, output elements x kernel taps x input channels; pooling, activations,
 * MUL/ADD and copies are element-wise work, not MACs.
 */
function operatorWork(op: TfliteGraph['operators'][number], g: TfliteGraph): { macs: number; elements: number } {
  const out = elements(g.tensors[op.outputs[0]!]!.shape);
  const input = g.tensors[op.inputs[0]!]!;
  switch (op.code) {
    case BuiltinOperator.CONV_2D: {
      const [, kh = 1, kw = 1, inC = 1] = g.tensors[op.inputs[1]!]!.shape;
      return { macs: out * kh * kw * inC, elements: 0 };
    }
    case BuiltinOperator.FULLY_CONNECTED: {
      const filter = g.tensors[op.inputs[1]!]!.shape;
      return { macs: out * filter[filter.length - 1]!, elements: 0 };
    }
    case BuiltinOperator.MAX_POOL_2D:
    case BuiltinOperator.AVERAGE_POOL_2D:
      return { macs: 0, elements: elements(input.shape) };
    default:
      return { macs: 0, elements: Math.max(out, elements(input.shape)) };
  }
}

export function tfliteDeviceCost(bytes: Uint8Array): DeviceCost {
  const g = readTfliteGraph(bytes);
  const arena = tflmArena(bytes, 'cortex-m');
  const arena64 = tflmArena(bytes, '64-bit');
  let macs = 0;
  let cycles = 0;
  for (const op of g.operators) {
    const w = operatorWork(op, g);
    const int8 = g.tensors[op.inputs[0]!]!.type === TensorType.INT8;
    macs += w.macs;
    cycles += w.macs * (int8 ? CYCLES.int8Mac : CYCLES.floatMac) + w.elements * CYCLES.element + CYCLES.operator;
  }
  // Every input-type path of each kernel is counted: a deployment that compiles one type only
  // (EI_TFLITE_DISABLE_<OP>_IN_<TYPE>) needs less, so the figure errs on the side that still fits.
  const codeBytes = tflmCodeBytes(g.operators.map((op) => BuiltinOperator[op.code]!));
  return {
    ramBytes: arena.arenaBytes,
    ramBytes64: arena64.arenaBytes,
    ramPlannedBytes: arena.plannedBytes,
    ramPersistentBytes: arena.persistentBytes,
    ramCheckedAgainst: `${TFLM_REFERENCE}; Cortex-M layout (4-byte pointers, gcc's 1-byte enums), checked against that TFLM built with g++ -m32 -fshort-enums; 64-bit build in ram_bytes_64bit`,
    operators: arena.operators,
    tensors: arena.tensors,
    modelBytes: bytes.length,
    codeBytes,
    flashBytes: bytes.length + codeBytes,
    flashMethod: TFLM_CODE_SIZE_METHOD,
    macs,
    latencyMs: (1000 * cycles) / CLOCK_HZ,
    latencyReference: LATENCY_REFERENCE,
    cortexM: {
      defaultKernels: 'cmsis-nn',
      clockHz: CORTEX_M_CLOCK_HZ,
      cmsisNn: kernelCost(bytes, g, 'cmsis-nn'),
      reference: kernelCost(bytes, g, 'reference'),
      method: CORTEX_M_METHOD,
    },
  };
}
