// The trained artifact (what serving needs, not the trainer): user and product embeddings in
// one space, the encoder M for embedding new products, and the users' seen items for filtering.
// On disk: manifest.json plus NumPy .npy arrays, so other tools can read it. Every registered method's model is
// stored this way (its factors as the embeddings, its name and capabilities in the manifest): docs/library.md.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { native, type Mlp } from '../native.js';
import type { Features, Interactions, ItemMeta, Matrix } from '../data/types.js';
import { forEachFeatureBlock } from '../data/features.js';
import { checkFinite, readNpy, encodeNpy } from '../data/npy.js';
import { openWrittenDirectory, updateDirectoryAtomic, writeDirectoryAtomic, type FileData } from '../data/atomic.js';
import { CONFIG_OPTIONS, resolveConfig, type Scoring, type TrainConfig } from './config.js';
import { encodeAsync, type Encoder } from './encoder.js';
import { assertFinite, normalizeRows } from './matrix.js';
import { InputError, ModelFormatError, UnknownIdError, UnsupportedError } from '../errors.js';
import type { Capabilities, Recommendation, Recommender, RecommendOptions } from '../core/recommender.js';
import { checkK, ExactRetriever } from '../search/exact.js';
import { createRetriever, type RetrieverKind, type RetrieverOptions } from '../search/index.js';
import type { Retriever } from '../search/retriever.js';
import { seenLists } from '../core/factors.js';
import { appendBiasColumn } from './item-bias.js';
import { projectProducts, similarityOf, type SimilarSpace } from './similar-space.js';
import type { ItemSimilarity } from '../core/pairs.js';

export const MODEL_FORMAT = 'vasg-model';
export const MODEL_VERSION = 1;

export type { Recommendation, RecommendOptions };

/**
 * The method that made a model, for models other than VASG (every method's artifact is this directory format:
 * factor matrices, seen lists, an optional encoder). Absent: VASG, which can do everything.
 */
export interface MethodInfo {
  /** Registry name: "bpr-mf", "vbpr", … */
  name: string;
  /** The method's resolved options (its option table's keys). */
  options: Record<string, unknown>;
  similarItems: boolean;
  coldItems: boolean;
}

export interface VasgModelParts {
  config: TrainConfig;
  userIds: string[];
  itemIds: string[];
  users: Matrix;
  /** All products: learned vectors for warm ones, M(f) for cold ones. */
  items: Matrix;
  cold: Uint8Array;
  /** Per user, sorted item indices seen in training (excluded from recommendations). */
  seenIndptr: Int32Array;
  seenIndices: Int32Array;
  /** M: image features → item vector, for cold and new products; null for a method that cannot place new products. */
  encoder: Encoder | null;
  decoder: Mlp | null;
  featureDim: number;
  /** Title, category and image URL per product, row order of itemIds (absent when the data had none). */
  meta?: ItemMeta[];
  /** Absent for VASG. */
  method?: MethodInfo;
  /**
   * Per product, the query vector of its similar-items search when it is not the product's own scoring row
   * (IBR: rows [x, 1, −|x|²/2] against items [x, −|x|²/2, 1] rank by −|x_i − x_j|²). Scored as is (never normalised).
   */
  itemQueries?: Matrix;
  /** Per-product score bias b_i (see item-bias.ts), row order of itemIds; absent: none. */
  itemBias?: Float32Array;
  /** The bias a product added after training gets (it is cold: nobody bought it in training). */
  coldBias?: number;
  /**
   * VASG's similar-items space (model/similar-space.ts): similar items rank by −|Y u_i − Y u_j|², u = [embedding;
   * image features]; products added later get their row from both. Absent: by the cosine of the scoring rows.
   */
  similarSpace?: SimilarSpace;
}

interface Manifest {
  format: string;
  version: number;
  created: string;
  /**
   * The model's identity, set when it is trained and kept by every rewrite (a server's compaction), so a
   * deploy can tell which model answers (`/healthz`) and a server can tell that `train` replaced its directory.
   * Absent in models written before it: their `created` time stands in.
   */
  modelId?: string;
  config: TrainConfig;
  featureDim: number;
  users: string[];
  items: string[];
  coldItems: number[];
  encoderSizes: number[] | null;
  decoderSizes: number[] | null;
  /** Absent for VASG models. */
  method?: MethodInfo;
  /** Bias of products added after training (present with item_bias.npy). */
  coldBias?: number;
  files: Record<string, string>;
  /** Free-form extras: data summary, training log, metrics. */
  info: Record<string, unknown>;
}

