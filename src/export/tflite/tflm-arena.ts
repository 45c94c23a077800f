/**
 * The RAM a .tflite file needs under TensorFlow Lite Micro as Edge Impulse's C++ SDK ships it: exactly
 * `MicroInterpreter::arena_used_bytes()` after `AllocateTensors()`, for a Cortex-M (gcc's default struct
 * layout there: 4-byte pointers, 1-byte enums) or the 64-bit desktop build. The test suite checks both
 * against TFLM itself (tools/tflm/runner.cc, built from ../shared/reference/ei-sdk-tflm for x86-64 and
 * with g++ -m32 -fshort-enums, whose record layouts equal arm-none-eabi-gcc's).
 *
 * TFLM's arena has two ends:
 * - the head: the memory planner's plan of every non-constant tensor (and kernel scratch buffer),
 *   each size rounded up to 16 bytes, placed by GreedyMemoryPlanner (largest first, lowest offset
 *   that no buffer alive at the same time overlaps);
 * - the tail: persistent records, allocated downwards from the arena's (16-byte aligned) end in a
 *   fixed order, each aligned down to its own alignment: the allocator and planner objects, one
 *   TfLiteEvalTensor per tensor, one NodeAndRegistration per operator, each operator's parsed options
 *   (builtin data), each kernel's OpData (Init) and per-channel arrays (Prepare), then the input and
 *   output TfLiteTensor records with their quantization records.
 * Record sizes were read from TFLM's structs on both pointer widths (tools/tflm/runner.cc --trace
 * prints every tail allocation, which is how each figure below is checked).
 *
 * Kernel sets: Edge Impulse builds TFLM for a Cortex-M with CMSIS-NN kernels (EI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN=1,
 * the SDK's default on every Cortex-M); `kernels: 'cmsis-nn'` gives that arena (Cortex-M only). Its kernels keep
 * larger OpData (a scratch buffer index and CMSIS-NN's own parameters: CONV_2D 60 B, FULLY_CONNECTED 60 B,
 * MAX/AVERAGE_POOL_2D 36 B, SOFTMAX 64 B) and request scratch buffers in the arena (int8 CONV_2D that is not
 * 1x1/stride 1/no padding: CMSIS-NN's im2col buffer of 2 x in_channels x kernel_h x kernel_w int16; int8
 * AVERAGE_POOL_2D: in_channels int32), which the planner places like tensors alive during their operator,
 * with one 4-byte handle per request in the tail. Read from the kernels' code (micro/kernels/*.cc under
 * CMSIS_NN, CMSIS/NN/Source/*_get_buffer_size) and checked against the emulated Cortex-M4F's arena
 * (tools/cortexm/runner.cc with a `trace` file prints every tail allocation).
 */
import { BuiltinOperator, readTfliteGraph, TensorType, type TfliteGraph } from './schema.js';

/** The TFLM these figures equal (kept in step with tools/tflm and the tests). */
export const TFLM_REFERENCE = "TensorFlow Lite Micro from Edge Impulse's inferencing-sdk-cpp v1.93.20 (919819f), reference kernels (CMSIS-NN off)";
/** The same TFLM with CMSIS-NN kernels, what the SDK builds for a Cortex-M by default. */
export const TFLM_CMSIS_NN = "TensorFlow Lite Micro from Edge Impulse's inferencing-sdk-cpp v1.93.20 (919819f), CMSIS-NN kernels";

/** TFLM's kernel sets on a Cortex-M: CMSIS-NN (Edge Impulse's default there) or the portable reference kernels. */
export type TflmKernels = 'cmsis-nn' | 'reference';

export type PointerBytes = 4 | 8;

/**
 * The builds whose arena this module reproduces:
 * - 'cortex-m': 4-byte pointers and 1-byte enums, as arm-none-eabi-gcc lays out structs by default
 *   (-fshort-enums): the parsed options of FULLY_CONNECTED, ADD and MUL shrink (checked against TFLM
 *   built with g++ -m32 -fshort-enums, whose layouts equal arm-none-eabi's for every record here);
 * - '64-bit': the desktop/Linux build (x86-64, aarch64).
 */
export type TflmTarget = 'cortex-m' | '64-bit';
const POINTER_BYTES: Record<TflmTarget, PointerBytes> = { 'cortex-m': 4, '64-bit': 8 };

export interface TflmArena {
  /** `arena_used_bytes()`: head + tail, what the device's tensor arena must hold. */
  arenaBytes: number;
  /** The memory plan: tensors that are not constants, and scratch buffers. */
  plannedBytes: number;
  /** Persistent records: interpreter bookkeeping that grows with operators and tensors. */
  persistentBytes: number;
  operators: number;
  tensors: number;
  target: TflmTarget;
  kernels: TflmKernels;
}

