// The only module that loads the native core (native/src, built by node-gyp at install).
// It declares the typed surface; callers validate options before crossing into C++,
// which only checks buffer types and lengths.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Per-call counters returned by one skip-gram pass. Losses are sums of -log σ terms. */
export interface SkipgramStats {
  lossUsers: number;
  lossProducts: number;
  pairsUsers: number;
  pairsProducts: number;
}

/** Arguments of one skip-gram pass over (a chunk of) the walk corpus. Tables are updated in place. */
export interface SkipgramArgs {
  /** Input table X, [nNodes × dim]; node ids < nUsers are users, the rest products. */
  vectors: Float32Array;
  /** Output (context) table, [nNodes × dim], or null to share X as in the paper's σ(X_c·X_v). */
  contexts: Float32Array | null;
  dim: number;
  /** Walks, each `walkLength` tokens, concatenated. Pairs never cross walk boundaries. */
  corpus: Int32Array;
  walkLength: number;
  /** Context radius: centre ± radius (the paper's window w = 2·radius + 1). */
  radius: number;
  /** Negative samples per pair; 0 = the paper's positive-only σ(X_c·X_v) objective. */
  negatives: number;
  /** Node ids drawn for negatives (unigram^0.75 table); required when negatives > 0. */
  negTable: Int32Array | null;
  /** Learning rate decays linearly from lrStart to lrEnd over this call's tokens. */
  lrStart: number;
  lrEnd: number;
  /** Gradient scale per centre node (uncertainty weight), or null for 1. Length nNodes. */
  centreScale: Float32Array | null;
  nUsers: number;
  threads: number;
  seed: number;
}

/** A fully connected ReLU network with dropout on hidden layers, trained with Adam. */
export interface Mlp {
  /** Layer widths, input first: e.g. [100, 256, 512, 1024, 2048, 4096]. */
  readonly sizes: number[];
  /** Forward pass over `rows` row-major inputs; with train=true adds input noise, applies dropout and keeps activations for backward. */
  forward(x: Float32Array, rows: number, train: boolean): Float32Array;
  /** [async] forward(x, rows, false) on a libuv thread, over a copy of the weights taken at the call; x must not change until it settles. */
  forwardAsync(x: Float32Array, rows: number): Promise<Float32Array>;
  /**
   * Backward pass of the last train forward (forward with train=false leaves it intact); accumulates parameter
   * gradients, returns d loss / d input. Throws when no train forward was made or rows differ from it.
   */
  backward(gradOut: Float32Array, rows: number): Float32Array;
  /** As `backward`, without d loss / d input (the encoder's input is image features, which never learn). */
  backwardParams(gradOut: Float32Array, rows: number): void;
  /** One Adam update with the accumulated gradients, then zeroes them: p -= lr·m̂/(√v̂ + eps), bias-corrected. */
  adamStep(lr: number, beta1: number, beta2: number, eps: number): void;
  zeroGrad(): void;
  /** Copies of [W0, b0, W1, b1, ...]; W_l is [sizes[l] × sizes[l+1]] row-major. */
  getParams(): Float32Array[];
  /** Copies params in (same layout as getParams); Adam moments and step count are kept. */
  setParams(params: Float32Array[]): void;
}

export interface MlpOptions {
  dropout: number;
  /** Std of Gaussian noise added to the input in training forwards (default 0); drawn natively, seeded like dropout. */
  inputNoise?: number;
  /** true: ReLU on the last layer too; false: linear output. */
  outputRelu: boolean;
  seed: number;
}

export interface TopK {
  items: Int32Array;
  scores: Float32Array;
}

