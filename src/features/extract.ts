// `vasg features` as a pipeline stage: image files → feature rows, in batches, resumable.
// Finished rows are appended to `<out>.partial/rows.bin` (records of row index, width, values;
// fsynced per batch), so an interrupted run continues where it stopped; features.npy is written
// atomically at the end and the partial directory removed. Unreadable or missing images are
// reported and their products left out; they are retried by a resumed run.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Matrix } from '../data/types.js';
import { writeFileAtomic } from '../data/atomic.js';
import { writeNpy, type NpyDtype } from '../data/npy.js';
import type { Progress } from '../progress.js';
import type { FeatureExtractor } from './extractors.js';

export interface ImageItem {
  itemId: string;
  /** Null when no image file was found for the product. */
  file: string | null;
}

export interface FeatureReport {
  items: number;
  withFeatures: number;
  /** Rows taken from an interrupted earlier run instead of being recomputed. */
  resumed: number;
  featureDim: number;
  failed: Array<{ itemId: string; reason: string }>;
}

export interface FeatureResult {
  report: FeatureReport;
  /** Row k describes `items[keptRows[k]]`. */
  features: Matrix;
  keptRows: number[];
}

export class InterruptedError extends Error {}

const RUN_FILE = 'run.json';
const ROWS_FILE = 'rows.bin';

export function partialDirFor(out: string): string {
  return `${out}.partial`;
}

/** What a resumed run must share with the interrupted one: extractor and item → file list. */
function runKey(items: ImageItem[], extractor: FeatureExtractor): string {
  const hash = crypto.createHash('sha256').update(extractor.key);
  for (const item of items) hash.update(`\n${item.itemId}\t${item.file ?? ''}`);
  return hash.digest('hex');
}

/** Rows of an earlier run with the same key; a record cut short by a crash is truncated away. */
function readFinished(dir: string, key: string, nItems: number): Map<number, Float32Array> {
  const done = new Map<number, Float32Array>();
  const runFile = path.join(dir, RUN_FILE);
  const rowsFile = path.join(dir, ROWS_FILE);
  const sameRun = fs.existsSync(runFile) && (JSON.parse(fs.readFileSync(runFile, 'utf8')) as { key?: string }).key === key;
  if (!sameRun) {
    fs.rmSync(dir, { recursive: true, force: true });
    return done;
  }
  if (!fs.existsSync(rowsFile)) return done;
  const bytes = fs.readFileSync(rowsFile);
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const row = bytes.readInt32LE(offset);
    const width = bytes.readInt32LE(offset + 4);
    const end = offset + 8 + 4 * width;
    if (end > bytes.length || row < 0 || row >= nItems) break;
    const values = new Float32Array(width);
    new Uint8Array(values.buffer).set(bytes.subarray(offset + 8, end));
    done.set(row, values);
    offset = end;
  }
  if (offset < bytes.length) fs.truncateSync(rowsFile, offset);
  return done;
}

function appendRows(fd: number, rows: Array<[number, Float32Array]>): void {
  const parts: Buffer[] = [];
  for (const [row, values] of rows) {
    const head = Buffer.alloc(8);
    head.writeInt32LE(row, 0);
    head.writeInt32LE(values.length, 4);
    parts.push(head, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  }
  fs.writeSync(fd, Buffer.concat(parts));
  fs.fsyncSync(fd);
}

export interface ExtractOptions {
  batch: number;
  progress: Progress;
  /** Stops after the current batch; what is finished stays for the next run. */
  signal?: AbortSignal;
  /** Storage type of `out` (default float32). */
  dtype?: NpyDtype;
}

/**
 * Extracts features for every item with an image and writes `out` (.npy, rows in item order,
 * products without features left out). Throws InterruptedError when `signal` aborts.
 */
export async function extractFeatures(items: ImageItem[], extractor: FeatureExtractor, out: string, options: ExtractOptions): Promise<FeatureResult> {
  const dir = partialDirFor(out);
  const key = runKey(items, extractor);
  const done = readFinished(dir, key, items.length);
  const resumed = done.size;
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, RUN_FILE))) writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify({ key, out: path.basename(out) }));
  const failed = new Map<number, string>();
  items.forEach((item, row) => {
    if (item.file === null) failed.set(row, 'no image file');
  });
  const todo = items.map((_, row) => row).filter((row) => !done.has(row) && !failed.has(row));
  const { progress } = options;
  progress.start('features', items.length);
  const fd = fs.openSync(path.join(dir, ROWS_FILE), 'a');
  try {
    for (let start = 0; start < todo.length; start += options.batch) {
      if (options.signal?.aborted) throw new InterruptedError(`interrupted after ${done.size} of ${items.length} products; run the same command again to continue`);
      const rows = todo.slice(start, start + options.batch);
      const results = await extractor.extract(rows.map((row) => items[row].file!));
      const finished: Array<[number, Float32Array]> = [];
      results.forEach((result, k) => {
        if (result instanceof Error) failed.set(rows[k], result.message);
        else finished.push([rows[k], result]);
      });
      appendRows(fd, finished);
      for (const [row, values] of finished) done.set(row, values);
      progress.update(done.size + failed.size, failed.size ? `${failed.size} without features` : undefined);
    }
  } finally {
    fs.closeSync(fd);
  }
  const keptRows = items.map((_, row) => row).filter((row) => done.has(row));
  const featureDim = keptRows.length ? done.get(keptRows[0])!.length : 0;
  const data = new Float32Array(keptRows.length * featureDim);
  keptRows.forEach((row, k) => {
    const values = done.get(row)!;
    if (values.length !== featureDim) throw new Error(`${items[row].itemId}: the model gave ${values.length} features, other products ${featureDim}`);
    data.set(values, k * featureDim);
  });
  const features = { data, rows: keptRows.length, cols: featureDim };
  // A value float16 cannot hold throws here, before the finished rows are cleared: the next run resumes.
  writeNpy(out, features, options.dtype, keptRows.map((row) => items[row].itemId));
  fs.rmSync(dir, { recursive: true, force: true });
  const report: FeatureReport = {
    items: items.length,
    withFeatures: keptRows.length,
    resumed,
    featureDim,
    failed: [...failed].sort((a, b) => a[0] - b[0]).map(([row, reason]) => ({ itemId: items[row].itemId, reason })),
  };
  progress.finish(`${report.withFeatures} of ${report.items} products, ${report.failed.length} without features, ${resumed} resumed`);
  return { report, features, keptRows };
}
