// The joint visual term: every warm product's vector is a free part plus a linear map of its
// image features, X_p = a_p + E·f̃_p, and E learns from the same skip-gram (and decoder) updates
// as the free parts. A product bought once or twice keeps a small free part, so its vector leans
// on what its image says; a cold product is E·f̃_p, embedded by the very map the ranking trained.
//
// The skip-gram kernel updates the stored vectors in place, so E's gradient is read off per corpus
// chunk: Δ_p, the change of X_p over the chunk, is −lr·(sum of the pair gradients), which per-pair
// SGD would also have applied to a_p and (times f̃_p) to E. E steps with Adam on −Σ_p f̃_p·Δ_pᵀ, so
// its step size does not depend on the chunk's pair count.
import { native, type Mlp } from '../native.js';
import type { Features } from '../data/types.js';
import { forEachFeatureBlock } from '../data/features.js';
import { floatToHalf, type NpyDtype } from '../data/npy.js';
import type { RowSource } from './matrix.js';
import { largeFloat32Array, largeUint16Array } from '../data/memory.js';

/** Rows per GEMM block when projecting: bounds the scratch memory on large catalogues. */
const BLOCK = 4096;

export class VisualProjection {
  /** E as [I × D] row-major (input-major, like the MLP layers), and its bias. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private steps = 0;
  private readonly gradW: Float32Array;
  private readonly gradB: Float32Array;

  /**
   * @param features the warm products' features, centred and scaled (see `standardize`), [n × I], float16 when the
   *   split's features are (read a block at a time)
   * @param dim embedding size D
   */
  constructor(readonly standardizedFeatures: Features, readonly dim: number, private readonly lr: number) {
    const features = standardizedFeatures;
    this.weights = new Float32Array(features.cols * dim);
    this.bias = new Float32Array(dim);
    this.m = new Float32Array(this.weights.length + dim);
    this.v = new Float32Array(this.weights.length + dim);
    this.gradW = new Float32Array(this.weights.length);
    this.gradB = new Float32Array(dim);
  }

  /** out[r] = E·f̃_r + bias for every warm product, [n × D]. */
  project(out: Float32Array): Float32Array {
    const { standardizedFeatures: features, dim } = this;
    forEachFeatureBlock(features, (rows, r0, count) => {
      const block = out.subarray(r0 * dim, (r0 + count) * dim);
      for (let r = 0; r < count; r++) block.set(this.bias, r * dim);
      native.sgemm(false, false, count, dim, features.cols, 1, rows, features.cols, this.weights, dim, 1, block, dim);
    }, BLOCK);
    return out;
  }

  /** One Adam step on the loss whose SGD moved the products by `delta` ([n × D], rows as `features`). */
  step(delta: Float32Array): void {
    const { standardizedFeatures: features, dim } = this;
    // ∂L/∂E ∝ −f̃ᵀ·Δ (Δ = −lr·∂L/∂X); Adam makes the constant irrelevant. Summed over blocks of rows (float32: one).
    forEachFeatureBlock(features, (rows, r0, count) => {
      native.sgemm(true, false, features.cols, dim, count, -1, rows, features.cols, delta.subarray(r0 * dim), dim, r0 === 0 ? 0 : 1, this.gradW, dim);
    });
    this.gradB.fill(0);
    for (let r = 0; r < features.rows; r++) for (let d = 0; d < dim; d++) this.gradB[d] -= delta[r * dim + d];
    this.steps++;
    adam(this.weights, this.gradW, this.m, this.v, 0, this.lr, this.steps);
    adam(this.bias, this.gradB, this.m, this.v, this.weights.length, this.lr, this.steps);
  }

  /**
   * Starts E from a saved one-layer network [W, b] on the unstandardised features (the inverse of `toNetwork`
   * under this run's standardisation): E = W·scale, bias = b + mean·W, so every product's E·f̃ + bias is unchanged.
   */
  startFrom([W, b]: Float32Array[], standardization: Standardization): void {
    const { dim } = this;
    const I = this.standardizedFeatures.cols;
    if (W.length !== I * dim || b.length !== dim) throw new Error(`visual term: the previous E is [${W.length / dim} × ${dim}], this run needs [${I} × ${dim}]`);
    this.bias.set(b);
    for (let i = 0; i < I; i++) {
      for (let d = 0; d < dim; d++) {
        this.weights[i * dim + d] = W[i * dim + d] * standardization.scale;
        this.bias[d] += standardization.mean[i] * W[i * dim + d];
      }
    }
  }