const ARENA_ALIGNMENT = 16;

interface Layout {
  size: number;
  align: number;
}

/** sizeof/alignof of TFLM's records, by pointer width. */
const STRUCTS: Record<PointerBytes, Record<string, Layout>> = {
  4: {
    SingleArenaBufferAllocator: { size: 36, align: 4 },
    GreedyMemoryPlanner: { size: 44, align: 4 },
    MicroAllocator: { size: 36, align: 4 },
    MicroBuiltinDataAllocator: { size: 8, align: 4 },
    SubgraphAllocations: { size: 8, align: 4 },
    TfLiteEvalTensor: { size: 12, align: 4 },
    NodeAndRegistration: { size: 44, align: 4 },
    TfLiteTensor: { size: 64, align: 4 },
    TfLiteAffineQuantization: { size: 12, align: 4 },
  },
  8: {
    SingleArenaBufferAllocator: { size: 72, align: 8 },
    GreedyMemoryPlanner: { size: 72, align: 8 },
    MicroAllocator: { size: 72, align: 8 },
    MicroBuiltinDataAllocator: { size: 16, align: 8 },
    SubgraphAllocations: { size: 16, align: 8 },
    TfLiteEvalTensor: { size: 24, align: 8 },
    NodeAndRegistration: { size: 88, align: 8 },
    TfLiteTensor: { size: 112, align: 8 },
    TfLiteAffineQuantization: { size: 24, align: 8 },
  },
};

interface KernelRecords {
  /** sizeof the parsed options struct (TfLiteConvParams, ...), 4-byte aligned; 0 when the op has none. */
  builtinData: number;
  /** The same struct with 1-byte enums (Cortex-M gcc), when its layout changes: size and alignment. */
  builtinDataShortEnums?: Layout;
  /** sizeof the kernel's OpData, allocated by its Init with 16-byte alignment; 0 when Init allocates nothing. */
  opData: Record<PointerBytes, number>;
  /** Persistent buffers its Prepare allocates (16-byte aligned), in order. */
  prepare?: (op: TfliteGraph['operators'][number], g: TfliteGraph) => number[];
  /** CMSIS-NN's OpData, when it differs from the reference kernel's (4-byte pointers). */
  opDataCmsisNn?: number;
  /** Bytes of the scratch buffer the CMSIS-NN kernel requests in Prepare; 0 for none. */
  scratchCmsisNn?: (op: TfliteGraph['operators'][number], g: TfliteGraph) => number;
}

const same = (n: number): Record<PointerBytes, number> => ({ 4: n, 8: n });

/** Conv's Prepare keeps an int32 output multiplier and shift per output channel for quantized input. */
function perChannelArrays(op: TfliteGraph['operators'][number], g: TfliteGraph): number[] {
  const input = g.tensors[op.inputs[0]!]!;
  if (input.type === TensorType.FLOAT32) return [];
  const channels = g.tensors[op.inputs[1]!]!.shape[0]!;
  return [4 * channels, 4 * channels];
}

/**
 * arm_convolve_wrapper_s8_get_buffer_size on a Cortex-M4 (DSP, no MVE): 0 for the 1x1 fast path (no padding,
 * stride 1, 1x1 filter, no dilation), else arm_convolve_s8's im2col buffer, 2 columns of in_channels x
 * kernel_h x kernel_w int16 (the 1xN path asks the same). Float convs run the reference code: no request.
 */
function convScratch(op: TfliteGraph['operators'][number], g: TfliteGraph): number {
  if (g.tensors[op.inputs[0]!]!.type !== TensorType.INT8) return 0;
  const [, kh = 1, kw = 1, inC = 1] = g.tensors[op.inputs[1]!]!.shape;
  const c = op.conv;
  // With a 1x1 filter SAME padding pads nothing, so the fast path hangs on strides and dilations alone.
  const unit = (c?.strideW ?? 1) === 1 && (c?.strideH ?? 1) === 1 && (c?.dilationW ?? 1) === 1 && (c?.dilationH ?? 1) === 1;
  if (unit && kh === 1 && kw === 1) return 0;
  return 2 * inC * kh * kw * 2;
}

/** arm_avgpool_s8_get_buffer_size with DSP: one int32 per channel, for int8 input. */
function avgPoolScratch(op: TfliteGraph['operators'][number], g: TfliteGraph): number {
  const input = g.tensors[op.inputs[0]!]!;
  return input.type === TensorType.INT8 ? 4 * input.shape[input.shape.length - 1]! : 0;
}

