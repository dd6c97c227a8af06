// VBPR (He & McAuley 2016): score(u, i) = β_i + γ_u·γ_i + θ_u·(E f_i) + β'·f_i, BPR-trained, with f_i the
// product's image features — the visual baseline of Table 2. Each batch crosses into BLAS twice: one GEMM
// projects the batch's feature differences f_i − f_j through [E; β'], one accumulates the gradient wrt [E; β'].
// Cold products are never sampled, so β_i = 0 and γ_i = 0 for them and only the visual terms score them.
import type { Features, Matrix, Split } from '../data/types.js';
import { featureDifferences, forEachFeatureBlock } from '../data/features.js';
import { featuresTimes } from '../model/matrix.js';
import { native } from '../native.js';
import { Rng } from '../data/random.js';
import { silentProgress, type Progress } from '../progress.js';
import type { FactorScorer } from '../core/factors.js';
import { BprSampler, bprLoss, bprOptionTable, bprWeight, runBprEpochs, type BprBatch, type BprOptions } from '../core/bpr-sampling.js';
import { withBlasThreads } from '../core/blas.js';
import { integer, number, option, resolveOptions, type OptionSpec } from '../core/options.js';
import { bprMfDiff, bprMfUpdate, initBprMf, type BprMfParams } from './bpr.js';

export interface VbprOptions extends BprOptions {
  /** Visual factors K' (rows of E, width of θ_u). */
  visual: number;
  /**
   * L2 weight λ_E of [E; β'] per triple, like `reg` (every triple touches E): each batch of B triples applies
   * [E; β'] ← (1 − lr·B·λ_E)·[E; β'] + lr·gradient. Needs lr·batchSize·regVisual < 1.
   */
  regVisual: number;
}

/**
 * Defaults measured on the `small` preset: warm AUC 0.89, cold 0.83 (MostPop: 0.83 warm). Without regVisual
 * E overfits (training loss keeps falling, warm AUC 0.87); 1e-3 starts to cost cold AUC.
 */
export const VBPR_OPTIONS: ReadonlyArray<OptionSpec<VbprOptions>> = [
  ...bprOptionTable<VbprOptions>({ latent: 20, epochs: 30, lr: 0.05, reg: 0.03, batchSize: 256 }),
  option<VbprOptions, 'visual'>('visual', '--visual-factors <n>', 'visual factors K\' (rows of E, width of θ_u)', 100, integer(0, 4096)),
  option<VbprOptions, 'regVisual'>('regVisual', '--reg-visual <x>', 'L2 weight of [E; β\'] per triple (needs lr·batch-size·reg-visual < 1)', 4e-4, number(0, 100)),
] as ReadonlyArray<OptionSpec<VbprOptions>>;

/**
 * VBPR parameters. `proj` is [E; β'], (visual + 1) × I row-major: its last row is β'. Features enter
 * multiplied by `featureScale` (1 / mean warm feature norm), which makes one learning rate fit any I.
 */
export interface VbprParams extends BprMfParams {
  visual: number;
  theta: Float32Array;
  proj: Float32Array;
  featureScale: number;
}

/** Scratch buffers of one batch size, allocated once per training run. */
export interface VbprScratch {
  /** Feature differences d_b = f_i − f_j of the batch, [B × I]. */
  diffs: Float32Array;
  /** featureScale·diffs·[E; β']ᵀ, [B × (K' + 1)]. */
  projected: Float32Array;
  /** d ln σ(x_b) / d (projected row b) = g_b·[θ_u; 1], [B × (K' + 1)]. */
  grads: Float32Array;
  weights: Float64Array;
}

export function vbprScratch(batchSize: number, visual: number, featureDim: number): VbprScratch {
  const w = visual + 1;
  return {
    diffs: new Float32Array(batchSize * featureDim),
    projected: new Float32Array(batchSize * w),
    grads: new Float32Array(batchSize * w),
    weights: new Float64Array(batchSize),
  };
}

