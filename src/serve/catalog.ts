// What the HTTP service answers from: a loaded model, its nearest-product retriever, per-product
// availability, and users folded in after training. Business rules (seen products, exclude lists,
// categories, availability, cold products) become the retriever's exclude list and allow mask, so the
// search itself skips them and k results come back whenever k products pass.
import fs from 'node:fs';
import path from 'node:path';
import type { ItemMeta, Matrix } from '../data/types.js';
import { writeDirectoryAtomic, writeDirectoryAtomicOffThread, type FileData } from '../data/atomic.js';
import { encodeNpy, readNpy } from '../data/npy.js';
import { InputError, UnknownIdError, VasgError } from '../errors.js';
import { VasgModel, scoringFactors } from '../model/vasg-model.js';
import { createRetriever, ExactRetriever, type Retriever, type RetrieverKind } from '../search/index.js';
import { evenSample, pca2 } from './map.js';
import { canonicalDirectory, DirectoryLock } from './lock.js';
import { WriteLog } from './write-log.js';
import { eventKey, productWeights, PURCHASE, resolveEventWeights, type EventWeights, type UserEvent } from './events.js';

/** The server's state beside the model's own files: what the writes changed besides the products. */
const STATE_FILE = 'serve_state.json';
/** The features of the products in the state's `added`, float32 [added × I] in that order (binary: 4 bytes a value, not ≈ 19 as JSON). */
const ADDED_FEATURES_FILE = 'serve_added_features.npy';

interface ServeState {
  unavailable: string[];
  /**
   * Folded-in users → their events since training. An element is an event, or (written before typed events)
   * the id of a product they bought.
   */
  users: Record<string, Array<string | UserEvent>>;
  /**
   * Products added or replaced through the API (id and metadata; their features are the rows of
   * serve_added_features.npy): carried onto a newly trained model at a reload (embedded by its encoder) unless it
   * has them. Absent in states written before reloads.
   */
  added?: Array<Omit<NewItem, 'features'>>;
}

/**
 * One write-log record. `events` carries typed events; a record with `items` (written before typed events,
 * or by the `{"items"}` body) is purchases without a time.
 */
export type WriteRecord =
  | { op: 'items'; items: NewItem[] }
  | { op: 'available'; id: string; available: boolean }
  | { op: 'events'; user: string; events: UserEvent[] }
  | { op: 'events'; user: string; items: string[] };

export interface CatalogOptions {
  kind?: RetrieverKind;
  /** Log size past which the log is compacted into the model directory in the background, while serving. */
  compactBytes?: number;
  /** `vasg serve --repair-log`: keep the intact records of a log damaged before its last record (see write-log.ts). */
  repairLog?: boolean;
  /** Where the write log's and reloads' one-line notices go (default: stderr). */
  notice?: (line: string) => void;
  /** Event types and weights (`vasg serve --event-weights`); default: the model's config, else DEFAULT_EVENT_WEIGHTS. */
  eventWeights?: EventWeights;
}

/** What `?fallback=` gives a user the model has never seen. */
export const FALLBACK_KINDS = ['popular', 'new', 'mixed'] as const;
export type FallbackKind = (typeof FALLBACK_KINDS)[number];

/** Default of `vasg serve --compact-bytes`. */
export const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024;

export interface RecommendOptions {
  includeCold?: boolean;
  /** Only products of these categories. */
  categories?: string[];
  /** Only these product ids (an allow-list). */
  allow?: string[];
  /** Never these product ids. */
  exclude?: string[];
}

export interface ServedItem extends ItemMeta {
  id: string;
  score: number;
  cold: boolean;
  /** "because you bought …" (warm) or "looks like …" (cold): the nearest products that explain it. */
  because?: string[];
  looksLike?: string[];
}

export interface NewItem extends Partial<ItemMeta> {
  id: string;
  features: number[];
}

/** A product a write replaced, and what it kept of its previous version (fields the write did not give, availability). */
export interface ReplacedItem {
  id: string;
  kept: string[];
}

/** The metadata fields a re-post keeps when it does not give them, with their names in the HTTP API. */
const META_FIELDS = [['title', 'title'], ['category', 'category'], ['imageUrl', 'image_url']] as const;

/** A user the model would recommend a product to. */
export interface ScoredUser {
  id: string;
  score: number;
}

/** One point of the embedding map. */
export interface MapPoint {
  id: string;
  kind: 'item' | 'user';
  /** A product's category ('' for users and products without one). */
  category: string;
  x: number;
  y: number;
}

/**
 * A user folded in after training: their events (deduplicated), and what they make: the products with their
 * weights (the vector is the weighted mean) and the products bought (left out of their recommendations).
 */
interface FoldedUser {
  events: UserEvent[];
  keys: Set<string>;
  weighted: Array<[row: number, weight: number]>;
  bought: number[];
}

