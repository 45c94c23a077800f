/**
 * `dendritic train`: the Edge Impulse block's entry point. parameters -> data -> model -> training ->
 * export + verification -> report. Model files reach the out directory only after they were measured.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { join, resolve } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { parseArgs, REQUIRED_FOR_TRAIN, unknownArgsWarning } from '../params/parse.js';
import { applyTrainInput, effectiveConfigJson, renderEffectiveConfig } from '../params/effective-config.js';
import { SCHEMA, type Config, type ConfigKey } from '../params/schema.js';
import { loadEiDirectory, type EiDataset } from '../data/ei-directory.js';
import { parseAudioFeatureSettings } from '../data/audio-features.js';
import { describeModel, autoKind } from '../models/select.js';
import type { Sequential } from '../engine/model.js';
import type { LoopResult, TrainingObserver } from '../train/loop.js';
import { buildNetwork, type TrainData } from '../train/run.js';
import { createStopFlag, relaySignals, signalExitCode, TrainingBudget } from '../train/budget.js';
import { describeResumePoint, encodeRunCheckpoint, readResumePoint, type ResumePoint } from '../train/run-checkpoint.js';
import { cycleMode } from '../dendrites/cycle.js';
import { appliedParameters } from '../report/applied.js';
import { dendriteSetCount } from '../dendrites/apply.js';
import { createPublishFlag, guardPublishes, OutTransaction } from '../util/out-transaction.js';
import { openEpochSinks } from '../report/epoch-sinks.js';
import { METRICS_JSONL } from '../report/metrics-log.js';
import { TENSORBOARD_DIR } from '../report/tensorboard.js';
import { errorFromReply, replyFromError, startModuleWorker, type WorkerReply } from '../util/worker.js';
import { buildReport, exportChecks, validationResult } from '../report/build.js';
import { chooseProgressMode, createProgressLogger, formatEpochLine, formatEventLine, type ProgressLogger, type TextSink } from '../report/progress.js';
import type { CortexMDeployment, CortexMKernelCost, DendritePayoff, DeploymentCost } from '../report/schema.js';
import type { PayoffCandidate, PayoffOutcome, trainAndChoose } from '../train/payoff.js';
import type { CortexMCost, DeviceCost, KernelCost } from '../export/tflite/device-cost.js';
import type { ExplicitOutcome } from '../train/checkbox.js';
import type { FigureCheck } from '../train/device-budget.js';

export const CHECKPOINT_FILE = 'checkpoint.dndckpt';
/**
 * Every file `train` writes into its out directory (model names as src/export names them; not imported
 * from there, which would load the exporters before the input is checked). One a previous run left and
 * this run did not write (model.onnx after --export-format tflite) is removed when the run publishes.
 */
export const TRAIN_OUTPUTS = [
  'model.onnx',
  'model.tflite',
  'model_quantized_int8_io.tflite',
  'report.json',
  'report.html',
  'effective-config.json',
  CHECKPOINT_FILE,
  METRICS_JSONL,
  TENSORBOARD_DIR,
] as const;

export interface TrainOutcome {
  exitCode: number;
  outDir: string;
  loop: LoopResult;
}

/** Marks the worker thread `trainCommand` starts (this module is its entry point). */
const WORKER_TAG = 'dendritic-train-worker';
interface WorkerInput {
  tag: typeof WORKER_TAG;
  argv: string[];
  stopFlag: Int32Array;
  /** Set while the worker publishes (out-transaction.ts guardPublishes): a second signal waits for it. */
  publishing: Int32Array;
  isTTY: boolean;
  /** 'fd': progress and results straight to file descriptors 2 and 1 (the CLI); 'message': posted to the caller's `output`. */
  output: 'fd' | 'message';
}

