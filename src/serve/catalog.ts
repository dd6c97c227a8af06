// What the HTTP service answers from: a loaded model, its nearest-product retriever, per-product
// availability, and users folded in after training. Business rules (seen products, exclude lists,
// categories, availability, cold products) become the retriever's exclude list and allow mask, so the
// search itself skips them and k results come back whenever k products pass.
import fs from 'node:fs';
import path from 'node:path';
import type { ItemMeta, Matrix } from '../data/types.js';
import { writeDirectoryAtomic, writeDirectoryAtomicOffThread } from '../data/atomic.js';
import { InputError, UnknownIdError, VasgError } from '../errors.js';
import { VasgModel, scoringFactors } from '../model/vasg-model.js';
import { createRetriever, ExactRetriever, type Retriever, type RetrieverKind } from '../search/index.js';
import { evenSample, pca2 } from './map.js';
import { canonicalDirectory, DirectoryLock } from './lock.js';
import { WriteLog } from './write-log.js';


export interface ServeState {
  unavailable: string[];
  /** Folded-in users → ids of the products they bought. */
  users: Record<string, string[]>;
  /** Products added since training, with their features (what `vasg export-events` needs to train on them). */
  added?: NewItem[];
  /** Every event logged since training, with its time (seconds since the epoch), for `vasg export-events`. */
  events?: LoggedEvent[];
}

/** One user event as `vasg export-events` turns it into a training interaction. */
export interface LoggedEvent {
  user: string;
  item: string;
  /** Seconds since the epoch; absent in records written before times were logged. */
  time?: number;
  /** Absent: a purchase. */
  type?: string;
}

export type WriteRecord =
  | { op: 'items'; items: NewItem[] }
  | { op: 'available'; id: string; available: boolean }
  | { op: 'events'; user: string; items: string[]; time?: number; type?: string };

/** The model directory's file of the server's state. */
export const SERVE_STATE_FILE = 'serve_state.json';

/** The write log of a served model directory: beside it, since compaction swaps the directory whole. */
export function writeLogOf(dir: string): string {
  return `${path.resolve(dir)}.writes.log`;
}

export interface CatalogOptions {
  kind?: RetrieverKind;
  /** Log size past which the log is compacted into the model directory in the background, while serving. */
  compactBytes?: number;
  /** `vasg serve --repair-log`: keep the intact records of a log damaged before its last record (see write-log.ts). */
  repairLog?: boolean;
  /** Where the write log's one-line notices go (default: stderr). */
  notice?: (line: string) => void;
}

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

