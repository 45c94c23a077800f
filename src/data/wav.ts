/**
 * RIFF/WAVE reader for uncompressed audio: PCM 8/16/24/32-bit integer and 32/64-bit IEEE float,
 * also inside WAVE_FORMAT_EXTENSIBLE. Samples come back in int16 scale (full scale = 32768), the
 * scale Edge Impulse's MFCC block works in. Several channels are averaged into one: keyword spotting
 * works on mono, and averaging keeps the level of identical channels unchanged.
 */
import { userError } from '../errors.js';
import { readRegularFile } from '../util/file-kind.js';

export interface WavAudio {
  sampleRate: number;
  /** Mono samples in int16 scale (a 16-bit file gives its raw values). */
  samples: Float32Array;
  /** Channels in the file; more than one means `samples` is their mean. */
  channels: number;
  bitsPerSample: number;
  encoding: 'pcm' | 'float';
}

const FORMAT_PCM = 1;
/** Largest float sample accepted, on the int16 scale the decoder uses: 1000 x full scale (60 dB over). */
const MAX_FLOAT_SAMPLE = 1000 * 32768;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Above any real recording's rate (768 kHz); a header claiming more is corrupt, not audio to allocate for. */
export const MAX_SAMPLE_RATE = 768_000;

export function readWav(path: string): WavAudio {
  return parseWav(readRegularFile(path, 'file', 'a .wav file'), path);
}

/** Parses WAV bytes; `where` names the source in error messages. */
export function parseWav(bytes: Buffer, where: string): WavAudio {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') {
    throw userError(where, 'RIFF header', 'not a WAV file: expected "RIFF....WAVE" at the start');
  }
  let fmt: { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | undefined;
  let data: { offset: number; size: number } | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = bytes.toString('latin1', pos, pos + 4);
    const size = bytes.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) {
        throw userError(where, 'fmt chunk', `truncated: ${size} bytes declared, at least 16 needed and present`);
      }
      let format = bytes.readUInt16LE(body);
      const bits = bytes.readUInt16LE(body + 14);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40) throw userError(where, 'fmt chunk', 'WAVE_FORMAT_EXTENSIBLE without its 40-byte extension');
        format = bytes.readUInt16LE(body + 24); // first two bytes of the SubFormat GUID
      }
      fmt = {
        format,
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        blockAlign: bytes.readUInt16LE(body + 12),
        bits,
      };
    } else if (id === 'data') {
      if (body + size > bytes.length) {
        throw userError(
          where,
          'data chunk',
          `truncated: header declares ${size} bytes but only ${bytes.length - body} follow`,
        );
      }
      data = { offset: body, size };
    }
    if (fmt !== undefined && data !== undefined) break;
    pos = body + size + (size & 1); // chunks are padded to an even length
  }
  if (fmt === undefined) throw userError(where, 'fmt chunk', 'missing: expected a "fmt " chunk before the data');
  if (data === undefined) throw userError(where, 'data chunk', 'missing: expected a "data" chunk with the samples');
  if (fmt.channels < 1) throw userError(where, 'fmt chunk: channels', `expected at least 1, found ${fmt.channels}`);
  if (fmt.sampleRate < 1 || fmt.sampleRate > MAX_SAMPLE_RATE)
    throw userError(where, 'fmt chunk: sample rate', `expected 1 to ${MAX_SAMPLE_RATE} Hz, found ${fmt.sampleRate}`);

  const decode = sampleDecoder(fmt.format, fmt.bits, where);
  const bytesPerSample = fmt.bits / 8;
  const frameBytes = bytesPerSample * fmt.channels;
  const frames = Math.floor(data.size / frameBytes);
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) {
      const v = decode(bytes, data.offset + f * frameBytes + c * bytesPerSample);
      // Integer PCM is always in range; float samples can be anything, and NaN or 3e38 would turn into
      // NaN features that no check downstream can trace back to this file.
      if (!(Math.abs(v) <= MAX_FLOAT_SAMPLE)) {
        throw userError(where, `data chunk: frame ${f} channel ${c}`, `sample ${v / 32768} is ${Number.isFinite(v) ? 'far out of range' : 'not finite'}: expected float samples within +-${MAX_FLOAT_SAMPLE / 32768} (full scale is +-1)`);
      }
      sum += v;
    }
    samples[f] = sum / fmt.channels;
  }
  return {
    sampleRate: fmt.sampleRate,
    samples,
    channels: fmt.channels,
    bitsPerSample: fmt.bits,
    encoding: fmt.format === FORMAT_FLOAT ? 'float' : 'pcm',
  };
}

type Decoder = (b: Buffer, offset: number) => number;

function sampleDecoder(format: number, bits: number, where: string): Decoder {
  if (format === FORMAT_PCM) {
    switch (bits) {
      case 8:
        return (b, o) => (b[o]! - 128) * 256; // 8-bit WAV is unsigned, centred on 128
      case 16:
        return (b, o) => b.readInt16LE(o);
      case 24:
        return (b, o) => b.readIntLE(o, 3) / 256;
      case 32:
        return (b, o) => b.readInt32LE(o) / 65536;
      default:
        throw userError(where, 'fmt chunk: bits per sample', `PCM with ${bits} bits is not supported: expected 8, 16, 24 or 32`);
    }
  }
  if (format === FORMAT_FLOAT) {
    if (bits === 32) return (b, o) => b.readFloatLE(o) * 32768;
    if (bits === 64) return (b, o) => b.readDoubleLE(o) * 32768;
    throw userError(where, 'fmt chunk: bits per sample', `float with ${bits} bits is not supported: expected 32 or 64`);
  }
  throw userError(
    where,
    'fmt chunk: audio format',
    `format code ${format} (compressed or unknown) is not supported: expected 1 (PCM) or 3 (IEEE float)`,
  );
}
