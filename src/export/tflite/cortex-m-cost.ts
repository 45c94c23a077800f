/**
 * Instructions a .tflite file costs on a Cortex-M4F under TensorFlow Lite Micro as Edge Impulse's SDK
 * ships it (arm-none-eabi-gcc 12.2 -Os, NDEBUG), per kernel set, priced from the file alone (no emulator):
 * - `invoke`: one `Invoke()`: each operator's kernel, a linear function of counts read from its shapes
 *   (MACs, elements, kernel positions, the leftovers of CMSIS-NN's 2x2 / 4- and 16-wide loops), with
 *   coefficients per kernel set, operator, input type and code path, plus TFLM's per-operator dispatch;
 * - `setup`: what Edge Impulse's run_nn_inference() repeats on every call: building the MicroInterpreter,
 *   AllocateTensors() (each kernel's Init and Prepare, the allocator and the memory planner) and deleting it.
 * The coefficients (./cortex-m-calibration.ts) are fitted by tools/cortexm/calibrate.ts to instruction counts
 * of every kernel call measured on QEMU's mps2-an386 (-icount shift=0) with tools/cortexm/runner.cc, over
 * the exporter's model families and forms; test/export/cortexm.test.ts checks whole models against the
 * emulator (within 10%). Instructions, not cycles: a Cortex-M4 needs more than one cycle for loads,
 * taken branches and flash wait states, so instructions / clock is a lower bound on latency.
 * Data-dependent paths are priced at their slow side: int8 TANH/LOGISTIC compute every element, while the
 * device skips the arithmetic of inputs past the saturation range.
 */
import { BuiltinOperator, TensorType, type TfliteGraph } from './schema.js';
import { CORTEX_M_CALIBRATION, type CostGroup, type KernelCalibration } from './cortex-m-calibration.js';
import type { TflmKernels } from './tflm-arena.js';
import { CORTEX_M_CODE_SECTIONS } from './cortex-m-code-size.js';

