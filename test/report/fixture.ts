/**
 * A realistic synthetic Report: 40 epochs of a keyword-spotting run in which dendrite set 1 is added
 * at epoch 12 and helps, set 2 is added at epoch 24, set 3 at epoch 32 does not help and is discarded
 * at epoch 38. Curves follow smooth learning-curve shapes with seeded noise; per-class metrics are
 * computed from the confusion matrix, so the report is internally consistent.
 */
import { Rng } from '../../src/engine/rng.js';
import type { DendriteEvent, EpochRecord, PerClassMetrics, Report } from '../../src/report/schema.js';

/** A class name that must be escaped everywhere it appears. */
export const HOSTILE_CLASS = '<b>&"odd"</b>';

export const FIXTURE_CLASSES = ['yes', 'no', 'up', 'down', 'left', 'right', '_noise', HOSTILE_CLASS];

export const FIXTURE_EVENTS: DendriteEvent[] = [
  { epoch: 12, type: 'restored_best', detail: 'weights of epoch 9' },
  { epoch: 12, type: 'added', detail: 'no improvement for 3 epochs; set 1' },
  { epoch: 24, type: 'restored_best', detail: 'weights of epoch 21' },
  { epoch: 24, type: 'added', detail: 'set 1 raised val_acc 0.781 -> 0.823; set 2' },
  { epoch: 32, type: 'added', detail: 'set 2 raised val_acc 0.823 -> 0.839; set 3' },
  { epoch: 38, type: 'restored_best', detail: 'weights of epoch 30' },
  { epoch: 38, type: 'discarded', detail: 'set 3 did not beat 0.839' },
  { epoch: 40, type: 'training_complete', detail: 'max tries reached' },
];

export function perClassFromConfusion(classes: string[], confusion: number[][]): PerClassMetrics[] {
  return classes.map((name, k) => {
    const tp = confusion[k]![k]!;
    const support = confusion[k]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[k]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: name, precision, recall, f1, support };
  });
}

