// Line readers for the Amazon review dumps (McAuley et al.; 2014 and 2018 releases), plain or gzip:
// reviews as JSON lines or the ratings-only CSV (user,item,rating,timestamp; no header),
// metadata as 2014 Python-literal lines or 2018 JSON lines. A malformed line is reported and skipped.

import fs from 'node:fs';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { InputError } from '../../errors.js';
import { parsePyLiteral, type PyValue } from './pyliteral.js';

export interface Review {
  user: string;
  item: string;
  rating: number;
  /** Unix seconds; 0 when absent. */
  time: number;
  /** Event types of the merged pair (`vasg import table --type-col`); absent: a purchase. */
  types?: string[];
}

export interface ProductMeta {
  asin: string;
  title: string;
  imageUrl: string;
  /** Category paths, e.g. [['Clothing, Shoes & Jewelry', 'Men', 'Shoes']]. */
  categories: string[][];
}

/** Called for each skipped line; `line` is 1-based. */
export type BadLine = (file: string, line: number, reason: string) => void;

/**
 * Numbered non-empty lines. A file that cannot be read, or a gzip stream that is corrupt or cut short,
 * is an InputError naming the file and the line it stopped after (lines before it were already used).
 */
async function* lines(file: string): AsyncGenerator<[number, string]> {
  const raw = fs.createReadStream(file);
  const gunzip = file.endsWith('.gz') ? zlib.createGunzip() : null;
  const input = gunzip ? raw.pipe(gunzip) : raw;
  let n = 0;
  let failure: Error | null = null;
  raw.on('error', (error) => {
    failure = error;
    input.destroy(error); // pipe() does not pass a source error on, which would leave readline waiting
  });
  try {
    for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
      n++;
      if (line.trim() !== '') yield [n, line];
    }
  } catch (error) {
    failure = error as Error;
  }
  if (failure) {
    const reason = (failure as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (failure as Error).message;
    throw new InputError(`${file}: ${reason}${n > 0 ? ` (after line ${n})` : ''}`, file, n);
  }
}

function field(record: Record<string, unknown>, name: string): string {
  const v = record[name];
  if (typeof v !== 'string' || v === '') throw new Error(`missing field '${name}'`);
  return v;
}

function reviewFromJson(text: string): Review {
  const r = JSON.parse(text) as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) throw new Error('not a JSON object');
  const rating = Number(r.overall ?? NaN);
  if (!Number.isFinite(rating)) throw new Error("missing field 'overall'");
  return { user: field(r, 'reviewerID'), item: field(r, 'asin'), rating, time: Number(r.unixReviewTime ?? 0) || 0 };
}

function reviewFromCsv(text: string): Review {
  const parts = text.split(',');
  if (parts.length !== 4) throw new Error(`expected 4 fields user,item,rating,timestamp, got ${parts.length}`);
  const [user, item, rating, time] = parts;
  if (!user) throw new Error("missing field 'user'");
  if (!item) throw new Error("missing field 'item'");
  for (const [name, v] of [['rating', rating], ['timestamp', time]]) {
    if (v.trim() === '' || !Number.isFinite(Number(v))) throw new Error(`field '${name}': expected a number, found ${JSON.stringify(v)}`);
  }
  return { user, item, rating: Number(rating), time: Number(time) };
}

/** Reviews from JSON lines (2014/2018) or the ratings-only CSV (`.csv`, `.csv.gz`). */
export async function* readReviews(file: string, bad: BadLine): AsyncGenerator<Review> {
  const parse = /\.csv(\.gz)?$/.test(file) ? reviewFromCsv : reviewFromJson;
  for await (const [n, text] of lines(file)) {
    try {
      yield parse(text);
    } catch (e) {
      bad(file, n, (e as Error).message);
    }
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function metaFromRecord(r: Record<string, PyValue | unknown>): ProductMeta {
  const asin = field(r, 'asin');
  const title = typeof r.title === 'string' ? r.title : '';
  // 2014: categories is a list of paths; 2018: category is one path and images are imageURLHighRes.
  const categories = Array.isArray(r.categories) ? r.categories.map(strings) : Array.isArray(r.category) ? [strings(r.category)] : [];
  const imageUrl = typeof r.imUrl === 'string' ? r.imUrl : (strings(r.imageURLHighRes)[0] ?? strings(r.imageURL)[0] ?? '');
  return { asin, title, imageUrl, categories };
}

/** Metadata lines: JSON (2018) when a line parses as JSON, else a 2014 Python literal. */
export async function* readMeta(file: string, bad: BadLine): AsyncGenerator<ProductMeta> {
  for await (const [n, text] of lines(file)) {
    try {
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        record = parsePyLiteral(text);
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error('not a dict');
      yield metaFromRecord(record as Record<string, unknown>);
    } catch (e) {
      bad(file, n, (e as Error).message);
    }
  }
}

/**
 * The product's category paths that start with one of `prefixes` (e.g. ["Clothing, Shoes & Jewelry", "Men"]);
 * none when it is outside them all.
 */
export function pathsUnder(meta: ProductMeta, prefixes: string[][]): string[][] {
  return meta.categories.filter((path) => prefixes.some((prefix) => prefix.every((p, i) => path[i] === p)));
}
