// A learned low-rank Mahalanobis distance between product vectors (McAuley et al. 2015, IBR's §3):
// d(i, j) = ||Y(x_i − x_j)||², Y of rank K (K × I), P(related | i, j) = σ(c − d(i, j)), fitted by logistic loss on
// co-purchased (positive) and random (negative) training pairs with minibatch Adam. IBR learns it on image features
// (baselines/ibr.ts); VASG's similar-items space learns it on the product embeddings (similar-space.ts). Every pass
// over the vectors is a GEMM (native.sgemm) on the pairs' differences Δ = f_a − f_b, gathered by copy: Z = Δ·Yᵀ, and
// the gradient is Wᵀ·Δ (half the work of projecting both rows of each pair); JS only touches K-wide projections.
import { native } from '../native.js';
import type { Features, Matrix, Split } from '../data/types.js';
import { isHalf } from '../data/features.js';
import { featuresTimes } from './matrix.js';
import { Rng } from '../data/random.js';
import { coPurchasedPairs, pairKey } from '../core/pairs.js';
import { silentProgress, type Progress } from '../progress.js';

/** What the metric learner needs (IBR's option table and VASG's similar-space options both give it). */
export interface PairMetricConfig {
  /** Rank K of the projection Y. */
  rank: number;
  /** Passes over the positive pairs (each positive batch is matched by as many fresh random negatives). */
  epochs: number;
  /** Pairs per minibatch, half positive and half negative. */
  batchSize: number;
  /** Adam learning rate of Y and c (the first step's, with `decay`). */
  lr: number;
  /** Learning rate falling linearly to 0 over the fit's steps, instead of constant. */
  decay?: boolean;
  /** L2 penalty λ·||Y||² added to the mean loss. */
  l2: number;
  /** Upper bound on the positive pairs used (sampled uniformly). */
  maxPairs: number;
  seed: number;
}

/**
 * The learner's input rows, read only as pair differences: feature rows (IBR: the image features), or rows assembled
 * from two parts held once (the similar-items space: two views of each product's embedding next to one copy of its
 * features): row r = [head row r ; tail row r mod tail.rows]. Feature rows stay in their storage type (float16 is
 * widened per value in the native kernel) and are scaled per row as they are read, so no scaled copy is held.
 */
export interface PairRows {
  rows: number;
  cols: number;
  head: Matrix | null;
  tail: ScaledRows | null;
}

/** Feature rows read as float32(weight · float32(x · scale[r])) for each value x of row r; scale null: as they are. */
export interface ScaledRows {
  features: Features;
  scale: Float64Array | null;
  weight: number;
}

/** Feature rows (either storage type) as the learner's input. */
export function matrixRows(m: Features): PairRows {
  return { rows: m.rows, cols: m.cols, head: null, tail: { features: m, scale: null, weight: 1 } };
}

/** out[p] = row first[p] − row second[p] for p < count ([count × cols]), in native code. */
export function pairDifferences(rows: PairRows, first: Int32Array, second: Int32Array, count: number, out: Float32Array): void {
  const { head, tail } = rows;
  const f = tail?.features;
  native.pairDifferences(first, second, count, head?.data ?? null, head?.cols ?? 0, f ? (isHalf(f) ? f.half : f.data) : null,
    f?.cols ?? 0, f?.rows ?? 1, tail?.scale ?? null, tail?.weight ?? 1, out);
}

/** Y·u for each row of `input` ([n × I] → [n × rank]): the rows of a fitted space, projected a block of rows at a time. */
export function projectRows(projection: Matrix, input: Features): Matrix {
  if (input.cols !== projection.cols) throw new Error(`pair metric: the projection takes ${projection.cols} columns, got ${input.cols}`);
  const K = projection.rows;
  const out = new Float32Array(input.rows * K);
  featuresTimes(input, projection.data, K, out, true);
  return { data: out, rows: input.rows, cols: K };
}

/** A fitted distance. */
export interface PairMetric {
  /** Y, [rank × I] row-major. */
  projection: Matrix;
  /** Offset c of σ(c − d). */
  offset: number;
  /** Mean logistic loss per epoch. */
  log: number[];
}

/** Row-major pairs with labels (1 = related); the features are [products × I]. */
export interface LabelledPairs {
  first: Int32Array;
  second: Int32Array;
  labels: Uint8Array;
}

export interface PairMetricLossGrad {
  /** Mean logistic loss −log σ(±(c − d)) over the pairs (without the L2 term). */
  loss: number;
  /** d loss / d Y, [rank × I]. */
  gradY: Float32Array;
  gradC: number;
}

