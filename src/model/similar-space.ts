// VASG's similar-items space ("customers also bought", /items/{id}/similar, Table 3): a learned distance
// d(i, j) = ||Y(u_i − u_j)||² (pair-metric.ts, IBR's learner) over u_i = [x̂_i; w·f̂_i], the product's unit-length
// embedding next to its image features scaled to length w, fitted on co-purchased training pairs. The embedding carries
// what purchases taught the model, the features what IBR sees; a product whose embedding comes from the encoder (cold
// and new products) has both halves too, and the fit sees such embeddings for warm products as well (a second view),
// so that it knows them. It leaves every user–product score unchanged: only similar items rank by it.
// Measurements and the variants tried: docs/relations.md.
import { native } from '../native.js';
import type { Matrix, Split } from '../data/types.js';
import { distanceRows, type ItemSimilarity } from '../core/pairs.js';
import { withBlasThreads } from '../core/blas.js';
import { silentProgress, type Progress } from '../progress.js';
import { fitPairMetric, type PairMetricConfig } from './pair-metric.js';
import { normalizeRows } from './matrix.js';
import type { TrainConfig } from './config.js';

/** A fitted similar-items space: Y, and every product's Y·u_i (the model keeps no image features of its own). */
export interface SimilarSpace {
  /** Y [rank × (dim + I)]. */
  projection: Matrix;
  /** Y·u_i per product [items × rank], row order of the model's items. */
  rows: Matrix;
}

/** Share of training pairs whose products are read with their encoder embedding instead of the learned one. */
const ENCODER_VIEW = 0.3;

/** Length of the image-feature half of u against the embedding half's 1 (1, 2 and 3 measured: docs/relations.md). */
export const FEATURE_WEIGHT = 3;

/** The learner's settings: IBR's defaults (rank 100, 10 epochs, Adam 1e-3); the seed follows the model's. */
export function similarMetricConfig(config: TrainConfig): PairMetricConfig {
  return { rank: config.similarRank, epochs: config.similarEpochs, batchSize: 512, lr: 1e-3, l2: 0, maxPairs: 200000, seed: config.seed + 41 };
}

/** u = [x̂; w·f̂] per row: unit-length embeddings next to image features of length w = FEATURE_WEIGHT. */
export function similarInput(embeddings: Matrix, features: Matrix): Matrix {
  const out = { data: new Float32Array(embeddings.rows * (embeddings.cols + features.cols)), rows: embeddings.rows, cols: embeddings.cols + features.cols };
  fillSimilarInput(embeddings, features, out.data);
  return out;
}

/** Writes similarInput's rows into `out` (so that two views share one allocation: on `men` each is ≈ 1 GB). */
function fillSimilarInput(embeddings: Matrix, features: Matrix, out: Float32Array): void {
  if (embeddings.rows !== features.rows) throw new Error(`similar-items space: ${embeddings.rows} embeddings but ${features.rows} feature rows`);
  const x = normalizeRows(embeddings);
  const cols = x.cols + features.cols;
  for (let i = 0; i < x.rows; i++) {
    out.set(x.data.subarray(i * x.cols, (i + 1) * x.cols), i * cols);
    const row = features.data.subarray(i * features.cols, (i + 1) * features.cols);
    let norm = 0;
    for (let c = 0; c < features.cols; c++) norm += row[c] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    // The unit-length feature is rounded to float32 before the weight, as normalizeRows' output was.
    for (let c = 0; c < features.cols; c++) out[i * cols + x.cols + c] = FEATURE_WEIGHT * Math.fround(row[c] * scale);
  }
}

/** Y·u for each row of `input` ([n × (dim + I)] → [n × rank]). */
export function projectRows(projection: Matrix, input: Matrix): Matrix {
  if (input.cols !== projection.cols) throw new Error(`similar-items space: the projection takes ${projection.cols} columns, got ${input.cols}`);
  const K = projection.rows;
  const out = new Float32Array(input.rows * K);
  if (input.rows > 0) native.sgemm(false, true, input.rows, K, input.cols, 1, input.data, input.cols, projection.data, input.cols, 0, out, K);
  return { data: out, rows: input.rows, cols: K };
}

/**
 * Fits the space on a trained model's product embeddings `items` (one per product of the split), the encoder's
 * embedding of every product's features `encoded` (the second view) and the split's image features, never learning
 * from the pairs in `exclude`. Null when config.similar is "embedding" (similar items by the embeddings' cosine).
 */
export function fitSimilarSpace(split: Split, items: Matrix, encoded: Matrix, config: TrainConfig, exclude: Set<number> = new Set(),
  progress: Progress = silentProgress): SimilarSpace | null {
  if (config.similar === 'embedding') return null;
  const n = items.rows;
  const cols = items.cols + split.features.cols;
  const views: Matrix = { data: new Float32Array(2 * n * cols), rows: 2 * n, cols };
  fillSimilarInput(items, split.features, views.data.subarray(0, n * cols));
  fillSimilarInput(encoded, split.features, views.data.subarray(n * cols));
  return withBlasThreads(config.threads, () => {
    const { projection } = fitPairMetric(split, views, similarMetricConfig(config), exclude, progress, 'similar-items space', { probability: ENCODER_VIEW });
    return { projection, rows: projectRows(projection, { data: views.data.subarray(0, n * cols), rows: n, cols }) };
  });
}

/** A space with a given Y (an incremental run's previous one): every product's row Y·u_i, nothing fitted. */
export function placeInSimilarSpace(projection: Matrix, items: Matrix, features: Matrix): SimilarSpace {
  return { projection, rows: projectRows(projection, similarInput(items, features)) };
}

/**
 * The similarity similar items rank by: in a similar-items space, −|Y u_i − Y u_j|²/2 as an inner product
 * (distanceRows); without one, the dot product of the scoring rows `items` (their cosine under cosine scoring).
 */
export function similarityOf(items: Matrix, space: SimilarSpace | null | undefined): ItemSimilarity {
  return space ? distanceRows(space.rows) : { queries: items, items };
}
