/**
 * TensorBoard event files, written while training runs: what `tensorboard --logdir <out>/tensorboard`
 * reads. Format (TensorFlow's tfevents):
 *  - the file is a TFRecord stream: each record is uint64 length (little-endian), uint32 masked
 *    CRC-32C of those 8 bytes, the data, uint32 masked CRC-32C of the data; mask(c) = ((c >>> 15) |
 *    (c << 17)) + 0xa282ead8 (mod 2^32);
 *  - each record's data is a tensorflow.Event protobuf: the first carries file_version "brain.Event:2",
 *    then one per epoch with a Summary of scalar values (simple_value) tagged loss/train,
 *    loss/validation, accuracy/train, accuracy/validation, learning_rate, dendrite_sets;
 *  - the name holds "tfevents" (TensorBoard lists only such files): events.out.tfevents.<seconds>.<host>.<pid>.
 * Each record is one write(2): a killed run keeps the epochs it finished, like metrics.jsonl.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { EpochRecord } from './schema.js';

export const TENSORBOARD_DIR = 'tensorboard';

/** tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto, the fields written here. */
const EVENT_SCHEMA = `
syntax = "proto3";
package tensorflow;
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    float simple_value = 2;
  }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
`;

let eventType: protobuf.Type | undefined;
function eventProto(): protobuf.Type {
  eventType ??= protobuf.parse(EVENT_SCHEMA, { keepCase: true }).root.lookupType('tensorflow.Event');
  return eventType;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its CRC, the data, the data's CRC. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export interface Scalar {
  tag: string;
  value: number;
}

export function encodeEvent(event: { wallTime: number; step: number; fileVersion?: string; scalars?: Scalar[] }): Uint8Array {
  const type = eventProto();
  const message: Record<string, unknown> = { wall_time: event.wallTime, step: event.step };
  if (event.fileVersion !== undefined) message.file_version = event.fileVersion;
  if (event.scalars) message.summary = { value: event.scalars.map((s) => ({ tag: s.tag, simple_value: s.value })) };
  return type.encode(type.fromObject(message)).finish();
}

/** The scalars of one epoch (null metrics, e.g. no validation or a diverged loss, are left out). */
export function epochScalars(r: EpochRecord): Scalar[] {
  const all: [string, number | null][] = [
    ['loss/train', r.loss],
    ['loss/validation', r.val_loss],
    ['accuracy/train', r.acc],
    ['accuracy/validation', r.val_acc],
    ['learning_rate', r.lr],
    ['dendrite_sets', r.dendrite_sets],
  ];
  return all.filter((e): e is [string, number] => e[1] !== null && Number.isFinite(e[1])).map(([tag, value]) => ({ tag, value }));
}

export class TensorBoardWriter {
  readonly path: string;
  private fd: number | undefined;

  /** Creates `dir` and a new event file in it (a resumed run adds a file; TensorBoard merges a directory's files). */
  constructor(
    dir: string,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    const seconds = Math.floor(now() / 1000);
    this.path = join(dir, `events.out.tfevents.${seconds}.${hostname().replace(/[^\w.-]/g, '_')}.${process.pid}`);
    this.fd = openSync(this.path, 'w');
    this.write(encodeEvent({ wallTime: now() / 1000, step: 0, fileVersion: 'brain.Event:2' }));
  }

  epoch(record: EpochRecord): void {
    this.write(encodeEvent({ wallTime: this.now() / 1000, step: record.epoch, scalars: epochScalars(record) }));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(data: Uint8Array): void {
    if (this.fd === undefined) return;
    const record = tfRecord(data);
    let off = 0;
    while (off < record.length) off += writeSync(this.fd, record, off, record.length - off);
  }
}