const KERNELS: Partial<Record<BuiltinOperator, KernelRecords>> = {
  [BuiltinOperator.CONV_2D]: { builtinData: 24, opData: { 4: 56, 8: 72 }, prepare: perChannelArrays, opDataCmsisNn: 60, scratchCmsisNn: convScratch },
  [BuiltinOperator.FULLY_CONNECTED]: { builtinData: 12, builtinDataShortEnums: { size: 4, align: 1 }, opData: same(36), opDataCmsisNn: 60 },
  [BuiltinOperator.MAX_POOL_2D]: { builtinData: 40, opData: same(32), opDataCmsisNn: 36 },
  [BuiltinOperator.AVERAGE_POOL_2D]: { builtinData: 40, opData: same(32), opDataCmsisNn: 36, scratchCmsisNn: avgPoolScratch },
  [BuiltinOperator.RESHAPE]: { builtinData: 36, opData: same(0) },
  [BuiltinOperator.SOFTMAX]: { builtinData: 4, opData: { 4: 56, 8: 80 }, opDataCmsisNn: 64 },
  [BuiltinOperator.RELU]: { builtinData: 0, opData: same(28) },
  [BuiltinOperator.LOGISTIC]: { builtinData: 0, opData: same(16) },
  [BuiltinOperator.TANH]: { builtinData: 0, opData: same(16) },
  [BuiltinOperator.ADD]: { builtinData: 8, builtinDataShortEnums: { size: 2, align: 1 }, opData: same(60) },
  [BuiltinOperator.MUL]: { builtinData: 4, builtinDataShortEnums: { size: 1, align: 1 }, opData: same(36) },
};

const ELEMENT_BYTES: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.INT32]: 4,
  [TensorType.INT8]: 1,
};

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The arena's tail grows down from an aligned end: each record lands at the next aligned offset. */
class Tail {
  bytes = 0;
  allocate(size: number, align: number): void {
    this.bytes = alignUp(this.bytes + size, align);
  }
  record(l: Layout, count = 1): void {
    this.allocate(l.size * count, l.align);
  }
}

function kernelOf(code: BuiltinOperator): KernelRecords {
  const k = KERNELS[code];
  if (!k) throw new Error(`tflmArena: operator ${BuiltinOperator[code] ?? code} has no TFLM record sizes in this model`);
  return k;
}

function tensorBytes(g: TfliteGraph, index: number): number {
  const t = g.tensors[index]!;
  const size = ELEMENT_BYTES[t.type];
  if (size === undefined) throw new Error(`tflmArena: tensor '${t.name}' has an element type (${t.type}) with no known size`);
  return t.shape.reduce((a, b) => a * b, 1) * size;
}

/** Lifetimes as TFLM's AllocationInfoBuilder marks them: graph inputs at 0, operator i at i + 1. */
function plannedBuffers(g: TfliteGraph): { size: number; first: number; last: number }[] {
  const first = new Array<number>(g.tensors.length).fill(-1);
  const last = new Array<number>(g.tensors.length).fill(-1);
  for (const i of g.inputs) {
    if (first[i] === -1) first[i] = 0;
    last[i] = 0;
  }
  g.operators.forEach((op, k) => {
    const scope = k + 1;
    for (const o of op.outputs) if (first[o] === -1) first[o] = scope;
    for (const i of op.inputs) if (i >= 0) last[i] = scope;
    for (const o of op.outputs) last[o] = scope;
  });
  const end = g.operators.length;
  for (const o of g.outputs) {
    if (first[o] === -1) first[o] = end;
    last[o] = end;
  }
  const buffers: { size: number; first: number; last: number }[] = [];
  g.tensors.forEach((t, i) => {
    const bytes = tensorBytes(g, i);
    if (t.constant || bytes === 0) return;
    buffers.push({ size: alignUp(bytes, ARENA_ALIGNMENT), first: first[i]!, last: last[i]! });
  });
  return buffers;
}

/**
 * GreedyMemoryPlanner::GetMaximumMemorySize: buffers sorted by size, largest first (ties: the later
 * buffer first, as its bubble sort over the reversed list leaves them), each placed at the lowest offset
 * in the gap list of buffers alive at an overlapping time.
 */
