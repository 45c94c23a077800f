/**
 * Flash that TensorFlow Lite Micro's code takes on the device, beyond the .tflite bytes: the interpreter
 * every model needs plus the kernels of the operators a model uses. Measured, not estimated, by
 * tools/tflm/measure-code-size.sh, which regenerates every figure below (run it, paste its table):
 *
 * - Source: TFLM as Edge Impulse's C++ SDK ships it (../shared/reference/ei-sdk-tflm, SDK
 *   {@link TFLM_CODE_SIZE_SDK}), with its **portable reference kernels**: CMSIS-NN off
 *   (`-DEI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN=0`, as in the SDK's desktop build). On a real Arm target the
 *   SDK turns CMSIS-NN on by default (classifier/ei_classifier_config.h, `__ARM_ARCH_PROFILE == 'M'`), and
 *   those kernels are different code with different sizes: these figures are for the reference kernels.
 * - Compiled with {@link TFLM_CODE_SIZE_TOOLCHAIN} and {@link TFLM_CODE_SIZE_COMPILE_FLAGS};
 *   `-fmacro-prefix-map=<sdk>/=` (so `__FILE__` in asserts is the SDK-relative path a project's build embeds,
 *   whatever the checkout's path); `TF_LITE_STATIC_MEMORY` and `NDEBUG` are not defined (neither the SDK's build nor its classifier
 *   headers define them; TF_LITE_STATIC_MEMORY would change these figures by < 100 bytes); error strings
 *   are stripped by the SDK itself.
 * - Linked, not summed: the objects go into a static library and a tiny program that drives the
 *   interpreter the way the SDK's tflite_micro.h does (GetModel, a MicroMutableOpResolver, MicroInterpreter,
 *   AllocateTensors, Invoke, input/output, destructor) is linked with {@link TFLM_CODE_SIZE_LINK_FLAGS};
 *   flash = text + data of the ELF. The interpreter's figure is that program with no operator minus
 *   `int main() { return 0; }`; it includes what TFLM pulls from newlib-nano, libgcc and libstdc++
 *   (about 8 KB by the link map: memcpy and friends, malloc/free, and ~6 KB of stdio that newlib's
 *   `assert` drags in, which an application that prints anything has anyway). Built with `-DNDEBUG`
 *   (TFLM's DCHECKs and flatbuffers' asserts gone) the interpreter measured about 13.3 KB instead of 22.3 KB;
 *   the operators' figures move by a few hundred bytes.
 * - Operators share helpers (quantization setup, soft-float double arithmetic on this single-precision
 *   FPU, expf/logf, the pooling code MAX and AVERAGE share), so a kernel linked alone costs much more than
 *   it adds next to others. Each operator's figure is therefore what it alone adds on top of all eleven
 *   ((all) - (all but it)); the code two or more operators share is in
 *   {@link TFLM_SHARED_KERNEL_CODE_BYTES}, counted once in the runtime. That sum is exact for a model with all
 *   eleven operators and an upper bound otherwise: checked against whole links of the exporter's model
 *   families ({@link TFLM_MEASURED_SETS}) it over-states them by 0.7-2.6 KB (FULLY_CONNECTED + SOFTMAX:
 *   38792 vs 36200 linked; conv family: 47300 vs 45584; dense with dendrite ops: 50764 vs 50084), by up to
 *   3.5 KB (11%) with one input type. Summing the stand-alone figures ({@link TFLM_OP_ALONE_CODE_BYTES})
 *   instead would over-state them by 3.5-23 KB.
 * - Each figure holds every input-type path of the kernel (float32, int8 and int16 are chosen at run
 *   time). Edge Impulse's kernels honour `EI_TFLITE_DISABLE_<OP>_IN_<TYPE>` for CONV_2D, FULLY_CONNECTED,
 *   MAX_POOL_2D, AVERAGE_POOL_2D and SOFTMAX (the SDK includes tflite-model/trained_model_ops_define.h
 *   when a deployment ships one; whether a given deployment sets them is up to Edge Impulse's generated
 *   files). {@link TFLM_SINGLE_TYPE_CODE_BYTES} and `tflmCodeBytes(ops, { onlyType })` give the figures
 *   when those five are built for one input type. CONV_2D and MAX/AVERAGE_POOL_2D keep their int16 path
 *   either way (the SDK has no switch for it); the other six operators have no switch at all.
 */

export const TFLM_CODE_SIZE_TOOLCHAIN = 'arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205';
export const TFLM_CODE_SIZE_COMPILE_FLAGS =
  '-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections -fno-rtti -fno-exceptions ' +
  '-DTF_LITE_DISABLE_X86_NEON=1 -DEI_CLASSIFIER_ENABLE_DETECTION_POSTPROCESS_OP=1 -DEI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN=0';
