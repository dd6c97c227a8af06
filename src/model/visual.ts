// The joint visual term: every warm product's vector is a free part plus a linear map of its
// image features, X_p = a_p + E·f̃_p, and E learns from the same skip-gram (and decoder) updates
// as the free parts. On wide features E = P·B acts through their top k principal directions P
// (subspace.ts): E reads each product's k coordinates z_p = Pᵀf̃_p, and training keeps those
// instead of a standardised copy of the features. A product bought once or twice keeps a small free part, so its vector leans
// on what its image says; a cold product is E·f̃_p, embedded by the very map the ranking trained.
//
// The skip-gram kernel updates the stored vectors in place, so E's gradient is read off per corpus
// chunk: Δ_p, the change of X_p over the chunk, is −lr·(sum of the pair gradients), which per-pair
// SGD would also have applied to a_p and (times f̃_p) to E. E steps with Adam on −Σ_p f̃_p·Δ_pᵀ, so
// its step size does not depend on the chunk's pair count.
import { native, type Mlp } from '../native.js';
import type { Matrix } from '../data/types.js';
import type { RowSource } from './matrix.js';
import { coordinates, principalSubspace, type RowBlocks } from './subspace.js';

/** Rows per GEMM block when projecting: bounds the scratch memory on large catalogues. */
const BLOCK = 4096;

export class VisualProjection {
  /** The map of `inputs`' columns as [cols × D] row-major (input-major, like the MLP layers): E, or B when E = P·B; and the bias. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private steps = 0;
  private readonly gradW: Float32Array;
  private readonly gradB: Float32Array;

  /**
   * @param inputs what E reads for each warm product: its standardised features f̃ ([n × I], see `standardize`), or
   *   with `basis` their principal coordinates z = Pᵀf̃ ([n × k], see `visualInputs`)
   * @param dim embedding size D
   * @param basis P [I × k], or null when `inputs` are the features themselves
   */
  constructor(readonly inputs: Matrix, readonly dim: number, private readonly lr: number, readonly basis: Float32Array | null = null) {
    this.weights = new Float32Array(inputs.cols * dim);
    this.bias = new Float32Array(dim);
    this.m = new Float32Array(this.weights.length + dim);
    this.v = new Float32Array(this.weights.length + dim);
    this.gradW = new Float32Array(this.weights.length);
    this.gradB = new Float32Array(dim);
  }

  /** out[r] = E·f̃_r + bias for every warm product, [n × D]. */
  project(out: Float32Array): Float32Array {
    const { inputs, dim } = this;
    for (let r0 = 0; r0 < inputs.rows; r0 += BLOCK) {
      const rows = Math.min(BLOCK, inputs.rows - r0);
      const block = out.subarray(r0 * dim, (r0 + rows) * dim);
      for (let r = 0; r < rows; r++) block.set(this.bias, r * dim);
      native.sgemm(false, false, rows, dim, inputs.cols, 1, inputs.data.subarray(r0 * inputs.cols), inputs.cols,
        this.weights, dim, 1, block, dim);
    }
    return out;
  }

  /** One Adam step on the loss whose SGD moved the products by `delta` ([n × D], rows as `inputs`). */
  step(delta: Float32Array): void {
    const { inputs, dim } = this;
    // ∂L/∂E ∝ −f̃ᵀ·Δ (Δ = −lr·∂L/∂X), or −zᵀ·Δ for B; Adam makes the constant irrelevant.
    native.sgemm(true, false, inputs.cols, dim, inputs.rows, -1, inputs.data, inputs.cols, delta, dim, 0, this.gradW, dim);
    this.gradB.fill(0);
    for (let r = 0; r < inputs.rows; r++) for (let d = 0; d < dim; d++) this.gradB[d] -= delta[r * dim + d];
    this.steps++;
    adam(this.weights, this.gradW, this.m, this.v, 0, this.lr, this.steps);
    adam(this.bias, this.gradB, this.m, this.v, this.weights.length, this.lr, this.steps);
  }

  /**
   * Starts E from a saved one-layer network [W, b] on the unstandardised features (the inverse of `toNetwork`
   * under this run's standardisation): E = W·scale, bias = b + mean·W, so every product's E·f̃ + bias is unchanged.
   */
  startFrom([W, b]: Float32Array[], standardization: Standardization): void {
    const { dim, basis } = this;
    const I = standardization.mean.length;
    if (W.length !== I * dim || b.length !== dim) throw new Error(`visual term: the previous E is [${W.length / dim} × ${dim}], this run needs [${I} × ${dim}]`);
    this.bias.set(b);
    const E = basis ? new Float32Array(I * dim) : this.weights;
    for (let i = 0; i < I; i++) {
      for (let d = 0; d < dim; d++) {
        E[i * dim + d] = W[i * dim + d] * standardization.scale;
        this.bias[d] += standardization.mean[i] * W[i * dim + d];
      }
    }
    // B = Pᵀ·E: the previous E's part within this run's subspace (what lies outside it, E could not use here).
    if (basis) native.sgemm(true, false, this.inputs.cols, dim, I, 1, basis, this.inputs.cols, E, dim, 0, this.weights, dim);
  }

  /** E [I × D]: the weights, or P·B when they act on principal coordinates. */
  fullWeights(): Float32Array {
    if (!this.basis) return this.weights;
    const k = this.inputs.cols;
    const I = this.basis.length / k;
    const out = new Float32Array(I * this.dim);
    native.sgemm(false, false, I, this.dim, k, 1, this.basis, k, this.weights, this.dim, 0, out, this.dim);
    return out;
  }

