/**
 * The ONE list of Dendritic's parameters. Every number has an upper bound as well as a lower one: a
 * value far outside what training can use (a learning rate of 1e30, 100,000 correlation candidates) is
 * refused before any work instead of diverging or running for days.
 *
 * parameters.json, the argv parser, `--help`, the README table
 * and the effective-config printout are all generated from SCHEMA, so a parameter's name, flag and
 * default live here and nowhere else. (The original Python block kept names in two places and 11 of
 * its 19 parameters silently never reached its code; see docs/parameters.md.)
 *
 * To add a parameter: add a field to `Config`, then one entry below through the helper of its type
 * (the helpers only accept keys whose Config field has the matching TS type), then run
 * `node --import tsx src/params/generate.ts` and commit parameters.json and README.md.
 */
import type { Activation } from '../engine/kernels.js';

export type ParamType = 'int' | 'float' | 'select' | 'boolean' | 'flag' | 'string';

export interface Config {
  // Training
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  model: 'auto' | 'ei-kws' | 'dense' | 'conv2d';
  width: number;
  dropout: number;
  optimizer: 'adam' | 'sgd';
  lrSchedule: 'plateau' | 'none';
  lrPatience: number;
  restarts: boolean;
  noise: 'none' | 'low' | 'high';
  specAugment: 'none' | 'low' | 'high';
  maxTrainingSeconds: number;
  exportFormat: 'tflite' | 'onnx' | 'all';
  maxInt8Drop: number;
  // Dendritic optimization
  dendrites: boolean;
  dendriteTraining: 'gd' | 'correlation';
  switchMode: 'history' | 'fixed' | 'every-epoch' | 'none';
  switchScore: 'accuracy' | 'loss';
  nEpochsToSwitch: number;
  historyLookback: number;
  initialHistoryAfterSwitches: number;
  fixedSwitchNum: number;
  firstFixedSwitchNum: number;
  improvementThreshold: number[];
  improvementThresholdRaw: number;
  maxDendriteTries: number;
  maxDendrites: number;
  retainAllDendrites: boolean;
  findBestLr: boolean;
  splitLearningRate: boolean;
  newDendriteRate: number;
  pruneDendrites: boolean;
  pruneSignificance: number;
  dendritePayoffCheck: boolean;
  maxCostRatio: number;
  dendriteRoute: 'fold' | 'distill' | 'expand';
  expandFactor: number;
  distillTemperature: number;
  distillAlpha: number;
  maxRamKb: number;
  maxFlashKb: number;
  maxLatencyMs: number;
  targetClockMhz: number;
  dontGiveUpUnlessLrLowered: boolean;
  dendriteActivation: Activation;
  candidateWeightInit: number;
  dendriteLayers: 'all' | 'output' | 'hidden' | 'first';
  dendriteRank: number;
  dendriteForm: 'gated' | 'merged' | 'linear';
  correlationEpochs: number;
  correlationCandidates: number;
  // Command line only
  dataDirectory: string | undefined;
  outDirectory: string | undefined;
  infoFile: string | undefined;
  quiet: boolean;
  jsonLogs: boolean;
  resume: boolean;
  tensorboard: boolean;
  inputShape: string | undefined;
}

export type ConfigKey = keyof Config;

/** Where the help text, the README and docs group a parameter (Edge Impulse itself only knows `section`). */
export type ParamGroup = 'Training' | 'Dendritic optimization' | 'Command line';

export interface ShowIf {
  parameter: string;
  operator: 'eq' | 'neq';
  value: string;
}

interface SpecCommon<K extends ConfigKey> {
  key: K;
  /** kebab-case: the CLI flag `--<param>` and parameters.json `param`. */
  param: string;
  /** Label shown in Studio. */
  name: string;
  help: string;
  /** The component that reads this value (docs, and the test that each value reaches its consumer). */
  consumer: string;
  group: ParamGroup;
  section?: 'advanced' | 'modelProfiling';
  showIf?: ShowIf;
  /** Not a block parameter: accepted on the command line, never written to parameters.json. */
  cliOnly?: true;
  /** Required by the `train` command (checked by parseArgs when asked). */
  requiredForTrain?: true;
  /** Other spellings accepted on the command line (e.g. `input-file` for `info-file`). */
  aliases?: readonly string[];
}

