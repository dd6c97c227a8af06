// Exact top-k by brute force through the native core: the default retriever, and the reference the
// approximate index is measured against. Scoring runs on a libuv worker thread (native searchTopK), with
// exclusions and the allow mask applied there, so a query never loops over the catalog in JavaScript.
// The vectors are kept in the layout the native kernel reads (panels of PANEL_ROWS rows, dimension-major),
// so no call repacks the catalog. A single query is bound by memory bandwidth (it reads every vector once),
// so queries that arrive while a search is running are answered together by the next one: one pass over
// the catalog scores the whole batch.
import { native } from '../native.js';
import type { Matrix } from '../data/types.js';
import { ConfigError, InputError } from '../errors.js';
import type { BatchFilter, Retriever, SearchFilter, SearchResult } from './retriever.js';

interface Pending {
  query: Float32Array;
  k: number;
  filter: SearchFilter;
  resolve: (result: SearchResult) => void;
  reject: (error: unknown) => void;
}

const NONE = new Int32Array(0);

/** Most queries answered by one native call. */
const MAX_BATCH = 256;

/** Rows per panel of the native search layout: row r, dimension d is at ((r / 16 | 0) · dim + d) · 16 + r % 16. */
export const PANEL_ROWS = 16;

export class ExactRetriever implements Retriever {
  readonly dim: number;
  private pending: Pending[] = [];
  private draining = false;
  // Capacity grows by doubling; a grown buffer is a new one, so a search in flight keeps reading the old.
  // A row replaced in place during a search may be scored with its old or its new vector.
  private panels: Float32Array;
  private rows: number;

  constructor(vectors: Matrix) {
    if (!(vectors.cols >= 1)) throw new InputError(`vectors need at least one column, got ${vectors.cols}`, 'vectors', undefined, 'vectors');
    checkLength(vectors);
    this.dim = vectors.cols;
    this.rows = vectors.rows;
    this.panels = new Float32Array(Math.ceil(vectors.rows / PANEL_ROWS) * PANEL_ROWS * this.dim);
    for (let r = 0; r < vectors.rows; r++) this.write(r, vectors.data.subarray(r * this.dim, (r + 1) * this.dim));
  }

  get size(): number {
    return this.rows;
  }

  /** Row `row`'s vector (a copy). */
  vector(row: number): Float32Array {
    checkRow(row, this.rows - 1);
    const out = new Float32Array(this.dim);
    const base = Math.floor(row / PANEL_ROWS) * PANEL_ROWS * this.dim + (row % PANEL_ROWS);
    for (let d = 0; d < this.dim; d++) out[d] = this.panels[base + d * PANEL_ROWS];
    return out;
  }

  /** query · row `row`, rounded to float32 like the native search's scores. */
  score(query: Float32Array, row: number): number {
    const base = Math.floor(row / PANEL_ROWS) * PANEL_ROWS * this.dim + (row % PANEL_ROWS);
    let s = 0;
    for (let d = 0; d < this.dim; d++) s += query[d] * this.panels[base + d * PANEL_ROWS];
    return Math.fround(s);
  }