  /**
   * E as a one-layer network on the unstandardised (but min–max scaled, when configured) features:
   * the centring and scaling are folded into its weights and bias, so embedding a product needs
   * nothing but the MLP (and what other tools read: encoder_0_W.npy, encoder_0_b.npy).
   */
  toNetwork(standardization: Standardization, seed: number): Mlp {
    const { dim } = this;
    const full = this.fullWeights();
    const I = full.length / dim;
    const W = new Float32Array(full.length);
    const b = Float32Array.from(this.bias);
    for (let i = 0; i < I; i++) {
      for (let d = 0; d < dim; d++) {
        const w = full[i * dim + d] / standardization.scale;
        W[i * dim + d] = w;
        b[d] -= standardization.mean[i] * w;
      }
    }
    const network = new native.Mlp([I, dim], { dropout: 0, outputRelu: false, seed });
    network.setParams([W, b]);
    return network;
  }
}

/** Per-column mean and one global scale that give the centred rows unit mean squared norm. */
export interface Standardization {
  mean: Float32Array;
  scale: number;
}

/**
 * Centres the columns of the listed rows of `source` and scales them to unit mean squared norm: E's Adam steps then
 * mean the same on any feature width. Rows are gathered in blocks, so the only full-size array is the result.
 */
export function standardize(source: RowSource, rows: ArrayLike<number> = allRows(source)): { standardized: Matrix; standardization: Standardization } {
  const standardization = standardizationOf(source, rows);
  const blocks = standardizedBlocks(source, rows, standardization);
  const data = new Float32Array(rows.length * source.cols);
  for (let r0 = 0; r0 < rows.length; r0 += STANDARDIZE_BLOCK) {
    data.set(blocks.read(r0, Math.min(STANDARDIZE_BLOCK, rows.length - r0)), r0 * source.cols);
  }
  return { standardized: { data, rows: rows.length, cols: source.cols }, standardization };
}

/**
 * What E reads for the listed rows: their standardised features, or with k > 0 and wider features their coordinates
 * in the top-k principal subspace of the standardised rows (the basis is returned). The standardised rows are
 * computed block by block each time they are read and never held whole.
 */
export function visualInputs(source: RowSource, rows: ArrayLike<number>, k: number, seed: number): { inputs: Matrix; basis: Float32Array | null; standardization: Standardization } {
  if (k === 0 || source.cols <= k) {
    const { standardized, standardization } = standardize(source, rows);
    return { inputs: standardized, basis: null, standardization };
  }
  const standardization = standardizationOf(source, rows);
  const blocks = standardizedBlocks(source, rows, standardization);
  const basis = principalSubspace(blocks, k, seed);
  return { inputs: coordinates(blocks, basis), basis, standardization };
}

const allRows = (source: RowSource) => Array.from({ length: source.rows }, (_, r) => r);

/** The listed rows' column means, and the scale that gives the centred rows unit mean squared norm (two passes). */
function standardizationOf(source: RowSource, rows: ArrayLike<number>): Standardization {
  const n = rows.length;
  const cols = source.cols;
  const gathered = (r0: number) => source.gather(Array.from({ length: Math.min(STANDARDIZE_BLOCK, n - r0) }, (_, k) => rows[r0 + k]));
  const mean = new Float32Array(cols);
  for (let r0 = 0; r0 < n; r0 += STANDARDIZE_BLOCK) {
    const block = gathered(r0);
    for (let k = 0; k < block.length; k++) mean[k % cols] += block[k] / n;
  }
  let squares = 0;
  for (let r0 = 0; r0 < n; r0 += STANDARDIZE_BLOCK) {
    const block = gathered(r0);
    for (let k = 0; k < block.length; k++) squares += (block[k] - mean[k % cols]) ** 2;
  }
  return { mean, scale: squares > 0 ? Math.sqrt(squares / Math.max(1, n)) : 1 };
}

/** The listed rows standardised, read in blocks (the values are rounded as a standardised float32 copy's would be). */
function standardizedBlocks(source: RowSource, rows: ArrayLike<number>, { mean, scale }: Standardization): RowBlocks {
  const cols = source.cols;
  return {
    rows: rows.length,
    cols,
    read(first, count) {
      const block = source.gather(Array.from({ length: count }, (_, k) => rows[first + k]));
      for (let k = 0; k < block.length; k++) block[k] -= mean[k % cols];
      for (let k = 0; k < block.length; k++) block[k] /= scale;
      return block;
    },
  };
}

/** Rows per gathered block when standardising (16 MiB at I = 4096). */
const STANDARDIZE_BLOCK = 1024;

/** Bias-corrected Adam (β = 0.9, 0.999) on params[0..n) with moments at `offset` of m and v. */
function adam(params: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, offset: number, lr: number, t: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const c1 = 1 / (1 - b1 ** t);
  const c2 = 1 / (1 - b2 ** t);
  for (let k = 0; k < params.length; k++) {
    const g = grad[k];
    const mk = (m[offset + k] = b1 * m[offset + k] + (1 - b1) * g);
    const vk = (v[offset + k] = b2 * v[offset + k] + (1 - b2) * g * g);
    params[k] -= (lr * mk * c1) / (Math.sqrt(vk * c2) + 1e-8);
  }
}