export class Catalog {
  readonly retriever: Retriever;
  private available: Uint8Array;
  private readonly folded = new Map<string, FoldedUser>();
  private log: WriteLog | null = null;
  /** This process's ownership of the model directory (Catalog.open); null for a catalog without persistence. */
  private lock: DirectoryLock | null = null;
  /** Masks that depend only on the catalog (rebuilt after a write, not per request). */
  private masks: { available: Uint8Array; availableWarm: Uint8Array; warm: Uint8Array } | null = null;
  /**
   * A cold product's "looks like" (its nearest warm products) depends on the products only, not on the user:
   * kept per row until products change, so a cold product in a top-k costs a catalog scan once, not per request.
   */
  private readonly looksLike = new Map<number, string[]>();
  /** The map without extra products, per sample size: a PCA of thousands of rows, recomputed only after a product write. */
  private readonly maps = new Map<number, { points: MapPoint[]; explained: [number, number] }>();
  /** Counts product writes, so that a search started before one does not fill the cache after it. */
  private productWrites = 0;
  private dir: string | null = null;
  /** Exact search over the trained users' vectors ("who would this product be recommended to"), built on first use. */
  private userRetriever: ExactRetriever | null = null;
  private compactBytes = DEFAULT_COMPACT_BYTES;
  private background: Promise<void> | null = null;
  /** Set when a background compaction failed: the log then grows until the next start compacts it. */
  private compactionError: Error | null = null;
  /** Products written through the API (with their features), by id, in the order written. */
  private readonly added = new Map<string, NewItem>();
  /** Set when `train` has put another model into the directory: no compaction may overwrite it before a reload. */
  private deployed: string | null = null;
  /** The catalog a reload swapped in: a write that was embedding here when it happened goes there. */
  private successor: Catalog | null = null;
  private notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`);
  private flagWeights: EventWeights | undefined;
  readonly weights: EventWeights;

  /**
   * Serves the model in `dir` with persisted writes: state from the last compaction, then the write log
   * (`DIR.writes.log` and a `.compacting` part left by an interrupted compaction; beside the directory because
   * compaction swaps the directory whole) replayed on top and compacted. Every record sets a value or adds to a
   * set, so replaying records the directory already holds, followed by all later ones, gives the same state:
   * a crash anywhere in a compaction is harmless (README, "Compaction while serving").
   */
  static async open(dir: string, options: CatalogOptions = {}): Promise<Catalog> {
    // The lock comes first: a second server must refuse before it reads (recovers) or writes anything.
    const canonical = canonicalDirectory(dir);
    const lock = DirectoryLock.acquire(canonical);
    try {
      const catalog = new Catalog(VasgModel.load(canonical), options.kind, options.eventWeights);
      if (options.notice) catalog.notice = options.notice;
      catalog.restore(canonical);
      const logFile = writeLogOf(canonical);
      const records = WriteLog.replay(logFile, { repair: options.repairLog, notice: options.notice }) as WriteRecord[];
      for (const record of records) catalog.apply(record, await catalog.embed(record));
      catalog.dir = canonical;
      catalog.lock = lock;
      catalog.log = new WriteLog(logFile);
      catalog.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
      if (records.length > 0) catalog.compact();
      return catalog;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** The model directory's files with the server's state: what a compaction writes. */
  private directoryFiles() {
    const { itemIds } = this.model.parts;
    const state: ServeState = {
      unavailable: itemIds.filter((_, i) => this.available[i] === 0),
      users: Object.fromEntries(Array.from(this.folded, ([user, { events }]) => [user, events])),
      added: Array.from(this.added.values(), ({ features: _features, ...meta }) => meta),
    };
    const added = Array.from(this.added.values(), (item) => item.features);
    const extra: Array<[string, FileData]> = [[STATE_FILE, JSON.stringify(state)]];
    if (added.length > 0) extra.push([ADDED_FEATURES_FILE, encodeNpy(matrixOf(added, 'added products'))]);
    return this.model.files(this.model.info, extra);
  }

  /** Folds the log into the model directory (one atomic directory swap), then empties the log. At start and stop: it blocks. */
  compact(): void {
    if (!this.dir || !this.log || this.replacedOnDisk()) return;
    writeDirectoryAtomic(this.dir, this.directoryFiles());
    this.log.clear();
  }

  /**
   * Whether `vasg train --out DIR` has put another model into the served directory: then a compaction would
   * overwrite the new model with the old one, so none runs (the log keeps every write) until a reload serves it.
   */
  private replacedOnDisk(): boolean {
    if (this.deployed) return true;
    const onDisk = modelIdIn(this.dir!);
    if (onDisk === null || onDisk === this.model.modelId) return false;
    this.deployed = onDisk;
    this.notice(`vasg serve: ${this.dir} now holds model ${onDisk} (serving ${this.model.modelId}): not compacting over it; the write log keeps every write until a reload (SIGHUP or POST /admin/reload) serves the new model`);
    return true;
  }

  /** The served model's id (manifest "modelId"), as /healthz reports it. */
  get modelId(): string {
    return this.model.modelId;
  }

  /** The background compaction in progress, if any (tests and a clean stop wait for it). */
  get compaction(): Promise<void> | null {
    return this.background;
  }

  /**
   * Compaction while serving: the state is copied now (a consistent cut between two writes), the log rotated
   * so that later writes go to a fresh file, and the directory written and swapped in on a worker thread;
   * only then is the rotated log deleted. Reads and writes go on meanwhile.
   */
  private compactInBackground(): void {
    if (this.replacedOnDisk()) return;
    const log = this.log!;
    const written = writeDirectoryAtomicOffThread(this.dir!, this.directoryFiles());
    log.rotate();
    this.background = written.then(() => {
      log.dropRotated();
      this.background = null;
      if (log.bytes > this.compactBytes) this.compactInBackground();
    }, (error: Error) => {
      // The rotated records stay in FILE.compacting, replayed at the next start; no second rotation may overwrite them.
      this.compactionError = error;
      this.background = null;
      console.error(`vasg serve: compacting the write log failed (${error.message}); the log grows until the next start compacts it`);
    });
  }

  async close(): Promise<void> {
    while (this.background) await this.background;
    if (this.log && this.replacedOnDisk()) {
      // A model was deployed but not yet reloaded: carry the writes onto it now, so the next start finds them in the directory.
      const next = await this.reload().catch((error: Error) => {
        this.notice(`vasg serve: could not carry the writes onto the model in ${this.dir} (${error.message}); the write log keeps them for the next start`);
        return null;
      });
      if (next && next !== this) return next.close();
    }
    // Nothing since the last compaction: the directory already holds every write (no rewrite of an unchanged model).
    if (this.log && (this.log.bytes > 0 || this.compactionError)) this.compact();
    this.abandon();
  }

  /**
   * Serves the model now in the directory (after `vasg train --out DIR`): loads it beside this one, carries
   * over what the API wrote that it lacks (products it does not have, embedded by its encoder; availability;
   * folded-in users' events, unless its training already holds all of them), and hands it the log and the
   * lock. Returns the catalog to serve: this one when the directory holds the model already served. Throws,
   * leaving this catalog serving and unchanged, when the directory cannot be loaded (missing, mixed, damaged).
   * The caller swaps the returned catalog in synchronously.
   */
  async reload(): Promise<Catalog> {
    if (!this.dir || !this.log || this.successor) throw new VasgError('this catalog does not serve a model directory (or was already replaced)');
    while (this.background) await this.background;
    if (modelIdIn(this.dir) === this.model.modelId) return this;
    const model = VasgModel.load(this.dir);
    if (model.modelId === this.model.modelId) return this;
    const next = new Catalog(model, this.kind, this.flagWeights);
    next.notice = this.notice;
    // Embedding awaits: products written meanwhile are embedded in the next round, until none is missing.
    const embedded = new Map<NewItem, Float32Array>();
    for (;;) {
      const missing = Array.from(this.added.values()).filter((item) => !embedded.has(item) && !model.hasItem(item.id) && next.canEmbed(item));
      if (missing.length === 0) break;
      const vectors = await next.embedChecked(matrixOf(missing.map((it) => it.features), 'added products'), 'added products');
      missing.forEach((item, j) => embedded.set(item, vectors.data.subarray(j * vectors.cols, (j + 1) * vectors.cols)));
    }
    if (this.successor || !this.log) throw new VasgError('the catalog was replaced or closed during the reload');
    // From here on synchronous: no write can come between the carry-over and the swap.
    const carried = Array.from(this.added.values()).filter((item) => embedded.has(item));
    const skipped = Array.from(this.added.values()).filter((item) => !model.hasItem(item.id) && !embedded.has(item)).map((it) => it.id);
    if (carried.length > 0) {
      const dim = model.config.dim;
      const data = new Float32Array(carried.length * dim);
      carried.forEach((item, j) => data.set(embedded.get(item)!, j * dim));
      next.apply({ op: 'items', items: carried }, { data, rows: carried.length, cols: dim });
    }
    if (skipped.length > 0) this.notice(`vasg serve: reload: ${skipped.length} product(s) added through the API cannot be placed by the new model (no encoder, or another feature width) and are left out: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
    this.model.parts.itemIds.forEach((id, i) => { if (this.available[i] === 0 && next.model.hasItem(id)) next.apply({ op: 'available', id, available: false }, null); });
    for (const [user, { events }] of this.folded) {
      const known = events.filter((e) => next.model.hasItem(e.item));
      if (known.length > 0 && !next.absorbed(user, known)) next.foldEvents(user, known);
    }
    next.dir = this.dir;
    next.lock = this.lock;
    next.log = this.log;
    next.compactBytes = this.compactBytes;
    this.log = null;
    this.lock = null;
    this.successor = next;
    // The carried state is in memory and in the log's records only until the new directory holds it.
    next.compactInBackground();
    return next;
  }

  /** A trained user of this model whose events are all purchases it was trained on: training absorbed them. */
  private absorbed(user: string, events: UserEvent[]): boolean {
    if (!this.model.hasUser(user)) return false;
    const trained = new Set(this.trainingPurchases(user));
    return events.every((e) => trained.has(this.model.itemIndexOf(e.item)));
  }

  /** Whether this model can embed a product's features (it has an encoder of their width). */
  private canEmbed(item: NewItem): boolean {
    return this.model.capabilities.newItems && item.features.length === this.model.parts.featureDim;
  }

  /**
   * Stops persisting without compacting, as a crash would: the log keeps the writes for the next start and the
   * directory's lock is released. A clean stop is `close()`.
   */
  abandon(): void {
    this.log?.close();
    this.log = null;
    this.lock?.release();
    this.lock = null;
  }

  private restore(dir: string): void {
    const state = readCompactedState(dir);
    for (const id of state.unavailable) this.apply({ op: 'available', id, available: false }, null);
    for (const item of state.added) this.added.set(item.id, item);
    for (const [user, events] of Object.entries(state.users)) this.foldEvents(user, events.filter((e) => this.model.hasItem(e.item)));
  }

  /** The vectors of a write's products, made off the event loop before the write is applied (they depend on the encoder only). */
  private async embed(record: WriteRecord): Promise<Matrix | null> {
    return record.op === 'items' ? this.embedChecked(matrixOf(record.items.map((it) => it.features), 'items[].features'), 'items[].features') : null;
  }

  /** Features the encoder cannot embed (they overflow it, even though each is a finite float32) are bad input, not a server fault. */
  private async embedChecked(features: Matrix, field: string): Promise<Matrix> {
    try {
      return await this.model.embedFeatures(features);
    } catch (error) {
      if (error instanceof VasgError) throw error;
      throw new InputError(`${field}: these feature values cannot be embedded: ${(error as Error).message}`, field, undefined, field);
    }
  }

  /**
   * Applies a write and, once it succeeded, logs it durably (the caller acknowledges after this returns).
   * Synchronous, so the log holds the writes in the order they were applied.
   */
  private write(record: WriteRecord, embedded: Matrix | null = null): number[] {
    // Every route reads the served catalog synchronously before writing (addItems forwards after its await), so this would be a bug.
    if (this.successor) throw new VasgError('a write reached a catalog a reload replaced; it was not applied');
    const rows = this.apply(record, embedded);
    if (!this.log) return rows;
    this.log.append(record);
    if (this.log.bytes > this.compactBytes && !this.background && !this.compactionError && !this.deployed) this.compactInBackground();
    return rows;
  }

  private apply(record: WriteRecord, embedded: Matrix | null): number[] {
    this.masks = null;
    switch (record.op) {
      case 'items': return this.applyItems(record.items, embedded!);
      case 'available': this.available[this.model.itemIndexOf(record.id)] = record.available ? 1 : 0; return [];
      case 'events': this.foldEvents(record.user, eventsOf(record)); return [];
    }
  }

  constructor(readonly model: VasgModel, private readonly kind: RetrieverKind = 'exact', eventWeights?: EventWeights) {
    // Ranking rows: the scoring vectors plus the item bias as one more column (when the model has one).
    this.retriever = createRetriever(kind, model.rankingMatrices().items);
    this.available = new Uint8Array(model.parts.itemIds.length).fill(1);
    this.flagWeights = eventWeights;
    this.weights = resolveEventWeights(eventWeights, model.config);
  }

  get size(): number {
    return this.model.parts.itemIds.length;
  }

  item(i: number): { id: string; cold: boolean; available: boolean } & ItemMeta {
    return { id: this.model.parts.itemIds[i], cold: this.model.parts.cold[i] === 1, available: this.available[i] === 1, ...this.model.itemMeta(i) };
  }

  /** Top-k for a known or folded-in user, with explanations. */
  async recommend(userId: string, k: number, options: RecommendOptions = {}): Promise<ServedItem[]> {
    const bought = this.boughtBy(userId);
    return this.answer(this.userQuery(userId), bought, k, options);
  }

  /** Whether the model or a fold-in knows this user (else recommend throws UnknownIdError). */
  knowsUser(userId: string): boolean {
    return this.folded.has(userId) || this.model.hasUser(userId);
  }

  /** Top-k for an anonymous basket of product ids (the basket itself excluded). */
  async recommendBasket(itemIds: string[], k: number, options: RecommendOptions = {}): Promise<ServedItem[]> {
    const bought = this.rowsOf(itemIds, 'items');
    return this.answer(this.meanOf(bought), bought, k, options);
  }

  /** Nearest products that can be sold: unavailable ones are skipped inside the search, as in recommendations. */
  async similar(itemId: string, k: number): Promise<ServedItem[]> {
    const i = this.model.itemIndexOf(itemId);
    const { available, availableWarm } = this.catalogMasks();
    const allow = this.model.capabilities.coldItems ? available : availableWarm;
    const filter = { exclude: Int32Array.of(i), allow };
    // VASG with a similar-items space ranks in that space (the model's own exact search, rebuilt after products are
    // added). Otherwise a model that can take new products (VASG, VBPR, WBOI) queries with the product's row as the
    // retriever holds it (without the bias column); the others never change, and their own query says when they cannot
    // answer (MostPop, BPR-MF cold) or differs from the row (IBR).
    const result = this.model.parts.similarSpace
      ? await this.model.similarSearch().search(this.model.similarityQuery(i), k, filter)
      : await this.retriever.search(this.model.capabilities.newItems ? this.itemQuery(i) : this.model.similarityQuery(i), k, filter);
    return this.decorate(result.rows, result.scores, []);
  }

  /** Nearest products to raw image features (embedded by the encoder) or to an embedding-space vector. */
  async query(k: number, input: { features?: number[]; vector?: Float32Array }, options: RecommendOptions = {}): Promise<ServedItem[]> {
    let vector = input.vector;
    if (input.features) vector = (await this.embedChecked(matrixOf([input.features], 'features'), 'features')).data;
    if (!vector) throw new InputError('give "features", "vector" or "analogy"', 'body', undefined, 'body');
    const results = await this.answer(vector, [], k, options, false);
    // Each value is a finite float32, but under dot scoring a large one makes the scores overflow: no ranking then.
    if (results.some((r) => !Number.isFinite(r.score))) {
      const field = input.features ? 'features' : 'vector';
      throw new InputError(`body.${field}: the scores of this query overflow 32-bit floats (values too large for the model's dot-product scoring); scale the ${field} down`, `body.${field}`, undefined, `body.${field}`);
    }
    return results;
  }

  /** The paper's analogy X_p1 − X_u1 + X_u2 as an embedding-space vector. */
  analogy(product: string, fromUser: string, toUser: string): Float32Array {
    const p = this.rawItem(this.model.itemIndexOf(product));
    const u1 = this.userQuery(fromUser);
    const u2 = this.userQuery(toUser);
    return p.map((v, d) => v - u1[d] + u2[d]);
  }

  /** User ids starting with `prefix` (trained, then folded-in), at most `limit`, and how many match. */
  users(prefix: string, limit: number): { users: string[]; total: number } {
    const matching = [...this.model.parts.userIds, ...Array.from(this.folded.keys()).filter((id) => !this.model.hasUser(id))]
      .filter((id) => id.startsWith(prefix));
    return { users: matching.slice(0, limit), total: matching.length };
  }

  /** The products a known or folded-in user bought. */
  purchases(userId: string): Array<ReturnType<Catalog['item']>> {
    return this.boughtBy(userId).map((row) => this.item(row));
  }

  /**
   * The k trained users who score a product highest and have not bought it: whom it would be recommended
   * to. Exact search over the user matrix (native top-k); folded-in users are not in that matrix.
   */
  async topUsers(itemId: string, k: number): Promise<ScoredUser[]> {
    const i = this.model.itemIndexOf(itemId);
    this.userRetriever ??= new ExactRetriever(this.model.scoringMatrices().users);
    const { seenIndptr, seenIndices } = this.model.parts;
    const buyers: number[] = [];
    for (let u = 0; u + 1 < seenIndptr.length; u++) {
      for (let j = seenIndptr[u]; j < seenIndptr[u + 1]; j++) if (seenIndices[j] === i) buyers.push(u);
    }
    const result = await this.userRetriever.search(this.embedding(i), k, { exclude: Int32Array.from(buyers) });
    return Array.from(result.rows, (u, j) => ({ id: this.model.parts.userIds[u], score: result.scores[j] }));
  }

  /**
   * A 2-D PCA map of an evenly spaced sample of products and trained users (as the retriever scores
   * them), plus the products in `include` (e.g. one just added) wherever they fall in the catalog.
   */
  map(limit: number, include: string[] = []): { points: MapPoint[]; explained: [number, number] } {
    if (include.length > 0) return this.computeMap(limit, include);
    let map = this.maps.get(limit);
    if (!map) {
      if (this.maps.size >= 4) this.maps.clear(); // a few sizes (the page asks for one), not one per limit a client tries
      this.maps.set(limit, map = this.computeMap(limit, []));
    }
    return map;
  }

  private computeMap(limit: number, include: string[]): { points: MapPoint[]; explained: [number, number] } {
    const { itemIds, userIds } = this.model.parts;
    const items = Array.from(new Set([...evenSample(itemIds.length, limit), ...this.rowsOf(include, 'include', true)]));
    const users = evenSample(userIds.length, limit);
    const dim = this.model.config.dim;
    const data = new Float32Array((items.length + users.length) * dim);
    items.forEach((row, j) => data.set(this.embedding(row), j * dim));
    const userVectors = this.model.scoringMatrices().users.data;
    users.forEach((u, j) => data.set(userVectors.subarray(u * dim, (u + 1) * dim), (items.length + j) * dim));
    const { coords, explained } = pca2(data, dim);
    const points: MapPoint[] = [
      ...items.map((row) => ({ id: itemIds[row], kind: 'item' as const, category: this.model.itemMeta(row).category })),
      ...users.map((u) => ({ id: userIds[u], kind: 'user' as const, category: '' })),
    ].map((p, j) => ({ ...p, x: coords[2 * j], y: coords[2 * j + 1] }));
    return { points, explained };
  }

  /**
   * Adds products or replaces known ones; they are searchable as soon as this resolves. A replaced product keeps
   * the fields the write does not give (title, category, image URL) and its availability; `replaced` names them.
   */
  async addItems(items: NewItem[]): Promise<{ rows: number[]; replaced: ReplacedItem[] }> {
    const embedded = await this.embed({ op: 'items', items });
    // A reload swapped in another model while this was embedding: its encoder places the products.
    if (this.successor) return this.successor.addItems(items);
    // Completed after the embedding (no await from here on): the fields kept are those of the product now.
    const replaced: ReplacedItem[] = [];
    const complete = items.map((item) => {
      const row = this.rowOf(item.id);
      if (row === undefined) return item;
      const before = this.model.itemMeta(row);
      const kept = META_FIELDS.filter(([field]) => item[field] === undefined).map(([, name]) => name);
      replaced.push({ id: item.id, kept: [...kept, this.available[row] ? 'available' : 'unavailable'] });
      return { ...item, title: item.title ?? before.title, category: item.category ?? before.category, imageUrl: item.imageUrl ?? before.imageUrl };
    });
    return { rows: this.write({ op: 'items', items: complete }, embedded), replaced };
  }

  setAvailable(itemId: string, available: boolean): void {
    this.write({ op: 'available', id: itemId, available });
  }

  /**
   * Folds a new or returning user in from their events (types already checked against the weights,
   * events.ts). Every product must be known: an unknown one is a 404 and nothing is written.
   */
  addEvents(userId: string, events: UserEvent[] | string[], now = new Date()): void {
    const typed = events.map((e) => (typeof e === 'string' ? { item: e, type: PURCHASE, time: now.toISOString() } : e));
    this.rowsOf(typed.map((e) => e.item), 'events');
    this.write({ op: 'events', user: userId, events: typed });
  }

  /**
   * A list for a user the model has never seen (`?fallback=`): `popular` ranks by the products' buyers in
   * training plus the weights of the events served since; `new` lists the products added through the API,
   * newest first, then the model's never-bought products; `mixed` alternates the two. The usual rules apply
   * (availability, categories, allow, exclude); `new` includes never-bought products unless include_cold=false.
   */
  async fallback(kind: FallbackKind, k: number, options: RecommendOptions = {}): Promise<ServedItem[]> {
    const popular = kind === 'new' ? [] : this.ranked(this.popularity(), this.allowMask(options), options.exclude);
    const newest = kind === 'popular' ? [] : this.ranked(this.newness(), this.allowMask({ ...options, includeCold: options.includeCold ?? true }), options.exclude);
    const rows: number[] = [];
    const scores: number[] = [];
    const taken = new Set<number>();
    for (let j = 0; rows.length < k && (j < popular.length || j < newest.length); j++) {
      for (const pair of [popular[j], newest[j]]) {
        if (pair === undefined || taken.has(pair[0]) || rows.length >= k) continue;
        const [row, score] = pair;
        taken.add(row);
        rows.push(row);
        scores.push(score);
      }
    }
    return this.decorate(Int32Array.from(rows), Float32Array.from(scores), []);
  }

  /** Rows with a positive score that pass the mask, best first, as [row, score]. */
  private ranked(scores: Float64Array, mask: Uint8Array, exclude: string[] = []): Array<[number, number]> {
    const excluded = new Set(this.rowsOf(exclude, 'exclude', true));
    const rows: Array<[number, number]> = [];
    scores.forEach((score, row) => { if (score > 0 && mask[row] && !excluded.has(row)) rows.push([row, score]); });
    return rows.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }

  /** Buyers in training plus the weights of the events served since (the recent part), per product. */
  private popularity(): Float64Array {
    const scores = new Float64Array(this.size);
    for (const row of this.model.parts.seenIndices) scores[row] += this.weights[PURCHASE];
    for (const [, user] of this.folded) {
      for (const [id, w] of productWeights(user.events, this.weights)) scores[this.model.itemIndexOf(id)] += w;
    }
    return scores;
  }

  /** Newest first: products added through the API (last written highest), then the model's never-bought ones (later rows higher). */
  private newness(): Float64Array {
    const scores = new Float64Array(this.size);
    const { cold } = this.model.parts;
    for (let row = 0; row < this.size; row++) if (cold[row] === 1) scores[row] = (row + 1) / (this.size + 1);
    let order = 1;
    for (const id of this.added.keys()) scores[this.model.itemIndexOf(id)] = 1 + order++;
    return scores;
  }

  private applyItems(items: NewItem[], embedded: Matrix): number[] {
    this.looksLike.clear();
    this.maps.clear();
    this.productWrites++;
    for (const item of items) {
      this.added.delete(item.id); // re-inserted: the map's order is the order of the last writes (newest last)
      this.added.set(item.id, item);
    }
    const meta = items.map((it) => ({ title: it.title ?? '', category: it.category ?? '', imageUrl: it.imageUrl ?? '' }));
    const rows = this.model.addEmbeddedItems(items.map((it) => it.id), embedded, meta, matrixOf(items.map((it) => it.features), 'items[].features'));
    if (this.size > this.available.length) {
      const grown = new Uint8Array(this.size).fill(1);
      grown.set(this.available);
      this.available = grown;
    }
    // Rows in increasing order, so an appended row is always the retriever's next one.
    const order = rows.map((row, j) => [row, j]).sort((a, b) => a[0] - b[0]);
    for (const [row] of order) {
      this.retriever.upsert(row, this.withBias(this.scored(this.rawItem(row)), this.model.parts.itemBias?.[row]));
    }
    return rows;
  }

  /** Adds events to a user (a trained user starts from their training purchases) and recomputes what they make. */
  private foldEvents(userId: string, events: UserEvent[]): void {
    const user = this.folded.get(userId) ?? { events: [], keys: new Set<string>(), weighted: [], bought: [] };
    for (const event of events) {
      const key = eventKey(event);
      if (user.keys.has(key)) continue;
      user.keys.add(key);
      user.events.push(event);
    }
    const trained = this.model.hasUser(userId) ? this.trainingPurchases(userId) : [];
    const weights = productWeights(user.events, this.weights);
    for (const row of trained) weights.set(this.model.parts.itemIds[row], Math.max(weights.get(this.model.parts.itemIds[row]) ?? 0, this.weights[PURCHASE]));
    user.weighted = Array.from(weights, ([id, w]) => [this.model.itemIndexOf(id), w]);
    const purchased = user.events.filter((e) => e.type === PURCHASE).map((e) => this.model.itemIndexOf(e.item));
    user.bought = Array.from(new Set([...trained, ...purchased]));
    this.folded.set(userId, user);
  }

  /** Top-k for an embedding-space query; `biased`: ranked as a user's list (with the item bias), else by the embedding alone. */
  private async answer(query: Float32Array, bought: number[], k: number, options: RecommendOptions, biased = true): Promise<ServedItem[]> {
    const exclude = Int32Array.from([...bought, ...this.rowsOf(options.exclude ?? [], 'exclude', true)]);
    const result = await this.retriever.search(this.withBias(this.scored(query), biased ? 1 : 0), k, { exclude, allow: this.allowMask(options) });
    return this.decorate(result.rows, result.scores, bought);
  }

  private catalogMasks() {
    if (!this.masks) {
      const warm = Uint8Array.from(this.model.parts.cold, (c) => 1 - c);
      this.masks = { available: this.available.slice(), availableWarm: warm.map((w, i) => w & this.available[i]), warm };
    }
    return this.masks;
  }

  private allowMask(options: RecommendOptions): Uint8Array {
    const masks = this.catalogMasks();
    // A model with nothing of its own for cold products (BPR-MF, MostPop) leaves them out unless asked for them.
    const includeCold = options.includeCold ?? this.model.capabilities.coldItems;
    const base = includeCold ? masks.available : masks.availableWarm;
    if (!options.categories?.length && !options.allow) return base;
    const mask = base.slice();
    if (options.categories?.length) {
      const wanted = new Set(options.categories);
      for (let i = 0; i < mask.length; i++) if (!wanted.has(this.model.itemMeta(i).category)) mask[i] = 0;
    }
    if (options.allow) {
      const allowed = new Uint8Array(mask.length);
      for (const row of this.rowsOf(options.allow, 'allow', true)) allowed[row] = mask[row];
      return allowed;
    }
    return mask;
  }

  /** Results with metadata and a short explanation each. */
  private async decorate(rows: Int32Array, scores: Float32Array, bought: number[]): Promise<ServedItem[]> {
    const { warm } = this.catalogMasks();
    const { itemIds, cold } = this.model.parts;
    const boughtVectors = bought.map((row) => this.embedding(row)); // once per request, not per result
    // The cold products' searches go out together, so the exact retriever answers them in one batch.
    return Promise.all(Array.from(rows, async (row, j) => {
      const { title, category, imageUrl } = this.model.itemMeta(row);
      const served: ServedItem = { id: itemIds[row], cold: cold[row] === 1, title, category, imageUrl, score: scores[j] };
      if (served.cold) {
        served.looksLike = await this.nearestWarm(row, warm);
      } else if (bought.length > 0) {
        served.because = nearestOf(this.embedding(row), boughtVectors, 3).map((b) => itemIds[bought[b]]);
      }
      return served;
    }));
  }

  /** A cold product's two nearest warm products ("looks like"), from the cache while no product was written. */
  private async nearestWarm(row: number, warm: Uint8Array): Promise<string[]> {
    const known = this.looksLike.get(row);
    if (known) return known;
    const writes = this.productWrites;
    const near = await this.retriever.search(this.itemQuery(row), 2, { exclude: Int32Array.of(row), allow: warm });
    const ids = Array.from(near.rows, (r) => this.model.parts.itemIds[r]);
    if (writes === this.productWrites) this.looksLike.set(row, ids);
    return ids;
  }

  private boughtBy(userId: string): number[] {
    return this.folded.get(userId)?.bought ?? this.trainingPurchases(userId);
  }

  private trainingPurchases(userId: string): number[] {
    const { seenIndptr, seenIndices } = this.model.parts;
    const u = this.model.userIndexOf(userId);
    return Array.from(seenIndices.subarray(seenIndptr[u], seenIndptr[u + 1]));
  }

  /** A trained user's vector, or a folded-in user's weighted mean of their products' vectors. */
  private userQuery(userId: string): Float32Array {
    const folded = this.folded.get(userId);
    if (folded) return this.meanOf(folded.weighted.map(([row]) => row), folded.weighted.map(([, w]) => w));
    const u = this.model.userIndexOf(userId);
    const dim = this.model.config.dim;
    return this.model.parts.users.data.slice(u * dim, (u + 1) * dim);
  }

  /** The (weighted) mean of products' vectors: a folded-in user, a basket. */
  private meanOf(rows: number[], weights?: number[]): Float32Array {
    const dim = this.model.config.dim;
    const mean = new Float32Array(dim);
    const total = weights ? weights.reduce((a, b) => a + b, 0) : rows.length;
    rows.forEach((row, j) => {
      const v = this.rawItem(row);
      const w = (weights ? weights[j] : 1) / total;
      for (let d = 0; d < dim; d++) mean[d] += v[d] * w;
    });
    return mean;
  }

  private rawItem(row: number): Float32Array {
    const dim = this.model.config.dim;
    return this.model.parts.items.data.subarray(row * dim, (row + 1) * dim);
  }

  /** Product `row`'s vector in the embedding space (the retriever's row without the bias column). */
  private embedding(row: number): Float32Array {
    const vector = this.retriever.vector(row);
    return this.model.parts.itemBias ? vector.subarray(0, this.model.config.dim) : vector;
  }

  /** Product `row` as a query for its neighbours: its embedding, with 0 in the bias column (no popularity in similarity). */
  private itemQuery(row: number): Float32Array {
    return this.withBias(this.embedding(row), 0);
  }

  /** A scoring vector with `last` appended when the retriever has the bias column (users 1, products b_i, item queries 0). */
  private withBias(vector: Float32Array, last = 0): Float32Array {
    if (!this.model.parts.itemBias) return vector;
    const out = new Float32Array(vector.length + 1);
    out.set(vector);
    out[vector.length] = last;
    return out;
  }

  /** A vector as the retriever scores it (normalised under cosine scoring). */
  private scored(vector: Float32Array): Float32Array {
    const dim = vector.length;
    const empty = { data: new Float32Array(0), rows: 0, cols: dim };
    return scoringFactors({ data: vector, rows: 1, cols: dim }, empty, this.model.config.scoring).users.data;
  }

  private rowOf(id: string): number | undefined {
    try {
      return this.model.itemIndexOf(id);
    } catch (error) {
      if (error instanceof UnknownIdError) return undefined;
      throw error;
    }
  }

  private rowsOf(ids: string[], field: string, skipUnknown = false): number[] {
    const rows: number[] = [];
    for (const id of ids) {
      try {
        rows.push(this.model.itemIndexOf(id));
      } catch (error) {
        if (!(skipUnknown && error instanceof UnknownIdError)) throw error;
      }
    }
    if (!skipUnknown && rows.length === 0) throw new InputError(`"${field}" lists no product`, field, undefined, field);
    return rows;
  }
}

