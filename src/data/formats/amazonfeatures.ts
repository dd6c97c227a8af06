// Reader for the Amazon image-feature files (`image_features_*.b`, McAuley et al.): a flat run of records,
// each 10 ASCII bytes of ASIN followed by `dim` little-endian float32 (4096 for the published AlexNet features).
// The files are tens of GB, so they are streamed once through a fixed-size buffer and only wanted ids are kept.

import fs from 'node:fs';

export const ASIN_BYTES = 10;
export const DEFAULT_FEATURE_DIM = 4096;

export interface FeatureRecord {
  asin: string;
  /** Byte offset of the record in the file. */
  offset: number;
  /** A copy, so the caller may keep it after the buffer moves on. */
  vector: Float32Array;
}

/** Bytes per record for a feature dimension. */
export function recordBytes(dim: number): number {
  return ASIN_BYTES + 4 * dim;
}

/** Fails before reading anything when the file size is not a whole number of records. */
export function checkFeatureFileSize(file: string, dim: number): number {
  const size = fs.statSync(file).size;
  const rec = recordBytes(dim);
  // An empty file would give a data set without products (every product dropped for lack of features).
  if (size === 0) throw new Error(`${file}: the image-feature file is empty (0 bytes, no ${rec}-byte record); give the category's image_features_*.b file, or leave out --features`);
  if (size % rec !== 0) {
    const lastStart = size - (size % rec);
    throw new Error(
      `${file}: truncated record at byte offset ${lastStart} (file size ${size} is not a multiple of the ` +
        `${rec}-byte record for --feature-dim ${dim})`,
    );
  }
  return size / rec;
}

/**
 * The records to keep, in file order, read from the ASIN bytes alone (one small positioned read per
 * record, so a tens-of-GB file costs a quick pass): the first record of each ASIN that `wanted` accepts.
 */
export function indexFeatureFile(file: string, dim: number, wanted: (asin: string) => boolean): { asins: string[]; records: number[] } {
  const total = checkFeatureFileSize(file, dim);
  const rec = recordBytes(dim);
  const buf = Buffer.alloc(ASIN_BYTES);
  const seen = new Set<string>();
  const asins: string[] = [];
  const records: number[] = [];
  const fd = fs.openSync(file, 'r');
  try {
    for (let r = 0; r < total; r++) {
      if (readFully(fd, buf, ASIN_BYTES, r * rec) !== ASIN_BYTES) throw new Error(`${file}: truncated record at byte offset ${r * rec} (file shrank while reading)`);
      const asin = asinOf(buf, 0, file, r * rec, dim);
      if (seen.has(asin) || !wanted(asin)) continue;
      seen.add(asin);
      asins.push(asin);
      records.push(r);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { asins, records };
}

/**
 * Streams the records; `keep(asin, record)` decides which vectors are copied out (the rest cost no memory).
 * Memory is one buffer of `bufferRecords` records, whatever the file size.
 */
export function* readFeatureRecords(
  file: string,
  dim: number,
  keep: (asin: string, record: number) => boolean,
  bufferRecords = 256,
): Generator<FeatureRecord> {
  const total = checkFeatureFileSize(file, dim);
  const rec = recordBytes(dim);
  const buf = Buffer.alloc(rec * bufferRecords);
  const fd = fs.openSync(file, 'r');
  try {
    let offset = 0;
    for (let done = 0; done < total; ) {
      const want = Math.min(bufferRecords, total - done) * rec;
      const got = readFully(fd, buf, want, offset);
      if (got !== want) throw new Error(`${file}: truncated record at byte offset ${offset + got - (got % rec)} (file shrank while reading)`);
      for (let r = 0; r < want / rec; r++) {
        const start = r * rec;
        const asin = asinOf(buf, start, file, offset + start, dim);
        if (!keep(asin, done + r)) continue;
        const vector = new Float32Array(dim);
        const bytes = buf.subarray(start + ASIN_BYTES, start + rec);
        for (let k = 0; k < dim; k++) vector[k] = bytes.readFloatLE(4 * k);
        yield { asin, offset: offset + start, vector };
      }
      done += want / rec;
      offset += want;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The record's ASIN. Its 10 bytes must be printable ASCII: anything else means the records are not where
 * they should be — usually a wrong --feature-dim whose record size happens to divide the file size.
 */
function asinOf(buf: Buffer, start: number, file: string, offset: number, dim: number): string {
  for (let k = start; k < start + ASIN_BYTES; k++) {
    if (buf[k] < 0x20 || buf[k] > 0x7e) {
      throw new Error(`${file}: the record at byte offset ${offset} does not start with a 10-character ASCII ASIN (is --feature-dim ${dim} right?)`);
    }
  }
  return buf.toString('latin1', start, start + ASIN_BYTES).trim();
}

function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