/**
 * One minibatch of VBPR. With d = f_i − f_j: x_uij = β_i − β_j + γ_u·(γ_i − γ_j) + θ_u·(E d) + β'·d, so
 * only the difference of the two products' features is ever projected (half the work of projecting both).
 * Scores and weights g = σ(−x) come from the batch's starting parameters; then
 * θ_u += lr·(g·E d − λθ_u), the BPR-MF part as in `bprMfUpdate`, and
 * [E; β'] ← (1 − lr·B·regVisual)·[E; β'] + lr·Σ_b g_b·[θ_u; 1]·d_bᵀ (a GEMM over the batch). Returns Σ −ln σ(x).
 */
export function vbprStep(p: VbprParams, features: Features, batch: BprBatch, lr: number, reg: number, regVisual: number,
  scratch: VbprScratch = vbprScratch(batch.size, p.visual, features.cols)): number {
  const { users, pos, neg, size: B } = batch;
  const I = features.cols;
  const V = p.visual;
  const W = V + 1;
  const { diffs, projected, grads, weights } = scratch;
  featureDifferences(features, pos, neg, B, diffs);
  native.sgemm(false, true, B, W, I, p.featureScale, diffs, I, p.proj, I, 0, projected, W);

  let loss = 0;
  for (let b = 0; b < B; b++) {
    const u = users[b];
    const row = b * W;
    let x = bprMfDiff(p, u, pos[b], neg[b]) + projected[row + V];
    for (let k = 0; k < V; k++) x += p.theta[u * V + k] * projected[row + k];
    loss += bprLoss(x);
    const g = (weights[b] = bprWeight(x));
    for (let k = 0; k < V; k++) grads[row + k] = g * p.theta[u * V + k];
    grads[row + V] = g;
  }

  for (let b = 0; b < B; b++) {
    const u = users[b];
    const g = weights[b];
    bprMfUpdate(p, u, pos[b], neg[b], g, lr, reg);
    const row = b * W;
    for (let k = 0; k < V; k++) {
      const t = p.theta[u * V + k];
      p.theta[u * V + k] += lr * (g * projected[row + k] - reg * t);
    }
  }
  // d x_b / d [E; β'] = [θ_u; 1]·(s·d_b)ᵀ, so the batch's gradient is gradsᵀ·diffs scaled by s.
  native.sgemm(true, false, W, I, B, lr * p.featureScale, grads, W, diffs, I, 1 - lr * B * regVisual, p.proj, I);
  return loss;
}

/** 1 / mean Euclidean norm of the warm products' features (1 when they are all zero). */
export function featureScale(split: Split): number {
  const { cols } = split.features;
  let sum = 0;
  let n = 0;
  forEachFeatureBlock(split.features, (data, r0, rows) => {
    for (let r = 0; r < rows; r++) {
      if (!split.warm[r0 + r]) continue;
      let sq = 0;
      for (let c = 0; c < cols; c++) sq += data[r * cols + c] ** 2;
      sum += Math.sqrt(sq);
      n++;
    }
  });
  return sum > 0 ? n / sum : 1;
}

export interface VbprResult {
  /** 'VBPR': users [γ_u, θ_u, 1, 1], items [γ_i, E f_i, β_i, β'·f_i]; cold products score by their visual terms alone. */
  scorer: FactorScorer;
  /** 'VBPR (visual only)': users [θ_u, 1], items [E f_i, β'·f_i] — the score VBPR gives every cold product, for all products. */
  visual: FactorScorer;
  /** Mean −ln σ(x_uij) per epoch. */
  losses: number[];
  /** The trained parameters (E and β' place new products: see `vbprItemMap`). */
  params: VbprParams;
}