  search(query: Float32Array, k: number, filter: SearchFilter = {}): Promise<SearchResult> {
    return new Promise((resolve, reject) => {
      checkDim('query', query.length, this.dim); // a throw here rejects the promise
      checkK(k);
      this.pending.push({ query: query.slice(), k, filter, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** Answers the queued queries: each round takes those sharing the first one's allow mask. */
  private async drain(): Promise<void> {
    this.draining = true;
    while (this.pending.length > 0) {
      const allow = this.pending[0].filter.allow;
      const batch = this.pending.filter((p) => p.filter.allow === allow).slice(0, MAX_BATCH);
      const taken = new Set(batch);
      this.pending = this.pending.filter((p) => !taken.has(p));
      const k = Math.max(...batch.map((p) => p.k));
      const queries = new Float32Array(batch.length * this.dim);
      batch.forEach((p, j) => queries.set(p.query, j * this.dim));
      try {
        const results = await this.run(queries, k, allow, batch.map((p) => p.filter.exclude));
        batch.forEach((p, j) => p.resolve({ rows: results[j].rows.slice(0, p.k), scores: results[j].scores.slice(0, p.k) }));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.draining = false;
  }

  async searchBatch(queries: Float32Array, k: number, filter: BatchFilter = {}): Promise<SearchResult[]> {
    const n = checkBatch(queries, this.dim, filter);
    return this.run(queries, k, filter.allow, filter.exclude ?? new Array<undefined>(n));
  }

  upsert(row: number, vector: Float32Array): void {
    checkDim('vector', vector.length, this.dim);
    checkRow(row, this.rows);
    if (row === this.rows) {
      if ((this.rows + 1) * this.dim > this.panels.length) {
        const grown = new Float32Array(Math.max(PANEL_ROWS * this.dim, this.panels.length * 2));
        grown.set(this.panels);
        this.panels = grown;
      }
      this.rows++;
    }
    this.write(row, vector);
  }

  private write(row: number, vector: Float32Array): void {
    const base = Math.floor(row / PANEL_ROWS) * PANEL_ROWS * this.dim + (row % PANEL_ROWS);
    for (let d = 0; d < this.dim; d++) this.panels[base + d * PANEL_ROWS] = vector[d];
  }

  private async run(queries: Float32Array, k: number, allow: Uint8Array | undefined,
    excludes: (Int32Array | undefined)[]): Promise<SearchResult[]> {
    checkK(k);
    // One CSR of exclusions; rows outside the index are no-ops, not errors (e.g. a stale purchase list).
    const indptr = new Int32Array(excludes.length + 1);
    const indices = new Int32Array(excludes.reduce((n, e) => n + (e?.length ?? 0), 0));
    let n = 0;
    excludes.forEach((list = NONE, q) => {
      for (let j = 0; j < list.length; j++) if (list[j] >= 0 && list[j] < this.rows) indices[n++] = list[j];
      indptr[q + 1] = n;
    });
    const top = await native.searchTopK(queries, this.panels, this.dim, this.rows, k, fitMask(allow, this.rows), indptr, indices.subarray(0, n));
    return excludes.map((_, q) => trimmed(top.items.subarray(q * k, (q + 1) * k), top.scores.subarray(q * k, (q + 1) * k)));
  }
}

/** The allow mask sized to the index: rows past a short mask's end are not allowed. */
function fitMask(allow: Uint8Array | undefined, rows: number): Uint8Array | null {
  if (!allow) return null;
  if (allow.length === rows) return allow;
  if (allow.length > rows) return allow.subarray(0, rows);
  const padded = new Uint8Array(rows);
  padded.set(allow);
  return padded;
}

/** A native result row without its −1 padding. */
export function trimmed(items: Int32Array, scores: Float32Array): SearchResult {
  let n = 0;
  while (n < items.length && items[n] >= 0) n++;
  return { rows: items.slice(0, n), scores: scores.slice(0, n) };
}

// Bad arguments are typed errors (InputError, ConfigError), as in the rest of the library API.
export function checkDim(what: string, length: number, dim: number): void {
  if (length !== dim) throw new InputError(`${what} has ${length} values, the index expects ${dim}`, what, undefined, what);
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new ConfigError(`k must be a non-negative integer, got ${k}`, 'k');
}

export function checkRow(row: number, size: number): void {
  if (!Number.isInteger(row) || row < 0 || row > size) throw new InputError(`row ${row} is out of range 0…${size}`, 'row', undefined, 'row');
}

/** The number of queries in a batch, checked against the index dimension and the exclusion lists. */
export function checkBatch(queries: Float32Array, dim: number, filter: BatchFilter): number {
  if (queries.length % dim !== 0) {
    throw new InputError(`queries have ${queries.length} values, not a multiple of the index dimension ${dim}`, 'queries', undefined, 'queries');
  }
  const n = queries.length / dim;
  if (filter.exclude && filter.exclude.length !== n) throw new InputError(`${filter.exclude.length} exclusion lists for ${n} queries`, 'exclude', undefined, 'exclude');
  return n;
}

function checkLength(vectors: Matrix): void {
  if (vectors.data.length < vectors.rows * vectors.cols) {
    throw new InputError(`vectors hold ${vectors.data.length} values, ${vectors.rows} × ${vectors.cols} needed`, 'vectors', undefined, 'vectors');
  }
}