/** A log record's events: typed, or (`{"items"}`, older logs) purchases without a time. */
export function eventsOf(record: Extract<WriteRecord, { op: 'events' }>): UserEvent[] {
  return 'events' in record ? record.events : record.items.map((item) => ({ item, type: PURCHASE, time: null }));
}

/** The model id a directory's manifest names, or null when there is no readable manifest (a reload reports why). */
function modelIdIn(dir: string): string | null {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { modelId?: string; created?: string };
    return manifest.modelId ?? (manifest.created ? `created:${manifest.created}` : null);
  } catch {
    return null;
  }
}

function matrixOf(rows: number[][], field: string): Matrix {
  const cols = rows[0]?.length ?? 0;
  const bad = rows.findIndex((r) => r.length !== cols);
  if (bad >= 0) throw new InputError(`${field}: row ${bad} has ${rows[bad].length} values, row 0 has ${cols}`, field, undefined, field);
  const data = new Float32Array(rows.length * cols);
  rows.forEach((row, r) => data.set(row, r * cols));
  return { data, rows: rows.length, cols };
}

/** Indices of the `count` vectors of `candidates` nearest to `vector` by inner product, best first (a user's purchases: a short list). */
function nearestOf(vector: Float32Array, candidates: Float32Array[], count: number): number[] {
  return candidates
    .map((candidate, index) => ({ index, score: dot(vector, candidate) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, count)
    .map(({ index }) => index);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}

/** serve_state.json as compaction writes it; anything else names the file and what was expected. */
/** What a compaction left in a served directory, read back: sold-out ids, products added with their features, users' events. */
export interface CompactedState {
  unavailable: string[];
  added: NewItem[];
  users: Record<string, UserEvent[]>;
}

/** The write log of a served model directory: beside it, since compaction swaps the directory whole. */
export function writeLogOf(dir: string): string {
  return `${path.resolve(dir)}.writes.log`;
}

/** The compacted state of a served directory (empty when it was never served); `vasg export-events` reads it too. */
export function readCompactedState(dir: string): CompactedState {
  const file = path.join(dir, STATE_FILE);
  if (!fs.existsSync(file)) return { unavailable: [], added: [], users: {} };
  const state = parseState(file);
  const added: NewItem[] = [];
  if (state.added?.length) {
    const featuresFile = path.join(dir, ADDED_FEATURES_FILE);
    const features = readNpy(featuresFile);
    if (features.rows !== state.added.length) throw new InputError(`${featuresFile}: ${features.rows} rows, but ${file} lists ${state.added.length} added products`, file);
    state.added.forEach((meta, j) => added.push({ ...meta, features: Array.from(features.data.subarray(j * features.cols, (j + 1) * features.cols)) }));
  }
  const users = Object.fromEntries(Object.entries(state.users).map(([user, events]) =>
    [user, events.map((e) => (typeof e === 'string' ? { item: e, type: PURCHASE, time: null } : e))]));
  return { unavailable: state.unavailable, added, users };
}

function parseState(file: string): ServeState {
  let state: Partial<ServeState>;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ServeState>;
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message}); it is the server's state (unavailable products, folded-in users), written by compaction: restore it from a backup or delete it to start without that state`, file);
  }
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const isEvent = (x: unknown) => typeof x === 'string' || (typeof x === 'object' && x !== null && typeof (x as UserEvent).item === 'string' && typeof (x as UserEvent).type === 'string');
  const isEvents = (v: unknown) => Array.isArray(v) && v.every(isEvent);
  if (typeof state !== 'object' || state === null || !isStrings(state.unavailable) || typeof state.users !== 'object' || state.users === null
    || !Object.values(state.users).every(isEvents) || !(state.added === undefined || Array.isArray(state.added))) {
    throw new InputError(`${file}: expected {"unavailable": [product ids], "users": {user id: [product ids or {item, type, time}]}, "added": [products]}`, file);
  }
  return state as ServeState;
}