export const TFLM_CODE_SIZE_LINK_FLAGS = '-Wl,--gc-sections --specs=nano.specs --specs=nosys.specs';
/** Edge Impulse inferencing-sdk-cpp version and commit the TFLM sources come from. */
export const TFLM_CODE_SIZE_SDK = 'v1.93.20';
export const TFLM_CODE_SIZE_SDK_COMMIT = '919819f5abf5f59efce1343dd2e1bdc88c4b570d';
/** One line for reports: where the code-size part of a flash figure comes from. */
export const TFLM_CODE_SIZE_METHOD =
  `TFLM code measured by linking for Cortex-M4F (${TFLM_CODE_SIZE_TOOLCHAIN.replace(/^.*\) /, 'gcc ')} -Os, --gc-sections, newlib-nano), ` +
  `Edge Impulse SDK ${TFLM_CODE_SIZE_SDK} reference kernels (CMSIS-NN off): runtime + each operator's own code; tools/tflm/measure-code-size.sh`;

/** The operators our exporter emits: the names of src/export/tflite/schema.ts's `BuiltinOperator`. */
export type TflmOperator =
  'CONV_2D' | 'FULLY_CONNECTED' | 'MAX_POOL_2D' | 'AVERAGE_POOL_2D' | 'RESHAPE' | 'SOFTMAX' | 'RELU' | 'LOGISTIC' | 'TANH' | 'ADD' | 'MUL';

/** The interpreter with no operator registered, minus an empty main: the script's `interpreter`. */
export const TFLM_INTERPRETER_CODE_BYTES = 22300;
/** Kernel helpers two or more of the eleven operators share: the script's `shared` (every type path). */
export const TFLM_SHARED_KERNEL_CODE_BYTES = 9708;
/** What any model costs before its operators' own code. */
export const TFLM_RUNTIME_CODE_BYTES = TFLM_INTERPRETER_CODE_BYTES + TFLM_SHARED_KERNEL_CODE_BYTES;

/** What each operator adds next to the ten others, every input-type path: the script's `unique`. */
export const TFLM_OP_CODE_BYTES: Readonly<Record<TflmOperator, number>> = {
  CONV_2D: 5696,
  FULLY_CONNECTED: 2584,
  MAX_POOL_2D: 1632,
  AVERAGE_POOL_2D: 1472,
  RESHAPE: 1180,
  SOFTMAX: 4200,
  RELU: 844,
  LOGISTIC: 2288,
  TANH: 3032,
  ADD: 3272,
  MUL: 3380,
};

/**
 * What each operator adds to the bare interpreter when it is the only one: the script's `alone`. For a
 * model with one operator; not to be summed (shared helpers would count once per operator).
 */
export const TFLM_OP_ALONE_CODE_BYTES: Readonly<Record<TflmOperator, number>> = {
  CONV_2D: 10696,
  FULLY_CONNECTED: 7444,
  MAX_POOL_2D: 3344,
  AVERAGE_POOL_2D: 3184,
  RESHAPE: 1792,
  SOFTMAX: 9944,
  RELU: 4240,
  LOGISTIC: 8116,
  TANH: 8356,
  ADD: 8184,
  MUL: 8632,
};

export type TflmInputType = 'float32' | 'int8';

/**
 * The same measurement with CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D and SOFTMAX built for
 * one input type (EI_TFLITE_DISABLE_<OP>_IN_<other types>=1): the script's `shared` and `unique` columns
 * for `-f32` and `-i8`. The other operators' figures move too, as helpers they shared with the stripped
 * paths become theirs alone.
 */
export const TFLM_SINGLE_TYPE_CODE_BYTES: Readonly<Record<TflmInputType, { sharedKernelBytes: number; ops: Readonly<Record<TflmOperator, number>> }>> = {
  float32: {
    sharedKernelBytes: 8916,
    ops: {
      CONV_2D: 5112,
      FULLY_CONNECTED: 2008,
      MAX_POOL_2D: 1152,
      AVERAGE_POOL_2D: 1024,
      RESHAPE: 1180,
      SOFTMAX: 1376,
      RELU: 844,
      LOGISTIC: 2544,
      TANH: 3320,
      ADD: 3272,
      MUL: 3540,
    },
  },
  int8: {
    sharedKernelBytes: 9180,
    ops: {
      CONV_2D: 5016,
      FULLY_CONNECTED: 2200,
      MAX_POOL_2D: 1088,
      AVERAGE_POOL_2D: 992,
      RESHAPE: 1180,
      SOFTMAX: 2188,
      RELU: 844,
      LOGISTIC: 2920,
      TANH: 3000,
      ADD: 3272,
      MUL: 3348,
    },
  },
};