/** Output text a worker posts when the caller gave `output` (the library API). */
interface OutputMessage {
  tag: typeof WORKER_TAG;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Where the library's train() receives what the CLI would print: text chunks, by the stream the CLI uses. */
export type TrainOutput = (stream: 'stdout' | 'stderr', text: string) => void;

/**
 * Runs the whole command in a worker thread while this thread stays idle to receive SIGTERM/SIGINT
 * (training is synchronous, so a handler in the training thread would only run after training). The
 * first signal stops training at the next batch; the best weights are exported and the exit code is
 * 128 + the signal number; a second signal exits at once. A UserError in the worker stays a UserError.
 */
export async function trainCommand(argv: readonly string[], opts: { output?: TrainOutput } = {}): Promise<TrainOutcome> {
  const stopFlag = createStopFlag();
  const publishing = createPublishFlag();
  const undo = relaySignals(stopFlag, publishing);
  try {
    const output = opts.output;
    const input: WorkerInput = {
      tag: WORKER_TAG,
      argv: [...argv],
      stopFlag,
      publishing,
      isTTY: output ? false : isatty(2),
      output: output ? 'message' : 'fd',
    };
    // With `output`, nothing the worker writes reaches this process's stdout/stderr: its console and
    // process streams are captured too (a dependency's warning goes to `output` as stderr text).
    const worker = startModuleWorker(import.meta.url, input, output ? { stdout: true, stderr: true } : {});
    if (output) {
      worker.stdout.setEncoding('utf8').on('data', (text: string) => output('stdout', text));
      worker.stderr.setEncoding('utf8').on('data', (text: string) => output('stderr', text));
    }
    const reply = await new Promise<WorkerReply<TrainOutcome>>((resolveReply, reject) => {
      let got: WorkerReply<TrainOutcome> | undefined;
      worker.on('message', (m: WorkerReply<TrainOutcome> | OutputMessage) => {
        if ('tag' in m) output?.(m.stream, m.text);
        else got = m;
      });
      worker.on('error', reject);
      worker.on('exit', (code) => (got ? resolveReply(got) : reject(new Error(`the training worker exited with code ${code} and no result`))));
    });
    if (reply.ok) return reply.value;
    throw errorFromReply(reply);
  } finally {
    undo();
  }
}

if (!isMainThread && (workerData as Partial<WorkerInput> | null)?.tag === WORKER_TAG) {
  const input = workerData as WorkerInput;
  guardPublishes(input.publishing);
  const sink = (fd: 1 | 2): TextSink =>
    input.output === 'fd'
      ? fdSink(fd)
      : { write: (text: string) => parentPort!.postMessage({ tag: WORKER_TAG, stream: fd === 1 ? 'stdout' : 'stderr', text } satisfies OutputMessage) };
  trainInThisThread(input.argv, { stopFlag: input.stopFlag, isTTY: input.isTTY, stdout: sink(1), stderr: sink(2) }).then(
    (value) => parentPort!.postMessage({ ok: true, value } satisfies WorkerReply<TrainOutcome>),
    (err: unknown) => parentPort!.postMessage(replyFromError(err)),
  );
}

/**
 * Writes straight to a file descriptor. A worker's process.stdout forwards through the main thread only
 * when the worker returns to its event loop, which synchronous training does not: progress would appear
 * all at once at the end. A pipe may be non-blocking (EAGAIN when full): wait a millisecond and retry.
 */
function fdSink(fd: number): TextSink {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    write(chunk: string): void {
      const bytes = Buffer.from(chunk, 'utf8');
      let off = 0;
      while (off < bytes.length) {
        try {
          off += writeSync(fd, bytes, off, bytes.length - off);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          Atomics.wait(pause, 0, 0, 1);
        }
      }
    },
  };
}

/**
 * The command itself, in the calling thread. With `stopFlag` (filled by `relaySignals` in another
 * thread) signals stop training; without it only a caller that yields to the event loop would see them.
 */
export async function trainInThisThread(
  argv: readonly string[],
  opts: { stopFlag?: Int32Array; isTTY?: boolean; stdout?: TextSink; stderr?: TextSink } = {},
): Promise<TrainOutcome> {
  const started = performance.now();
  let parsed = parseArgs(argv, { required: REQUIRED_FOR_TRAIN });
  const mode = chooseProgressMode({
    json: parsed.config.jsonLogs,
    quiet: parsed.config.quiet,
    ...(opts.isTTY !== undefined ? { isTTY: opts.isTTY } : {}),
  });
  const log = createProgressLogger({
    mode,
    ...(opts.stdout && opts.stderr ? { stream: mode === 'json' ? opts.stdout : opts.stderr, errorStream: opts.stderr, resultStream: opts.stdout } : {}),
  });
  const unknownWarning = unknownArgsWarning(parsed.unknown);
  if (unknownWarning) log.warn(unknownWarning);

  // The out directory is checked, locked and staged before any work; nothing reaches it before publish().
  const tx = OutTransaction.open(resolve(parsed.config.outDirectory!), {
    command: 'train',
    manages: TRAIN_OUTPUTS,
    directories: [TENSORBOARD_DIR],
    adopt: [CHECKPOINT_FILE, METRICS_JSONL, TENSORBOARD_DIR],
  });
  try {
    return await trainInTransaction(tx, parsed, log, unknownWarning, started, opts);
  } finally {
    tx.abort();
  }
}

