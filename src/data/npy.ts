// NumPy .npy files (format versions 1–3) ↔ Matrix. Reading float32 is one read into a Buffer and a
// Float32Array view on it (no copy for aligned little-endian float32), so ~GB feature files are cheap.
// float16 ('<f2', half the bytes of a feature file) is read in blocks straight into the float32 matrix, so the
// half-precision bytes are never all in memory beside it, and written from float32 block by block.
import fs from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import type { Features, HalfMatrix, Matrix } from './types.js';
import { writeFileAtomic, type FileData } from './atomic.js';
import { largeBuffer, largeFloat32Array, largeUint16Array } from './memory.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"
/** Reads are split so that no single fs.readSync exceeds the 2 GiB limit. */
const MAX_READ = 1 << 30;

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

function fail(file: string, what: string): never {
  throw new Error(`${file}: not a readable .npy array: ${what}`);
}

function readWholeFile(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size > bufferConstants.MAX_LENGTH) fail(file, `file is ${size} bytes, more than a Buffer can hold (${bufferConstants.MAX_LENGTH})`);
    const buffer = largeBuffer(size);
    for (let offset = 0; offset < size;) {
      const got = fs.readSync(fd, buffer, offset, Math.min(MAX_READ, size - offset), offset);
      if (got === 0) fail(file, `file shrank while reading (got ${offset} of ${size} bytes)`);
      offset += got;
    }
    return buffer;
  } finally {
    fs.closeSync(fd);
  }
}

/** How an array of features is stored on disk; in memory it is always float32. */
export type NpyDtype = 'float32' | 'float16';
export const NPY_DTYPES: readonly NpyDtype[] = ['float32', 'float16'];
const DESCR: Record<NpyDtype, string> = { float32: '<f4', float16: '<f2' };

/** Bytes read per block when converting float16 (a multiple of 2). */
const HALF_BLOCK = 16 << 20;

function parseHeader(file: string, buffer: Buffer): NpyHeader {
  if (buffer.length < 10 || !buffer.subarray(0, 6).equals(MAGIC)) {
    fail(file, `bad magic: expected the bytes "\\x93NUMPY" at the start, found ${JSON.stringify(buffer.subarray(0, 6).toString('latin1'))}`);
  }
  const major = buffer[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = buffer.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buffer.length < 12) fail(file, 'truncated header');
    headerLength = buffer.readUInt32LE(8);
    headerStart = 12;
  } else {
    fail(file, `unsupported format version ${major}.${buffer[7]} (expected 1.x, 2.x or 3.x)`);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > buffer.length) fail(file, `header claims ${headerLength} bytes but the file has only ${buffer.length - headerStart} after the preamble`);
  const text = buffer.subarray(headerStart, dataOffset).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(file, `header dictionary lacks 'descr', 'fortran_order' or 'shape': ${JSON.stringify(text.trim())}`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+$/.test(s)) fail(file, `shape entry ${JSON.stringify(s)} is not a non-negative integer`);
    return Number(s);
  });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset };
}

/** Element types read by one whole-file read; anything but '<f4' is converted to float32. '<f2' is read in blocks (readHalf). */
const DTYPES: Record<string, { bytes: number; read: (b: Buffer, offset: number, n: number) => Float32Array }> = {
  '<f4': { bytes: 4, read: (b, offset, n) => viewOrCopy(b, offset, n) },
  '<f8': { bytes: 8, read: (b, offset, n) => convert(offset, n, 8, (o) => b.readDoubleLE(o)) },
  '<i4': { bytes: 4, read: (b, offset, n) => convert(offset, n, 4, (o) => b.readInt32LE(o)) },
};

function viewOrCopy(buffer: Buffer, offset: number, n: number): Float32Array {
  const start = buffer.byteOffset + offset;
  // A typed-array view needs 4-byte alignment; the 64-byte padded header normally gives it.
  if (start % 4 === 0) return new Float32Array(buffer.buffer, start, n);
  const copy = new Float32Array(n);
  new Uint8Array(copy.buffer).set(buffer.subarray(offset, offset + n * 4));
  return copy;
}