/** A user folded in after training: their vector is the mean of the products they bought. */
interface FoldedUser {
  items: number[];
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
  /** Since training: added products with their features, and user events with their times (kept for `vasg export-events`). */
  private added: NewItem[] = [];
  private events: LoggedEvent[] = [];

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
      const catalog = new Catalog(VasgModel.load(canonical), options.kind);
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
      users: Object.fromEntries(Array.from(this.folded, ([user, { items }]) => [user, items.map((i) => itemIds[i])])),
      added: this.added,
      events: this.events,
    };
    return this.model.files(this.model.info, [[SERVE_STATE_FILE, JSON.stringify(state)]]);
  }

  /** Folds the log into the model directory (one atomic directory swap), then empties the log. At start and stop: it blocks. */
  compact(): void {
    if (!this.dir || !this.log) return;
    writeDirectoryAtomic(this.dir, this.directoryFiles());
    this.log.clear();
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
    // Nothing since the last compaction: the directory already holds every write (no rewrite of an unchanged model).
    if (this.log && (this.log.bytes > 0 || this.compactionError)) this.compact();
    this.abandon();
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
    const file = path.join(dir, SERVE_STATE_FILE);
    if (!fs.existsSync(file)) return;
    const state = parseState(file);
    this.added = state.added ?? [];
    this.events = state.events ?? [];
    for (const id of state.unavailable) this.apply({ op: 'available', id, available: false }, null);
    for (const [user, items] of Object.entries(state.users)) this.folded.set(user, { items: this.rowsOf(items, 'users', true) });
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
    const rows = this.apply(record, embedded);
    if (!this.log) return rows;
    this.log.append(record);
    if (this.log.bytes > this.compactBytes && !this.background && !this.compactionError) this.compactInBackground();
    return rows;
  }

  private apply(record: WriteRecord, embedded: Matrix | null): number[] {
    this.masks = null;
    switch (record.op) {
      case 'items':
        this.added.push(...record.items);
        return this.applyItems(record.items, embedded!);
      case 'available': this.available[this.model.itemIndexOf(record.id)] = record.available ? 1 : 0; return [];
      case 'events':
        this.applyEvents(record.user, record.items);
        for (const item of record.items) this.events.push({ user: record.user, item, time: record.time, ...(record.type ? { type: record.type } : {}) });
        return [];
    }
  }

  constructor(readonly model: VasgModel, kind: RetrieverKind = 'exact') {
    // Ranking rows: the scoring vectors plus the item bias as one more column (when the model has one).
    this.retriever = createRetriever(kind, model.rankingMatrices().items);
    this.available = new Uint8Array(model.parts.itemIds.length).fill(1);
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
    return this.answer(this.userQuery(userId, bought), bought, k, options);
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
    const u1 = this.userQuery(fromUser, this.boughtBy(fromUser));
    const u2 = this.userQuery(toUser, this.boughtBy(toUser));
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

  /** Folds a new or returning user in from products they bought. */
  addEvents(userId: string, itemIds: string[]): void {
    this.write({ op: 'events', user: userId, items: itemIds, time: Math.floor(Date.now() / 1000) });
  }

  private applyItems(items: NewItem[], embedded: Matrix): number[] {
    this.looksLike.clear();
    this.maps.clear();
    this.productWrites++;
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

  private applyEvents(userId: string, itemIds: string[]): void {
    const rows = this.rowsOf(itemIds, 'items');
    const known = this.folded.get(userId)?.items ?? (this.model.hasUser(userId) ? this.trainingPurchases(userId) : []);
    this.folded.set(userId, { items: Array.from(new Set([...known, ...rows])) });
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
    return this.folded.get(userId)?.items ?? this.trainingPurchases(userId);
  }

  private trainingPurchases(userId: string): number[] {
    const { seenIndptr, seenIndices } = this.model.parts;
    const u = this.model.userIndexOf(userId);
    return Array.from(seenIndices.subarray(seenIndptr[u], seenIndptr[u + 1]));
  }

  /** A trained user's vector, or a folded-in user's mean purchase vector. */
  private userQuery(userId: string, bought: number[]): Float32Array {
    if (this.folded.has(userId)) return this.meanOf(bought);
    const u = this.model.userIndexOf(userId);
    const dim = this.model.config.dim;
    return this.model.parts.users.data.slice(u * dim, (u + 1) * dim);
  }

  private meanOf(rows: number[]): Float32Array {
    const dim = this.model.config.dim;
    const mean = new Float32Array(dim);
    for (const row of rows) {
      const v = this.rawItem(row);
      for (let d = 0; d < dim; d++) mean[d] += v[d] / rows.length;
    }
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
function parseState(file: string): ServeState {
  let state: Partial<ServeState>;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ServeState>;
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message}); it is the server's state (unavailable products, folded-in users), written by compaction: restore it from a backup or delete it to start without that state`, file);
  }
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof state !== 'object' || state === null || !isStrings(state.unavailable) || typeof state.users !== 'object' || state.users === null
    || !Object.values(state.users).every(isStrings) || (state.added !== undefined && !Array.isArray(state.added))
    || (state.events !== undefined && !Array.isArray(state.events))) {
    throw new InputError(`${file}: expected {"unavailable": [product ids], "users": {user id: [product ids]}, "added"?: [products], "events"?: [events]}`, file);
  }
  return state as ServeState;
}
