// NumPy .npy files (format versions 1–3) ↔ Matrix. Reading is one read into a Buffer and a
// Float32Array view on it (no copy for aligned little-endian float32), so ~GB feature files are cheap.
import fs from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import type { Matrix } from './types.js';
import { writeFileAtomic, type FileData } from './atomic.js';

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
    const buffer = Buffer.allocUnsafe(size);
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

/** Element types accepted; anything but '<f4' is converted to float32. */
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
  const buffer = readWholeFile(file);
  const header = parseHeader(file, buffer);
  const dtype = DTYPES[header.descr];
  if (dtype === undefined) {
    fail(file, `dtype ${JSON.stringify(header.descr)} is not supported (expected '<f4'; '<f8' and '<i4' are converted)`);
  }
  if (header.fortranOrder) fail(file, "fortran_order is True; save the array in C order (numpy.ascontiguousarray) and retry");
  if (header.shape.length < 1 || header.shape.length > 2) {
    fail(file, `shape (${header.shape.join(', ')}) has ${header.shape.length} dimensions; expected 1 or 2`);
  }
  const rows = header.shape[0];
  const cols = header.shape.length === 2 ? header.shape[1] : 1;
  const expected = rows * cols * dtype.bytes;
  const actual = buffer.length - header.dataOffset;
  if (actual !== expected) {
    fail(file, `shape (${header.shape.join(', ')}) of ${header.descr} needs ${expected} data bytes but the file has ${actual}`);
  }
  if (header.descr !== '<f4') note?.(`${file}: converted ${header.descr} to float32`);
  return { data: dtype.read(buffer, header.dataOffset, rows * cols), rows, cols };
}

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

/** The .npy header (format 1.0, '<f4', C order) of a rows × cols array. */
export function npyHeader(rows: number, cols: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
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

/** The .npy encoding of a matrix as parts (header, data view), without copying the data. */
export function encodeNpy(matrix: Matrix): FileData {
  if (matrix.data.length !== matrix.rows * matrix.cols) {
    throw new Error(`encodeNpy: matrix data has ${matrix.data.length} values, expected rows × cols = ${matrix.rows} × ${matrix.cols}`);
  }
  // Nothing non-finite is ever saved: a NaN written today is a model that ranks at random tomorrow.
  checkFinite('array to save', matrix);
  // Typed arrays are little-endian on every platform Node supports here (x86-64, arm64).
  return [npyHeader(matrix.rows, matrix.cols), matrix.data];
}

/** Writes a float32 little-endian .npy (format 1.0) atomically. */
export function writeNpy(file: string, matrix: Matrix): void {
  writeFileAtomic(file, encodeNpy(matrix));
}