/** What one run knows once its input is read: the steps below share it. */
interface RunContext {
  tx: OutTransaction;
  log: ProgressLogger;
  config: Config;
  /** Where each parameter came from (the time limit's source names the limit in errors). */
  sources: ParsedArgs['sources'];
  data: EiDataset;
  trainData: TrainData;
  /** effective-config.json: written before training, completed with what was applied after it. */
  effective: ReturnType<typeof effectiveConfigJson>;
  model: Sequential;
  family: string;
  unknownWarning: string | undefined;
  started: number;
}

/** What training left: the chosen network, the budget (its signal) and what the record says of the run. */
interface TrainedRun {
  choice: ReturnType<typeof trainAndChoose>;
  budget: TrainingBudget;
  resumeFrom: ResumePoint | undefined;
  /** Whether a signal cut training short (the checkpoint is then kept for --resume). */
  stoppedBySignal: boolean;
  checkpointPath: string;
  tensorboardPath: string | undefined;
}

type ExportOutcome = Awaited<ReturnType<typeof import('../export/pipeline.js').exportAndVerify>>;

/** The shipped network's export: what was verified, what this run writes, and the engine's validation. */
interface ShippedExport {
  outcome: ExportOutcome;
  validation: ReturnType<typeof validationResult>;
  written: ExportOutcome['results'];
  writtenFiles: ReadonlySet<string>;
  warnings: string[];
}

type ParsedArgs = ReturnType<typeof parseArgs>;

async function trainInTransaction(
  tx: OutTransaction,
  parsedArgs: ParsedArgs,
  log: ProgressLogger,
  unknownWarning: string | undefined,
  started: number,
  opts: { stopFlag?: Int32Array },
): Promise<TrainOutcome> {
  const ctx = openRun(tx, parsedArgs, log, unknownWarning, started);
  const run = await trainWithPayoff(ctx, opts);
  const { primary, payoff, shipped } = run.choice;
  if (primary.loop.epochsRun === 0) return nothingTrained(primary.loop, run.budget, log, ctx.config, ctx.sources.maxTrainingSeconds, tx.outDir);
  const trainingSeconds = (performance.now() - started) / 1000;
  if (payoff) log.info(payoffLine(payoff));
  const exported = await exportShipped(ctx, run);
  if (exported.outcome.failures.length > 0) {
    // Files that do not match the trained model, and a report describing them, must not replace a good run.
    for (const f of exported.outcome.failures) log.warn(`verification failed: ${f}`);
    log.warn(`nothing was published: the exported model does not match the trained one; ${tx.outDir} is as it was`);
    return { exitCode: 1, outDir: tx.outDir, loop: shipped.loop };
  }
  const reportHtml = await writeRunRecord(ctx, run, exported, trainingSeconds);
  return finishRun(ctx, run, exported.validation.accuracy, reportHtml);
}

/** Reads the data, applies train_input.json, writes the effective configuration and builds the network. */
function openRun(tx: OutTransaction, parsedArgs: ParsedArgs, log: ProgressLogger, unknownWarning: string | undefined, started: number): RunContext {
  let parsed = parsedArgs;
  const data = loadEiDirectory(
    resolve(parsed.config.dataDirectory!),
    parsed.config.infoFile,
    parsed.config.inputShape !== undefined ? { inputShape: parsed.config.inputShape } : {},
  );
  parsed = applyTrainInput(parsed, { maxTrainingTimeSeconds: data.info?.maxTrainingTimeSeconds }, parsed.config.infoFile);
  const { config, sources } = parsed;
  const effective = effectiveConfigJson(config, sources);
  log.config(effective, renderEffectiveConfig(config, sources));
  tx.writeFile('effective-config.json', JSON.stringify(effective, null, 2) + '\n');
  log.info(`data: ${data.summary}`);
  if (data.inputShapeNote) log.info(data.inputShapeNote);
  const besideData = join(resolve(config.dataDirectory!), 'train_input.json');
  if (config.infoFile === undefined && existsSync(besideData)) {
    log.info(`note: ${besideData} not read (no --info-file): pass --info-file ${besideData} to use its classes and input shape`);
  }

  const train = { x: data.xTrain, y: data.yTrain, n: data.yTrain.length, features: data.features };
  const val = { x: data.xVal, y: data.yVal, n: data.yVal.length, features: data.features };
  const trainData: TrainData = { train, val, classes: data.classes.length, inputShape: data.inputShape };
  const model = buildNetwork(config, trainData);
  const family = config.model === 'auto' ? autoKind({ features: data.features, inputShape: data.inputShape }) : config.model;
  log.info(`model: ${family} width ${config.width}, ${model.parameterCount()} parameters, ${model.macs()} MACs per inference`);
  return { tx, log, config, sources, data, trainData, effective, model, family, unknownWarning, started };
}

