// The "search" bench section (`npm run bench -- --only search [--search-n 1000000] [--search-dim 100]
// [--search-clusters 1000]`): exact top-k latency over random unit vectors (the model's scoring vectors
// under cosine) at growing catalog sizes, with filters, batched and concurrent; HNSW build time, latency,
// recall@10 against exact search and the speed-up; resident memory. Vectors are generated here: a mixture
// of `clusters` Gaussian blobs (noise as large as the spread of the centres), as products group by
// category in the model's space; `--search-clusters 0` gives uniform directions, the worst case for HNSW.
// `--search-model DIR` searches a trained model's products with its users as queries instead.
import { Rng } from '../src/data/random.js';
import type { Matrix } from '../src/data/types.js';
import { ExactRetriever } from '../src/search/exact.js';
import { HNSW_DEFAULTS, HnswRetriever, type HnswOptions } from '../src/search/hnsw.js';
import type { Retriever, SearchFilter } from '../src/search/retriever.js';
import { VasgModel } from '../src/model/vasg-model.js';

export interface SearchBenchOptions {
  n: number;
  dim: number;
  queries: number;
  clusters: number;
  threads: number;
  /** A model directory whose vectors to search instead of generated ones: its products, queried by its first users. */
  model?: string;
  /** HNSW build/search parameters other than the defaults. */
  hnsw?: HnswOptions;
  log: (line: string) => void;
}

/** A model's products as the retriever scores them, and its first `queries` users as the queries. */
function modelVectors(dir: string, queries: number): { catalog: Matrix; queries: Matrix } {
  const { items, users } = VasgModel.load(dir).scoringMatrices();
  const rows = Math.min(queries, users.rows);
  return { catalog: items, queries: { data: users.data.slice(0, rows * users.cols), rows, cols: users.cols } };
}

/** `rows` unit vectors: centre + N(0, I) with centres ~ N(0, I) (one of `clusters`), or N(0, I) for clusters = 0. */
function unitRows(rows: number, cols: number, clusters: number, seed: number): Matrix {
  const centres = new Rng(1).fillNormal(new Float32Array(clusters * cols), 1);
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const c = clusters > 0 ? rng.int(clusters) : -1;
    let norm = 0;
    for (let d = 0; d < cols; d++) {
      const x = rng.normal() + (c >= 0 ? centres[c * cols + d] : 0);
      data[r * cols + d] = x;
      norm += x * x;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < cols; d++) data[r * cols + d] *= scale;
  }
  return { data, rows, cols };
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const round = (x: number, digits = 3) => +x.toFixed(digits);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** p50/p99 single-query latency in ms (one warm-up query first), and the rows returned per query. */
async function latency(index: Retriever, queries: Matrix, k: number, filter?: SearchFilter) {
  const q = (j: number) => queries.data.subarray(j * queries.cols, (j + 1) * queries.cols);
  await index.search(q(0), k, filter);
  const times: number[] = [];
  const rows: Int32Array[] = [];
  for (let j = 0; j < queries.rows; j++) {
    const start = process.hrtime.bigint();
    rows.push((await index.search(q(j), k, filter)).rows);
    times.push(ms(start));
  }
  times.sort((a, b) => a - b);
  return { p50_ms: round(percentile(times, 0.5)), p99_ms: round(percentile(times, 0.99)), rows };
}