function convert(offset: number, n: number, size: number, get: (o: number) => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = get(offset + i * size);
  return out;
}

/**
 * Reads a .npy file holding a C-order 1-D or 2-D array of '<f4' (or '<f8'/'<i4', converted to
 * float32 with a note through `note`). A 1-D array of length n becomes an n × 1 matrix.
 */
export function readNpy(file: string, note?: (message: string) => void): Matrix {
  const prefix = readPrefix(file);
  if (parseHeader(file, prefix.buffer).descr === '<f2') return readHalf(file, prefix.buffer, prefix.size);
  const buffer = readWholeFile(file);
  const header = parseHeader(file, buffer);
  const dtype = DTYPES[header.descr];
  if (dtype === undefined) {
    fail(file, `dtype ${JSON.stringify(header.descr)} is not supported (expected '<f4' or '<f2'; '<f8' and '<i4' are converted)`);
  }
  const { rows, cols } = checkShape(file, header, dtype.bytes, buffer.length);
  if (header.descr !== '<f4') note?.(`${file}: converted ${header.descr} to float32`);
  return { data: dtype.read(buffer, header.dataOffset, rows * cols), rows, cols };
}

/**
 * Reads a feature array in its storage type: '<f2' as float16 bit patterns (half the bytes of float32, never widened
 * whole; see src/data/features.ts), anything else as readNpy does. A float16 NaN/±Inf is an error naming its row and column.
 */
export function readFeatures(file: string, note?: (message: string) => void): Features {
  const prefix = readPrefix(file);
  const header = parseHeader(file, prefix.buffer);
  return header.descr === '<f2' ? readHalfBits(file, header, prefix.size) : readNpy(file, note);
}

function readHalfBits(file: string, header: NpyHeader, size: number): HalfMatrix {
  const { rows, cols } = checkShape(file, header, 2, size);
  const half = largeUint16Array(rows * cols);
  const bytes = Buffer.from(half.buffer);
  const fd = fs.openSync(file, 'r');
  try {
    for (let offset = 0; offset < bytes.length;) offset += readChunk(file, fd, bytes, offset, header.dataOffset + offset);
  } finally {
    fs.closeSync(fd);
  }
  const table = halfToFloat();
  for (let k = 0; k < half.length; k++) {
    // Exponent all ones: ±Inf or NaN.
    if ((half[k] & 0x7c00) === 0x7c00) {
      throw new Error(`${file}: row ${Math.floor(k / cols)}, column ${k % cols}: expected a finite value, found float16 ${table[half[k]]}`);
    }
  }
  return { half, rows, cols };
}

/** Reads up to MAX_READ bytes of `fd` at `position` into `buffer` at `offset`; the count read (never 0). */
function readChunk(file: string, fd: number, buffer: Buffer, offset: number, position: number): number {
  const n = fs.readSync(fd, buffer, offset, Math.min(MAX_READ, buffer.length - offset), position);
  if (n === 0) fail(file, `file shrank while reading (byte ${position})`);
  return n;
}

/**
 * A 2-D feature array left on disk: its shape and storage, and optionally which of its rows (in order) are meant.
 * Stages that only select and copy rows (`prepare`) use it so that a feature file larger than memory is never loaded.
 */
export interface NpyOnDisk {
  file: string;
  /** Rows meant: `sourceRows.length` when a selection is given, else the file's rows. */
  rows: number;
  cols: number;
  /** How the file stores values (float32 also for '<f8'/'<i4', which are converted when read). */
  dtype: NpyDtype;
  /** The file's rows, in order, that make up this array; absent: all of them. */
  sourceRows?: ArrayLike<number>;
}

/** Opens a .npy array without reading its data (header and size checked as readNpy checks them). */
export function openNpy(file: string): NpyOnDisk {
  const prefix = readPrefix(file);
  const header = parseHeader(file, prefix.buffer);
  const bytes = header.descr === '<f2' ? 2 : DTYPES[header.descr]?.bytes;
  if (bytes === undefined) fail(file, `dtype ${JSON.stringify(header.descr)} is not supported (expected '<f4' or '<f2'; '<f8' and '<i4' are converted)`);
  const { rows, cols } = checkShape(file, header, bytes, prefix.size);
  return { file, rows, cols, dtype: header.descr === '<f2' ? 'float16' : 'float32' };
}