/**
 * Trains under the time limit and signals, resuming from the checkpoint when asked, with the per-epoch
 * metrics in staging, then lets the payoff check choose the network that ships.
 */
async function trainWithPayoff(ctx: RunContext, opts: { stopFlag?: Int32Array }): Promise<TrainedRun> {
  const { tx, log, config, data, model } = ctx;
  // Loaded here, not at the top: the exporters it prices with take a while to load, and a run that fails
  // on its input (or the main thread, which only relays signals) never needs them.
  const { trainAndChoose, stoppedBySignal } = await import('../train/payoff.js');
  // Every run verifies an ONNX export: the runtime compiles its wasm in its own thread while training runs.
  (await import('../export/onnx/runtime.js')).warmOnnxRuntime();
  const budget = new TrainingBudget(config.maxTrainingSeconds);
  const onSignal = (sig: NodeJS.Signals): void => log.warn(`${sig} received: stopping training, then exporting the best weights`);
  if (opts.stopFlag) budget.watchStopFlag(opts.stopFlag, onSignal);
  else budget.watchSignals(onSignal);
  // A killed run's checkpoint was adopted into staging; a signal-stopped run's was published.
  const checkpointPath = tx.has(CHECKPOINT_FILE) ? tx.path(CHECKPOINT_FILE) : join(tx.outDir, CHECKPOINT_FILE);
  const fingerprint = runFingerprint(config, data);
  const resumeFrom = config.resume ? readResumePoint(checkpointPath, fingerprint) : undefined;
  if (resumeFrom) log.info(`resuming ${describeResumePoint(resumeFrom)} from ${checkpointPath}`);

  // Dendrites with the payoff check train the dendrites-off network first, with the whole time limit and
  // the checkpoint, then the dendritic one on what is left (src/train/checkbox.ts): nothing is reserved.
  const payoffActive = cycleMode(config) === 'dendrites' && config.dendritePayoffCheck;
  // Per-epoch metrics, written into the staging directory as each epoch ends: readable while the run goes
  // on (the log names the path), published with the run, left for --resume by a killed run.
  const tensorboard = config.tensorboard || data.info?.tensorboardLogging === true;
  carryMetrics(tx, config.resume);
  const sinks = openEpochSinks(tx.stagingDir, { resume: config.resume, tensorboard });
  log.info(`metrics: ${sinks.metricsPath} while the run goes on, published as ${join(tx.outDir, METRICS_JSONL)} with the run`);
  if (sinks.tensorboardPath) log.info(`tensorboard: ${sinks.tensorboardPath}`);
  try {
    const choice = trainAndChoose(
      config,
      ctx.trainData,
      {
        budget,
        observer: sinks.observe(log, 'train'),
        ...(resumeFrom?.state ? { resumeFrom: resumeFrom.state } : {}),
        ...(resumeFrom?.second ? { resumeSecond: resumeFrom.second } : {}),
        onCheckpoint: (state) => tx.writeFile(CHECKPOINT_FILE, encodeRunCheckpoint(fingerprint, { state })),
        onSecondCheckpoint: (second) => tx.writeFile(CHECKPOINT_FILE, encodeRunCheckpoint(fingerprint, { second })),
        payoffCheck: payoffActive,
        payoffObserver: sinks.observe(candidateObserver(log), 'dendritic_candidate'),
        info: (line) => log.info(line),
      },
      model,
    );
    return { choice, budget, resumeFrom, stoppedBySignal: stoppedBySignal(choice), checkpointPath, tensorboardPath: sinks.tensorboardPath };
  } finally {
    budget.dispose();
    sinks.close();
  }
}