export class VasgModel implements Recommender {
  private readonly userIndex: Map<string, number>;
  private scoringCache: { users: Matrix; items: Matrix } | null = null;
  private rankingCache: { users: Matrix; items: Matrix } | null = null;
  /** Exact search over the scoring item vectors (similarItems, recommendForVector), built on first use. */
  private searchIndex: ExactRetriever | null = null;
  /** Search over the ranking item vectors (bias column included), built on the first recommendation. */
  private rankingIndex: Retriever | null = null;
  private rankingKind: { kind: RetrieverKind; options: RetrieverOptions } = { kind: 'exact', options: {} };
  /** What similar items rank by, and the exact search over its item rows, built on first use. */
  private similarityCache: ItemSimilarity | null = null;
  private similarIndex: ExactRetriever | null = null;
  private itemRows?: Map<string, number>;

  private constructor(readonly parts: VasgModelParts, readonly info: Record<string, unknown> = {}, readonly modelId: string = newModelId()) {
    this.userIndex = new Map(parts.userIds.map((id, i) => [id, i]));
  }

  static fromTraining(parts: Omit<VasgModelParts, 'seenIndptr' | 'seenIndices'> & { train: Interactions }, info: Record<string, unknown> = {}): VasgModel {
    const { train, ...rest } = parts;
    return new VasgModel({ ...rest, ...seenLists(train, parts.userIds.length) }, info);
  }

  get config(): TrainConfig {
    return this.parts.config;
  }

  get method(): string {
    return this.parts.method?.name ?? 'vasg';
  }

  get capabilities(): Capabilities {
    const m = this.parts.method;
    return { similarItems: m?.similarItems ?? true, coldItems: m?.coldItems ?? true, newItems: this.parts.encoder !== null && !this.parts.itemQueries };
  }

  get userIds(): readonly string[] {
    return this.parts.userIds;
  }

  get itemIds(): readonly string[] {
    return this.parts.itemIds;
  }

  /** Matrices whose row dot products are the model's scores (rows normalised for cosine scoring). */
  scoringMatrices(): { users: Matrix; items: Matrix } {
    if (!this.scoringCache) {
      const { users, items, config } = this.parts;
      this.scoringCache = scoringFactors(users, items, config.scoring);
    }
    return this.scoringCache;
  }

  /**
   * What recommendations rank by: the scoring matrices with the item bias as one more column (users 1,
   * products b_i), so that any inner-product search ranks by s(u, i) + b_i. Without a bias: scoringMatrices().
   */
  rankingMatrices(): { users: Matrix; items: Matrix } {
    const { itemBias } = this.parts;
    if (!itemBias) return this.scoringMatrices();
    this.rankingCache ??= appendBiasColumn(this.scoringMatrices(), itemBias);
    return this.rankingCache;
  }

  hasUser(userId: string): boolean {
    return this.userIndex.has(userId);
  }

  userIndexOf(userId: string): number {
    const u = this.userIndex.get(userId);
    if (u === undefined) throw new UnknownIdError(`unknown user "${userId}" (the model knows ${this.parts.userIds.length} users)`, 'user', userId);
    return u;
  }

  /**
   * Top-k unseen products for a user, or for each of several users (one pass over the catalog for all of them),
   * scored on a libuv thread. `exclude`: product ids never to recommend (ids the model does not know are
   * ignored); `includeCold: false` leaves out cold products.
   */
  recommend(user: string, k: number, options?: RecommendOptions): Promise<Recommendation[]>;
  recommend(users: string[], k: number, options?: RecommendOptions): Promise<Recommendation[][]>;
  async recommend(users: string | string[], k: number, options: RecommendOptions = {}): Promise<Recommendation[] | Recommendation[][]> {
    const rows = (typeof users === 'string' ? [users] : users).map((id) => this.userIndexOf(id));
    const { users: scoring } = this.rankingMatrices();
    const dim = scoring.cols;
    const queries = new Float32Array(rows.length * dim);
    rows.forEach((u, j) => queries.set(scoring.data.subarray(u * dim, (u + 1) * dim), j * dim));
    const extra = (options.exclude ?? []).flatMap((id) => this.itemIndex().get(id) ?? []);
    const { seenIndptr, seenIndices } = this.parts;
    const indptr = new Int32Array(rows.length + 1);
    const indices: number[] = [];
    rows.forEach((u, j) => {
      for (let p = seenIndptr[u]; p < seenIndptr[u + 1]; p++) indices.push(seenIndices[p]);
      indices.push(...extra);
      indptr[j + 1] = indices.length;
    });
    const allow = this.allowMask(options);
    const lists = await this.nearest(this.rankingSearch(), queries, k, allow, indptr, Int32Array.from(indices));
    return typeof users === 'string' ? lists[0] : lists;
  }

  /** Which products a recommendation may hold (null: all): `allow`, and cold products only where asked or scored. */
  private allowMask(options: RecommendOptions): Uint8Array | null {
    const includeCold = options.includeCold ?? this.capabilities.coldItems;
    if (includeCold && !options.allow) return null;
    const mask = includeCold ? new Uint8Array(this.parts.itemIds.length) : Uint8Array.from(this.parts.cold, (c) => 1 - c);
    if (!options.allow) return mask;
    const allowed = new Uint8Array(mask.length);
    for (const id of options.allow) {
      const i = this.itemIndex().get(id);
      if (i !== undefined && (includeCold || mask[i])) allowed[i] = 1;
    }
    return allowed;
  }