export function greedyPlanBytes(buffers: readonly { size: number; first: number; last: number }[]): number {
  if (buffers.length === 0) return 0;
  const order = buffers.map((_, i) => i).reverse();
  order.sort((a, b) => buffers[b]!.size - buffers[a]!.size); // stable: ties keep the reversed order
  const placed: { offset: number; index: number }[] = []; // sorted by offset, insertion after equal offsets
  const overlaps = (a: number, b: number): boolean => !(buffers[a]!.first > buffers[b]!.last || buffers[b]!.first > buffers[a]!.last);
  for (const id of order) {
    const want = buffers[id]!;
    let candidate = 0;
    for (const p of placed) {
      if (!overlaps(p.index, id)) continue;
      if (p.offset - candidate >= want.size) break;
      candidate = Math.max(candidate, p.offset + buffers[p.index]!.size);
    }
    const at = placed.findIndex((p) => p.offset > candidate);
    placed.splice(at === -1 ? placed.length : at, 0, { offset: candidate, index: id });
  }
  return placed.reduce((m, p) => Math.max(m, p.offset + buffers[p.index]!.size), 0);
}

function ioTensorRecords(tail: Tail, g: TfliteGraph, indices: readonly number[], ptr: PointerBytes): void {
  const s = STRUCTS[ptr];
  tail.allocate(ptr * indices.length, ARENA_ALIGNMENT);
  for (const i of indices) {
    tail.record(s.TfLiteTensor!);
    const channels = g.tensors[i]!.quantChannels ?? 0;
    if (channels > 0) {
      tail.record(s.TfLiteAffineQuantization!);
      tail.allocate(4 + 4 * channels, 4); // TfLiteIntArray of zero points
    }
  }
}

/**
 * TFLM's arena_used_bytes() for a .tflite file on the given build; `kernels` 'cmsis-nn' (a Cortex-M build
 * only) gives the arena with Edge Impulse's default CMSIS-NN kernels, else the reference kernels'.
 */
export function tflmArena(bytes: Uint8Array, target: TflmTarget, kernels: TflmKernels = 'reference'): TflmArena {
  if (kernels === 'cmsis-nn' && target !== 'cortex-m') throw new Error('tflmArena: CMSIS-NN kernels exist for Cortex-M builds only');
  const cmsis = kernels === 'cmsis-nn';
  const g = readTfliteGraph(bytes);
  const pointerBytes = POINTER_BYTES[target];
  const s = STRUCTS[pointerBytes];
  const tail = new Tail();
  tail.record(s.SingleArenaBufferAllocator!);
  tail.record(s.GreedyMemoryPlanner!);
  tail.record(s.MicroAllocator!);
  tail.record(s.MicroBuiltinDataAllocator!);
  tail.record(s.SubgraphAllocations!);
  tail.record(s.TfLiteEvalTensor!, g.tensors.length);
  tail.record(s.NodeAndRegistration!, g.operators.length);
  const records = g.operators.map((op) => kernelOf(op.code));
  for (const k of records) {
    const options = target === 'cortex-m' && k.builtinDataShortEnums ? k.builtinDataShortEnums : { size: k.builtinData, align: 4 };
    if (options.size > 0) tail.allocate(options.size, options.align);
  }
  for (const k of records) {
    const opData = cmsis && k.opDataCmsisNn !== undefined ? k.opDataCmsisNn : k.opData[pointerBytes];
    if (opData > 0) tail.allocate(opData, ARENA_ALIGNMENT);
  }
  g.operators.forEach((op, i) => {
    for (const b of records[i]!.prepare?.(op, g) ?? []) tail.allocate(b, ARENA_ALIGNMENT);
  });
  // Scratch buffers: planned with the tensors (after them, alive during their operator, scope i + 1),
  // their handles (one pointer each) allocated when the model's allocation finishes.
  const scratch: { size: number; first: number; last: number }[] = [];
  if (cmsis) {
    g.operators.forEach((op, i) => {
      const size = records[i]!.scratchCmsisNn?.(op, g) ?? 0;
      if (size > 0) scratch.push({ size: alignUp(size, ARENA_ALIGNMENT), first: i + 1, last: i + 1 });
    });
    if (scratch.length > 0) tail.allocate(pointerBytes * scratch.length, pointerBytes);
  }
  ioTensorRecords(tail, g, g.inputs, pointerBytes);
  ioTensorRecords(tail, g, g.outputs, pointerBytes);
  const plannedBytes = alignUp(greedyPlanBytes([...plannedBuffers(g), ...scratch]), ARENA_ALIGNMENT);
  return {
    arenaBytes: plannedBytes + tail.bytes,
    plannedBytes,
    persistentBytes: tail.bytes,
    operators: g.operators.length,
    tensors: g.tensors.length,
    target,
    kernels,
  };
}
