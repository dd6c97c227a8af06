// Ranking refinement: after the joint skip-gram stage, a few BPR epochs (Rendle et al. 2009) on the
// training purchases tune the same parameters for what a recommender is judged on, ranking a
// user's products above the ones they did not buy: x_uij = X_u·(X_i − X_j) with X_p = a_p + E·f̃_p.
// Skip-gram learns from walk co-occurrence (user–user and product–product pairs included); BPR
// then adjusts users, free parts and E directly on user–product preferences. The space stays one:
// users and products keep their vectors, E still embeds cold products. On wide features E moves only within
// their top principal directions (`--rank-subspace`), so each step reads k coordinates per product, not I features.
import { native } from '../native.js';
import { Rng } from '../data/random.js';
import type { Features, Matrix, Split } from '../data/types.js';
import { featureDifferences } from '../data/features.js';
import { featuresTimes } from './matrix.js';
import type { Progress } from '../progress.js';
import { BprSampler, bprLoss, bprWeight, type BprBatch } from '../core/bpr-sampling.js';
import type { BipartiteGraph } from '../graph/graph.js';
import type { TrainConfig } from './config.js';
import type { VisualProjection } from './visual.js';
import { principalSubspace } from './subspace.js';

/** Triples per batch: one GEMM projects the batch's feature differences, one accumulates E's gradient. */
const BATCH = 256;
/** L2 weight of E per triple (as VBPR's λ_E), applied as a decay per batch. */
const REG_VISUAL = 4e-4;

/** Mean −ln σ(x_uij) per epoch. */
export type RankingLog = number[];

/** What one BPR step reads and updates. Product rows are indexed by `row[item]` (the warm product's node − nUsers). */
export interface RankingState {
  dim: number;
  /** [users × dim] user vectors X_u. */
  users: Float32Array;
  /** [warm products × dim] free parts a_p. */
  free: Float32Array;
  row: Int32Array;
  /**
   * What the visual term reads, null without it: the standardised features f̃ ([warm × I], rows as `free`) and E
   * ([I × dim]); or, when E moves only within a principal subspace P of the features, their coordinates z = f̃·P
   * ([warm × k]) and B ([k × dim]) with E = baseScale·E₀ + P·B, and `base` = f̃·E₀ ([warm × dim]).
   */
  features: Features | null;
  weights: Float32Array | null;
  base?: Float32Array;
  /** The decay owed by E₀ (B decays in place). */
  baseScale?: number;
}

/** Per-batch scratch buffers, allocated once. */
interface Scratch {
  diffs: Float32Array;
  /** The rows of both sides. */
  positives: Int32Array;
  negatives: Int32Array;
  visualTerm: Float32Array;
  grads: Float32Array;
  g: Float64Array;
}

function scratchFor(state: RankingState, batchSize: number): Scratch {
  const I = state.features?.cols ?? 0;
  const { dim } = state;
  return {
    diffs: new Float32Array(batchSize * I), positives: new Int32Array(batchSize),
    negatives: new Int32Array(batchSize), visualTerm: new Float32Array(batchSize * dim), grads: new Float32Array(batchSize * dim), g: new Float64Array(batchSize) };
}

/**
 * One minibatch of BPR ascent on Σ ln σ(x_uij), x_uij = X_u·(a_i − a_j + E·(f̃_i − f̃_j)). Scores and
 * weights g = σ(−x) come from the batch's starting parameters; then X_u, a_i, a_j take their SGD steps
 * with L2 weight `reg` per touch, and E ← (1 − lr·B·REG_VISUAL)·E + lr·Σ_b (f̃_i − f̃_j)·(g_b·X_u)ᵀ (one GEMM).
 * Returns Σ −ln σ(x).
 */