  /** Top-k products nearest to a product (itself excluded), under the model's scoring. */
  async similarItems(itemId: string, k: number): Promise<Recommendation[]> {
    const i = this.itemIndexOf(itemId);
    const query = this.similarityQuery(i);
    const allow = this.capabilities.coldItems ? null : Uint8Array.from(this.parts.cold, (c) => 1 - c);
    return (await this.nearest(this.similarSearch(), query, k, allow, Int32Array.of(0, 1), Int32Array.of(i)))[0];
  }

  /**
   * What similar items rank by, as query and item rows (score = query_i · item_j): the similar-items space when the
   * model has one, IBR's distance rows, or the cosine of the scoring rows. The relation experiment scores this too.
   */
  itemSimilarity(): ItemSimilarity {
    if (!this.similarityCache) {
      const { itemQueries, similarSpace } = this.parts;
      const { items } = this.scoringMatrices();
      this.similarityCache = itemQueries ? { queries: itemQueries, items } : similarityOf(items, similarSpace);
    }
    return this.similarityCache;
  }

  /** Exact search over itemSimilarity()'s item rows (what similarItems and the server's similar products use). */
  similarSearch(): ExactRetriever {
    this.similarIndex ??= new ExactRetriever(this.itemSimilarity().items);
    return this.similarIndex;
  }

  /**
   * The same model with another similar-items space (null: the embeddings' cosine), e.g. one fitted without the pairs
   * an evaluation scores. What adding products changes (product ids, rows, flags, metadata, biases) is copied, so
   * either model can take new products without touching the other; the rest is shared (read-only).
   */
  withSimilarSpace(space: SimilarSpace | null): VasgModel {
    const { similarSpace: _, items, itemIds, cold, meta, itemBias, ...rest } = this.parts;
    return new VasgModel({
      ...rest,
      items: { ...items, data: items.data.slice() },
      itemIds: [...itemIds],
      cold: cold.slice(),
      ...(meta ? { meta: meta.map((m) => ({ ...m })) } : {}),
      ...(itemBias ? { itemBias: itemBias.slice() } : {}),
      ...(space ? { similarSpace: { projection: space.projection, rows: { ...space.rows, data: space.rows.data.slice() } } } : {}),
    }, this.info);
  }

  /**
   * The query vector of product row i's similar-items search, as the retriever scores it (normalised under cosine).
   * Throws UnsupportedError when the method has no similar items, or nothing of its own for a cold product.
   */
  similarityQuery(i: number): Float32Array {
    this.checkSimilar(this.parts.itemIds[i], i);
    const { queries } = this.itemSimilarity();
    return queries.data.slice(i * queries.cols, (i + 1) * queries.cols);
  }

  private checkSimilar(itemId: string, i: number): void {
    const { similarItems, coldItems } = this.capabilities;
    if (!similarItems) throw new UnsupportedError(`${this.method} has no similar items: its scores rank products the same way for every query`, this.method, 'similarItems');
    if (!coldItems && this.parts.cold[i] === 1) {
      throw new UnsupportedError(`${this.method} has nothing to compare cold product "${itemId}" with: it learns only from purchases`, this.method, 'similarItems');
    }
  }

  /** Top-k products for a query vector in the embedding space (e.g. an analogy or a new user's mean), without the item bias. */
  async recommendForVector(vector: Float32Array, k: number): Promise<Recommendation[]> {
    if (vector.length !== this.config.dim) throw new InputError(`vector has ${vector.length} values, the model's dimension is ${this.config.dim}`, 'vector', undefined, 'vector');
    const query = scoringFactors({ data: vector, rows: 1, cols: vector.length }, { data: new Float32Array(0), rows: 0, cols: vector.length }, this.config.scoring).users;
    return (await this.nearest(this.embeddingSearch(), query.data, k, null, new Int32Array(2), new Int32Array(0)))[0];
  }

  private embeddingSearch(): ExactRetriever {
    this.searchIndex ??= new ExactRetriever(this.scoringMatrices().items);
    return this.searchIndex;
  }

  private rankingSearch(): Retriever {
    this.rankingIndex ??= createRetriever(this.rankingKind.kind, this.rankingMatrices().items, this.rankingKind.options);
    return this.rankingIndex;
  }

  /**
   * Which search `recommend` uses from now on: exact (default) or HNSW (approximate; built here, once, which
   * takes a while on a large catalogue). Batch jobs choose it; the server keeps its own retriever.
   */
  useRankingIndex(kind: RetrieverKind, options: RetrieverOptions = {}): void {
    this.rankingKind = { kind, options };
    this.rankingIndex = null;
    this.rankingSearch();
  }