/** The same array restricted to its rows `rows` (indices into it), in that order. */
export function selectNpyRows(array: NpyOnDisk, rows: number[]): NpyOnDisk {
  const source = array.sourceRows;
  return { ...array, rows: rows.length, sourceRows: source ? rows.map((r) => source[r]) : rows };
}

/**
 * The .npy encoding (in `dtype`) of an on-disk array's rows, read and written a block at a time: memory holds one
 * block, never the array. A non-finite value is an error naming the row (and its item, from `rowNames`) and column;
 * a value float16 cannot hold, when converting to it, likewise.
 */
export function* copyNpyRows(array: NpyOnDisk, dtype: NpyDtype, rowNames?: readonly string[]): Generator<ArrayBufferView> {
  yield npyHeader(array.rows, array.cols, dtype);
  const prefix = readPrefix(array.file);
  const header = parseHeader(array.file, prefix.buffer);
  const half = header.descr === '<f2';
  const bytes = half ? 2 : DTYPES[header.descr].bytes;
  const rowBytes = array.cols * bytes;
  const blockRows = Math.max(1, Math.floor(HALF_BLOCK / rowBytes));
  const raw = Buffer.alloc(Math.min(blockRows, Math.max(1, array.rows)) * rowBytes);
  const table = halfToFloat();
  const where = (k: number, start: number) => {
    const row = start + Math.floor(k / array.cols);
    return `${array.file}: row ${array.sourceRows ? array.sourceRows[row] : row}${rowNames ? ` (item "${rowNames[row]}")` : ''}, column ${k % array.cols}`;
  };
  const fd = fs.openSync(array.file, 'r');
  try {
    for (let start = 0; start < array.rows; start += blockRows) {
      const rows = Math.min(blockRows, array.rows - start);
      const sourceOf = (r: number) => (array.sourceRows ? array.sourceRows[start + r] : start + r);
      // One read per run of consecutive source rows (a selection keeps most rows, in order).
      for (let r = 0, run = 1; r < rows; r += run) {
        for (run = 1; r + run < rows && sourceOf(r + run) === sourceOf(r) + run;) run++;
        readExactly(array.file, fd, raw, r * rowBytes, run * rowBytes, header.dataOffset + sourceOf(r) * rowBytes);
      }
      const block = raw.subarray(0, rows * rowBytes);
      if (half) {
        const halves = new Uint16Array(block.buffer, block.byteOffset, rows * array.cols);
        for (let k = 0; k < halves.length; k++) {
          if ((halves[k] & 0x7c00) === 0x7c00) throw new Error(`${where(k, start)}: expected a finite value, found float16 ${table[halves[k]]}`);
        }
        // float16 → float16 is a copy; float16 → float32 widens exactly.
        yield dtype === 'float16' ? halves : Float32Array.from(halves, (h) => table[h]);
        continue;
      }
      const values = DTYPES[header.descr].read(block, 0, rows * array.cols);
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`${where(bad, start)}: expected a finite value, found ${values[bad]}`);
      if (dtype === 'float32') {
        yield values;
        continue;
      }
      const over = halfOverflow(values);
      if (over >= 0) throw new Error(`${where(over, start)}: ${halfOverflowReason(values[over])}`);
      yield Uint16Array.from(values, floatToHalf);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function readExactly(file: string, fd: number, buffer: Buffer, offset: number, length: number, position: number): void {
  for (let got = 0; got < length;) {
    const n = fs.readSync(fd, buffer, offset + got, length - got, position + got);
    if (n === 0) fail(file, `file shrank while reading (byte ${position + got})`);
    got += n;
  }
}

/** How `file` stores its values: float16 for '<f2', float32 for anything else readNpy takes. */
export function npyDtype(file: string): NpyDtype {
  return parseHeader(file, readPrefix(file).buffer).descr === '<f2' ? 'float16' : 'float32';
}

/** Rows and columns of a C-order 1-D or 2-D array whose data fills the rest of a `size`-byte file exactly. */
function checkShape(file: string, header: NpyHeader, bytes: number, size: number): { rows: number; cols: number } {
  if (header.fortranOrder) fail(file, "fortran_order is True; save the array in C order (numpy.ascontiguousarray) and retry");
  if (header.shape.length < 1 || header.shape.length > 2) {
    fail(file, `shape (${header.shape.join(', ')}) has ${header.shape.length} dimensions; expected 1 or 2`);
  }
  const rows = header.shape[0];
  const cols = header.shape.length === 2 ? header.shape[1] : 1;
  const expected = rows * cols * bytes;
  const actual = size - header.dataOffset;
  if (actual !== expected) {
    fail(file, `shape (${header.shape.join(', ')}) of ${header.descr} needs ${expected} data bytes but the file has ${actual}`);
  }
  return { rows, cols };
}

/** The preamble and header dictionary of a .npy file, without its data. */
function readPrefix(file: string): { buffer: Buffer; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let buffer = Buffer.alloc(Math.min(size, 1 << 16));
    fs.readSync(fd, buffer, 0, buffer.length, 0);
    const headerEnd = buffer.length < 12 ? buffer.length : buffer[6] >= 2 ? 12 + buffer.readUInt32LE(8) : 10 + buffer.readUInt16LE(8);
    if (headerEnd > buffer.length && headerEnd <= size) {
      buffer = Buffer.alloc(headerEnd);
      fs.readSync(fd, buffer, 0, headerEnd, 0);
    }
    return { buffer, size };
  } finally {
    fs.closeSync(fd);
  }
}

let halfTable: Float32Array | null = null;

/** float32 value of every float16 bit pattern (NaN and ±Inf included, to be caught as such). */
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) halfTable[h] = sign * mant * 2 ** -24;
    else if (exp === 31) halfTable[h] = mant ? NaN : sign * Infinity;
    else halfTable[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

/** Reads a '<f2' array block by block into float32; the first NaN/±Inf is an error naming its row and column. */
function readHalf(file: string, prefix: Buffer, size: number): Matrix {
  const header = parseHeader(file, prefix);
  const { rows, cols } = checkShape(file, header, 2, size);
  const table = halfToFloat();
  const data = largeFloat32Array(rows * cols);
  // An aligned Uint16Array and a Buffer over the same bytes: the file is read into one, converted from the other.
  const halves = new Uint16Array(Math.min(HALF_BLOCK / 2, Math.max(1, rows * cols)));
  const block = Buffer.from(halves.buffer);
  const fd = fs.openSync(file, 'r');
  try {
    for (let done = 0; done < data.length;) {
      const want = Math.min(block.length, (data.length - done) * 2);
      let got = 0;
      while (got < want) {
        const n = fs.readSync(fd, block, got, want - got, header.dataOffset + done * 2 + got);
        if (n === 0) fail(file, `file shrank while reading (value ${done + got / 2} of ${data.length})`);
        got += n;
      }
      for (let j = 0; j < want / 2; j++) {
        const h = halves[j];
        // Exponent all ones: ±Inf or NaN.
        if ((h & 0x7c00) === 0x7c00) {
          const k = done + j;
          throw new Error(`${file}: row ${Math.floor(k / cols)}, column ${k % cols}: expected a finite value, found float16 ${table[h]}`);
        }
        data[done + j] = table[h];
      }
      done += want / 2;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { data, rows, cols };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest to `value` (round half to even, as numpy's astype(float16)); ±Inf when out of range. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: the 24-bit significand shifted right, rounded half to even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the significand correctly bumps the exponent (up to Inf for values past 65504).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half += 1;
  return sign | half;
}

/** Largest finite float16. */
export const HALF_MAX = 65504;

/** Throws on the first NaN/±Inf, naming the file, its row (and item id) and column. */
export function checkFinite(file: string, matrix: Matrix, rowNames?: string[]): void {
  const { data, cols } = matrix;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      const row = Math.floor(k / cols);
      const name = rowNames ? ` (item "${rowNames[row]}")` : '';
      throw new Error(`${file}: row ${row}${name}, column ${k % cols}: expected a finite value, found ${data[k]}`);
    }
  }
}

/** The .npy header (format 1.0, C order) of a rows × cols array of float32 (default) or float16. */
export function npyHeader(rows: number, cols: number, dtype: NpyDtype = 'float32'): Buffer {
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // Preamble (10 bytes) + dictionary + spaces + '\n' padded to a multiple of 64, as numpy does.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return header;
}

/**
 * The .npy encoding of a matrix as parts: float32 as (header, data view) without copying the data; float16 as
 * the header then blocks of rows converted one at a time. `rowNames` name the row of a value float16 cannot hold.
 */
export function encodeNpy(matrix: Matrix, dtype: NpyDtype = 'float32', rowNames?: readonly string[]): FileData {
  if (matrix.data.length !== matrix.rows * matrix.cols) {
    throw new Error(`encodeNpy: matrix data has ${matrix.data.length} values, expected rows × cols = ${matrix.rows} × ${matrix.cols}`);
  }
  // Nothing non-finite is ever saved: a NaN written today is a model that ranks at random tomorrow.
  checkFinite('array to save', matrix);
  // Checked before anything is written, so a bad value never leaves half a file behind.
  if (dtype === 'float16') checkHalfRange(matrix, rowNames);
  // Typed arrays are little-endian on every platform Node supports here (x86-64, arm64).
  return dtype === 'float16' ? halfNpy(matrix) : [npyHeader(matrix.rows, matrix.cols), matrix.data];
}

/** The .npy encoding of features as held: float16 bit patterns as they are, float32 as encodeNpy writes them in `dtype`. */
export function encodeFeatures(features: Features, dtype: NpyDtype = 'float32', rowNames?: readonly string[]): FileData {
  return 'half' in features ? [npyHeader(features.rows, features.cols, 'float16'), features.half] : encodeNpy(features, dtype, rowNames);
}

/**
 * The float16 file as a lazy sequence: header, then each block as the writer asks for it. Never spread it into an
 * array: every block is the same reused buffer, so collecting them first leaves each holding the last block's values.
 */
function* halfNpy(matrix: Matrix): Generator<ArrayBufferView> {
  yield npyHeader(matrix.rows, matrix.cols, 'float16');
  yield* halfBlocks(matrix.data);
}

/** Index of the first value whose float16 rounding overflows (|x| ≥ 65520), or -1. */
export function halfOverflow(data: Float32Array): number {
  for (let k = 0; k < data.length; k++) if ((floatToHalf(data[k]) & 0x7c00) === 0x7c00) return k;
  return -1;
}

/** Why `value` cannot be written as float16 (the end of an error message that names its row first). */
export function halfOverflowReason(value: number): string {
  return `${value} does not fit float16 (largest ±${HALF_MAX}); write float32 (--dtype float32) or rescale the features`;
}

/** Throws on the first value float16 cannot hold, naming its row (and item) and column. */
function checkHalfRange(matrix: Matrix, rowNames?: readonly string[]): void {
  const k = halfOverflow(matrix.data);
  if (k < 0) return;
  const row = Math.floor(k / matrix.cols);
  const name = rowNames ? ` (item "${rowNames[row]}")` : '';
  throw new Error(`features to save as float16: row ${row}${name}, column ${k % matrix.cols}: ${halfOverflowReason(matrix.data[k])}`);
}

/** float32 values as float16 in blocks of HALF_BLOCK bytes, each converted when the writer asks for it. */
function* halfBlocks(data: Float32Array): Generator<Uint16Array> {
  const step = HALF_BLOCK / 2;
  const block = new Uint16Array(Math.min(step, data.length));
  for (let start = 0; start < data.length; start += step) {
    const n = Math.min(step, data.length - start);
    for (let j = 0; j < n; j++) block[j] = floatToHalf(data[start + j]);
    yield n === block.length ? block : block.subarray(0, n);
  }
}

/** Writes a little-endian .npy (format 1.0, float32 unless asked for float16) atomically. */
export function writeNpy(file: string, matrix: Matrix, dtype: NpyDtype = 'float32', rowNames?: readonly string[]): void {
  writeFileAtomic(file, encodeNpy(matrix, dtype, rowNames));
}