export function rankingStep(state: RankingState, batch: BprBatch, lr: number, reg: number,
  scratch: Scratch = scratchFor(state, batch.size)): number {
  const { dim, users, free, row, features, weights } = state;
  const B = batch.size;
  const I = features?.cols ?? 0;
  const { diffs, positives, negatives, visualTerm, grads, g } = scratch;
  if (features && weights) {
    for (let b = 0; b < B; b++) {
      positives[b] = row[batch.pos[b]];
      negatives[b] = row[batch.neg[b]];
    }
    featureDifferences(features, positives, negatives, B, diffs);
    native.sgemm(false, false, B, dim, I, 1, diffs, I, weights, dim, 0, visualTerm, dim);
    const { base, baseScale = 1 } = state;
    if (base) {
      for (let b = 0; b < B; b++) {
        const i = row[batch.pos[b]] * dim;
        const j = row[batch.neg[b]] * dim;
        for (let d = 0; d < dim; d++) visualTerm[b * dim + d] += baseScale * (base[i + d] - base[j + d]);
      }
    }
  } else {
    visualTerm.fill(0);
  }
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const u = batch.users[b] * dim;
    const i = row[batch.pos[b]] * dim;
    const j = row[batch.neg[b]] * dim;
    let x = 0;
    for (let d = 0; d < dim; d++) x += users[u + d] * (free[i + d] - free[j + d] + visualTerm[b * dim + d]);
    loss += bprLoss(x);
    g[b] = bprWeight(x) * (batch.weight ? batch.weight[b] : 1);
    for (let d = 0; d < dim; d++) grads[b * dim + d] = g[b] * users[u + d];
  }
  for (let b = 0; b < B; b++) {
    const u = batch.users[b] * dim;
    const i = row[batch.pos[b]] * dim;
    const j = row[batch.neg[b]] * dim;
    for (let d = 0; d < dim; d++) {
      const xu = users[u + d];
      const diff = free[i + d] - free[j + d] + visualTerm[b * dim + d];
      users[u + d] += lr * (g[b] * diff - reg * xu);
      free[i + d] += lr * (g[b] * xu - reg * free[i + d]);
      free[j + d] += lr * (-g[b] * xu - reg * free[j + d]);
    }
  }
  if (features && weights) {
    const decay = 1 - lr * B * REG_VISUAL;
    native.sgemm(true, false, I, dim, B, lr, diffs, I, grads, dim, decay, weights, dim);
    if (state.base) state.baseScale = (state.baseScale ?? 1) * decay;
  }
  return loss;
}

/**
 * Dynamic negative sampling (Zhang et al. 2013): each triple's negative becomes the highest-scoring of `k`
 * uniform draws, so the updates go to the products that crowd the top of the user's list, as WARP's do. Scores
 * use the free parts and E·f̃ as of the epoch's start (`visualTerm`; empty without the visual term).
 */
export function hardestNegatives(state: RankingState, visualTerm: Float32Array, sampler: BprSampler, rng: Rng, batch: BprBatch, k: number): void {
  const { dim, users, free, row } = state;
  const score = (u: number, item: number) => {
    const i = row[item] * dim;
    let x = 0;
    for (let d = 0; d < dim; d++) x += users[u + d] * (free[i + d] + (visualTerm.length > 0 ? visualTerm[i + d] : 0));
    return x;
  };
  for (let b = 0; b < batch.size; b++) {
    const u = batch.users[b] * dim;
    let best = batch.neg[b];
    let bestScore = score(u, best);
    for (let t = 1; t < k; t++) {
      const j = sampler.negative(rng, batch.users[b]);
      const x = score(u, j);
      if (x > bestScore) {
        best = j;
        bestScore = x;
      }
    }
    batch.neg[b] = best;
  }
}

/**
 * Runs `config.rankEpochs` BPR epochs in place on the graph's node vectors (users, then warm products
 * holding a_p + E·f̃_p) and on E. Negatives are uniform over warm products the user did not buy.
 */
