/** Minimal RIFF/WAVE writer for tests: any format tag and bit depth, so unsupported encodings can be made. */
import { writeFileSync } from 'node:fs';

export function writeWav(path: string, o: { formatTag: number; bits: number; sampleRate?: number; channels?: number; data: Uint8Array }): void {
  const channels = o.channels ?? 1;
  const rate = o.sampleRate ?? 16000;
  const blockAlign = (channels * o.bits) / 8;
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(o.formatTag, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(o.bits, 14);
  const chunk = (id: string, body: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
  };
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), chunk('data', o.data)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  writeFileSync(path, Buffer.concat([riff, body]));
}