  /**
   * E as a one-layer network on the unstandardised (but min–max scaled, when configured) features:
   * the centring and scaling are folded into its weights and bias, so embedding a product needs
   * nothing but the MLP (and what other tools read: encoder_0_W.npy, encoder_0_b.npy).
   */
  toNetwork(standardization: Standardization, seed: number): Mlp {
    const { dim } = this;
    const I = this.standardizedFeatures.cols;
    const W = new Float32Array(this.weights.length);
    const b = Float32Array.from(this.bias);
    for (let i = 0; i < I; i++) {
      for (let d = 0; d < dim; d++) {
        const w = this.weights[i * dim + d] / standardization.scale;
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
 * mean the same on any feature width. Rows are gathered in blocks, never a gathered copy beside the result. The result
 * is float16 when `dtype` is (float16 features: no float32 copy of them), each value rounded from the float32 one.
 */
export function standardize(source: RowSource, rows: ArrayLike<number> = Array.from({ length: source.rows }, (_, r) => r),
  dtype: NpyDtype = 'float32'): { standardized: Features; standardization: Standardization } {
  return dtype === 'float16' ? standardizeToHalf(source, rows) : standardizeInPlace(source, rows);
}

/** Visits the listed rows of `source`, gathered STANDARDIZE_BLOCK at a time, with the position of the block's first. */
function gatherBlocks(source: RowSource, rows: ArrayLike<number>, visit: (block: Float32Array, first: number) => void): void {
  for (let r0 = 0; r0 < rows.length; r0 += STANDARDIZE_BLOCK) {
    visit(source.gather(Array.from({ length: Math.min(STANDARDIZE_BLOCK, rows.length - r0) }, (_, k) => rows[r0 + k])), r0);
  }
}

/** mean += Σ rows of `block` / n. */
function addToMean(mean: Float32Array, block: Float32Array, n: number): void {
  const cols = mean.length;
  for (let start = 0; start < block.length; start += cols) {
    for (let c = 0; c < cols; c++) mean[c] += block[start + c] / n;
  }
}

function standardizeInPlace(source: RowSource, rows: ArrayLike<number>): { standardized: Features; standardization: Standardization } {
  const n = rows.length;
  const cols = source.cols;
  // Each row is gathered (and scaled) once, straight into the output, then centred and scaled there: on `men` a
  // second gather and per-element index arithmetic made this 10 s of training's set-up.
  const data = largeFloat32Array(n * cols);
  const mean = new Float32Array(cols);
  gatherBlocks(source, rows, (block, first) => {
    data.set(block, first * cols);
    addToMean(mean, block, n);
  });
  let squares = 0;
  for (let start = 0; start < data.length; start += cols) {
    for (let c = 0; c < cols; c++) squares += (data[start + c] = data[start + c] - mean[c]) ** 2;
  }
  const scale = squares > 0 ? Math.sqrt(squares / Math.max(1, n)) : 1;
  for (let k = 0; k < data.length; k++) data[k] /= scale;
  return { standardized: { data, rows: n, cols }, standardization: { mean, scale } };
}

/** The same values as standardizeInPlace, each rounded to float16; rows gathered three times (mean, scale, values). */
function standardizeToHalf(source: RowSource, rows: ArrayLike<number>): { standardized: Features; standardization: Standardization } {
  const n = rows.length;
  const cols = source.cols;
  const mean = new Float32Array(cols);
  gatherBlocks(source, rows, (block) => addToMean(mean, block, n));
  let squares = 0;
  gatherBlocks(source, rows, (block) => {
    for (let start = 0; start < block.length; start += cols) {
      for (let c = 0; c < cols; c++) squares += (block[start + c] - mean[c]) ** 2;
    }
  });
  const scale = squares > 0 ? Math.sqrt(squares / Math.max(1, n)) : 1;
  const half = largeUint16Array(n * cols);
  gatherBlocks(source, rows, (block, first) => {
    // Rounded to float32 after centring and after scaling, as in place, then to float16.
    for (let k = 0; k < block.length; k++) half[first * cols + k] = floatToHalf(Math.fround(Math.fround(block[k] - mean[k % cols]) / scale));
  });
  return { standardized: { half, rows: n, cols }, standardization: { mean, scale } };
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