/** Exports and verifies the shipped network, logs the warnings and the fidelity table, stages the files that pass. */
async function exportShipped(ctx: RunContext, run: TrainedRun): Promise<ShippedExport> {
  const { log, config, data, tx } = ctx;
  const { shipped, payoff } = run.choice;
  const val = ctx.trainData.val;
  const engineProbs = shipped.model.predictProbs(val.x, val.n);
  const validation = validationResult(engineProbs, val.y, data.classes);
  // Loaded here, not at the top: the runtimes take a while to load, and a run that fails on its input
  // (or the main thread, which only relays signals) never needs them.
  const { exportAndVerify } = await import('../export/pipeline.js');
  const outcome = await exportAndVerify(shipped.model.toGraph(), val, engineProbs, config.exportFormat, config.maxInt8Drop);
  const warnings = [...outcome.warnings];
  if (ctx.unknownWarning) warnings.push(ctx.unknownWarning);
  if (payoff?.warning) {
    log.warn(payoff.warning);
    warnings.push(payoff.warning);
  }
  for (const w of outcome.warnings) log.warn(w);
  const written = outcome.failures.length === 0 ? outcome.results.filter((r) => r.write) : [];
  const writtenFiles = new Set(written.map((r) => r.file));
  printFidelityTable(log, validation.accuracy, outcome.results, writtenFiles, outcome.failures.length > 0);
  for (const r of written) tx.writeFile(r.file, r.bytes);
  return { outcome, validation, written, writtenFiles, warnings };
}

/** effective-config.json completed with what each parameter did, then report.json and report.html, into staging; returns report.html's published path. */
async function writeRunRecord(ctx: RunContext, run: TrainedRun, exported: ShippedExport, trainingSeconds: number): Promise<string> {
  const { tx, config, data, model, effective } = ctx;
  const { dendritic, payoff, shipped } = run.choice;
  const { outcome, validation, written, writtenFiles } = exported;
  const applied = appliedParameters({
    config,
    model,
    family: ctx.family,
    loop: run.choice.primary.loop.applied,
    cycle: dendritic.cycle,
    budget: run.budget,
    logMode: ctx.log.mode,
    dataDirectory: resolve(config.dataDirectory!),
    infoFile: config.infoFile,
    outDirectory: tx.outDir,
    resumedFromEpoch: run.resumeFrom ? ((run.resumeFrom.state ?? run.resumeFrom.second.state)?.epoch ?? 0) : null,
    exportFiles: written.map((r) => r.file),
    int8DropLimit: outcome.int8DropLimit,
    augmentation: run.choice.primary.loop.applied.augmenting ? { noise: config.noise, specAugment: config.specAugment } : null,
    modelWidth: config.width,
    payoffCheck:
      cycleMode(config) === 'dendrites'
        ? {
            enabled: config.dendritePayoffCheck,
            restarts: cycleMode({ ...config, dendrites: false }) === 'restarts',
            maxCostRatio: payoff?.checkbox?.ratio ?? null,
            settings: payoff?.checkbox?.settings ?? null,
          }
        : null,
    tensorboard: run.tensorboardPath !== undefined,
    inputShape: data.inputShape,
  });
  for (const [param, entry] of Object.entries(effective)) {
    const key = keyOfParam(param);
    const a = key ? applied[key] : undefined;
    if (a) Object.assign(entry, { applied: a.value, consumer: a.consumer });
  }
  tx.writeFile('effective-config.json', JSON.stringify(effective, null, 2) + '\n');
  const report = buildReport({
    effectiveConfig: effective as never,
    data: {
      train_samples: ctx.trainData.train.n,
      validation_samples: ctx.trainData.val.n,
      features: data.features,
      classes: data.classes,
      label_layout: data.labelLayout,
      input_shape: [...model.inputShape],
      ...(data.info?.dendriticFeatures !== undefined
        ? { audio_features: parseAudioFeatureSettings(data.info.dendriticFeatures, `${config.infoFile}: dendriticFeatures`) }
        : {}),
    },
    model: modelSummary(shipped.model, ctx.family, shipped.width),
    dendrites: {
      enabled: cycleMode(config) === 'dendrites',
      mode: config.dendriteTraining,
      added: dendriteSetCount(shipped.model),
      ...(payoff ? { payoff: payoffSummary(payoff, dendritic.loop) } : {}),
    },
    loop: shipped.loop,
    ...(shipped.loop !== dendritic.loop ? { dendriteLoop: dendritic.loop } : {}),
    validation,
    exports: exportChecks(validation.accuracy, outcome.results, writtenFiles),
    // Only the files this run delivers have a device cost (model.onnx verified but not asked for has none).
    deployment: deploymentCosts(
      shipped.model,
      outcome.results.filter((r) => r.write),
    ),
    warnings: [...exported.warnings, ...outcome.failures],
    timing: { training_seconds: trainingSeconds, total_seconds: (performance.now() - ctx.started) / 1000, stopped_by: shipped.loop.stoppedBy },
  });
  const { renderReportFiles, REPORT_HTML, REPORT_JSON } = await import('../report/write.js');
  const reportFiles = renderReportFiles(report);
  tx.writeFile(REPORT_JSON, reportFiles.json);
  tx.writeFile(REPORT_HTML, reportFiles.html);
  return join(tx.outDir, REPORT_HTML);
}