  /**
   * Top-k products for each query row (native search on a libuv thread: the event loop keeps answering), skipping
   * each query's excluded rows (CSR) and, with `allow`, the rows it marks 0. k is checked here, so the native
   * core never sees a bad argument from a caller.
   */
  private async nearest(index: Retriever, queries: Float32Array, k: number, allow: Uint8Array | null, indptr: Int32Array,
    indices: Int32Array): Promise<Recommendation[][]> {
    checkK(k);
    const { cold, itemIds } = this.parts;
    const exclude = Array.from({ length: indptr.length - 1 }, (_, q) => indices.subarray(indptr[q], indptr[q + 1]));
    const top = index.searchBatch
      ? await index.searchBatch(queries, k, { exclude, allow: allow ?? undefined })
      : await Promise.all(exclude.map((e, q) => index.search(queries.subarray(q * index.dim, (q + 1) * index.dim), k, { exclude: e, allow: allow ?? undefined })));
    return top.map(({ rows, scores }) => Array.from(rows, (row, j) => ({ itemId: itemIds[row], score: scores[j], cold: cold[row] === 1 })));
  }

  hasItem(itemId: string): boolean {
    return this.itemIndex().has(itemId);
  }

  itemIndexOf(itemId: string): number {
    const i = this.itemIndex().get(itemId);
    if (i === undefined) throw new UnknownIdError(`unknown product "${itemId}" (the model knows ${this.parts.itemIds.length} products)`, 'item', itemId);
    return i;
  }

  private itemIndex(): Map<string, number> {
    this.itemRows ??= new Map(this.parts.itemIds.map((id, i) => [id, i]));
    return this.itemRows;
  }

  /**
   * Embeds new products from raw image features (scaled the way training scaled them), on libuv threads, a block of
   * rows at a time (float16 features are widened per block, never whole).
   */
  async embedFeatures(features: Features): Promise<Matrix> {
    const { encoder } = this.parts;
    if (!encoder || this.parts.itemQueries) {
      throw new UnsupportedError(`${this.method} cannot place new products from image features (it has no encoder from features to its factors)`, this.method, 'newItems');
    }
    if (features.cols !== this.parts.featureDim) {
      throw new InputError(`features have ${features.cols} columns, the model expects ${this.parts.featureDim}`, 'features', undefined, 'features');
    }
    forEachFeatureBlock(features, (block, r0) => assertFinite('features to embed', block, features.cols, r0));
    const embedded = await encodeAsync(encoder, features, this.config.minMaxScale);
    assertFinite('embeddings (the encoder overflowed on these features)', embedded.data, embedded.cols);
    return embedded;
  }

  /** Metadata of product row `i` (empty strings when the model has none). */
  itemMeta(i: number): ItemMeta {
    return this.parts.meta?.[i] ?? { title: '', category: '', imageUrl: '' };
  }

  /**
   * Adds products, or replaces those whose id the model knows, embedded from their raw image features
   * exactly as cold products are at training time (off the event loop). They become cold rows (nobody
   * bought them in training). Resolves to the row of each id.
   */
  async addItems(ids: string[], features: Matrix, meta?: ItemMeta[]): Promise<number[]> {
    if (features.rows !== ids.length) throw new InputError(`${ids.length} ids but ${features.rows} feature rows`, 'features', undefined, 'features');
    return this.addEmbeddedItems(ids, await this.embedFeatures(features), meta, features);
  }

  /**
   * The second half of `addItems`: adds products whose vectors `embedFeatures` made from `features` (which a model
   * with a similar-items space needs too). Synchronous, so that a caller (the server) can apply a write and log it in
   * one step, with no other write in between.
   */
  addEmbeddedItems(ids: string[], embedded: Matrix, meta?: ItemMeta[], features?: Matrix): number[] {
    if (this.parts.itemQueries) throw new UnsupportedError(`${this.method} cannot add products (its similar-items queries are fixed at training)`, this.method, 'newItems');
    if (embedded.rows !== ids.length || embedded.cols !== this.config.dim) {
      throw new InputError(`${ids.length} ids need ${ids.length} × ${this.config.dim} embeddings, got ${embedded.rows} × ${embedded.cols}`, 'embedded', undefined, 'embedded');
    }
    if (meta && meta.length !== ids.length) throw new InputError(`${ids.length} ids but ${meta.length} metadata records`, 'meta', undefined, 'meta');
    const { parts } = this;
    const space = parts.similarSpace;
    if (space && (!features || features.rows !== ids.length || features.cols !== parts.featureDim)) {
      throw new InputError(`${ids.length} products need ${ids.length} × ${parts.featureDim} image features for the similar-items space, got ` +
        (features ? `${features.rows} × ${features.cols}` : 'none'), 'features', undefined, 'features');
    }
    // Computed before anything changes, so a bad input leaves the model as it was.
    const similarRows = space ? projectProducts(space.projection, embedded, features!) : null;
    const dim = this.config.dim;
    const index = this.itemIndex();
    const rows = ids.map((id) => {
      let row = index.get(id);
      if (row === undefined) {
        row = parts.itemIds.length;
        parts.itemIds.push(id);
        index.set(id, row);
      }
      return row;
    });
    const n = parts.itemIds.length;
    if (n > parts.items.rows) {
      parts.items = { data: grown(parts.items.data.subarray(0, parts.items.rows * dim), n * dim), rows: n, cols: dim };
      parts.cold = grown(parts.cold, n);
      if (parts.itemBias) parts.itemBias = grown(parts.itemBias, n);
      if (space) space.rows = { data: grown(space.rows.data.subarray(0, space.rows.rows * space.rows.cols), n * space.rows.cols), rows: n, cols: space.rows.cols };
    }
    if (meta || parts.meta) {
      const all = parts.meta ?? [];
      while (all.length < n) all.push({ title: '', category: '', imageUrl: '' });
      meta?.forEach((m, j) => { all[rows[j]] = m; });
      parts.meta = all;
    }
    rows.forEach((row, j) => {
      parts.items.data.set(embedded.data.subarray(j * dim, (j + 1) * dim), row * dim);
      parts.cold[row] = 1;
      if (parts.itemBias) parts.itemBias[row] = parts.coldBias ?? 0;
      if (space) space.rows.data.set(similarRows!.data.subarray(j * space.rows.cols, (j + 1) * space.rows.cols), row * space.rows.cols);
    });
    this.scoringCache = null;
    this.rankingCache = null;
    this.searchIndex = null;
    this.rankingIndex = null;
    this.similarityCache = null;
    this.similarIndex = null;
    return rows;
  }