export async function searchBench(options: SearchBenchOptions) {
  let o = options;
  let catalog: Matrix;
  let queries: Matrix;
  if (o.model) {
    o.log(`search: vectors of the model in ${o.model}`);
    ({ catalog, queries } = modelVectors(o.model, o.queries));
    o = { ...o, n: catalog.rows, dim: catalog.cols, queries: queries.rows, clusters: 0 };
  } else {
    o.log(`search: generating ${o.n.toLocaleString('en')} × ${o.dim} unit vectors (not timed)`);
    catalog = unitRows(o.n, o.dim, o.clusters, 2);
    queries = unitRows(o.queries, o.dim, o.clusters, 3);
  }
  const k = 10;

  // Exact search latency against catalog size (prefixes of the same catalog).
  const bySize: Record<string, { p50_ms: number; p99_ms: number }> = {};
  for (const n of [...new Set([10_000, 100_000, o.n])].filter((n) => n < o.n).concat(o.n)) {
    o.log(`search: exact top-${k} over ${n.toLocaleString('en')} products`);
    const { p50_ms, p99_ms } = await latency(new ExactRetriever({ ...catalog, rows: n }), queries, k);
    bySize[n] = { p50_ms, p99_ms };
  }
  const rssBefore = process.memoryUsage().rss;
  const exact = new ExactRetriever(catalog);
  const exactRss = process.memoryUsage().rss - rssBefore;
  const plain = await latency(exact, queries, k);
  // Filters as serving applies them: half the catalog available, 50 purchases excluded.
  const allow = Uint8Array.from({ length: o.n }, (_, r) => r % 2);
  const exclude = Int32Array.from({ length: 50 }, (_, j) => j * 7919 % o.n);
  const filtered = await latency(exact, queries, k, { allow, exclude });
  // 64 queries as one searchBatch call, and as 64 concurrent search() calls (coalesced by the retriever).
  const batch = 64;
  const batchQueries = unitRows(batch, o.dim, o.clusters, 4).data;
  await exact.searchBatch(batchQueries, k);
  let start = process.hrtime.bigint();
  await exact.searchBatch(batchQueries, k);
  const batchMs = ms(start);
  start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: batch }, (_, j) => exact.search(batchQueries.subarray(j * o.dim, (j + 1) * o.dim), k)));
  const concurrentMs = ms(start);

  o.log(`search: building HNSW over ${o.n.toLocaleString('en')} products (${o.threads} threads)`);
  const rssHnsw = process.memoryUsage().rss;
  start = process.hrtime.bigint();
  const hnswOptions = { ...HNSW_DEFAULTS, ...o.hnsw };
  const hnsw = new HnswRetriever(catalog, { ...hnswOptions, threads: o.threads });
  const buildSeconds = ms(start) / 1000;
  const hnswRss = process.memoryUsage().rss - rssHnsw;
  const approx = await latency(hnsw, queries, k);
  const approxFiltered = await latency(hnsw, queries, k, { allow, exclude });
  const recall = (found: Int32Array[]) => {
    let hits = 0;
    plain.rows.forEach((truth, j) => {
      const want = new Set(truth);
      for (const r of found[j]) if (want.has(r)) hits++;
    });
    return round(hits / (k * o.queries));
  };
  // The run-time knob: more rows asked from the graph per query.
  const byCandidates: Record<string, { p50_ms: number; p99_ms: number; recall_at_10: number }> = {};
  for (const candidates of [256, 512]) {
    hnsw.candidates = candidates;
    const run = await latency(hnsw, queries, k);
    byCandidates[candidates] = { p50_ms: run.p50_ms, p99_ms: run.p99_ms, recall_at_10: recall(run.rows) };
  }
  return {
    ...(o.model ? { model: o.model } : {}), products: o.n, dim: o.dim, clusters: o.clusters, k, queries: o.queries,
    exact: {
      p50_ms: plain.p50_ms, p99_ms: plain.p99_ms,
      filtered_p50_ms: filtered.p50_ms, filtered_p99_ms: filtered.p99_ms,
      batch64_ms_per_query: round(batchMs / batch), concurrent64_ms_per_query: round(concurrentMs / batch),
      by_catalog_size: bySize,
      rss_mb: mb(exactRss), vectors_mb_per_million: round((4 * o.dim * 1e6) / 2 ** 20, 0),
    },
    hnsw: {
      connectivity: hnswOptions.connectivity, expansion_add: hnswOptions.expansionAdd, expansion_search: hnswOptions.expansionSearch, build_s: round(buildSeconds, 1), build_products_per_s: Math.round(o.n / buildSeconds),
      p50_ms: approx.p50_ms, p99_ms: approx.p99_ms, filtered_p50_ms: approxFiltered.p50_ms, filtered_p99_ms: approxFiltered.p99_ms,
      recall_at_10: recall(approx.rows), speedup_p50: round(plain.p50_ms / approx.p50_ms, 1),
      by_candidates: byCandidates,
      rss_mb: mb(hnswRss), note: 'rss_mb: graph + usearch vectors + the exact copy used for rescoring and selective filters',
    },
  };
}