/** Keeps or drops the checkpoint, records the metrics staged, publishes, and prints the result line. */
function finishRun(ctx: RunContext, run: TrainedRun, accuracy: number, reportHtml: string): TrainOutcome {
  const { tx } = ctx;
  const { shipped } = run.choice;
  // A run stopped by a signal (in either of the checkbox's runs) keeps its last checkpoint, so `--resume` can continue it.
  if (!run.stoppedBySignal) tx.discard(CHECKPOINT_FILE);
  else if (!tx.has(CHECKPOINT_FILE) && existsSync(run.checkpointPath)) tx.writeFile(CHECKPOINT_FILE, readFileSync(run.checkpointPath));
  tx.recordStaged(METRICS_JSONL);
  if (run.tensorboardPath !== undefined) tx.recordStaged(TENSORBOARD_DIR);
  tx.publish();
  ctx.log.result({
    accuracy,
    best_epoch: shipped.loop.best.epoch,
    parameters: shipped.model.parameterCount(),
    dendrite_sets: dendriteSetCount(shipped.model),
    seconds: (performance.now() - ctx.started) / 1000,
    stopped_by: shipped.loop.stoppedBy,
    report: reportHtml,
  });
  return { exitCode: run.budget.signal ? signalExitCode(run.budget.signal) : 0, outDir: tx.outDir, loop: shipped.loop };
}

/**
 * The checkbox's dendritic candidate in the log: its epochs and events as prefixed info lines (json:
 * info objects, so scripts do not mistake them for the first run's epochs), the live bar on a terminal.
 */
function candidateObserver(log: ProgressLogger): TrainingObserver {
  let total = 0;
  return {
    epochStart: (epoch, totalEpochs, batches) => {
      total = totalEpochs;
      if (log.mode === 'tty') log.epochStart(epoch, totalEpochs, batches);
    },
    batchDone: (done, samples) => {
      if (log.mode === 'tty') log.batchDone(done, samples);
    },
    epochEnd: (record) => log.info(`dendritic candidate: ${formatEpochLine(record, total)}`),
    event: (e) => log.info(`dendritic candidate: ${formatEventLine(e)}`),
  };
}

/** One progress line: which network ships and why. */
function payoffLine(p: PayoffOutcome): string {
  if (p.checkbox)
    return `checkbox: shipping the ${p.shipped === 'plain' ? 'dendrites-off' : p.shipped === 'wider' ? 'wider plain' : 'dendritic'} network: ${p.reason}`;
  const head = p.shipped === 'plain' ? `shipping the plain width-${p.plain!.config.width} network` : 'shipping the dendritic model';
  return `payoff check: ${head}: ${p.reason}`;
}

