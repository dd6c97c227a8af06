// The web page's features-file reader (web/features.js, plain browser JS with no DOM use), run in Node.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { parseFeatures } = await import(pathToFileURL(path.join(root, 'web/features.js')).href) as { parseFeatures: (name: string, bytes: ArrayBuffer) => number[] };

const bytesOf = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

/** A .npy file as numpy.save writes it (format 1.0, header padded to a multiple of 64 bytes). */
function npy(descr: string, shape: string, values: Float32Array | Float64Array): ArrayBuffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(values.buffer), 10 + header.length);
  return out.buffer;
}

test('JSON arrays, {"features": …} and a one-row matrix', () => {
  assert.deepEqual(parseFeatures('f.json', bytesOf('[1, 2.5, -3e-2]')), [1, 2.5, -0.03]);
  assert.deepEqual(parseFeatures('f.JSON', bytesOf('{"features": [4, 5]}')), [4, 5]);
  assert.deepEqual(parseFeatures('f.json', bytesOf('[[6, 7]]')), [6, 7]);
});

test('one CSV or text row, with or without a header line', () => {
  assert.deepEqual(parseFeatures('f.csv', bytesOf('f0,f1,f2\n0.5,1,2\n')), [0.5, 1, 2]);
  assert.deepEqual(parseFeatures('f.txt', bytesOf('  0.5 1\t2  \n\n')), [0.5, 1, 2]);
});

test('.npy float32 and float64, 1-D or one row', () => {
  assert.deepEqual(parseFeatures('f.npy', npy('<f4', '(3,)', Float32Array.of(0.5, -1, 2))), [0.5, -1, 2]);
  assert.deepEqual(parseFeatures('f.npy', npy('<f8', '(1, 2)', Float64Array.of(0.1, 0.2))), [0.1, 0.2]);
});

test('bad files are refused with the file name and what is wrong', () => {
  assert.throws(() => parseFeatures('a.json', bytesOf('[1, "x"]')), /^Error: a\.json: value 2 is "x", expected a finite number$/);
  assert.throws(() => parseFeatures('a.json', bytesOf('{"f": 1}')), /a\.json: expected a JSON array of numbers/);
  assert.throws(() => parseFeatures('a.json', bytesOf('[1,')), /a\.json: not valid JSON/);
  assert.throws(() => parseFeatures('b.csv', bytesOf('1,2\n3,4\n')), /b\.csv: expected one row of numbers, found 2 rows/);
  assert.throws(() => parseFeatures('b.csv', bytesOf('h1,h2\n1,x\n')), /b\.csv: line 2, column 2: "x" is not a number/);
  assert.throws(() => parseFeatures('b.csv', bytesOf('\n')), /b\.csv: expected one row of numbers, found 0 rows/);
  assert.throws(() => parseFeatures('c.npy', npy('<i4', '(2,)', Float32Array.of(1, 2))), /c\.npy: dtype <i4 is not supported/);
  assert.throws(() => parseFeatures('c.npy', npy('<f4', '(2, 2)', Float32Array.of(1, 2, 3, 4))), /c\.npy: shape \(2, 2\) is not one row/);
  assert.throws(() => parseFeatures('c.npy', npy('<f4', '(9,)', Float32Array.of(1, 2))), /c\.npy: truncated/);
  assert.throws(() => parseFeatures('c.npy', bytesOf('hello, world')), /c\.npy: not a \.npy file/);
});
