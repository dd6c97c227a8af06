// Reads an uploaded features file into one row of numbers for POST /items: a JSON array (or
// {"features": […]}), one CSV/text row (an optional header line is skipped), or a 1-D / 1×I .npy
// array of float32 or float64. Pure (no DOM), so Node tests can import it. The server checks the width.

/**
 * @param {string} name file name (its extension picks the format)
 * @param {ArrayBuffer} bytes file contents
 * @returns {number[]}
 */
export function parseFeatures(name, bytes) {
  const lower = name.toLowerCase();
  const values = lower.endsWith('.npy') ? fromNpy(name, bytes)
    : lower.endsWith('.json') ? fromJson(name, new TextDecoder().decode(bytes))
    : fromText(name, new TextDecoder().decode(bytes));
  if (values.length === 0) throw new Error(`${name}: no numbers found`);
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${name}: value ${bad + 1} is ${JSON.stringify(values[bad])}, expected a finite number`);
  return values;
}

function fromJson(name, text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name}: not valid JSON (${error.message})`);
  }
  if (data && !Array.isArray(data) && Array.isArray(data.features)) data = data.features;
  if (Array.isArray(data) && data.length === 1 && Array.isArray(data[0])) data = data[0];
  if (!Array.isArray(data)) throw new Error(`${name}: expected a JSON array of numbers or {"features": [...]}`);
  return data;
}

function fromText(name, text) {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const rows = lines.map((line) => line.split(/[\s,;]+/));
  if (rows.length > 1 && rows[0].some((cell) => Number.isNaN(Number(cell)))) rows.shift(); // a header
  if (rows.length !== 1) throw new Error(`${name}: expected one row of numbers, found ${rows.length} rows`);
  return rows[0].map((cell, j) => {
    const value = Number(cell);
    if (cell === '' || Number.isNaN(value)) throw new Error(`${name}: line ${lines.length - rows.length + 1}, column ${j + 1}: "${cell}" is not a number`);
    return value;
  });
}

const NPY_TYPES = { '<f4': Float32Array, '<f8': Float64Array };

function fromNpy(name, bytes) {
  const view = new DataView(bytes);
  const magic = new Uint8Array(bytes, 0, Math.min(6, bytes.byteLength));
  if (magic.length < 6 || magic[0] !== 0x93 || new TextDecoder().decode(magic.subarray(1)) !== 'NUMPY') throw new Error(`${name}: not a .npy file`);
  const major = view.getUint8(6);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(new Uint8Array(bytes, start, headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const Type = NPY_TYPES[descr];
  if (!Type) throw new Error(`${name}: dtype ${descr} is not supported (use float32 or float64, little-endian)`);
  if (/'fortran_order':\s*True/.test(header) && shape.length > 1) throw new Error(`${name}: Fortran-ordered arrays are not supported`);
  if (!(shape.length === 1 || (shape.length === 2 && shape[0] === 1))) throw new Error(`${name}: shape (${shape.join(', ')}) is not one row of features`);
  const count = shape[shape.length - 1];
  const offset = start + headerLength;
  if (bytes.byteLength < offset + count * Type.BYTES_PER_ELEMENT) throw new Error(`${name}: truncated (${count} values announced)`);
  return Array.from(new Type(bytes.slice(offset, offset + count * Type.BYTES_PER_ELEMENT)));
}