function payoffSummary(p: PayoffOutcome, dendriticLoop: LoopResult): DendritePayoff {
  const candidate = (c: PayoffCandidate) => ({
    width: c.width,
    val_acc: c.valAcc,
    ram_bytes: c.price.ramBytes,
    flash_bytes: c.price.flashBytes,
    model_bytes: c.price.modelBytes,
    operators: c.price.operators,
    latency_ms: Math.round(c.price.latencyMs * 100) / 100,
    parameters: c.parameters,
    macs: c.price.macs,
    ...(c.figures ? { figures: c.figures.map((f) => ({ name: f.name, value: f.value, limit: f.limit, fits: f.fits })) } : {}),
    ...(c.fits !== undefined ? { fits: c.fits } : {}),
  });
  const plain = p.plain;
  const d = p.dendritic;
  return {
    checked: p.checked,
    shipped: p.shipped,
    dendritic: d
      ? {
          ...candidate(d),
          sets: d.sets,
          ...(d.folded !== undefined ? { folded: d.folded } : {}),
          ...(d.distilled
            ? {
                distilled: {
                  form: d.distilled.form,
                  sets: d.distilled.sets,
                  val_acc: d.distilled.valAcc,
                  epochs_run: d.distilled.epochsRun,
                  stopped_by: d.distilled.stoppedBy,
                  temperature: d.distilled.temperature,
                  alpha: d.distilled.alpha,
                },
              }
            : {}),
          ...(p.checkbox ? { epochs_run: dendriticLoop.epochsRun, stopped_by: dendriticLoop.stoppedBy } : {}),
          ...(p.shipped === 'plain' ? { history: dendriticLoop.history.map((h) => ({ ...h })) } : {}),
        }
      : null,
    plain: plain
      ? {
          ...candidate(plain.candidate),
          best_epoch: plain.loop.best.epoch,
          epochs_run: plain.loop.epochsRun,
          stopped_by: plain.loop.stoppedBy,
          events: plain.loop.events.map((e) => ({ epoch: e.epoch, type: e.type, ...(e.detail ? { detail: e.detail } : {}) })),
        }
      : null,
    reason: p.reason,
    ...(p.checkbox
      ? { checkbox: { ratio: p.checkbox.ratio, budget: p.checkbox.budget.map((f) => ({ name: f.name, value: f.value, limit: f.limit })) } }
      : {}),
    ...(p.explicit ? { explicit: explicitSummary(p.explicit) } : {}),
  };
}

function explicitSummary(x: ExplicitOutcome): NonNullable<DendritePayoff['explicit']> {
  const figs = (fs: FigureCheck[]) =>
    fs.map((f) => ({ name: f.name, value: f.name === 'latency_ms' ? Math.round(f.value * 1000) / 1000 : f.value, limit: f.limit, fits: f.fits }));
  return {
    target_clock_mhz: x.budget.clockMhz,
    latency_reference: x.budget.latencyReference,
    plain: figs(x.plain),
    dendritic: x.dendritic ? figs(x.dendritic) : null,
    widest_plain: x.widestPlain ? { width: x.widestPlain.width, figures: figs(x.widestPlain.figures), priced: x.widestPlain.priced } : null,
    wider: x.wider
      ? {
          width: x.wider.width,
          val_acc: x.wider.valAcc,
          parameters: x.wider.parameters,
          epochs_run: x.wider.loop.epochsRun,
          stopped_by: x.wider.loop.stoppedBy,
          figures: figs(x.wider.figures),
        }
      : null,
    wider_note: x.widerNote,
  };
}

function keyOfParam(param: string): ConfigKey | undefined {
  return SCHEMA.find((s) => s.param === param)?.key;
}

/**
 * Training stopped before its first epoch ended: there are no trained weights to ship, so nothing is
 * published. A signal ends with its exit code and one line; a time limit that does not fit one epoch is
 * the limit's problem (exit code 2, naming where the limit came from).
 */
function nothingTrained(loop: LoopResult, budget: TrainingBudget, log: ProgressLogger, config: Config, limitSource: string, outDir: string): TrainOutcome {
  if (loop.stoppedBy === 'signal' && budget.signal) {
    log.warn(`${budget.signal} before the first epoch ended: no weights were trained, so nothing was exported; ${outDir} is as it was`);
    return { exitCode: signalExitCode(budget.signal), outDir, loop };
  }
  const where = limitSource === 'train_input.json' ? `${config.infoFile}: maxTrainingTimeSeconds` : 'parameters: --max-training-seconds';
  throw new UserError(
    `${where}: the time limit (${config.maxTrainingSeconds} s for training) ended training before the first epoch finished: expected a limit that fits at least one epoch (or fewer training rows); nothing was exported, ${outDir} is as it was`,
  );
}

/** What must be equal for a checkpoint to belong to this run. */
function runFingerprint(config: Config, data: EiDataset): string {
  const { resume: _r, quiet: _q, jsonLogs: _j, maxTrainingSeconds: _m, outDirectory: _o, tensorboard: _t, ...rest } = config;
  return JSON.stringify({ rest, n: data.yTrain.length, v: data.yVal.length, f: data.features, c: data.classes });
}

function modelSummary(model: Sequential, family: string, width: number) {
  const d = describeModel(model);
  return {
    family,
    width,
    parameters: d.params,
    macs: d.macs,
    layers: d.layers.map((l) => ({ name: l.name, kind: l.kind, output_shape: l.outputShape, parameters: l.params })),
  };
}

