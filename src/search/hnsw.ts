// Approximate nearest-product search with an HNSW graph (usearch), for catalogs where exact search
// stops being fast enough. Scores are recomputed exactly from a kept copy of the vectors, so both
// retrievers report the same score for the same row; that copy also answers the queries whose filter
// passes too few rows for the graph to find k of them.
import { createRequire } from 'node:module';
import type { Index as UsearchIndex } from 'usearch';
import type { Matrix } from '../data/types.js';
import { ExactRetriever, checkBatch, checkDim, checkK, checkRow } from './exact.js';
import type { BatchFilter, Retriever, SearchFilter, SearchResult } from './retriever.js';

// usearch's ES-module entry looks for its binary from the importing project's root and picks up
// vasg's own build/ folder; its CommonJS entry resolves from its own directory.
const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');

export interface HnswOptions {
  /** Graph degree M (default HNSW_DEFAULTS): more links, better recall, more memory and build time. */
  connectivity?: number;
  /** Candidate list size while inserting (default HNSW_DEFAULTS). */
  expansionAdd?: number;
  /** Candidate list size while searching (default HNSW_DEFAULTS): the recall/latency knob. */
  expansionSearch?: number;
  /** Rows asked from the graph per query (default 0: k plus the exclusions); see HnswRetriever.candidates. */
  candidates?: number;
  /** Threads for the initial build (default 0: usearch's choice). */
  threads?: number;
}

/**
 * Graph degree M, candidate list sizes while inserting and while searching (see HnswOptions). Chosen for
 * recall@10 ≥ 0.95 against exact search on a men-size model's own vectors (dot-product scoring, the harder
 * case for an inner-product graph): 0.965 here, 0.855 at usearch-like 16/64/128 (README, Search).
 */
export const HNSW_DEFAULTS = { connectivity: 32, expansionAdd: 128, expansionSearch: 512 } as const;

/** Over-fetching stops here and the exact path answers instead (a filter passing few rows). */
const MAX_FETCH = 4096;

export class HnswRetriever implements Retriever {
  readonly dim: number;
  /**
   * At least this many rows are asked from the graph per query, then rescored exactly and cut to k. The graph
   * search widens its candidate list to the rows asked, so this is the run-time recall/latency knob
   * (the build's expansion_search is fixed).
   */
  candidates: number;
  private readonly index: UsearchIndex;
  private readonly exact: ExactRetriever;

  constructor(vectors: Matrix, options: HnswOptions = {}) {
    this.exact = new ExactRetriever(vectors);
    this.dim = vectors.cols;
    this.candidates = options.candidates ?? 0;
    this.index = new usearch.Index({
      dimensions: vectors.cols, metric: usearch.MetricKind.IP, quantization: usearch.ScalarKind.F32,
      connectivity: options.connectivity ?? HNSW_DEFAULTS.connectivity, expansion_add: options.expansionAdd ?? HNSW_DEFAULTS.expansionAdd,
      expansion_search: options.expansionSearch ?? HNSW_DEFAULTS.expansionSearch, multi: false,
    });
    if (vectors.rows > 0) {
      const keys = BigUint64Array.from({ length: vectors.rows }, (_, r) => BigInt(r));
      this.index.add(keys, vectors.data.subarray(0, vectors.rows * vectors.cols), options.threads ?? 0);
    }
  }

  get size(): number {
    return this.exact.size;
  }

  vector(row: number): Float32Array {
    return this.exact.vector(row);
  }

  async search(query: Float32Array, k: number, filter: SearchFilter = {}): Promise<SearchResult> {
    checkDim('query', query.length, this.dim);
    checkK(k);
    const size = this.size;
    if (k === 0 || size === 0) return { rows: new Int32Array(0), scores: new Float32Array(0) };
    const excluded = new Set(filter.exclude ?? []);
    const passes = (r: number) => !excluded.has(r) && (!filter.allow || (r < filter.allow.length && filter.allow[r] !== 0));
    for (let fetch = Math.min(size, Math.max(k + excluded.size, this.candidates)); fetch <= MAX_FETCH; fetch = Math.min(size, fetch * 4)) {
      const found = this.index.search(query, fetch, 1);
      const rows = Array.from(found.keys, Number).filter(passes);
      // Done when k rows passed, or the graph returned every row it has and still fewer passed.
      if (rows.length >= k || (fetch === size && found.keys.length === size)) return this.rescored(query, rows, k);
      if (fetch === size) break;
    }
    return this.exact.search(query, k, filter);
  }

  async searchBatch(queries: Float32Array, k: number, filter: BatchFilter = {}): Promise<SearchResult[]> {
    const n = checkBatch(queries, this.dim, filter);
    const out: SearchResult[] = [];
    for (let q = 0; q < n; q++) {
      out.push(await this.search(queries.subarray(q * this.dim, (q + 1) * this.dim), k,
        { allow: filter.allow, exclude: filter.exclude?.[q] }));
    }
    return out;
  }

  upsert(row: number, vector: Float32Array): void {
    checkDim('vector', vector.length, this.dim);
    checkRow(row, this.size);
    const key = BigInt(row);
    if (row < this.size) this.index.remove(key);
    this.index.add(key, vector);
    this.exact.upsert(row, vector);
  }

  /** The best k of `rows` by their exact inner product (ties: lower row first). */
  private rescored(query: Float32Array, rows: number[], k: number): SearchResult {
    const scored = rows.map((r) => ({ r, s: this.exact.score(query, r) })).sort((a, b) => b.s - a.s || a.r - b.r).slice(0, k);
    return { rows: Int32Array.from(scored, (x) => x.r), scores: Float32Array.from(scored, (x) => x.s) };
  }
}