/** d(i, j) = ||Y(f_i − f_j)||² for each pair, in batches of GEMMs. */
export function pairDistances(model: Pick<PairMetric, 'projection'>, features: PairRows, first: Int32Array, second: Int32Array, batch = 1024): Float32Array {
  const { rows: K } = model.projection;
  const out = new Float32Array(first.length);
  const scratch = new PairScratch(Math.min(batch, first.length), K, model.projection.cols);
  for (let start = 0; start < first.length; start += batch) {
    const end = Math.min(first.length, start + batch);
    const { diff } = project(model.projection, features, first.subarray(start, end), second.subarray(start, end), scratch);
    for (let p = 0; p < end - start; p++) {
      let d = 0;
      for (let k = 0; k < K; k++) d += diff[p * K + k] ** 2;
      out[start + p] = d;
    }
  }
  return out;
}

/**
 * Buffers of one batch size, reused across a fit's batches: on `men` a batch's differences are 512 × 4,196 floats,
 * and allocating them per batch cost a tenth of the fit.
 */
export class PairScratch {
  readonly differences: Float32Array;
  readonly diff: Float32Array;
  readonly weighted: Float32Array;
  readonly gradY: Float32Array;

  constructor(readonly batch: number, rank: number, cols: number) {
    this.differences = new Float32Array(batch * cols);
    this.diff = new Float32Array(batch * rank);
    this.weighted = new Float32Array(batch * rank);
    this.gradY = new Float32Array(rank * cols);
  }
}

/** Mean logistic loss of σ(c − d) and its gradient with respect to Y and c (gradY is the scratch's buffer when given). */
export function pairMetricLossGrad(projection: Matrix, offset: number, features: PairRows, pairs: LabelledPairs,
  scratch = new PairScratch(pairs.first.length, projection.rows, projection.cols)): PairMetricLossGrad {
  const { rows: K, cols: I } = projection;
  const B = pairs.first.length;
  const { differences, diff } = project(projection, features, pairs.first, pairs.second, scratch);
  // W = w ⊙ Z with w_p = d loss/d d_p · 2, so that grad Y = Wᵀ Δ.
  const weighted = scratch.weighted.subarray(0, B * K);
  let loss = 0;
  let gradC = 0;
  for (let p = 0; p < B; p++) {
    let d = 0;
    for (let k = 0; k < K; k++) d += diff[p * K + k] ** 2;
    const z = offset - d;
    const y = pairs.labels[p] ? 1 : 0;
    // −log σ(z) for positives, −log σ(−z) for negatives, computed stably.
    const margin = y ? z : -z;
    loss += margin > 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin));
    const dz = sigmoid(z) - y; // d loss / d z
    gradC += dz / B;
    const w = (-dz * 2) / B; // d loss / d d = −dz; d d / d Z_p = 2 Z_p
    for (let k = 0; k < K; k++) weighted[p * K + k] = w * diff[p * K + k];
  }
  const { gradY } = scratch;
  native.sgemm(true, false, K, I, B, 1, weighted, K, differences, I, 0, gradY, I);
  return { loss: loss / B, gradY, gradC };
}

/**
 * A second version of every product's vector, rows n…2n−1 of `vectors` (n products): each product of a training pair
 * is read from its second row with this probability. VASG's similar-items space uses it so that the distance also
 * knows products whose embedding comes from the encoder (cold and new ones), not only learned warm embeddings.
 */
export interface SecondView {
  probability: number;
}

/**
 * Fits the distance on `vectors` (one row per product of the split, two with `secondView`): positives are the
 * co-purchased pairs of split.train (minus `exclude`, e.g. the pairs a relation evaluation will score), negatives are
 * fresh uniform pairs of warm products never co-purchased (and not in `exclude`). Deterministic for config.seed; the
 * caller sets BLAS threads.
 */
