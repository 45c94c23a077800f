import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseWav, readWav } from '../../src/data/wav.js';
import { FSDD, python, tempDir, userErrorMessage } from './helpers.js';
import { needs } from '../helpers/prerequisites.js';

const { dir, cleanup } = tempDir('wav');
after(cleanup);

describe('readWav on files written by Python', { skip: needs('numpy') }, () => {
  it('PCM 8/16/24/32-bit and stereo, in int16 scale (oracle: numpy decoding of the same bytes)', () => {
    // Python's wave module writes the files; numpy computes the expected int16-scale values
    const out = python(
      `
import wave
d = sys.argv[1]
rng = np.random.default_rng(3)
exp = {}
t = np.arange(400)
base = np.sin(t * 0.05) * 0.9 + rng.normal(0, 0.05, 400)
base = np.clip(base, -1, 0.9999)
for bits in (8, 16, 24, 32):
    for ch in (1, 2):
        full = 2 ** (bits - 1)
        chans = [np.round(base * full), np.round(np.roll(base, 7) * 0.5 * full)][:ch]
        ints = np.stack(chans, 1).astype(np.int64)
        if bits == 8:
            raw = (ints + 128).astype('u1').tobytes()
        elif bits == 24:
            le = ints.astype('<i4').view('u1').reshape(-1, 4)[:, :3]
            raw = le.tobytes()
        else:
            raw = ints.astype(f'<i{bits // 8}').tobytes()
        name = f'pcm{bits}_{ch}ch.wav'
        with wave.open(f'{d}/{name}', 'wb') as w:
            w.setnchannels(ch); w.setsampwidth(bits // 8); w.setframerate(11025); w.writeframes(raw)
        exp[name] = (ints.astype(np.float64) * (32768 / full)).mean(1).tolist()
print(json.dumps(exp))
`,
      [dir],
    );
    const expected = JSON.parse(out) as Record<string, number[]>;
    assert.equal(Object.keys(expected).length, 8);
    for (const [name, values] of Object.entries(expected)) {
      const w = readWav(join(dir, name));
      assert.equal(w.sampleRate, 11025, name);
      assert.equal(w.channels, name.includes('2ch') ? 2 : 1, name);
      assert.equal(w.samples.length, 400, name);
      for (let i = 0; i < values.length; i++) {
        assert.ok(Math.abs(w.samples[i]! - values[i]!) <= 1e-3 * Math.max(1, Math.abs(values[i]!)), `${name}[${i}]: ${w.samples[i]} vs ${values[i]}`);
      }
    }
  });

  it('16-bit FSDD recording: raw int16 values, as numpy.frombuffer reads them', () => {
    const file = join(FSDD, '7_jackson_32.wav');
    const out = python(
      `
import wave
with wave.open(sys.argv[1]) as w:
    print(json.dumps([w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(float).tolist()]))
`,
      [file],
    );
    const [rate, values] = JSON.parse(out) as [number, number[]];
    const w = readWav(file);
    assert.equal(w.sampleRate, rate);
    assert.deepEqual(Array.from(w.samples), values);
  });
});

/** Builds a WAV by hand: chunks given as [id, body]. */
function riff(chunks: [string, Buffer][]): Buffer {
  const parts = chunks.map(([id, body]) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(body.length, 4);
    return Buffer.concat([h, body, Buffer.alloc(body.length & 1)]);
  });
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...parts]);
  const h = Buffer.alloc(8);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(body.length, 4);
  return Buffer.concat([h, body]);
}

function fmt(format: number, channels: number, rate: number, bits: number, extensibleSub?: number): Buffer {
  const b = Buffer.alloc(extensibleSub === undefined ? 16 : 40);
  b.writeUInt16LE(format, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  if (extensibleSub !== undefined) {
    b.writeUInt16LE(22, 16);
    b.writeUInt16LE(bits, 18);
    b.writeUInt16LE(extensibleSub, 24);
  }
  return b;
}

describe('readWav on hand-built files', () => {
  it('32-bit float, scaled by 32768, after an odd-length LIST chunk (padding honoured)', () => {
    const data = Buffer.alloc(12);
    [0.5, -1, 0.25].forEach((v, i) => data.writeFloatLE(v, i * 4));
    const w = parseWav(riff([['LIST', Buffer.from('abc')], ['fmt ', fmt(3, 1, 16000, 32)], ['data', data]]), 'f.wav');
    assert.equal(w.encoding, 'float');
    assert.deepEqual(Array.from(w.samples), [16384, -32768, 8192]);
  });

  it('WAVE_FORMAT_EXTENSIBLE with PCM sub-format', () => {
    const data = Buffer.alloc(6);
    [100, -200, 300].forEach((v, i) => data.writeInt16LE(v, i * 2));
    const w = parseWav(riff([['fmt ', fmt(0xfffe, 1, 8000, 16, 1)], ['data', data]]), 'x.wav');
    assert.deepEqual(Array.from(w.samples), [100, -200, 300]);
  });

  it('compressed format codes, missing chunks, truncation and non-RIFF are UserErrors naming file and field', () => {
    const data = Buffer.alloc(8);
    assert.match(
      userErrorMessage(() => parseWav(riff([['fmt ', fmt(2, 1, 8000, 4)], ['data', data]]), 'adpcm.wav')),
      /adpcm\.wav: fmt chunk: audio format: format code 2 \(compressed or unknown\) is not supported/,
    );
    assert.match(
      userErrorMessage(() => parseWav(riff([['fmt ', fmt(1, 1, 8000, 12)], ['data', data]]), 'b12.wav')),
      /b12\.wav: fmt chunk: bits per sample: PCM with 12 bits/,
    );
    assert.match(userErrorMessage(() => parseWav(riff([['data', data]]), 'nofmt.wav')), /nofmt\.wav: fmt chunk: missing/);
    assert.match(userErrorMessage(() => parseWav(riff([['fmt ', fmt(1, 1, 8000, 16)]]), 'nodata.wav')), /nodata\.wav: data chunk: missing/);
    const whole = riff([['fmt ', fmt(1, 1, 8000, 16)], ['data', Buffer.alloc(100)]]);
    assert.match(userErrorMessage(() => parseWav(whole.subarray(0, whole.length - 10), 'cut.wav')), /cut\.wav: data chunk: truncated: header declares 100 bytes but only 90 follow/);
    assert.match(userErrorMessage(() => parseWav(Buffer.from('ID3\x04 mp3 data here'), 'song.mp3')), /song\.mp3: RIFF header: not a WAV file/);
    const p = join(dir, 'on-disk.wav');
    writeFileSync(p, whole.subarray(0, 30));
    assert.match(userErrorMessage(() => readWav(p)), /on-disk\.wav: fmt chunk: truncated/);
    assert.ok(readFileSync(p).length === 30);
    assert.match(userErrorMessage(() => readWav(join(dir, 'absent.wav'))), /absent\.wav: file: not found/);
  });
});