/** Trains VBPR on the split's training pairs and image features. */
export function trainVbpr(split: Split, options: Partial<VbprOptions> = {}, progress: Progress = silentProgress): VbprResult {
  const o = resolveOptions('trainVbpr', VBPR_OPTIONS, options);
  const { features } = split;
  if (features.rows !== split.itemIds.length) {
    throw new Error(`trainVbpr: features have ${features.rows} rows, the split has ${split.itemIds.length} products`);
  }
  if (o.lr * o.batchSize * o.regVisual >= 1) {
    throw new Error(`trainVbpr: lr·batchSize·regVisual must be < 1 (the per-batch decay of E), got ${o.lr}·${o.batchSize}·${o.regVisual}`);
  }
  const I = features.cols;
  const rng = new Rng(o.seed);
  const init = rng.fork(1);
  const p: VbprParams = {
    ...initBprMf(split, o.latent, init),
    visual: o.visual,
    theta: init.fillNormal(new Float32Array(split.userIds.length * o.visual), 0.1),
    proj: new Float32Array((o.visual + 1) * I),
    featureScale: featureScale(split),
  };
  // E ~ N(0, 0.1²): E f has sd ≈ 0.1 for the scaled features; β' starts at 0.
  init.fillNormal(p.proj.subarray(0, o.visual * I), 0.1);
  const sampler = new BprSampler(split);
  const scratch = vbprScratch(o.batchSize, o.visual, I);
  return withBlasThreads(o.threads, () => {
    const losses = runBprEpochs('VBPR', sampler, o, rng.fork(2), progress,
      (batch) => vbprStep(p, features, batch, o.lr, o.reg, o.regVisual, scratch));
    return { ...vbprScorers(p, features, split.userIds.length), losses, params: p };
  });
}

/**
 * The linear map f ↦ (a new product's item row) = [0, s·E f, 0, s·β'·f] as an [I × (K + K' + 2)] matrix W (row = x·W):
 * a product nobody bought has γ_i = 0 and β_i = 0, so VBPR scores it by its visual terms alone.
 */
export function vbprItemMap(p: VbprParams, featureDim: number): Matrix {
  const K = p.latent;
  const V = p.visual;
  const width = K + V + 2;
  const W = new Float32Array(featureDim * width);
  for (let c = 0; c < featureDim; c++) {
    for (let v = 0; v < V; v++) W[c * width + K + v] = p.featureScale * p.proj[v * featureDim + c];
    W[c * width + K + V + 1] = p.featureScale * p.proj[V * featureDim + c];
  }
  return { data: W, rows: featureDim, cols: width };
}

/** Builds both scorers; E f_i and β'·f_i for all products come from one GEMM. */
export function vbprScorers(p: VbprParams, features: Features, nUsers: number): { scorer: FactorScorer; visual: FactorScorer } {
  const nItems = features.rows;
  const K = p.latent;
  const V = p.visual;
  const W = V + 1;
  const projected = new Float32Array(nItems * W);
  featuresTimes(features, p.proj, W, projected, true, p.featureScale);

  const full = K + V + 2;
  const users: Matrix = { data: new Float32Array(nUsers * full), rows: nUsers, cols: full };
  const items: Matrix = { data: new Float32Array(nItems * full), rows: nItems, cols: full };
  const visualUsers: Matrix = { data: new Float32Array(nUsers * W), rows: nUsers, cols: W };
  for (let u = 0; u < nUsers; u++) {
    const row = u * full;
    users.data.set(p.users.subarray(u * K, (u + 1) * K), row);
    users.data.set(p.theta.subarray(u * V, (u + 1) * V), row + K);
    users.data[row + K + V] = 1;
    users.data[row + K + V + 1] = 1;
    visualUsers.data.set(p.theta.subarray(u * V, (u + 1) * V), u * W);
    visualUsers.data[u * W + V] = 1;
  }
  for (let i = 0; i < nItems; i++) {
    const row = i * full;
    items.data.set(p.items.subarray(i * K, (i + 1) * K), row);
    items.data.set(projected.subarray(i * W, i * W + V), row + K);
    items.data[row + K + V] = p.bias[i];
    items.data[row + K + V + 1] = projected[i * W + V];
  }
  return {
    scorer: { name: 'VBPR', users, items },
    visual: { name: 'VBPR (visual only)', users: visualUsers, items: { data: projected, rows: nItems, cols: W } },
  };
}
