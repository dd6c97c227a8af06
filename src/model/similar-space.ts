// VASG's similar-items space ("customers also bought", /items/{id}/similar, Table 3): a learned distance
// d(i, j) = ||Y(u_i − u_j)||² (pair-metric.ts, IBR's learner) over u_i = [x̂_i; w·f̂_i], the product's unit-length
// embedding next to its image features scaled to length w, fitted on co-purchased training pairs. The embedding carries
// what purchases taught the model, the features what IBR sees; a product whose embedding comes from the encoder (cold
// and new products) has both halves too, and the fit sees such embeddings for warm products as well (a second view),
// so that it knows them. It leaves every user–product score unchanged: only similar items rank by it.
// Measurements and the variants tried: docs/relations.md.
import { native } from '../native.js';
import type { Features, Matrix, Split } from '../data/types.js';
import { featureBlock, forEachFeatureBlock } from '../data/features.js';
import { distanceRows, type ItemSimilarity } from '../core/pairs.js';
import { withBlasThreads } from '../core/blas.js';
import { silentProgress, type Progress } from '../progress.js';
import { fitPairMetric, type PairMetricConfig, type PairRows, type ScaledRows } from './pair-metric.js';
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

/**
 * The learner's settings: IBR's rank 100, batch and pair cap, with Adam's rate starting at 5e-3 and falling linearly to
 * 0 (IBR's constant 1e-3 needs 10 passes; this schedule reaches a better fit in 6, docs/relations.md); the seed
 * follows the model's.
 */
export function similarMetricConfig(config: TrainConfig): PairMetricConfig {
  return { rank: config.similarRank, epochs: config.similarEpochs, batchSize: 512, lr: 5e-3, decay: true, l2: 0, maxPairs: 200000, seed: config.seed + 41 };
}

/** The halves of u = [x̂; w·f̂] for a set of products: unit-length embeddings, image features scaled to length w. */
interface SimilarHalves {
  /** x̂ [views·n × dim]: row v·n + i is view v of product i. */
  embeddings: Matrix;
  /** w·f̂ [n × I] for every view: the features as held, scaled per row as they are read (no scaled copy). */
  features: ScaledRows & { scale: Float64Array };
}

function similarHalves(views: Matrix[], features: Features): SimilarHalves {
  for (const v of views) {
    if (v.rows !== features.rows) throw new Error(`similar-items space: ${v.rows} embeddings but ${features.rows} feature rows`);
  }
  const dim = views[0].cols;
  const embeddings = new Float32Array(views.length * features.rows * dim);
  views.forEach((v, k) => embeddings.set(normalizeRows(v).data, k * features.rows * dim));
  const I = features.cols;
  const scale = new Float64Array(features.rows);
  forEachFeatureBlock(features, (block, r0, rows) => {
    for (let r = 0; r < rows; r++) {
      let norm = 0;
      for (let c = 0; c < I; c++) norm += block[r * I + c] ** 2;
      scale[r0 + r] = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    }
  });
  return { embeddings: { data: embeddings, rows: views.length * features.rows, cols: dim }, features: { features, scale, weight: FEATURE_WEIGHT } };
}

/** The learner's rows u: [x̂ of the row's view; w·f̂ of its product], read as differences without a copy of each u. */
function similarRows({ embeddings, features }: SimilarHalves): PairRows {
  return { rows: embeddings.rows, cols: embeddings.cols + features.features.cols, head: embeddings, tail: features };
}

/** Rows of u assembled per block for projecting (17 MB at I = 4096, instead of a whole [n × (dim + I)] copy). */
const PROJECT_BLOCK = 1024;

/** Y·u_i for the products of `halves`' first view ([n × rank]), u assembled block by block. */
function projectHalves(projection: Matrix, { embeddings, features: { features, scale, weight } }: SimilarHalves): Matrix {
  const dim = embeddings.cols;
  const I = features.cols;
  const cols = dim + I;
  if (cols !== projection.cols) throw new Error(`similar-items space: the projection takes ${projection.cols} columns, got ${cols}`);
  const n = features.rows;
  const K = projection.rows;
  const out = new Float32Array(n * K);
  const block = new Float32Array(Math.min(PROJECT_BLOCK, n) * cols);
  const widened = new Float32Array(Math.min(PROJECT_BLOCK, n) * I);
  for (let r0 = 0; r0 < n; r0 += PROJECT_BLOCK) {
    const rows = Math.min(PROJECT_BLOCK, n - r0);
    const values = featureBlock(features, r0, r0 + rows, widened);
    for (let r = 0; r < rows; r++) {
      block.set(embeddings.data.subarray((r0 + r) * dim, (r0 + r + 1) * dim), r * cols);
      // As the native pair differences read the tail: the unit-length value rounded to float32 before the weight.
      const s = scale[r0 + r];
      for (let c = 0; c < I; c++) block[r * cols + dim + c] = weight * Math.fround(values[r * I + c] * s);
    }
    native.sgemm(false, true, rows, K, cols, 1, block, cols, projection.data, cols, 0, out.subarray(r0 * K, (r0 + rows) * K), K);
  }
  return { data: out, rows: n, cols: K };
}

/** Y·u_i of products given by their embeddings and image features (products placed in a fitted space). */
export function projectProducts(projection: Matrix, embeddings: Matrix, features: Features): Matrix {
  return projectHalves(projection, similarHalves([embeddings], features));
}

/**
 * Fits the space on a trained model's product embeddings `items` (one per product of the split), the encoder's
 * embedding of every product's features `encoded` (the second view) and the split's image features, never learning
 * from the pairs in `exclude`. Null when config.similar is "embedding" (similar items by the embeddings' cosine).
 */
export function fitSimilarSpace(split: Split, items: Matrix, encoded: Matrix, config: TrainConfig, exclude: Set<number> = new Set(),
  progress: Progress = silentProgress): SimilarSpace | null {
  if (config.similar === 'embedding') return null;
  const halves = similarHalves([items, encoded], split.features);
  return withBlasThreads(config.threads, () => {
    const { projection } = fitPairMetric(split, similarRows(halves), similarMetricConfig(config), exclude, progress, 'similar-items space', { probability: ENCODER_VIEW });
    return { projection, rows: projectHalves(projection, halves) };
  });
}

/** A space with a given Y (an incremental run's previous one): every product's row Y·u_i, nothing fitted. */
export function placeInSimilarSpace(projection: Matrix, items: Matrix, features: Features): SimilarSpace {
  return { projection, rows: projectProducts(projection, items, features) };
}

/**
 * The similarity similar items rank by: in a similar-items space, −|Y u_i − Y u_j|²/2 as an inner product
 * (distanceRows); without one, the dot product of the scoring rows `items` (their cosine under cosine scoring).
 */
export function similarityOf(items: Matrix, space: SimilarSpace | null | undefined): ItemSimilarity {
  return space ? distanceRows(space.rows) : { queries: items, items };
}