  /** Writes the model directory as a whole or not at all (see writeDirectoryAtomic), with `extraFiles` (e.g. the server's state). */
  save(dir: string, info: Record<string, unknown> = this.info, extraFiles: Array<[string, FileData]> = []): void {
    writeDirectoryAtomic(dir, this.files(info, extraFiles));
  }

  /** The model directory's files, produced lazily: what `save` writes. */
  files(info: Record<string, unknown> = this.info, extraFiles: Array<[string, FileData]> = []): Array<[string, FileData | (() => FileData)]> {
    const { parts } = this;
    const files: Array<[string, FileData | (() => FileData)]> = [
      ['user_embeddings.npy', () => encodeNpy(parts.users)],
      ['item_embeddings.npy', () => encodeNpy(parts.items)],
      ['seen_indptr.npy', () => encodeNpy(intMatrix(parts.seenIndptr))],
      ['seen_indices.npy', () => encodeNpy(intMatrix(parts.seenIndices))],
      ...(parts.encoder ? encoderFiles(parts.encoder, parts.config.dim) : []),
      ...(parts.itemQueries ? [['item_queries.npy', () => encodeNpy(parts.itemQueries!)] as [string, () => FileData]] : []),
      ...(parts.similarSpace ? [
        ['similar_projection.npy', () => encodeNpy(parts.similarSpace!.projection)] as [string, () => FileData],
        ['similar_rows.npy', () => encodeNpy(parts.similarSpace!.rows)] as [string, () => FileData],
      ] : []),
      ...(parts.decoder ? mlpFiles('decoder', parts.decoder) : []),
      ...(parts.meta ? [['items_meta.json', JSON.stringify(parts.meta)] as [string, FileData]] : []),
      ...(parts.itemBias ? [['item_bias.npy', () => encodeNpy({ data: parts.itemBias!, rows: 1, cols: parts.itemIds.length })] as [string, () => FileData]] : []),
      ...extraFiles,
    ];
    const manifest: Manifest = {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      created: new Date().toISOString(),
      modelId: this.modelId,
      config: parts.config,
      featureDim: parts.featureDim,
      users: parts.userIds,
      items: parts.itemIds,
      coldItems: Array.from(parts.cold.keys()).filter((i) => parts.cold[i] === 1),
      encoderSizes: parts.encoder ? parts.encoder.network.sizes : null,
      ...(parts.method ? { method: parts.method } : {}),
      decoderSizes: parts.decoder ? parts.decoder.sizes : null,
      ...(parts.itemBias ? { coldBias: parts.coldBias ?? 0 } : {}),
      files: {
        'user_embeddings.npy': 'float32 [users × dim], row order of "users"',
        'item_embeddings.npy': 'float32 [items × dim], row order of "items"; cold rows are encoder outputs',
        'seen_indptr.npy': 'CSR row pointers (float32-stored integers) of items each user saw in training',
        'seen_indices.npy': 'CSR item indices of items each user saw in training',
        'encoder_<l>_W.npy / encoder_<l>_b.npy': 'encoder layer l: y = relu(x·W + b), W [in × out]; last layer linear',
        'encoder_calibration.npy': '[2 × dim]: cold embedding = encoder output · row 0 + row 1 (encoder files absent when encoderSizes is null)',
        'item_queries.npy': 'float32 [items × dim], present for methods whose similar-items query is not the item row (IBR)',
        'similar_projection.npy': 'float32 [rank × (dim + featureDim)]: Y of the similar-items space; similar items rank by −|Y u_i − Y u_j|², ' +
          'u = [unit-length embedding; unit-length image features] (absent: by the embeddings\' cosine)',
        'similar_rows.npy': 'float32 [items × rank]: Y·u_i per product, row order of "items" (with similar_projection.npy)',
        'decoder_<l>_W.npy / decoder_<l>_b.npy': 'decoder layer l (absent when trained without decoder)',
        'items_meta.json': '[{title, category, imageUrl}] in the row order of "items" (absent when the data had no metadata)',
        'item_bias.npy': 'float32 [1 × items]: score bias b_i added to every user\'s score of product i; "coldBias" for products added later (absent: no bias)',
      },
      info,
    };
    files.push(['manifest.json', JSON.stringify(manifest, null, 1)]);
    return files;
  }