export function fitPairMetric(split: Split, vectors: PairRows, config: PairMetricConfig, exclude: Set<number> = new Set(),
  progress: Progress = silentProgress, label = 'pair metric', secondView?: SecondView): PairMetric {
  const rng = new Rng(config.seed);
  const view = (i: number) => (secondView && rng.next() < secondView.probability ? i + n : i);
  const features = vectors;
  const n = split.itemIds.length;
  if (vectors.rows !== (secondView ? 2 * n : n)) throw new Error(`${label}: ${vectors.rows} vector rows for ${n} products${secondView ? ' (two views each)' : ''}`);
  const I = features.cols;
  const K = config.rank;
  const copurchased = coPurchasedPairs(split);
  const keys = Float64Array.from(Array.from(copurchased).filter((key) => !exclude.has(key)));
  rng.shuffle(keys);
  const positives = keys.subarray(0, Math.min(keys.length, config.maxPairs));
  if (positives.length === 0) throw new Error(`${label}: no co-purchased training pairs to learn from`);
  const warm: number[] = [];
  for (let i = 0; i < split.warm.length; i++) if (split.warm[i]) warm.push(i);

  // Scale Y so that distances start near 1: E||YΔ||² = K σ² E||Δ||².
  const probe = 256;
  const probeFirst = new Int32Array(probe);
  const probeSecond = new Int32Array(probe);
  for (let t = 0; t < probe; t++) {
    probeFirst[t] = warm[rng.int(warm.length)];
    probeSecond[t] = warm[rng.int(warm.length)];
  }
  const probeDifferences = new Float32Array(probe * I);
  pairDifferences(features, probeFirst, probeSecond, probe, probeDifferences);
  let meanSq = 0;
  for (const d of probeDifferences) meanSq += d * d;
  meanSq = Math.max(meanSq / probe, 1e-12);
  const Y = new Float32Array(K * I);
  rng.fillNormal(Y, 1 / Math.sqrt(K * meanSq));
  const projection: Matrix = { data: Y, rows: K, cols: I };
  let offset = 1;

  const half = Math.max(1, Math.floor(config.batchSize / 2));
  const adamY = new Adam(Y.length);
  const adamC = new Adam(1);
  const cParam = new Float32Array(1);
  const cGrad = new Float32Array(1);
  const log: number[] = [];
  const scratch = new PairScratch(2 * half, K, I);
  const steps = config.epochs * Math.ceil(positives.length / half);
  let step = 0;
  progress.start(label, config.epochs);
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    rng.shuffle(positives);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < positives.length; start += half) {
      const nPos = Math.min(half, positives.length - start);
      const B = 2 * nPos;
      const batch: LabelledPairs = { first: new Int32Array(B), second: new Int32Array(B), labels: new Uint8Array(B) };
      for (let p = 0; p < nPos; p++) {
        const key = positives[start + p];
        batch.first[p] = view(Math.floor(key / 67108864));
        batch.second[p] = view(key % 67108864);
        batch.labels[p] = 1;
      }
      for (let p = nPos; p < B; ) {
        const i = warm[rng.int(warm.length)];
        const j = warm[rng.int(warm.length)];
        if (i === j || copurchased.has(pairKey(i, j)) || exclude.has(pairKey(i, j))) continue;
        batch.first[p] = view(i);
        batch.second[p] = view(j);
        p++;
      }
      const { loss, gradY, gradC } = pairMetricLossGrad(projection, offset, features, batch, scratch);
      if (config.l2 > 0) for (let k = 0; k < Y.length; k++) gradY[k] += 2 * config.l2 * Y[k];
      const lr = config.decay ? config.lr * (1 - step / steps) : config.lr;
      step++;
      adamY.step(Y, gradY, lr);
      cParam[0] = offset;
      cGrad[0] = gradC;
      adamC.step(cParam, cGrad, lr);
      offset = cParam[0];
      lossSum += loss;
      batches++;
    }
    log.push(lossSum / batches);
    progress.update(epoch + 1, `loss ${log[epoch].toFixed(4)}`);
  }
  progress.finish(log.length ? `loss ${log[log.length - 1].toFixed(4)}` : undefined);
  return { projection, offset, log };
}

/** The pairs' row differences Δ = F_a − F_b [B × I] and Z = Δ·Yᵀ [B × K], in the scratch's buffers. */
function project(projection: Matrix, features: PairRows, first: Int32Array, second: Int32Array,
  scratch: PairScratch): { differences: Float32Array; diff: Float32Array } {
  const { rows: K, cols: I } = projection;
  if (features.cols !== I) throw new Error(`pair metric: vectors have ${features.cols} columns, the projection expects ${I}`);
  const B = first.length;
  if (B > scratch.batch) throw new Error(`pair metric: a batch of ${B} pairs, the scratch holds ${scratch.batch}`);
  const differences = scratch.differences.subarray(0, B * I);
  pairDifferences(features, first, second, B, differences);
  const diff = scratch.diff.subarray(0, B * K);
  native.sgemm(false, true, B, K, I, 1, differences, I, projection.data, I, 0, diff, K);
  return { differences, diff };
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Adam with the usual defaults (β1 0.9, β2 0.999, ε 1e-8), bias-corrected; the update runs natively. */
class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(size: number) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  step(params: Float32Array, grad: Float32Array, lr: number): void {
    native.adamStep(params, grad, this.m, this.v, ++this.t, lr, 0.9, 0.999, 1e-8);
  }
}