export interface NumberSpec<K extends ConfigKey = ConfigKey> extends SpecCommon<K> {
  type: 'int' | 'float';
  default: number;
  min?: number;
  max?: number;
  /** When true, `min` itself is not allowed (e.g. learning rate > 0). */
  minExclusive?: boolean;
}

export interface SelectSpec<K extends ConfigKey = ConfigKey> extends SpecCommon<K> {
  type: 'select';
  default: string;
  valid: readonly string[];
}

export interface BooleanSpec<K extends ConfigKey = ConfigKey> extends SpecCommon<K> {
  /** boolean: passed as `--x 1|0`; flag: passed as bare `--x` when on. */
  type: 'boolean' | 'flag';
  default: boolean;
}

export interface StringSpec<K extends ConfigKey = ConfigKey> extends SpecCommon<K> {
  type: 'string';
  /** undefined = no default (an option the user must give, or that stays unset). */
  default: string | undefined;
  /** Turns the raw text into the Config value; throws a plain Error with the reason when invalid. */
  decode?: (raw: string) => unknown;
  /** A valid non-default value, used by tests that pass every parameter once. */
  example?: string;
  /**
   * The value used when the option is missing and the run looks like `edge-impulse-blocks runner`'s
   * (it mounts the data at /home and passes no directories: /home/X_split_train.npy exists).
   */
  runnerDefault?: string;
}

export type ParamSpec = NumberSpec | SelectSpec | BooleanSpec | StringSpec;

type KeysOfType<T> = { [K in ConfigKey]: [Config[K]] extends [T] ? ([T] extends [Config[K]] ? K : never) : never }[ConfigKey];
type SelectKeys = { [K in ConfigKey]: Config[K] extends string ? (string extends Config[K] ? never : K) : never }[ConfigKey];

// The helpers tie each entry's default/valid list to its Config field's TS type at compile time.
const num = <K extends KeysOfType<number>>(type: 'int' | 'float', spec: Omit<NumberSpec<K>, 'type'>): NumberSpec<K> => ({ type, ...spec });
const int = <K extends KeysOfType<number>>(spec: Omit<NumberSpec<K>, 'type'>) => num('int', spec);
const float = <K extends KeysOfType<number>>(spec: Omit<NumberSpec<K>, 'type'>) => num('float', spec);
const select = <K extends SelectKeys>(
  spec: Omit<SelectSpec<K>, 'type' | 'default' | 'valid'> & { default: Config[K]; valid: readonly Config[K][] },
): SelectSpec<K> => ({ type: 'select', ...spec });
const bool = <K extends KeysOfType<boolean>>(spec: Omit<BooleanSpec<K>, 'type'>): BooleanSpec<K> => ({ type: 'boolean', ...spec });
const flag = <K extends KeysOfType<boolean>>(spec: Omit<BooleanSpec<K>, 'type'>): BooleanSpec<K> => ({ type: 'flag', ...spec });
const text = <K extends KeysOfType<string | undefined>>(spec: Omit<StringSpec<K>, 'type' | 'decode'>): StringSpec<K> => ({ type: 'string', ...spec });
const decodedText = <K extends ConfigKey>(
  spec: Omit<StringSpec<K>, 'type' | 'decode' | 'default'> & { default: string; decode: (raw: string) => Config[K] },
): StringSpec<K> => ({ type: 'string', ...spec });

/**
 * dendrite-activation's choices: the engine's activations (engine/kernels.ts), in parameters.json's order.
 * A Record, so the compiler refuses a list that misses one of them or names another.
 */
const ACTIVATION_CHOICES: Record<Activation, true> = { sigmoid: true, tanh: true, relu: true };
export const DENDRITE_ACTIVATIONS = Object.keys(ACTIVATION_CHOICES) as readonly Activation[];

/** "0.001,0.0001" -> [0.001, 0.0001]; every entry a finite number >= 0 (and below `below` when given). */
export function parseNumberList(raw: string, below = Infinity): number[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new Error('expected comma-separated numbers such as "0.001,0.0001"');
  }
  return parts.map((part) => {
    if (!FLOAT_PATTERN.test(part)) throw new Error(`"${part}" is not a number`);
    const value = Number(part);
    if (!(value >= 0)) throw new Error(`"${part}" must be >= 0`);
    if (!(value < below)) throw new Error(`"${part}" must be below ${below}`);
    return value;
  });
}