  /** Stores evaluation results in the manifest (`info.metrics`), replacing only manifest.json (the arrays are linked, not copied). */
  static recordMetrics(dir: string, metrics: unknown): void {
    const manifest = readManifest(dir);
    manifest.info = { ...manifest.info, metrics };
    updateDirectoryAtomic(dir, [['manifest.json', JSON.stringify(manifest, null, 1)]]);
  }

  static load(dir: string): VasgModel {
    const manifest = readManifest(dir);
    // Keys of options a later version dropped are ignored (resolveConfig refuses unknown keys), so older models still load.
    const known = new Set<string>(CONFIG_OPTIONS.map((o) => o.key));
    const config = resolveConfig(Object.fromEntries(Object.entries(manifest.config).filter(([key]) => known.has(key))));
    const array = (name: string) => {
      const file = path.join(dir, name);
      const matrix = readNpy(file);
      checkFinite(file, matrix);
      return matrix;
    };
    const users = array('user_embeddings.npy');
    const items = array('item_embeddings.npy');
    if (users.rows !== manifest.users.length || items.rows !== manifest.items.length || users.cols !== config.dim || items.cols !== config.dim) {
      throw new ModelFormatError(`${dir}: embedding shapes [${users.rows}×${users.cols}], [${items.rows}×${items.cols}] do not match the manifest ` +
        `(${manifest.users.length} users, ${manifest.items.length} items, dim ${config.dim})`, dir);
    }
    const cold = new Uint8Array(manifest.items.length);
    for (const i of manifest.coldItems) cold[i] = 1;
    const encoder = manifest.encoderSizes ? loadEncoder(dir, array, manifest.encoderSizes, config.dim) : null;
    const itemQueries = fs.existsSync(path.join(dir, 'item_queries.npy')) ? array('item_queries.npy') : undefined;
    if (itemQueries && (itemQueries.rows !== items.rows || itemQueries.cols !== items.cols)) {
      throw new ModelFormatError(`${path.join(dir, 'item_queries.npy')}: expected shape [${items.rows} × ${items.cols}], found [${itemQueries.rows} × ${itemQueries.cols}]`, dir);
    }
    const similarSpace = readSimilarSpace(dir, array, config.dim + manifest.featureDim, manifest.items.length);
    const decoder = manifest.decoderSizes ? loadMlp(dir, 'decoder', manifest.decoderSizes, config.minMaxScale) : null;
    const seen = readSeenLists(dir, array, manifest.users.length, manifest.items.length);
    const meta = readItemMeta(dir, manifest.items.length);
    const bias = readItemBias(dir, array, manifest);
    return new VasgModel({
      config,
      userIds: manifest.users,
      itemIds: manifest.items,
      users,
      items,
      cold,
      ...seen,
      encoder,
      decoder,
      featureDim: manifest.featureDim,
      ...(meta ? { meta } : {}),
      ...(manifest.method ? { method: manifest.method } : {}),
      ...(itemQueries ? { itemQueries } : {}),
      ...(similarSpace ? { similarSpace } : {}),
      ...bias,
    }, manifest.info ?? {}, manifest.modelId ?? `created:${manifest.created}`);
  }
}

/** A fresh model id: the training time (readable in a deploy log) and random bits (two models trained in the same millisecond differ). */
function newModelId(): string {
  return `${new Date().toISOString()}-${randomBytes(4).toString('hex')}`;
}

