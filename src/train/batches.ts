import type { Rng } from '../engine/rng.js';
import type { LabelledSet } from '../engine/tensor.js';

export type { LabelledSet };

/**
 * Iterates a set in mini-batches, copying rows into one reused buffer (augmentation then works on the
 * copy, never on the data set). With an rng the order is a fresh seeded permutation per call.
 */
export class BatchIterator {
  private readonly order: Int32Array;
  private xBuf = new Float32Array(0);
  private yBuf = new Int32Array(0);

  constructor(
    private readonly set: LabelledSet,
    readonly batchSize: number,
  ) {
    this.order = new Int32Array(set.n);
    for (let i = 0; i < set.n; i++) this.order[i] = i;
  }

  get batchCount(): number {
    return Math.ceil(this.set.n / this.batchSize);
  }

  *batches(rng?: Rng): Generator<{ x: Float32Array; y: Int32Array; n: number }> {
    const { x, y, features } = this.set;
    if (rng) {
      for (let i = 0; i < this.order.length; i++) this.order[i] = i;
      rng.shuffle(this.order);
    }
    for (let start = 0; start < this.set.n; start += this.batchSize) {
      const n = Math.min(this.batchSize, this.set.n - start);
      if (this.xBuf.length !== n * features) {
        this.xBuf = new Float32Array(n * features);
        this.yBuf = new Int32Array(n);
      }
      for (let b = 0; b < n; b++) {
        const row = this.order[start + b]!;
        this.xBuf.set(x.subarray(row * features, (row + 1) * features), b * features);
        this.yBuf[b] = y[row]!;
      }
      yield { x: this.xBuf, y: this.yBuf, n };
    }
  }
}