export function makeFixtureReport(epochs = 40): Report {
  const rng = new Rng(1234);
  const noise = (s: number): number => (rng.next() - 0.5) * 2 * s;
  const setsAt = (epoch: number): number => (epoch > 32 && epoch <= 38 ? 3 : epoch > 24 ? 2 : epoch > 12 ? 1 : 0);
  const history: EpochRecord[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const sets = setsAt(epoch);
    const base = 1 - Math.exp(-epoch / 6);
    const boost = 0.04 * Math.min(sets, 2);
    const valAcc = Math.min(0.97, 0.12 + 0.66 * base + boost + noise(0.01));
    const acc = Math.min(0.99, valAcc + 0.03 + 0.002 * epoch + noise(0.005));
    const lrCycle = epoch <= 12 ? epoch : epoch <= 24 ? epoch - 12 : epoch - 24;
    history.push({
      epoch,
      phase: 'neuron',
      loss: 2.1 * Math.exp(-epoch / 7) + 0.25 - 0.05 * Math.min(sets, 2) + noise(0.02),
      acc,
      val_loss: 2.0 * Math.exp(-epoch / 8) + 0.42 - 0.04 * Math.min(sets, 2) + noise(0.03),
      val_acc: valAcc,
      lr: lrCycle > 8 ? 0.0025 : 0.005,
      seconds: 1.1 + sets * 0.35 + noise(0.05),
      dendrite_sets: sets,
    });
  }
  const n = FIXTURE_CLASSES.length;
  const confusion = FIXTURE_CLASSES.map((_, t) =>
    FIXTURE_CLASSES.map((__, p) => (t === p ? 30 + ((t * 7) % 11) : (t + 2 * p) % 5 === 0 ? 1 + ((t + p) % 4) : 0)),
  );
  confusion[2]![3] = 9; // 'up' is often heard as 'down'
  const total = confusion.flat().reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((a, row, k) => a + row[k]!, 0);
  const accuracy = correct / total;
  return {
    schema_version: 4,
    created: '2025-01-15T10:24:31.000Z',
    dendritic_version: '0.1.0',
    effective_config: {
      epochs: { value: epochs, source: 'cli' },
      'learning-rate': { value: 0.005, source: 'default' },
      'batch-size': { value: 32, source: 'default' },
      'dendrite-mode': { value: 'gd', source: 'default' },
      'max-dendrites': { value: 3, source: 'cli' },
      'improvement-threshold': { value: [0.001, 0.0001], source: 'default' },
      'note</td><script>alert(1)</script>': { value: '<img src=x onerror=alert(1)>', source: 'cli' },
    },
    data: {
      train_samples: 2910,
      validation_samples: total,
      features: 650,
      classes: FIXTURE_CLASSES,
      label_layout: 'one-hot',
      input_shape: [50, 13],
    },
    model: {
      family: 'ei-kws',
      width: 1,
      parameters: 9684,
      macs: 61_000,
      layers: [
        { name: 'reshape', kind: 'reshape', output_shape: [50, 13], parameters: 0 },
        { name: 'conv1', kind: 'dendritic(conv1d)', output_shape: [50, 8], parameters: 968 },
        { name: 'pool1', kind: 'maxpool1d', output_shape: [25, 8], parameters: 0 },
        { name: 'conv2', kind: 'dendritic(conv1d)', output_shape: [25, 16], parameters: 3216 },
        { name: 'pool2', kind: 'maxpool1d', output_shape: [13, 16], parameters: 0 },
        { name: 'flatten', kind: 'flatten', output_shape: [208], parameters: 0 },
        { name: 'dense', kind: 'dendritic(dense)', output_shape: [n], parameters: 5500 },
        { name: 'softmax', kind: 'softmax', output_shape: [n], parameters: 0 },
      ],
    },
    dendrites: { enabled: true, mode: 'gd', added: 2, tried: 3, discarded: 1, pruned: 0, events: FIXTURE_EVENTS.filter((e) => e.epoch <= epochs) },
    history,
    best: { epoch: 30, val_acc: history[Math.min(29, epochs - 1)]!.val_acc, val_loss: history[Math.min(29, epochs - 1)]!.val_loss },
    validation: { accuracy, loss: 0.58, confusion, per_class: perClassFromConfusion(FIXTURE_CLASSES, confusion) },
    exports: [
      { format: 'engine', accuracy, max_prob_diff: 0, argmax_agreement: 1, verified_with: 'engine' },
      {
        format: 'onnx',
        file: 'model.onnx',
        bytes: 41_233,
        accuracy,
        max_prob_diff: 3.1e-7,
        argmax_agreement: 1,
        verified_with: 'onnxruntime-web 1.30.0 (wasm)',
      },
      {
        format: 'tflite-float',
        file: 'model.tflite',
        bytes: 43_012,
        accuracy,
        max_prob_diff: 4.4e-7,
        argmax_agreement: 1,
        verified_with: 'tflite interpreter',
      },
      {
        format: 'tflite-int8',
        file: 'model_quantized_int8_io.tflite',
        bytes: 15_880,
        accuracy: accuracy - 0.008,
        max_prob_diff: 0.041,
        argmax_agreement: 0.982,
        verified_with: 'tflite interpreter',
      },
    ],
    deployment: [
      {
        variant: 'tflite-float',
        parameters: 9684,
        macs: 61_000,
        flash_bytes: 83_188,
        ram_bytes: 9_204,
        runtime: 'tflm',
        ram_bytes_64bit: 10_464,
        ram_planned_bytes: 6_880,
        ram_persistent_bytes: 2_324,
        operators: 8,
        tensors: 17,
        model_bytes: 44_500,
        code_bytes: 38_688,
        flash_method: 'TFLM code measured by linking for Cortex-M4F',
        ram_checked_against: 'TensorFlow Lite Micro v1.93.20',
        latency_ms: 4.6,
        latency_reference: 'Cortex-M4F at 80 MHz (estimate)',
        cortex_m: {
          default_kernels: 'cmsis-nn',
          clock_hz: 80_000_000,
          cmsis_nn: {
            ram_bytes: 9252,
            invoke_instructions: 1180000,
            setup_instructions: 38500,
            code_bytes: 36900,
            flash_bytes: 81400,
            latency_lower_bound_ms: 15.23,
          },
          reference: {
            ram_bytes: 9204,
            invoke_instructions: 1179000,
            setup_instructions: 38100,
            code_bytes: 27600,
            flash_bytes: 72100,
            latency_lower_bound_ms: 15.21,
          },
          method: 'TFLM for a Cortex-M4F (-Os -DNDEBUG); instructions modelled, checked on QEMU',
        },
      },
      {
        variant: 'tflite-int8',
        parameters: 9684,
        macs: 61_000,
        flash_bytes: 56_164,
        ram_bytes: 4_596,
        runtime: 'tflm',
        ram_bytes_64bit: 5_440,
        ram_planned_bytes: 1_728,
        ram_persistent_bytes: 2_868,
        operators: 8,
        tensors: 17,
        model_bytes: 16_900,
        code_bytes: 39_264,
        flash_method: 'TFLM code measured by linking for Cortex-M4F',
        ram_checked_against: 'TensorFlow Lite Micro v1.93.20',
        latency_ms: 6.3,
        latency_reference: 'Cortex-M4F at 80 MHz (estimate)',
        cortex_m: {
          default_kernels: 'cmsis-nn',
          clock_hz: 80_000_000,
          cmsis_nn: {
            ram_bytes: 4644,
            invoke_instructions: 160000,
            setup_instructions: 80500,
            code_bytes: 38800,
            flash_bytes: 55700,
            latency_lower_bound_ms: 3.01,
          },
          reference: {
            ram_bytes: 4596,
            invoke_instructions: 1290000,
            setup_instructions: 78000,
            code_bytes: 28900,
            flash_bytes: 45800,
            latency_lower_bound_ms: 17.1,
          },
          method: 'TFLM for a Cortex-M4F (-Os -DNDEBUG); instructions modelled, checked on QEMU',
        },
      },
    ],
    warnings: ['validation split has only 31 samples of class "_noise"; its metrics are noisy'],
    timing: { training_seconds: history.reduce((a, h) => a + h.seconds, 0), total_seconds: 71.4, stopped_by: 'completed' },
  };
}