/** Reads the seen-items CSR and checks its structure, so a corrupt file is named here, not by the native scorer. */
function readSeenLists(dir: string, array: (name: string) => Matrix, nUsers: number, nItems: number): { seenIndptr: Int32Array; seenIndices: Int32Array } {
  const indptr = array('seen_indptr.npy').data;
  const indices = array('seen_indices.npy').data;
  const fail = (name: string, what: string) => { throw new ModelFormatError(`${dir}: ${name}: ${what}`, dir); };
  if (indptr.length !== nUsers + 1) fail('seen_indptr.npy', `has ${indptr.length} values, expected users + 1 = ${nUsers + 1}`);
  if (indptr[0] !== 0 || indptr[nUsers] !== indices.length) fail('seen_indptr.npy', `must run from 0 to ${indices.length} (the length of seen_indices.npy), runs from ${indptr[0]} to ${indptr[nUsers]}`);
  for (let u = 0; u < nUsers; u++) {
    if (!Number.isInteger(indptr[u + 1]) || indptr[u + 1] < indptr[u]) fail('seen_indptr.npy', `value ${u + 1} (${indptr[u + 1]}) is not an integer ≥ the one before`);
  }
  for (let k = 0; k < indices.length; k++) {
    if (!Number.isInteger(indices[k]) || indices[k] < 0 || indices[k] >= nItems) fail('seen_indices.npy', `value ${k} (${indices[k]}) is not a product row in 0…${nItems - 1}`);
  }
  return { seenIndptr: Int32Array.from(indptr), seenIndices: Int32Array.from(indices) };
}

/** The similar-items space, when the model has one: both files or neither, shapes checked against the manifest. */
function readSimilarSpace(dir: string, array: (name: string) => Matrix, inputWidth: number, nItems: number): SimilarSpace | undefined {
  const present = ['similar_projection.npy', 'similar_rows.npy'].filter((name) => fs.existsSync(path.join(dir, name)));
  if (present.length === 0) return undefined;
  if (present.length === 1) throw new ModelFormatError(`${dir}: ${present[0]} without ${present[0] === 'similar_rows.npy' ? 'similar_projection.npy' : 'similar_rows.npy'} (the similar-items space needs both)`, dir);
  const projection = array('similar_projection.npy');
  const rows = array('similar_rows.npy');
  if (projection.cols !== inputWidth) {
    throw new ModelFormatError(`${path.join(dir, 'similar_projection.npy')}: expected ${inputWidth} columns (dim + featureDim), found [${projection.rows} × ${projection.cols}]`, dir);
  }
  if (rows.rows !== nItems || rows.cols !== projection.rows) {
    throw new ModelFormatError(`${path.join(dir, 'similar_rows.npy')}: expected shape [${nItems} × ${projection.rows}], found [${rows.rows} × ${rows.cols}]`, dir);
  }
  return { projection, rows };
}

/** The item bias, when the model has one: item_bias.npy with one value per product, and the manifest's coldBias. */
function readItemBias(dir: string, array: (name: string) => Matrix, manifest: Manifest): { itemBias?: Float32Array; coldBias?: number } {
  if (!fs.existsSync(path.join(dir, 'item_bias.npy'))) return {};
  const bias = array('item_bias.npy');
  if (bias.data.length !== manifest.items.length) {
    throw new ModelFormatError(`${path.join(dir, 'item_bias.npy')}: has ${bias.data.length} values, expected one per product (${manifest.items.length})`, dir);
  }
  if (typeof manifest.coldBias !== 'number' || !Number.isFinite(manifest.coldBias)) {
    throw new ModelFormatError(`${dir}: manifest.json: field "coldBias" must be a finite number with item_bias.npy, got ${JSON.stringify(manifest.coldBias)}`, dir);
  }
  return { itemBias: bias.data, coldBias: manifest.coldBias };
}

function readItemMeta(dir: string, nItems: number): ItemMeta[] | undefined {
  const file = path.join(dir, 'items_meta.json');
  if (!fs.existsSync(file)) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelFormatError(`${file}: not valid JSON (${(error as Error).message})`, dir);
  }
  if (!Array.isArray(meta) || meta.length !== nItems) throw new ModelFormatError(`${file}: expected a list of ${nItems} records (one per product)`, dir);
  return meta as ItemMeta[];
}

function readManifest(dir: string): Manifest {
  try {
    openWrittenDirectory(dir);
  } catch (error) {
    throw error instanceof InputError ? new ModelFormatError(error.message, dir) : error;
  }
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw new ModelFormatError(`${manifestPath}: not found (is ${dir} a model directory written by "vasg train"?)`, dir);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (error) {
    throw new ModelFormatError(`${manifestPath}: not valid JSON (${(error as Error).message})`, dir);
  }
  if (manifest.format !== MODEL_FORMAT) throw new ModelFormatError(`${manifestPath}: format is "${manifest.format}", expected "${MODEL_FORMAT}"`, dir);
  if (manifest.version !== MODEL_VERSION) throw new ModelFormatError(`${manifestPath}: version ${manifest.version} is not supported (this vasg reads version ${MODEL_VERSION})`, dir);
  checkManifestFields(dir, manifest);
  return manifest;
}