export function refineForRanking(split: Split, graph: BipartiteGraph, vectors: Float32Array, visual: VisualProjection | null,
  config: TrainConfig, progress: Progress): RankingLog {
  const dim = config.dim;
  const nUsers = graph.nUsers;
  const products = vectors.subarray(nUsers * dim);
  const projected = new Float32Array(products.length);
  // Work on the free parts; the products' vectors are rebuilt from them and the new E at the end.
  if (visual) {
    visual.project(projected);
    for (let k = 0; k < products.length; k++) products[k] -= projected[k];
  }
  const subspace = visual ? visualSubspace(visual, config.rankSubspace, config.seed) : null;
  const state: RankingState = {
    dim,
    users: vectors.subarray(0, nUsers * dim),
    free: products,
    row: Int32Array.from(graph.itemNode, (node) => node - nUsers),
    features: subspace?.coordinates ?? visual?.standardizedFeatures ?? null,
    weights: subspace?.weights ?? visual?.weights ?? null,
    ...(subspace ? { base: projected, baseScale: 1 } : {}),
  };
  const sampler = new BprSampler(split);
  const rng = new Rng(config.seed + 53);
  const scratch = scratchFor(state, BATCH);
  const log: RankingLog = [];
  const epochVisual = new Float32Array(visual && config.rankNegatives > 1 ? products.length : 0);
  for (let epoch = 0; epoch < config.rankEpochs; epoch++) {
    progress.start(`ranking ${epoch + 1}/${config.rankEpochs}`, sampler.pairUsers.length);
    let loss = 0;
    let done = 0;
    if (epochVisual.length > 0) projectVisual(state, epochVisual);
    for (const batch of sampler.epoch(rng, BATCH)) {
      if (config.rankNegatives > 1) hardestNegatives(state, epochVisual, sampler, rng, batch, config.rankNegatives);
      loss += rankingStep(state, batch, config.rankLr, config.rankReg, scratch);
      progress.update((done += batch.size));
    }
    log.push(loss / Math.max(1, sampler.pairUsers.length));
    if (!Number.isFinite(log[epoch])) {
      throw new Error(`ranking refinement diverged in epoch ${epoch + 1}: the BPR loss is ${log[epoch]}; try a lower --rank-lr (now ${config.rankLr})`);
    }
    progress.finish(`loss ${log[log.length - 1].toFixed(4)}`);
  }
  if (visual) {
    if (subspace) {
      const I = visual.standardizedFeatures.cols;
      const k = subspace.coordinates.cols;
      native.sgemm(false, false, I, dim, k, 1, subspace.basis, k, subspace.weights, dim, state.baseScale!, visual.weights, dim);
    }
    visual.project(projected);
    for (let k = 0; k < products.length; k++) products[k] += projected[k];
  }
  return log;
}

/**
 * With features wider than k = `config.rankSubspace` (src/model/subspace.ts): their principal subspace P, the
 * coordinates z = f̃·P of every warm product and B = 0 ([k × dim]), so that E = E₀ + P·B moves only within P. Null
 * when k is 0 or the features are no wider (E moves freely: each step costs no more than k columns anyway).
 */
function visualSubspace(visual: VisualProjection, k: number, seed: number): { basis: Float32Array; coordinates: Matrix; weights: Float32Array } | null {
  const features = visual.standardizedFeatures;
  if (k === 0 || features.cols <= k) return null;
  const basis = principalSubspace(features, k, seed + 59);
  const coordinates = new Float32Array(features.rows * k);
  featuresTimes(features, basis, k, coordinates);
  return { basis, coordinates: { data: coordinates, rows: features.rows, cols: k }, weights: new Float32Array(k * visual.dim) };
}

/** out = E·f̃_p for every warm product as the state holds it (the bias is left out: it shifts every product alike). */
function projectVisual(state: RankingState, out: Float32Array): void {
  const { features, weights, base, baseScale = 1, dim } = state;
  if (!features || !weights) return;
  featuresTimes(features, weights, dim, out);
  if (base) for (let k = 0; k < out.length; k++) out[k] += baseScale * base[k];
}