/** Decimal or exponent notation only: rejects "", "0x10", "Infinity", "NaN", "1_0". */
export const FLOAT_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const DENDRITE_KNOB = {
  group: 'Dendritic optimization',
  section: 'advanced',
  showIf: { parameter: 'dendrites', operator: 'eq', value: 'true' },
} as const;

// One parameter per entry, aligned as a table: the formatter leaves it alone.
// prettier-ignore
export const SCHEMA: readonly ParamSpec[] = [
  // ---- Training -------------------------------------------------------------------------------
  int({ key: 'epochs', param: 'epochs', name: 'Number of training cycles', default: 100, min: 1, max: 100000, group: 'Training',
    help: 'Total epoch budget across all dendrite cycles (neuron and dendrite phases together); training never runs longer.',
    consumer: 'train/loop' }),
  float({ key: 'learningRate', param: 'learning-rate', name: 'Learning rate', default: 0.005, min: 0, minExclusive: true, max: 10,
    group: 'Training', help: 'Initial learning rate of the optimizer.', consumer: 'engine/optim' }),
  int({ key: 'batchSize', param: 'batch-size', name: 'Batch size', default: 32, min: 1, max: 65536, group: 'Training',
    help: 'Training windows per gradient step.', consumer: 'train/batches' }),
  int({ key: 'seed', param: 'seed', name: 'Random seed', default: 0, min: 0, max: 4294967295, group: 'Training',
    help: 'Seed for weight initialisation, shuffling, dropout, augmentation and dendrite candidates (same seed, same run).',
    consumer: 'engine/rng' }),
  select({ key: 'model', param: 'model', name: 'Model architecture', default: 'auto', valid: ['auto', 'ei-kws', 'dense', 'conv2d'],
    group: 'Training',
    help: "auto: Edge Impulse's keyword-spotting network for MFCC-shaped input (a multiple of 13 features, at least 8 frames), conv2d for an image shape in train_input.json, otherwise dense; ei-kws: Conv1D keyword-spotting network; dense: fully connected; conv2d: 2-D convolutions for images/spectrograms.",
    consumer: 'models/select' }),
  float({ key: 'width', param: 'width', name: 'Network width', default: 1, min: 0, minExclusive: true, max: 16, group: 'Training',
    help: 'Channel multiplier of the base network (0.5 halves every layer, 2 doubles it).', consumer: 'models/select' }),
  float({ key: 'dropout', param: 'dropout', name: 'Dropout rate', default: 0.25, min: 0, max: 0.9, group: 'Training',
    help: 'Dropout rate after each hidden block (0 disables dropout).', consumer: 'models/select' }),
  select({ key: 'optimizer', param: 'optimizer', name: 'Optimizer', default: 'adam', valid: ['adam', 'sgd'], group: 'Training',
    help: 'adam: Adam (beta 0.9/0.999); sgd: SGD with momentum.', consumer: 'engine/optim' }),
  select({ key: 'lrSchedule', param: 'lr-schedule', name: 'Learning-rate schedule', default: 'plateau', valid: ['plateau', 'none'],
    group: 'Training', help: 'plateau: lower the learning rate when validation stops improving; none: constant rate.',
    consumer: 'engine/schedule' }),
  int({ key: 'lrPatience', param: 'lr-patience', name: 'Learning-rate patience', default: 5, min: 1, max: 100000, group: 'Training',
    help: 'Epochs without validation improvement before the plateau schedule lowers the rate.', consumer: 'engine/schedule' }),
  bool({ key: 'restarts', param: 'restarts', name: 'Restart from the best weights on plateaus', default: true, group: 'Training',
    help: "When validation stalls, restore the best weights, continue at the learning rate they were found with, and stop once restarts no longer raise the best score: the dendrite cycle's schedule without adding any set (its timing comes from switch-mode, n-epochs-to-switch, max-dendrites and max-dendrite-tries; switch-mode none turns it off). Used when dendrites are off, and for the plain network dendrite-payoff-check trains. Off: plain training for the whole epoch budget.",
    consumer: 'train/loop' }),
  select({ key: 'noise', param: 'noise', name: 'Add noise', default: 'none', valid: ['none', 'low', 'high'], group: 'Training',
    help: 'Gaussian noise added to training features (low: std 0.2, high: std 0.45), as in Edge Impulse.',
    consumer: 'data/augment' }),
  select({ key: 'specAugment', param: 'spec-augment', name: 'Mask time and frequency bands', default: 'none',
    valid: ['none', 'low', 'high'], group: 'Training',
    help: 'SpecAugment-style time and frequency masks on MFCC/spectrogram features.', consumer: 'data/augment' }),
  int({ key: 'maxTrainingSeconds', param: 'max-training-seconds', name: 'Training time limit (seconds)', default: 0, min: 0, max: 2592000,
    group: 'Training',
    help: "Stop training after this many seconds and keep the best model (0 = no limit of its own). Edge Impulse's time limit (train_input.json's maxTrainingTimeSeconds, less a margin for export) always applies: this parameter can only lower it.",
    consumer: 'train/budget' }),
  select({ key: 'exportFormat', param: 'export-format', name: 'Export format', default: 'tflite', valid: ['tflite', 'onnx', 'all'],
    group: 'Training',
    help: 'tflite: model.tflite and model_quantized_int8_io.tflite; onnx: model.onnx; all: both.', consumer: 'export' }),
  float({ key: 'maxInt8Drop', param: 'max-int8-drop', name: 'Maximum int8 accuracy drop', default: 1.0, min: 0, max: 100,
    group: 'Training',
    help: 'Accuracy points the int8 model may lose against float32 on the validation set before the run reports a failed quantization.',
    consumer: 'export/verify' }),

  // ---- Dendritic optimization -----------------------------------------------------------------
  bool({ key: 'dendrites', param: 'dendrites', name: 'Dendritic optimization', default: true, group: 'Dendritic optimization',
    help: 'Add dendrite sets to the network when validation stops improving (off: no sets; training follows the restarts parameter).',
    consumer: 'dendrites/controller' }),
  select({ key: 'dendriteTraining', param: 'dendrite-training', name: 'Dendrite training', default: 'gd', valid: ['gd', 'correlation'],
    ...DENDRITE_KNOB,
    help: 'gd: new dendrites train together with the neurons by gradient descent; correlation: candidates are first trained, neurons frozen, to correlate with each neuron\'s error.',
    consumer: 'dendrites/controller' }),
  select({ key: 'switchMode', param: 'switch-mode', name: 'Switch mode', default: 'history', valid: ['history', 'fixed', 'every-epoch', 'none'],
    ...DENDRITE_KNOB,
    help: 'When to add dendrites. history: after validation stalls; fixed: every fixed-switch-num epochs; every-epoch: debugging; none: never (the plain baseline; also turns restarts off).',
    consumer: 'dendrites/controller' }),
  select({ key: 'switchScore', param: 'switch-score', name: 'Switch score', default: 'accuracy', valid: ['accuracy', 'loss'],
    ...DENDRITE_KNOB,
    help: 'What counts as a validation improvement for switching and for keeping a set: accuracy (validation loss breaks exact ties) or validation loss alone (smoother on small validation sets). The best weights that ship are still chosen by accuracy.',
    consumer: 'dendrites/controller' }),
  int({ key: 'nEpochsToSwitch', param: 'n-epochs-to-switch', name: 'Epochs without improvement before switching', default: 10, min: 1, max: 100000,
    ...DENDRITE_KNOB, help: 'History mode: switch after this many epochs without validation improvement.', consumer: 'dendrites/controller' }),
  int({ key: 'historyLookback', param: 'history-lookback', name: 'History lookback', default: 1, min: 1, max: 100000, ...DENDRITE_KNOB,
    help: 'Validation scores are judged on a running mean over this many epochs.', consumer: 'dendrites/controller' }),
  int({ key: 'initialHistoryAfterSwitches', param: 'initial-history-after-switches', name: 'Epochs ignored after a switch',
    default: 0, min: 0, max: 100000, ...DENDRITE_KNOB, help: 'Epochs after each switch whose scores do not count towards the next switch.',
    consumer: 'dendrites/controller' }),
  int({ key: 'fixedSwitchNum', param: 'fixed-switch-num', name: 'Fixed switch interval', default: 10, min: 1, max: 100000, ...DENDRITE_KNOB,
    help: 'Fixed mode: epochs between switches.', consumer: 'dendrites/controller' }),
  int({ key: 'firstFixedSwitchNum', param: 'first-fixed-switch-num', name: 'First fixed switch', default: 10, min: 1, max: 100000, ...DENDRITE_KNOB,
    help: 'Fixed mode: epoch of the first switch.', consumer: 'dendrites/controller' }),
  decodedText({ key: 'improvementThreshold', param: 'improvement-threshold', name: 'Relative improvement thresholds',
    default: '0.001,0.0001', decode: (raw) => parseNumberList(raw, 1), example: '0.002,0.0005', ...DENDRITE_KNOB,
    help: 'Comma-separated relative improvements a score must beat the best by to count, indexed by the number of dendrite sets added (the last applies beyond).',
    consumer: 'dendrites/controller' }),
  float({ key: 'improvementThresholdRaw', param: 'improvement-threshold-raw', name: 'Absolute improvement threshold',
    default: 1e-5, min: 0, max: 1, ...DENDRITE_KNOB, help: 'Absolute improvement a score must also beat the best by to count.',
    consumer: 'dendrites/controller' }),
  int({ key: 'maxDendriteTries', param: 'max-dendrite-tries', name: 'Tries per dendrite set', default: 2, min: 1, max: 100, ...DENDRITE_KNOB,
    help: 'Fresh initialisations tried for a set that did not improve before training ends.', consumer: 'dendrites/controller' }),
  int({ key: 'maxDendrites', param: 'max-dendrites', name: 'Maximum dendrite sets', default: 3, min: 1, max: 100, ...DENDRITE_KNOB,
    help: 'Cap on dendrite sets. Each set adds about as many parameters as the wrapped layers, so the cap is sized for microcontrollers (the reference library allows 100).',
    consumer: 'dendrites/controller' }),
  bool({ key: 'retainAllDendrites', param: 'retain-all-dendrites', name: 'Keep dendrites that did not help', default: false,
    ...DENDRITE_KNOB, help: 'Keep a dendrite set even when it did not raise the best score.', consumer: 'dendrites/controller' }),
  bool({ key: 'findBestLr', param: 'find-best-lr', name: 'Search learning rate after a switch', default: true, ...DENDRITE_KNOB,
    help: 'After each switch, try the learning rates used in the last cycle and keep the best (only when split-learning-rate is off).', consumer: 'dendrites/controller' }),
  bool({ key: 'splitLearningRate', param: 'split-learning-rate', name: 'Fast new dendrites, slow network after a switch', default: true,
    ...DENDRITE_KNOB,
    help: 'After each switch the new dendrite set trains at the initial learning rate while the rest of the network continues at the rate its restored best weights were found with (off: one rate for all, from find-best-lr or the initial rate).',
    consumer: 'train/loop' }),
  float({ key: 'newDendriteRate', param: 'new-dendrite-rate', name: 'Learning rate of a new dendrite set', default: 0.5, min: 0, max: 1,
    ...DENDRITE_KNOB,
    help: 'With split-learning-rate: the rate the newest set starts at, on a log scale from the rate the restored network continues at (0: the set learns as gently as the network) to the initial learning rate (1).',
    consumer: 'train/loop' }),
  bool({ key: 'pruneDendrites', param: 'prune-dendrites', name: 'Prune dendrites that do not pay for themselves', default: true,
    ...DENDRITE_KNOB,
    help: 'After the best weights are restored, remove the newest dendrite sets one by one while the network validates at least as well without them, so no parameter ships that the validation split does not pay for (off when retain-all-dendrites is on).',
    consumer: 'train/loop' }),
  float({ key: 'pruneSignificance', param: 'prune-significance', name: 'How sure pruning must be that a set helps', default: 0, min: 0, max: 5,
    ...DENDRITE_KNOB,
    help: 'With prune-dendrites: a set stays only if, on validation, the samples it fixes minus those it breaks exceed this z-score times the square root of their sum (one-sided McNemar test; 0: any net gain keeps it, 1.645: 95% confidence).',
    consumer: 'train/loop' }),
  bool({ key: 'dendritePayoffCheck', param: 'dendrite-payoff-check', name: 'Ship dendrites only when they pay at equal device cost', default: true,
    ...DENDRITE_KNOB,
    help: 'First train the configured network exactly as with dendrites off (same seed, restarts): that plain network is shipped unless the dendritic candidate (dendrite-route: by default the configured network with linear dendrite sets folded into its weights), trained next for up to as many epochs within what is left of the time limit, validates strictly better and stays within max-cost-ratio of its RAM, flash, file size and MACs. Off: train the dendritic network alone and ship it as trained.',
    consumer: 'train/checkbox' }),
  float({ key: 'maxCostRatio', param: 'max-cost-ratio', name: 'Largest device cost, relative to the configured network', default: 1.05,
    min: 1, max: 100, ...DENDRITE_KNOB,
    help: "With dendrite-payoff-check: each device figure of the shipped int8 model (TFLM RAM, flash = file + kernel code, file size, MACs per inference) may be at most this multiple of the plain configured network's. 1.05 keeps the checkbox at the cost of the network you configured; raise it only to let a dendritic model that costs more on the device (dendrite-form gated or merged) ship when it validates better.",
    consumer: 'train/checkbox' }),
  select({ key: 'dendriteRoute', param: 'dendrite-route', name: 'How the checkbox turns dendrites into the configured network', default: 'expand',
    valid: ['fold', 'distill', 'expand'], ...DENDRITE_KNOB,
    help: "With dendrite-payoff-check: how the dendritic candidate is made from the network you configured; it ships only when it validates strictly better than the dendrites-off network at the same device cost. expand (default): the configured network trains again from fresh weights with one linear dendrite set on every layer at v = 1 (rank expand-factor times the layer's channels; ExpandNets), the layer's own kernel starting at 0, and the sets fold into the weights at the end. fold: the dendrites-off network continues from its best weights at their rate with linear sets added in cycles (dendrite-form linear), folded into the weights. distill: a dendritic teacher with non-linear sets (dendrite-form gated when dendrite-form is linear, else as configured) continues from those weights for up to epochs in half the time left, then the configured network, again from the dendrites-off weights, learns from it by soft targets (distill-temperature, distill-alpha) in the rest. Every route ships the configured graph. Measured held out in docs/dendrites.md",
    consumer: 'train/checkbox' }),
  int({ key: 'expandFactor', param: 'expand-factor', name: 'Linear expansion factor', default: 4, min: 1, max: 16,
    ...DENDRITE_KNOB, help: "With dendrite-route expand: each layer's expansion set has this many times the layer's output channels as its rank (ExpandNets used 4).",
    consumer: 'train/checkbox' }),
  float({ key: 'distillTemperature', param: 'distill-temperature', name: 'Distillation temperature', default: 4, min: 0, minExclusive: true, max: 100,
    ...DENDRITE_KNOB, help: "With dendrite-route distill: the temperature T both networks' logits are divided by in the soft-target term (larger: softer targets).",
    consumer: 'train/checkbox' }),
  float({ key: 'distillAlpha', param: 'distill-alpha', name: 'Distillation weight', default: 0.5, min: 0, max: 1,
    ...DENDRITE_KNOB, help: "With dendrite-route distill: the weight of the soft-target term, alpha T^2 KL(teacher || student), against (1 - alpha) times the cross-entropy with the labels.",
    consumer: 'train/checkbox' }),
  float({ key: 'maxRamKb', param: 'max-ram-kb', name: 'Explicit RAM budget (KiB)', default: 0, min: 0, max: 1048576, ...DENDRITE_KNOB,
    help: "With dendrite-payoff-check: 0 (default): no explicit budget, the configured network's cost is the budget. Otherwise the most TFLM RAM (KiB, arena on a Cortex-M with CMSIS-NN kernels, Edge Impulse's default there) the shipped int8 model may need: the widest plain network within every explicit budget set (max-ram-kb, max-flash-kb, max-latency-ms) is trained as one more candidate, and candidates over it do not ship.",
    consumer: 'train/checkbox' }),
  float({ key: 'maxFlashKb', param: 'max-flash-kb', name: 'Explicit flash budget (KiB)', default: 0, min: 0, max: 1048576, ...DENDRITE_KNOB,
    help: 'As max-ram-kb, for flash (KiB: the int8 model file plus the TFLM code linked with CMSIS-NN kernels, NDEBUG). 0: not set.',
    consumer: 'train/checkbox' }),
  float({ key: 'maxLatencyMs', param: 'max-latency-ms', name: 'Explicit latency budget (ms)', default: 0, min: 0, max: 1000000, ...DENDRITE_KNOB,
    help: "As max-ram-kb, for milliseconds per inference at target-clock-mhz. The latency is a lower bound: Cortex-M4F instructions per inference with CMSIS-NN kernels (per-call setup + Invoke, from the instruction model the tests check against an emulated Cortex-M4F) at one instruction per cycle of the target clock. 0: not set.",
    consumer: 'train/checkbox' }),
  float({ key: 'targetClockMhz', param: 'target-clock-mhz', name: 'Target clock (MHz)', default: 80, min: 1, max: 5000, ...DENDRITE_KNOB,
    help: 'With max-latency-ms: the clock of the target microcontroller the latency budget is meant at.',
    consumer: 'train/checkbox' }),
  bool({ key: 'dontGiveUpUnlessLrLowered', param: 'dont-give-up-unless-lr-lowered', name: "Don't give up before the learning rate drops",
    default: true, ...DENDRITE_KNOB, help: 'A cycle cannot end before the schedule lowered the learning rate once.',
    consumer: 'dendrites/controller' }),
  select({ key: 'dendriteActivation', param: 'dendrite-activation', name: 'Dendrite activation', default: 'tanh',
    valid: DENDRITE_ACTIVATIONS, ...DENDRITE_KNOB, help: 'Non-linearity applied to each dendrite output.',
    consumer: 'dendrites/dendritic-layer' }),
  float({ key: 'candidateWeightInit', param: 'candidate-weight-init', name: 'Dendrite weight initialisation scale', default: 0.01,
    min: 0, minExclusive: true, max: 10, ...DENDRITE_KNOB, help: 'New dendrite weights are drawn N(0,1) times this factor.',
    consumer: 'dendrites/dendritic-layer' }),
  select({ key: 'dendriteLayers', param: 'dendrite-layers', name: 'Layers with dendrites', default: 'hidden', valid: ['all', 'output', 'hidden', 'first'],
    ...DENDRITE_KNOB, help: 'Which wrappable layers (dense/conv) get dendrites: all, only the output layer, only hidden layers, or only the first (the one reading the input features) (default: the output layer reads the flattened features, so its branches cost the most per neuron).',
    consumer: 'dendrites/dendritic-layer' }),
  int({ key: 'dendriteRank', param: 'dendrite-rank', name: 'Dendrite branch rank', default: 2, min: 0, max: 64, ...DENDRITE_KNOB,
    help: 'Size of each dendrite branch: 0 copies the wrapped layer (as the reference library; a set costs as much as the layers); r >= 1 makes a low-rank branch (the layer with r output channels, then r -> outputs), costing about r/outputs of a copy.',
    consumer: 'dendrites/dendritic-layer' }),
  select({ key: 'dendriteForm', param: 'dendrite-form', name: 'Dendrite form', default: 'linear', valid: ['gated', 'merged', 'linear'], ...DENDRITE_KNOB,
    help: 'Where the dendrite activation sits (the sets a cycle adds: dendrites on without the payoff check, and the checkbox\'s dendrite-route fold; dendrite-route expand always installs linear sets). linear (default): nowhere: out += v * branch(x), and at export every set folds exactly into the layer\'s own weights, so the device runs the plain configured network at its cost (dendrite-activation does not apply). gated: on the layer\'s outputs, each set gated after it (out += v * f(branch(x)), sets cascade); on the device each set adds 5 or more operators per layer. merged: inside the branch, on its rank channels (out += v * up(f(down(x))), no cascade): v folds into up and all sets of a layer merge at export into 4 operators per layer however many sets are kept (rank 0: f of a full copy, merged the same way).',
    consumer: 'dendrites/dendritic-layer' }),
  int({ key: 'correlationEpochs', param: 'correlation-epochs', name: 'Correlation epochs', default: 10, min: 1, max: 10000, ...DENDRITE_KNOB,
    help: 'Correlation training: epochs of candidate training in each dendrite phase.', consumer: 'dendrites/correlation' }),
  int({ key: 'correlationCandidates', param: 'correlation-candidates', name: 'Correlation candidates', default: 4, min: 1, max: 64,
    ...DENDRITE_KNOB, help: 'Correlation training: candidate pool per neuron set; the best-correlated candidate is kept.',
    consumer: 'dendrites/correlation' }),

  // ---- Command line only (not block parameters) -----------------------------------------------
  text({ key: 'dataDirectory', param: 'data-directory', name: 'Data directory', default: undefined, cliOnly: true,
    requiredForTrain: true, example: '/tmp/dendritic-data', group: 'Command line', runnerDefault: '/home',
    help: 'Edge Impulse data directory (X_split_train.npy, Y_split_train.npy, ...).', consumer: 'data/ei-directory' }),
  text({ key: 'outDirectory', param: 'out-directory', name: 'Output directory', default: undefined, cliOnly: true,
    requiredForTrain: true, example: '/tmp/dendritic-out', group: 'Command line', runnerDefault: '/home/out',
    help: 'Where the models, effective-config.json and the report are written.', consumer: 'export' }),
  text({ key: 'infoFile', param: 'info-file', name: 'Info file', default: undefined, cliOnly: true, aliases: ['input-file'],
    example: '/tmp/train_input.json', group: 'Command line',
    help: 'Path to train_input.json (class names, time limit); optional when run locally.', consumer: 'data/ei-directory' }),
  flag({ key: 'quiet', param: 'quiet', name: 'Quiet', default: false, cliOnly: true, group: 'Command line',
    help: 'Print only warnings, errors and the final summary.', consumer: 'report/progress' }),
  flag({ key: 'jsonLogs', param: 'json-logs', name: 'JSON logs', default: false, cliOnly: true, group: 'Command line',
    help: 'Print progress as one JSON object per line.', consumer: 'report/progress' }),
  flag({ key: 'resume', param: 'resume', name: 'Resume', default: false, cliOnly: true, group: 'Command line',
    help: 'Continue from the checkpoint in the output directory.', consumer: 'train/checkpoint' }),
  flag({ key: 'tensorboard', param: 'tensorboard', name: 'TensorBoard', default: false, cliOnly: true, group: 'Command line',
    help: "Also write TensorBoard event files (loss, accuracy, learning rate, dendrite sets per epoch) to <out-directory>/tensorboard; on as well when train_input.json's tensorboardLogging is true. metrics.jsonl is always written.",
    consumer: 'report/tensorboard' }),
  text({ key: 'inputShape', param: 'input-shape', name: 'Input shape', default: undefined, cliOnly: true, example: '(2, 13)',
    group: 'Command line',
    help: "Shape of one input row, e.g. \"(650,)\" or \"(50, 13)\" (edge-impulse-blocks runner passes it); train_input.json's inputShapeString is preferred when both are given.",
    consumer: 'data/ei-directory' }),
];

