// Exact top-k by brute force through the native core: the default retriever, and the reference the
// approximate index is measured against.
import { native } from '../native.js';
import type { Matrix } from '../data/types.js';
import type { Retriever, SearchFilter, SearchResult } from './retriever.js';

export class ExactRetriever implements Retriever {
  private data: Float32Array;
  private rows: number;

  constructor(vectors: Matrix) {
    this.dim = vectors.cols;
    this.rows = vectors.rows;
    this.data = vectors.data.slice(0, vectors.rows * vectors.cols);
  }

  readonly dim: number;

  get size(): number {
    return this.rows;
  }

  async search(query: Float32Array, k: number, filter: SearchFilter = {}): Promise<SearchResult> {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, the index expects ${this.dim}`);
    const excluded = excludedRows(filter, this.rows);
    const top = native.topK(query, this.data.subarray(0, this.rows * this.dim), this.dim, Int32Array.of(0), k,
      Int32Array.of(0, excluded.length), excluded);
    let n = 0;
    while (n < k && top.items[n] >= 0) n++;
    return { rows: top.items.slice(0, n), scores: top.scores.slice(0, n) };
  }

  upsert(row: number, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} values, the index expects ${this.dim}`);
    if (row < 0 || row > this.rows) throw new Error(`row ${row} is out of range 0…${this.rows}`);
    if (row === this.rows) {
      if ((this.rows + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(Math.max(this.dim, this.data.length * 2));
        grown.set(this.data);
        this.data = grown;
      }
      this.rows++;
    }
    this.data.set(vector, row * this.dim);
  }
}

/** Sorted unique rows the filter rules out (the native top-k takes one sorted exclusion list per query). */
function excludedRows(filter: SearchFilter, rows: number): Int32Array {
  const out = new Set<number>();
  for (const r of filter.exclude ?? []) if (r >= 0 && r < rows) out.add(r);
  if (filter.allow) for (let r = 0; r < rows; r++) if (!filter.allow[r]) out.add(r);
  return Int32Array.from(out).sort();
}