/** A hand-edited or truncated manifest gets a message naming the field, not a TypeError later. */
function checkManifestFields(dir: string, manifest: Manifest): void {
  const lists: Array<keyof Manifest> = ['users', 'items', 'coldItems'];
  for (const field of lists) {
    if (!Array.isArray(manifest[field])) throw new ModelFormatError(`${dir}: manifest.json: field "${field}" is missing or not a list`, dir);
  }
  // A model of another method may have no encoder (null); a VASG model always has one.
  if (!Array.isArray(manifest.encoderSizes) && !(manifest.encoderSizes === null && manifest.method)) {
    throw new ModelFormatError(`${dir}: manifest.json: field "encoderSizes" is missing or not a list`, dir);
  }
  const m = manifest.method;
  if (m !== undefined && (typeof m !== 'object' || m === null || typeof m.name !== 'string' || typeof m.similarItems !== 'boolean' || typeof m.coldItems !== 'boolean')) {
    throw new ModelFormatError(`${dir}: manifest.json: field "method" must be {name, options, similarItems, coldItems}`, dir);
  }
  if (typeof manifest.config !== 'object' || manifest.config === null) throw new ModelFormatError(`${dir}: manifest.json: field "config" is missing`, dir);
  if (!Number.isInteger(manifest.featureDim) || manifest.featureDim < 1) throw new ModelFormatError(`${dir}: manifest.json: field "featureDim" must be a positive integer, got ${JSON.stringify(manifest.featureDim)}`, dir);
  const bad = manifest.coldItems.find((i) => !Number.isInteger(i) || i < 0 || i >= manifest.items.length);
  if (bad !== undefined) throw new ModelFormatError(`${dir}: manifest.json: coldItems holds ${JSON.stringify(bad)}, not a row of "items"`, dir);
}

/** Factors whose row dot products rank under `scoring`: rows normalised for cosine, unchanged for dot. */
export function scoringFactors(users: Matrix, items: Matrix, scoring: Scoring): { users: Matrix; items: Matrix } {
  return scoring === 'cosine' ? { users: normalizeRows(users), items: normalizeRows(items) } : { users, items };
}

/** Buffers made by `grown`, which may be written past the views handed out. */
const growable = new WeakSet<ArrayBufferLike>();

/**
 * `array` lengthened to `length` (new elements zero), as a view of a buffer that doubles when full: a server adding
 * products one at a time copies the catalog O(log n) times instead of once per product.
 */
function grown<T extends Float32Array | Uint8Array>(array: T, length: number): T {
  const make = (n: number) => (array instanceof Float32Array ? new Float32Array(n) : new Uint8Array(n)) as T;
  if (array.byteOffset === 0 && growable.has(array.buffer) && array.buffer.byteLength >= length * array.BYTES_PER_ELEMENT) {
    const view = (array instanceof Float32Array ? new Float32Array(array.buffer, 0, length) : new Uint8Array(array.buffer, 0, length)) as T;
    view.fill(0, array.length);
    return view;
  }
  const next = make(Math.max(length, 2 * array.length));
  next.set(array);
  growable.add(next.buffer);
  return next.subarray(0, length) as T;
}

function intMatrix(values: Int32Array): Matrix {
  return { data: Float32Array.from(values), rows: 1, cols: values.length };
}

function encoderFiles(encoder: Encoder, dim: number): Array<[string, () => FileData]> {
  return [
    ...mlpFiles('encoder', encoder.network),
    ['encoder_calibration.npy', () => encodeNpy({ data: encoder.calibration, rows: 2, cols: dim })],
  ];
}

function loadEncoder(dir: string, array: (name: string) => Matrix, sizes: number[], dim: number): Encoder {
  const calibration = array('encoder_calibration.npy');
  if (calibration.rows * calibration.cols !== 2 * dim) throw new ModelFormatError(`${path.join(dir, 'encoder_calibration.npy')}: expected shape [2 × ${dim}]`, dir);
  return { network: loadMlp(dir, 'encoder', sizes, false), calibration: calibration.data };
}

function mlpFiles(prefix: string, mlp: Mlp): Array<[string, () => FileData]> {
  const params = mlp.getParams();
  const sizes = mlp.sizes;
  const files: Array<[string, () => FileData]> = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    files.push([`${prefix}_${l}_W.npy`, () => encodeNpy({ data: params[2 * l], rows: sizes[l], cols: sizes[l + 1] })]);
    files.push([`${prefix}_${l}_b.npy`, () => encodeNpy({ data: params[2 * l + 1], rows: 1, cols: sizes[l + 1] })]);
  }
  return files;
}

function loadMlp(dir: string, prefix: string, sizes: number[], outputRelu: boolean): Mlp {
  const mlp = new native.Mlp(sizes, { dropout: 0, outputRelu, seed: 0 });
  const params: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const W = readNpy(path.join(dir, `${prefix}_${l}_W.npy`));
    const b = readNpy(path.join(dir, `${prefix}_${l}_b.npy`));
    if (W.rows * W.cols !== sizes[l] * sizes[l + 1] || b.rows * b.cols !== sizes[l + 1]) {
      throw new ModelFormatError(`${path.join(dir, `${prefix}_${l}_W.npy`)}: shape does not match layer ${l} (${sizes[l]} → ${sizes[l + 1]})`, dir);
    }
    params.push(W.data, b.data);
  }
  mlp.setParams(params);
  return mlp;
}