/** Compile-time list of Config's keys: TS rejects this object if a key is missing or extra. */
// prettier-ignore
export const CONFIG_KEYS: Record<ConfigKey, true> = {
  epochs: true, learningRate: true, batchSize: true, seed: true, model: true, width: true, dropout: true,
  optimizer: true, lrSchedule: true, lrPatience: true, restarts: true, noise: true, specAugment: true, maxTrainingSeconds: true,
  exportFormat: true, maxInt8Drop: true, dendrites: true, dendriteTraining: true, switchMode: true,
  switchScore: true, nEpochsToSwitch: true, historyLookback: true, initialHistoryAfterSwitches: true, fixedSwitchNum: true,
  firstFixedSwitchNum: true, improvementThreshold: true, improvementThresholdRaw: true, maxDendriteTries: true,
  maxDendrites: true, retainAllDendrites: true, findBestLr: true, splitLearningRate: true, newDendriteRate: true, pruneDendrites: true, pruneSignificance: true, dendritePayoffCheck: true, maxCostRatio: true, dendriteRoute: true, expandFactor: true, distillTemperature: true, distillAlpha: true, maxRamKb: true, maxFlashKb: true, maxLatencyMs: true, targetClockMhz: true, dontGiveUpUnlessLrLowered: true,
  dendriteActivation: true, candidateWeightInit: true, dendriteLayers: true, dendriteRank: true, dendriteForm: true, correlationEpochs: true,
  correlationCandidates: true, dataDirectory: true, outDirectory: true, infoFile: true, quiet: true,
  jsonLogs: true, resume: true, tensorboard: true, inputShape: true,
};

/** The block parameters: what parameters.json declares and Edge Impulse passes. */
export const BLOCK_PARAMETERS: readonly ParamSpec[] = SCHEMA.filter((spec) => !spec.cliOnly);

export function specFor(key: ConfigKey): ParamSpec {
  const spec = SCHEMA.find((s) => s.key === key);
  if (!spec) throw new Error(`no parameter with key ${key}`);
  return spec;
}

/** The Config value a spec's default stands for (a string default may decode to e.g. number[]). */
export function defaultValue(spec: ParamSpec): unknown {
  if (spec.type === 'string' && spec.decode && spec.default !== undefined) return spec.decode(spec.default);
  return spec.default;
}

/** All defaults, as a Config. */
export function defaultConfig(): Config {
  const config: Record<string, unknown> = {};
  for (const spec of SCHEMA) config[spec.key] = defaultValue(spec);
  return config as unknown as Config;
}