export interface NativeCore {
  /** [sync] C = alpha·op(A)·op(B) + beta·C, row-major. */
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number): void;
  setBlasThreads(threads: number): void;
  blasThreads(): number;

  /**
   * [async] EASE's closed form in place (Steck 2019): G = XᵀX + λI [n×n] becomes B with B_ij = −P_ij / P_jj,
   * B_jj = 0, where P = G⁻¹ (Cholesky inverse, float32, no second n×n buffer). OpenBLAS uses `threads` for the
   * call. Rejects when G is not positive definite.
   */
  easeWeights(G: Float32Array, n: number, threads: number): Promise<void>;
  /** [sync] Solves A·X = B for a symmetric positive-definite A [n×n]: B [n×m] ← X, A ← its Cholesky factor. */
  choleskySolve(A: Float32Array, n: number, B: Float32Array, m: number): void;

  /**
   * [async] Random walks on a CSR graph: `walksPerNode` rounds, each starting once from every node
   * (node order shuffled per round), `walkLength` tokens each. Next node uniform among neighbours,
   * or proportional to `weights` when given (a node whose weights sum to 0 falls back to uniform).
   * Deterministic for a seed whatever the thread count (walk i draws from its own stream (seed, i)).
   * Nodes without neighbours give walks that repeat the start node.
   */
  randomWalks(indptr: Int32Array, indices: Int32Array, weights: Float32Array | null,
    walksPerNode: number, walkLength: number, seed: number, threads: number): Promise<Int32Array>;

  /**
   * [async] One Hogwild skip-gram pass; see SkipgramArgs (and native/src/skipgram.h for the exact update).
   * Logits are clamped to ±30 for σ and the loss; pair counts count positive pairs only. Rejects when a
   * corpus or negTable id is not a node id (nothing is updated then).
   */
  skipgram(args: SkipgramArgs): Promise<SkipgramStats>;

  /** [sync] Weighted MSE: loss = Σ_r w_r · mean_c (pred-target)²; writes d loss / d pred into grad. */
  mse(pred: Float32Array, target: Float32Array, rowWeights: Float32Array | null, rows: number, cols: number,
    grad: Float32Array): number;

  /**
   * [sync] One Adam step (as Mlp.adamStep) on a parameter array: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²,
   * params −= lr·m̂ / (√v̂ + ε) with bias corrections for `step` (≥ 1).
   */
  adamStep(params: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, step: number, lr: number,
    beta1: number, beta2: number, eps: number): void;

  /**
   * [sync] Row differences of pairs: out[p] = [a[first[p]] − a[second[p]] ; b'[first[p] mod bRows] − b'[second[p] mod
   * bRows]], [count × (aCols + bCols)] row-major; b' is b (float32, or float16 bit patterns) widened, and with bScale
   * each value x of row r is float32(bWeight · float32(x · bScale[r])). a or b null: that part is left out.
   */
  pairDifferences(first: Int32Array, second: Int32Array, count: number, a: Float32Array | null, aCols: number,
    b: Float32Array | Uint16Array | null, bCols: number, bRows: number, bScale: Float64Array | null, bWeight: number, out: Float32Array): void;

  /** [sync] out[k] = src[offset + k] (float16 bit patterns) as float32, for k < count (F16C where available). */
  halfToFloat(src: Uint16Array, offset: number, count: number, out: Float32Array): void;

  /** [sync] Row r of out ([rows.length × cols]) = row rows[r] of src (float16 bit patterns, [n × cols]) as float32. */
  gatherHalf(src: Uint16Array, cols: number, rows: Int32Array, out: Float32Array): void;

  Mlp: new (sizes: number[], options: MlpOptions) => Mlp;

  /**
   * [async] Per test pair the paper's AUC (eq. 4): the fraction of candidate items scoring below the test
   * item (ties count ½), score = U[u]·V[i]. Candidates: all items except the test item and
   * the items in the user's exclusion list (CSR over users). NaN for a pair with no candidates. With k > 0, also
   * the user's top k from the same score row (`lists`, rows of k item ids as topK gives them: the exclusion list
   * skipped, the test item a candidate). One blocked GEMM over users serves both.
   */
  rankTestPairs(U: Float32Array, V: Float32Array, dim: number, testUsers: Int32Array, testItems: Int32Array,
    excludeIndptr: Int32Array, excludeIndices: Int32Array, k: number, threads: number): Promise<{ auc: Float64Array; lists: Int32Array }>;

  /**
   * [sync] Top-k items by U[u]·V[i] for each of the given users, skipping excluded items. Rows of k, best first
   * (equal scores: lower item id first), padded with item -1 and score -Infinity.
   */
  topK(U: Float32Array, V: Float32Array, dim: number, users: Int32Array, k: number,
    excludeIndptr: Int32Array, excludeIndices: Int32Array): TopK;

  /**
   * [async] Top-k of `rows` vectors by queries[q]·V[i] for each query row (queries: [nq × dim]), off the event loop.
   * The vectors are given in panels of 16 rows, dimension-major (PANEL_ROWS in src/search/exact.ts; at least
   * ceil(rows / 16) panels of 16 × dim floats): the layout the kernel reads without repacking the catalog.
   * Query q skips the rows excludeIndices[excludeIndptr[q] .. excludeIndptr[q+1]) (excludeIndptr has nq + 1
   * entries) and, when allow is given (one byte per row), every row with allow[i] === 0. Rows of k, best
   * first (equal scores: lower row first), padded with -1 and -Infinity.
   */
  searchTopK(queries: Float32Array, panels: Float32Array, dim: number, rows: number, k: number, allow: Uint8Array | null,
    excludeIndptr: Int32Array, excludeIndices: Int32Array): Promise<TopK>;

  /**
   * [sync] flock(fd, LOCK_EX | LOCK_NB): true when this open file now holds the exclusive lock, false when another
   * open file holds it. Released when the fd is closed or the process dies (kill -9 included).
   */
  tryLockFile(fd: number): boolean;

  /**
   * [sync] A zero-filled ArrayBuffer of `bytes` bytes in transparent huge pages (2 MiB-aligned anonymous mapping,
   * MADV_HUGEPAGE), unmapped when collected: first writes to it cost a page fault per 2 MiB instead of per 4 KiB.
   */
  hugeBuffer(bytes: number): ArrayBuffer;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function loadCore(): NativeCore {
  // dist/src/native.js → ../../build/Release
  const candidates = [path.join(here, '../../build/Release/vasg_native.node'), path.join(here, '../build/Release/vasg_native.node')];
  let lastError: unknown;
  for (const file of candidates) {
    try {
      return require(file) as NativeCore;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`vasg: cannot load the native core (tried ${candidates.join(', ')}). ` +
    `Run "npm ci" (needs libopenblas-dev and a C++ compiler). Cause: ${String(lastError)}`);
}

export const native: NativeCore = loadCore();
