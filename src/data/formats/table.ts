// Generic interaction logs (CSV, TSV, NDJSON, Parquet; one file, several, or globs) and optional item
// tables, read with DuckDB so multi-GB logs are parsed, filtered and de-duplicated outside the JS heap.
// Only the merged (user, item) pairs and the kept items' features reach JavaScript.

import { DuckDBInstance, DuckDBListValue, type DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Progress } from '../../progress.js';
import { readNpy } from '../npy.js';
import { InputError } from '../../errors.js';
import { DEFAULT_EVENT_TYPE } from '../events.js';
import type { ProductMeta, Review } from './amazon.js';
import { assemble, count, type ImportReport } from './assemble.js';
import type { DatasetToWrite } from '../dataset.js';

export const TABLE_FORMATS = ['csv', 'tsv', 'ndjson', 'parquet'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

export interface TableImportOptions {
  /** Files or glob patterns (DuckDB expands `*`, `**`, `?`). */
  interactions: string[];
  userCol: string;
  itemCol: string;
  ratingCol?: string;
  timeCol?: string;
  /** Column of the event type (purchase, cart, click, view, …); empty values are purchases. */
  typeCol?: string;
  minRating?: number;
  /** Seconds since the epoch; older interactions are dropped. */
  since?: number;
  /** Item table: ids, optional title/category/image columns, optionally a vector column. */
  items?: string[];
  itemIdCol: string;
  titleCol?: string;
  categoryCol?: string;
  imageCol?: string;
  vectorCol?: string;
  /** Features from a .npy whose row k describes the k-th id listed in `featureIds`. */
  featuresNpy?: string;
  featureIds?: string;
  format?: TableFormat;
}

const EXTENSIONS: Record<string, TableFormat> = { csv: 'csv', tsv: 'tsv', tab: 'tsv', txt: 'tsv', ndjson: 'ndjson', jsonl: 'ndjson', json: 'ndjson', parquet: 'parquet', pq: 'parquet' };

/** The format named by a file's extension (a trailing .gz/.zst is looked through). */
export function formatOf(file: string): TableFormat {
  const parts = path.basename(file).toLowerCase().split('.');
  if (['gz', 'zst'].includes(parts[parts.length - 1])) parts.pop();
  const format = parts.length > 1 ? EXTENSIONS[parts[parts.length - 1]] : undefined;
  if (!format) throw new Error(`${file}: cannot tell the format from the extension; pass --format ${TABLE_FORMATS.join('|')}`);
  return format;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

const DELIMITERS: Partial<Record<TableFormat, string>> = { csv: ',', tsv: '\t' };

/**
 * A DuckDB table function reading all `files`. CSV/TSV are read as text (ids keep their leading zeros,
 * numbers and times are parsed by the queries), so only the dialect is sniffed, never the types.
 */
function source(files: string[], format: TableFormat, columns?: string[]): string {
  const list = `[${files.map(sqlString).join(', ')}]`;
  const delim = DELIMITERS[format];
  if (delim !== undefined) {
    const quoting = format === 'tsv' ? `quote = ''` : `quote = '"', escape = '"'`;
    const fixed = columns ? `, auto_detect = false, columns = {${columns.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}` : '';
    return `read_csv(${list}, header = true, skip = 0, delim = ${sqlString(delim)}, ${quoting}, all_varchar = true${fixed})`;
  }
  return format === 'ndjson' ? `read_json(${list}, format = 'newline_delimited')` : `read_parquet(${list})`;
}

/**
 * When DuckDB cannot sniff a CSV/TSV, reading it again with the columns of its header line fixed finds the
 * offending line (DuckDB then names it). Undefined when that does not apply (zstd, or no error).
 */
async function csvLineError(db: DuckDBConnection, files: string[], format: TableFormat): Promise<string | undefined> {
  const delim = DELIMITERS[format];
  const first = (await db.runAndReadAll(`SELECT file FROM glob(${sqlString(files[0])}) LIMIT 1`)).getRows()[0]?.[0];
  if (delim === undefined || typeof first !== 'string' || /\.zst$/.test(first)) return undefined;
  const fd = fs.openSync(first, 'r');
  const head = Buffer.alloc(65536);
  const got = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  // The first 64 KiB of a .gz inflate on their own (a sync flush accepts a cut-off stream).
  const text = first.endsWith('.gz') ? zlib.gunzipSync(head.subarray(0, got), { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : head.subarray(0, got);
  const names = text.toString('utf8').split(/\r?\n/)[0].split(delim).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  try {
    await db.runAndReadAll(`SELECT count(*) FROM ${source(files, format, names)}`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

class Table {
  constructor(
    readonly label: string,
    private readonly files: string[],
    private readonly format: TableFormat,
    readonly columns: Map<string, string>,
  ) {}

  /** Fails naming the flag and the columns that exist. */
  need(column: string | undefined, flag: string): void {
    if (column !== undefined && !this.columns.has(column)) {
      throw new Error(`${this.label}: no column ${JSON.stringify(column)} (${flag}); columns: ${[...this.columns.keys()].join(', ')}`);
    }
  }

  get sql(): string {
    return source(this.files, this.format);
  }
}

async function openTable(db: DuckDBConnection, files: string[], format: TableFormat | undefined): Promise<Table> {
  const label = files.join(', ');
  const resolved = format ?? formatOf(files[0]);
  try {
    const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM ${source(files, resolved)}`).catch(async (error: Error) => {
      throw /Error when sniffing/.test(error.message) ? new Error((await csvLineError(db, files, resolved)) ?? error.message) : error;
    });
    const columns = new Map(described.getRows().map((row) => [String(row[0]), String(row[1])]));
    return new Table(label, files, resolved, columns);
  } catch (error) {
    throw duckdbError(label, error);
  }
}

/** A DuckDB failure prefixed with the files it concerns (file:line for a CSV error), without the echoed SQL. */
function duckdbError(label: string, error: unknown): Error {
  const message = (error as Error).message;
  if (error instanceof InputError || message.startsWith(`${label}: `)) return error as Error;
  return csvErrorAtLine(message) ?? new Error(`${label}: ${message.replace(/\n+(LINE \d+:|The search space|Possible fixes)[\s\S]*$/, '')}`);
}

/**
 * DuckDB's CSV error as `file:line: reason`. It echoes the record it failed on, which after an unclosed quote
 * is the rest of the file (the line it names is where the quote opened), so only that record's first line is kept.
 */
function csvErrorAtLine(message: string): InputError | undefined {
  const at = /CSV Error on Line: (\d+)\nOriginal Line: ([^\n]*)/.exec(message);
  const reason = /\n([^\n]+)\n+Possible fixes:/.exec(message)?.[1];
  const file = /\n {2}file = ([^\n]+)/.exec(message)?.[1];
  if (!at || !reason || !file) return undefined;
  const start = at[2].length > 80 ? `${at[2].slice(0, 80)}…` : at[2];
  return new InputError(`${file}:${at[1]}: ${reason} (the line starts ${JSON.stringify(start)})`, file, Number(at[1]));
}

/** Runs `work` on a table, naming its files in any DuckDB error (e.g. a malformed CSV line). */
async function onTable<T>(label: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw duckdbError(label, error);
  }
}

/** SQL turning the time column into seconds since the epoch (numbers as they are; dates and ISO text parsed). */
function epochSql(column: string, type: string): string {
  const c = ident(column);
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(type)) return `CAST(${c} AS DOUBLE)`;
  if (/^(DATE|TIMESTAMP)/.test(type)) return `epoch(${c})`;
  return `coalesce(TRY_CAST(${c} AS DOUBLE), epoch(TRY_CAST(${c} AS TIMESTAMPTZ)))`;
}

async function rows(db: DuckDBConnection, sql: string, each: (values: unknown[]) => void): Promise<void> {
  const result = await db.stream(sql);
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const columns = chunk.getColumns();
    for (let r = 0; r < chunk.rowCount; r++) each(columns.map((c) => c[r]));
  }
}

/** Fails with an example when a column has values that do not parse (as numbers, times or vectors). */
async function checkParsed(db: DuckDBConnection, label: string, src: string, raw: string, parsed: string, what: string, kind: 'numbers' | 'times' | 'vectors'): Promise<void> {
  const bad = await db.runAndReadAll(`SELECT count(*), any_value(CAST(${raw} AS VARCHAR)) FROM ${src} WHERE ${raw} IS NOT NULL AND ${parsed} IS NULL`);
  const [n, example] = bad.getRows()[0];
  if (Number(n) > 0) throw new Error(`${label}: ${n} values of ${what} are not ${kind}, e.g. ${JSON.stringify(example)}`);
}

async function readInteractions(db: DuckDBConnection, o: TableImportOptions, dropped: Record<string, number>, progress: Progress): Promise<Review[]> {
  const t = await openTable(db, o.interactions, o.format ?? formatOrUndefined(o.interactions[0]));
  t.need(o.userCol, '--user-col');
  t.need(o.itemCol, '--item-col');
  t.need(o.ratingCol, '--rating-col');
  t.need(o.timeCol, '--time-col');
  t.need(o.typeCol, '--type-col');
  const src = t.sql;
  const type = o.typeCol ? `coalesce(nullif(trim(CAST(${ident(o.typeCol)} AS VARCHAR)), ''), ${sqlString(DEFAULT_EVENT_TYPE)})` : 'NULL';
  const rating = o.ratingCol ? `TRY_CAST(${ident(o.ratingCol)} AS DOUBLE)` : '1.0';
  const time = o.timeCol ? epochSql(o.timeCol, t.columns.get(o.timeCol)!) : 'CAST(NULL AS DOUBLE)';
  if (o.ratingCol) await checkParsed(db, t.label, src, ident(o.ratingCol), rating, `--rating-col ${o.ratingCol}`, 'numbers');
  if (o.timeCol) await checkParsed(db, t.label, src, ident(o.timeCol), time, `--time-col ${o.timeCol}`, 'times');
  const base = `SELECT nullif(trim(CAST(${ident(o.userCol)} AS VARCHAR)), '') AS u, nullif(trim(CAST(${ident(o.itemCol)} AS VARCHAR)), '') AS i, ${rating} AS r, ${time} AS ts, ${type} AS et FROM ${src}`;
  const missingId = 'u IS NULL OR i IS NULL';
  const lowRating = o.minRating !== undefined ? `r < ${o.minRating}` : 'false';
  const tooOld = o.since !== undefined ? `ts IS NULL OR ts < ${o.since}` : 'false';
  progress.start(`read ${t.label}`, 0);
  const stats = await db.runAndReadAll(
    `SELECT count(*), count(*) FILTER (${missingId}), count(*) FILTER (NOT (${missingId}) AND ${lowRating}),
            count(*) FILTER (NOT (${missingId}) AND NOT (${lowRating}) AND (${tooOld})) FROM (${base})`,
  );
  const [, missing, low, old] = stats.getRows()[0].map(Number);
  count(dropped, 'row without user or item id', missing);
  count(dropped, 'rating below --min-rating', low);
  count(dropped, 'before --since (or no time)', old);
  // Duplicates merge as in loadDataset: highest rating, latest time, every event type.
  const reviews: Review[] = [];
  let duplicates = 0;
  await rows(
    db,
    `SELECT u, i, max(r), max(ts), count(*), ${o.typeCol ? 'list(DISTINCT et ORDER BY et)' : 'NULL'} FROM (${base}) ` +
      `WHERE NOT (${missingId}) AND NOT (${lowRating}) AND NOT (${tooOld}) GROUP BY u, i ORDER BY u, i`,
    ([u, i, r, ts, n, types]) => {
      const review: Review = { user: String(u), item: String(i), rating: Number(r), time: ts === null ? 0 : Number(ts) };
      if (types instanceof DuckDBListValue) review.types = types.items.map(String);
      reviews.push(review);
      duplicates += Number(n) - 1;
      if (reviews.length % 100000 === 0) progress.update(reviews.length);
    },
  );
  count(dropped, 'duplicate interaction', duplicates);
  progress.finish(`${reviews.length} distinct (user, item) pairs`);
  return reviews;
}

interface ItemRows {
  products: Map<string, ProductMeta>;
  vectors: Map<string, Float32Array>;
}

async function readItems(db: DuckDBConnection, o: TableImportOptions, dropped: Record<string, number>): Promise<ItemRows> {
  const products = new Map<string, ProductMeta>();
  const vectors = new Map<string, Float32Array>();
  if (!o.items) return { products, vectors };
  const t = await openTable(db, o.items, formatOrUndefined(o.items[0]) ?? o.format);
  const flags: Array<[string | undefined, string]> = [[o.itemIdCol, '--item-id-col'], [o.titleCol, '--title-col'], [o.categoryCol, '--category-col'], [o.imageCol, '--image-col'], [o.vectorCol, '--vector-col']];
  for (const [column, flag] of flags) t.need(column, flag);
  const src = t.sql;
  const text = (c: string | undefined) => (c ? `coalesce(CAST(${ident(c)} AS VARCHAR), '')` : `''`);
  const vector = o.vectorCol ? `TRY_CAST(${ident(o.vectorCol)} AS FLOAT[])` : 'NULL';
  if (o.vectorCol) await checkParsed(db, t.label, src, ident(o.vectorCol), vector, `--vector-col ${o.vectorCol}`, 'vectors');
  await rows(db, `SELECT trim(CAST(${ident(o.itemIdCol)} AS VARCHAR)), ${text(o.titleCol)}, ${text(o.categoryCol)}, ${text(o.imageCol)}, ${vector} FROM ${src}`, ([id, title, category, image, v]) => {
    const asin = id === null ? '' : String(id);
    if (asin === '') return count(dropped, 'item row without id');
    if (products.has(asin)) return count(dropped, 'duplicate item row');
    products.set(asin, { asin, title: String(title), imageUrl: String(image), categories: category === '' ? [] : [[String(category)]] });
    if (v instanceof DuckDBListValue) vectors.set(asin, Float32Array.from(v.items.map(Number)));
  });
  return { products, vectors };
}

function formatOrUndefined(file: string): TableFormat | undefined {
  try {
    return formatOf(file);
  } catch {
    return undefined;
  }
}

/** Vectors of a .npy, keyed by the ids file (one id per line, row k ↔ line k; a first line "item_id" is a header). */
function readNpyFeatures(npy: string, idsFile: string): Map<string, Float32Array> {
  const ids = fs.readFileSync(idsFile, 'utf8').split(/\r?\n/).map((s) => s.trim());
  while (ids.length > 0 && ids[ids.length - 1] === '') ids.pop();
  const header = ids[0] === 'item_id' ? 1 : 0;
  if (header) ids.shift();
  const m = readNpy(npy);
  if (m.rows !== ids.length) throw new Error(`${npy}: has ${m.rows} rows but ${idsFile} lists ${ids.length} ids (row k describes id k)`);
  const vectors = new Map<string, Float32Array>();
  ids.forEach((id, k) => {
    if (vectors.has(id)) throw new Error(`${idsFile}:${k + 1 + header}: duplicate id ${JSON.stringify(id)}`);
    vectors.set(id, m.data.subarray(k * m.cols, (k + 1) * m.cols));
  });
  return vectors;
}

/** Keeps the products that have a vector (all of one width), in order, and packs their features. */
function keepWithFeatures(products: Map<string, ProductMeta>, vectors: Map<string, Float32Array>, label: string, dropped: Record<string, number>): DatasetToWrite['features'] {
  let cols = -1;
  for (const [id] of products) {
    const v = vectors.get(id);
    if (!v) {
      products.delete(id);
      count(dropped, 'product without features');
      continue;
    }
    if (cols < 0) cols = v.length;
    if (v.length !== cols) throw new Error(`${label}: item ${JSON.stringify(id)} has a vector of length ${v.length}, earlier ones have ${cols}`);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`${label}: item ${JSON.stringify(id)}, value ${bad}: expected a finite number, found ${v[bad]}`);
  }
  const data = new Float32Array(products.size * Math.max(cols, 0));
  let row = 0;
  for (const id of products.keys()) data.set(vectors.get(id)!, cols * row++);
  return { data, rows: products.size, cols: Math.max(cols, 0) };
}

/** Reads a log (and item table, features) into a data set in the standard layout. */
export async function importTable(o: TableImportOptions, progress: Progress): Promise<{ dataset: DatasetToWrite; report: ImportReport }> {
  if (o.vectorCol && o.featuresNpy) throw new Error('give features either as --vector-col or as --features/--feature-ids, not both');
  if (o.vectorCol && !o.items) throw new Error('--vector-col needs --items (the table holding the vectors)');
  if (o.minRating !== undefined && !o.ratingCol) throw new Error('--min-rating needs --rating-col');
  if (o.since !== undefined && !o.timeCol) throw new Error('--since needs --time-col');
  if (Boolean(o.featuresNpy) !== Boolean(o.featureIds)) throw new Error('--features FILE.npy needs --feature-ids FILE (and the reverse)');
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(`SET TimeZone = 'UTC'`); // dates without an offset are UTC, whatever the machine's zone
    const dropped: Record<string, number> = {};
    const reviews = await onTable(o.interactions.join(', '), () => readInteractions(db, o, dropped, progress));
    const { products, vectors } = await onTable((o.items ?? []).join(', '), () => readItems(db, o, dropped));
    // Items seen only in the log join the catalogue without metadata; table items never bought stay (cold start).
    for (const r of reviews) if (!products.has(r.item)) products.set(r.item, { asin: r.item, title: '', imageUrl: '', categories: [] });
    let features: DatasetToWrite['features'] | undefined;
    if (o.featuresNpy) features = keepWithFeatures(products, readNpyFeatures(o.featuresNpy, o.featureIds!), o.featuresNpy, dropped);
    else if (o.vectorCol) features = keepWithFeatures(products, vectors, `${o.items!.join(', ')} (--vector-col ${o.vectorCol})`, dropped);
    return assemble(products, reviews, features, dropped);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