type Operator = TfliteGraph['operators'][number];

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Filter taps inside the input along one axis, summed over the output positions (TFLM's SAME padding). */
function insideTaps(input: number, output: number, kernel: number, stride: number, dilation: number, same: boolean): number {
  const pad = same ? Math.floor(Math.max((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0) / 2) : 0;
  let n = 0;
  for (let o = 0; o < output; o++) {
    for (let k = 0; k < kernel; k++) {
      const at = o * stride - pad + k * dilation;
      if (at >= 0 && at < input) n++;
    }
  }
  return n;
}

/** The cost group of an operator: kernel set, operator, input type and, for CMSIS-NN's int8 conv, its code path. */
export function costGroup(op: Operator, g: TfliteGraph, kernels: TflmKernels): string {
  const type = g.tensors[op.inputs[0]!]!.type === TensorType.INT8 ? 'int8' : 'float32';
  let name = `${kernels} ${BuiltinOperator[op.code]} ${type}`;
  if (op.code === BuiltinOperator.CONV_2D && kernels === 'cmsis-nn' && type === 'int8') name += isFast1x1(op, g) ? ' 1x1' : ' im2col';
  return name;
}

function isFast1x1(op: Operator, g: TfliteGraph): boolean {
  const [, kh, kw] = g.tensors[op.inputs[1]!]!.shape;
  const c = op.conv;
  return kh === 1 && kw === 1 && (c?.strideW ?? 1) === 1 && (c?.strideH ?? 1) === 1 && (c?.dilationW ?? 1) === 1 && (c?.dilationH ?? 1) === 1;
}

/** The counts an operator's kernel time is linear in, by cost group (names as in the calibration table). */
export function invokeFeatures(op: Operator, g: TfliteGraph, kernels: TflmKernels): Record<string, number> {
  const input = g.tensors[op.inputs[0]!]!;
  const output = g.tensors[op.outputs[0]!]!;
  const out = product(output.shape);
  switch (op.code) {
    case BuiltinOperator.CONV_2D: {
      const [outC = 1, kh = 1, kw = 1, inC = 1] = g.tensors[op.inputs[1]!]!.shape;
      const [, ih = 1, iw = 1] = input.shape;
      const [, oh = 1, ow = 1] = output.shape;
      const pixels = oh * ow;
      if (kernels === 'cmsis-nn' && input.type === TensorType.INT8) {
        const col = kh * kw * inC;
        const macs = pixels * col * outC;
        if (isFast1x1(op, g)) {
          // arm_nn_mat_mult_nt_t_s8: pairs of pixels x pairs of channels, 16-wide inner loop.
          return { macs, inner_leftover: (inC % 16) * outC * pixels, outputs: out, odd_pixel: (pixels % 2) * outC * inC, pixels, channels: outC, one: 1 };
        }
        // arm_convolve_s8: im2col of two pixels to int16, then a 2x2 kernel with a 4-wide inner loop.
        return {
          macs,
          im2col: pixels * col,
          taps: pixels * kh * kw,
          outputs: out,
          odd_channel: (outC % 2) * pixels * col,
          odd_pixel: (pixels % 2) * outC * col,
          inner_leftover: (col % 4) * outC * pixels,
          pixels,
          one: 1,
        };
      }
      // Reference conv (and every float conv): a bounds check per tap, the channel loop only inside the image.
      const c = op.conv;
      const same = (c?.padding ?? 'same') === 'same';
      const inside = insideTaps(ih, oh, kh, c?.strideH || 1, c?.dilationH ?? 1, same) * insideTaps(iw, ow, kw, c?.strideW || 1, c?.dilationW ?? 1, same);
      return { macs: inside * inC * outC, inside_taps: inside * outC, taps: out * kh * kw, outputs: out, one: 1 };
    }
    case BuiltinOperator.FULLY_CONNECTED: {
      const filter = g.tensors[op.inputs[1]!]!.shape;
      return { macs: out * filter[filter.length - 1]!, outputs: out, one: 1 };
    }
    case BuiltinOperator.ADD:
    case BuiltinOperator.MUL: {
      const broadcast = product(input.shape) !== out || product(g.tensors[op.inputs[1]!]!.shape) !== out;
      return { elements: broadcast ? 0 : out, broadcast_elements: broadcast ? out : 0, one: 1 };
    }
    case BuiltinOperator.MAX_POOL_2D:
    case BuiltinOperator.AVERAGE_POOL_2D:
      return { inputs: product(input.shape), outputs: out, one: 1 };
    default:
      return { elements: out, one: 1 };
  }
}

/** Init + Prepare of an operator: per-channel quantization work grows with the output channels. */
export function setupFeatures(op: Operator, g: TfliteGraph): Record<string, number> {
  if (op.code === BuiltinOperator.CONV_2D || op.code === BuiltinOperator.FULLY_CONNECTED) {
    const filter = g.tensors[op.inputs[1]!]!.shape;
    return { channels: filter[0]!, one: 1 };
  }
  return { one: 1 };
}

/** What AllocateTensors and the interpreter do besides the kernels: records per tensor and operator, the plan. */
export function graphSetupFeatures(g: TfliteGraph): Record<string, number> {
  const planned = g.tensors.filter((t) => !t.constant).length;
  return { tensors: g.tensors.length, operators: g.operators.length, planned, planned_squared: planned * planned, one: 1 };
}

function dot(features: Record<string, number>, group: CostGroup | undefined, what: string): number {
  if (!group) throw new Error(`cortexMInstructions: no calibrated cost for ${what} (rerun tools/cortexm/calibrate.ts with a model that has it)`);
  let sum = 0;
  for (const [name, value] of Object.entries(features)) sum += value * (group[name] ?? 0);
  return sum;
}

export interface CortexMInstructions {
  /** One Invoke(). */
  invoke: number;
  /** Interpreter construction + AllocateTensors + delete: what run_nn_inference adds to every inference. */
  setup: number;
}

/** Instructions of one inference and of its per-call setup on a Cortex-M4F, for one kernel set. */
export function cortexMInstructions(g: TfliteGraph, kernels: TflmKernels, table: KernelCalibration = CORTEX_M_CALIBRATION[kernels]): CortexMInstructions {
  let invoke = dot({ operators: g.operators.length, one: 1 }, table.invokeOverhead, 'the per-operator dispatch');
  let setup = dot(graphSetupFeatures(g), table.setupOverhead, 'the graph setup');
  for (const op of g.operators) {
    const group = costGroup(op, g, kernels);
    invoke += dot(invokeFeatures(op, g, kernels), table.invoke[group], group);
    setup += dot(setupFeatures(op, g), table.setup[group.replace(/ (1x1|im2col)$/, '')], group);
  }
  return { invoke: Math.round(Math.max(invoke, 0)), setup: Math.round(Math.max(setup, 0)) };
}

/**
 * Flash bytes of TFLM's code (interpreter + these operators' kernels) on a Cortex-M4F with one kernel set,
 * NDEBUG as shipped: the linked interpreter plus the union of the code sections each operator's kernel keeps
 * (./cortex-m-code-size.ts, measured by tools/cortexm/measure-code.ts). Throws for an operator nobody measured.
 */
export function cortexMCodeBytes(ops: Iterable<string>, kernels: TflmKernels): number {
  const t = CORTEX_M_CODE_SECTIONS[kernels];
  const kept = new Set<number>();
  for (const op of new Set(ops)) {
    const sections = t.ops[op];
    if (!sections) throw new Error(`cortexMCodeBytes: no measured code for operator ${op} (rerun tools/cortexm/measure-code.ts with it)`);
    for (const s of sections) kept.add(s);
  }
  let bytes = t.coreBytes;
  for (const s of kept) bytes += t.sizes[s]!;
  return bytes;
}