export interface TflmMeasuredSet {
  ops: readonly TflmOperator[];
  /** Flash of the linked program minus that of an empty main: the interpreter and these kernels. */
  bytes: number;
}

/**
 * Operator sets of the exporter's model families that the script linked as whole programs (its
 * "check" table: dense; conv with a dense head; conv with batch-norm's ADD/MUL; dense with dendrite
 * operators). 'all' is every type path; 'float32' / 'int8' the five switchable kernels built for one type.
 */
export const TFLM_MEASURED_SETS: Readonly<Record<TflmInputType | 'all', readonly TflmMeasuredSet[]>> = {
  all: [
    { ops: ['FULLY_CONNECTED', 'SOFTMAX'], bytes: 36200 },
    { ops: ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX'], bytes: 45584 },
    { ops: ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX', 'ADD', 'MUL'], bytes: 54516 },
    { ops: ['FULLY_CONNECTED', 'SOFTMAX', 'MUL', 'ADD', 'TANH', 'LOGISTIC'], bytes: 50084 },
  ],
  float32: [
    { ops: ['FULLY_CONNECTED', 'SOFTMAX'], bytes: 31136 },
    { ops: ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX'], bytes: 39560 },
    { ops: ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX', 'ADD', 'MUL'], bytes: 48312 },
    { ops: ['FULLY_CONNECTED', 'SOFTMAX', 'MUL', 'ADD', 'TANH', 'LOGISTIC'], bytes: 46532 },
  ],
  int8: [
    { ops: ['FULLY_CONNECTED', 'SOFTMAX'], bytes: 33088 },
    { ops: ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX'], bytes: 41312 },
    { ops: ['RESHAPE', 'CONV_2D', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX', 'ADD', 'MUL'], bytes: 49796 },
    { ops: ['FULLY_CONNECTED', 'SOFTMAX', 'MUL', 'ADD', 'TANH', 'LOGISTIC'], bytes: 47664 },
  ],
};

export interface TflmCodeBytesOptions {
  /** Price the five switchable kernels built for this input type only (TFLM_SINGLE_TYPE_CODE_BYTES). */
  onlyType?: TflmInputType;
}

function tables(onlyType: TflmInputType | undefined): { shared: number; ops: Readonly<Record<TflmOperator, number>> } {
  if (onlyType === undefined) return { shared: TFLM_SHARED_KERNEL_CODE_BYTES, ops: TFLM_OP_CODE_BYTES };
  const t = TFLM_SINGLE_TYPE_CODE_BYTES[onlyType];
  return { shared: t.sharedKernelBytes, ops: t.ops };
}

/**
 * Flash bytes of TFLM code a model with these operators needs (names as in `BuiltinOperator`): the
 * runtime (interpreter + shared kernel helpers) plus each distinct operator's own code. Exact for all
 * eleven operators, an upper bound for fewer (0.7-3.5 KB high on the linked sets of TFLM_MEASURED_SETS).
 * Without `onlyType` every input-type path is counted. One formula for every set, so differences between
 * two models (with and without dendrite operators, say) are differences of the operators' own code.
 * Throws for an operator nobody measured.
 */
export function tflmCodeBytes(ops: Iterable<string>, options: TflmCodeBytesOptions = {}): number {
  const { shared, ops: table } = tables(options.onlyType);
  let total = TFLM_INTERPRETER_CODE_BYTES + shared;
  for (const op of new Set(ops)) {
    if (!Object.hasOwn(table, op)) {
      throw new Error(
        `tflmCodeBytes: no measured code size for operator ${op} (measured: ${Object.keys(table).join(', ')}); ` +
          'add it to tools/tflm/measure-code-size.sh and src/export/tflite/tflm-code-size.ts',
      );
    }
    total += table[op as TflmOperator];
  }
  return total;
}

/**
 * The linked size of exactly this operator set where the script linked it (TFLM_MEASURED_SETS), else
 * undefined. Not used by tflmCodeBytes: mixing linked sizes with the formula would price a subset above
 * its superset (RESHAPE + CONV_2D + FULLY_CONNECTED + SOFTMAX: formula 45668 > the linked 45584 of the same
 * set plus MAX_POOL_2D).
 */
export function tflmLinkedCodeBytes(ops: Iterable<string>, options: TflmCodeBytesOptions = {}): number | undefined {
  const distinct = new Set(ops);
  return TFLM_MEASURED_SETS[options.onlyType ?? 'all'].find((s) => s.ops.length === distinct.size && s.ops.every((op) => distinct.has(op)))?.bytes;
}