function kernelCostJson(k: KernelCost): CortexMKernelCost {
  return {
    ram_bytes: k.ramBytes,
    invoke_instructions: k.invokeInstructions,
    setup_instructions: k.setupInstructions,
    code_bytes: k.codeBytes,
    flash_bytes: k.flashBytes,
    latency_lower_bound_ms: Math.round(k.latencyLowerBoundMs * 100) / 100,
  };
}

function cortexMDeployment(m: CortexMCost): CortexMDeployment {
  return {
    default_kernels: m.defaultKernels,
    clock_hz: m.clockHz,
    cmsis_nn: kernelCostJson(m.cmsisNn),
    reference: kernelCostJson(m.reference),
    method: m.method,
  };
}

function deploymentCosts(model: Sequential, results: { format: string; bytes: Uint8Array; arenaBytes: number; device?: DeviceCost }[]): DeploymentCost[] {
  return results.map((r) => {
    const d = r.device;
    // One MAC rule (docs/report-json.md, "MACs"): a TFLite file's own count; ONNX the engine's, which equals it (tested).
    const base = { variant: r.format, parameters: model.parameterCount(), macs: d ? d.macs : model.macs() };
    if (!d) {
      return {
        ...base,
        flash_bytes: r.bytes.length,
        ram_bytes: r.arenaBytes,
        runtime: 'onnxruntime',
        model_bytes: r.bytes.length,
        ram_bytes_64bit: null,
        ram_planned_bytes: null,
        ram_persistent_bytes: null,
        code_bytes: null,
        latency_ms: null,
        cortex_m: null,
        ram_checked_against: 'estimate: peak of the activations alive at once (ONNX is not a microcontroller format)',
      };
    }
    return {
      ...base,
      flash_bytes: d.flashBytes,
      ram_bytes: d.ramBytes,
      runtime: 'tflm',
      ram_bytes_64bit: d.ramBytes64,
      ram_planned_bytes: d.ramPlannedBytes,
      ram_persistent_bytes: d.ramPersistentBytes,
      ram_checked_against: d.ramCheckedAgainst,
      operators: d.operators,
      tensors: d.tensors,
      model_bytes: d.modelBytes,
      code_bytes: d.codeBytes,
      flash_method: d.flashMethod,
      latency_ms: Math.round(d.latencyMs * 100) / 100,
      latency_reference: d.latencyReference,
      cortex_m: cortexMDeployment(d.cortexM),
    };
  });
}

/** The fidelity table, then which files the out directory got: a verified file that was not written is marked, never counted. */
function printFidelityTable(
  log: ProgressLogger,
  engineAccuracy: number,
  results: { format: string; file: string; comparison: { accuracyCandidate: number | null; maxAbsDiff: number; argmaxAgreement: number } }[],
  writtenFiles: ReadonlySet<string>,
  failed: boolean,
): void {
  log.info('model            accuracy  max|dp|    argmax agreement');
  log.info(`engine           ${pct(engineAccuracy)}  -          -`);
  for (const r of results) {
    const c = r.comparison;
    const mark = writtenFiles.has(r.file) ? '' : failed ? '  (not written)' : '  (verified, not written)';
    log.info(`${r.format.padEnd(16)} ${pct(c.accuracyCandidate ?? 0)}  ${c.maxAbsDiff.toExponential(1).padEnd(9)}  ${pct(c.argmaxAgreement)}${mark}`);
  }
  const files = results.filter((r) => writtenFiles.has(r.file)).map((r) => r.file);
  log.info(`exported files (${files.length}): ${files.length ? files.join(', ') : 'none'}`);
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`.padStart(8);
}

/**
 * What --resume continues: the metrics of the run it resumes (a killed run's, adopted from its staging,
 * else a published one's) are copied into staging to be appended to. Without --resume the new run
 * starts them over, so anything adopted is dropped.
 */
function carryMetrics(tx: OutTransaction, resume: boolean): void {
  for (const name of [METRICS_JSONL, TENSORBOARD_DIR]) {
    if (!resume) {
      if (tx.has(name)) tx.discard(name);
      rmSync(tx.path(name), { recursive: true, force: true });
      continue;
    }
    const published = join(tx.outDir, name);
    if (!tx.has(name) && existsSync(published)) cpSync(published, tx.path(name), { recursive: true });
  }
}
