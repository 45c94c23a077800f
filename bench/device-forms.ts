/**
 * Before/after figures of the exporter's forms on the emulated Cortex-M4F (issue 23, "cheaper on the device"):
 * for the families' plain networks (ei-kws width 1, dense, conv2d), float and int8, both kernel sets: arena RAM,
 * setup and Invoke instructions (QEMU mps2-an386), flash (file + linked code), operators and tensors; then the
 * cost model's figures for the same file (src/export/tflite/device-cost.ts).
 * Run: node --import tsx bench/device-forms.ts
 */
import { Rng } from '../src/engine/rng.js';
import { buildModel, type BuildModelOptions } from '../src/models/select.js';
import { exportTfliteFloat } from '../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../src/export/tflite/quantize.js';
import { BuiltinOperator, readTfliteGraph } from '../src/export/tflite/schema.js';
import { tfliteDeviceCost } from '../src/export/tflite/device-cost.js';
import { cortexMBuild, linkedCodeBytes, runCortexM, type CortexMBuild } from '../test/helpers/cortexm.js';

const families: BuildModelOptions[] = [
  { kind: 'ei-kws', features: 650, classes: 6, width: 1, dropout: 0.25, seed: 1 },
  { kind: 'dense', features: 33, classes: 3, width: 1, dropout: 0.1, seed: 2 },
  { kind: 'conv2d', features: 12 * 12, inputShape: [12, 12, 1], classes: 4, width: 0.5, dropout: 0.25, seed: 3 },
];
const rng = new Rng(33);
for (const kernels of ['cmsis-nn', 'reference'] as const) {
  const build = cortexMBuild(kernels);
  if (typeof build === 'string') throw new Error(build);
  for (const options of families) {
    const model = buildModel(options);
    for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
    const x = Float32Array.from({ length: 8 * model.features }, () => rng.normal());
    const graph = model.toGraph();
    for (const [kind, bytes] of [
      ['float', exportTfliteFloat(graph)],
      ['int8', exportTfliteInt8(graph, x, 8).bytes],
    ] as const) {
      const g = readTfliteGraph(bytes);
      const ops = g.operators.map((o) => BuiltinOperator[o.code]!);
      const run = runCortexM(build as CortexMBuild, bytes);
      const flash = bytes.length + linkedCodeBytes(build as CortexMBuild, ops);
      const m = tfliteDeviceCost(bytes).cortexM[kernels === 'cmsis-nn' ? 'cmsisNn' : 'reference'];
      console.log(
        [
          kernels,
          options.kind,
          kind,
          `ram=${run.arenaUsedBytes}`,
          `setup=${run.setupInstructions[0]}`,
          `invoke=${run.invokeInstructions[0]}`,
          `file=${bytes.length}`,
          `flash=${flash}`,
          `ops=${g.operators.length}`,
          `tensors=${g.tensors.length}`,
          ops.join(','),
          `| model: ram=${m.ramBytes} setup=${m.setupInstructions} invoke=${m.invokeInstructions} flash=${m.flashBytes}`,
        ].join(' '),
      );
    }
  }
}
