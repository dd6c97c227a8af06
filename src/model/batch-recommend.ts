// Every user's top-k written as one Parquet file (columns user_id, rank, item_id, score, cold), through DuckDB,
// in shards that any scheduler can run on separate machines: shard i of n holds the users whose stable hash
// (FNV-1a over the id's UTF-8 bytes) is i modulo n. A user's shard depends only on its id and n, never on the
// model's other users or their order, so shards of the same model concatenate into exactly one unsharded run,
// and a retrained model sends each user to the same shard as before. The file appears whole or not at all:
// rows go to a temporary file beside the output, renamed over it only after DuckDB has closed it.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBAppender } from '@duckdb/node-api';
import { fsyncDir, tempPathFor } from '../data/atomic.js';
import { ConfigError } from '../errors.js';
import { silentProgress, type Progress } from '../progress.js';
import type { RetrieverKind } from '../search/index.js';
import type { VasgModel } from './vasg-model.js';

/** Shard `index` (0-based, as Kubernetes' JOB_COMPLETION_INDEX and Spark's partition ids) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 0, count: 1 };

/** Users scored per native call: one pass over the catalogue answers them all. */
const BATCH_USERS = 256;

/** Parses "i/n" (0 ≤ i < n); anything else is a ConfigError saying what was expected. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new ConfigError(`--shard "${text}" is not of the form i/n (e.g. 0/4: the first of 4 shards)`, 'shard');
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(`--shard "${text}": the number of shards must be at least 1`, 'shard');
  if (index >= count) throw new ConfigError(`--shard "${text}": the shard index must be 0 … ${count - 1} (shards are numbered from 0)`, 'shard');
  return { index, count };
}

/** 32-bit FNV-1a of the id's UTF-8 bytes: the same on every machine, Node version and model. */
export function userHash(id: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The ids that belong to `shard`, in the order given. */
export function shardUsers(ids: readonly string[], shard: Shard): string[] {
  return shard.count === 1 ? [...ids] : ids.filter((id) => userHash(id) % shard.count === shard.index);
}

export interface BatchRecommendOptions {
  k: number;
  shard?: Shard;
  index?: RetrieverKind;
  /** Default: the model's own choice (cold products where it scores them). */
  includeCold?: boolean;
  progress?: Progress;
}

export interface BatchRecommendReport {
  file: string;
  shard: string;
  index: RetrieverKind;
  users: number;
  rows: number;
  /** Time spent scoring and writing the Parquet file, without loading the model or building the search index. */
  seconds: number;
  usersPerSecond: number;
}

/** Writes the top-k of every user of `shard` to the Parquet file `out` (whole or not at all). */
export async function writeAllRecommendations(model: VasgModel, out: string, options: BatchRecommendOptions): Promise<BatchRecommendReport> {
  const shard = options.shard ?? WHOLE;
  const kind = options.index ?? 'exact';
  const progress = options.progress ?? silentProgress;
  const users = shardUsers(model.userIds, shard);
  if (!fs.existsSync(path.dirname(path.resolve(out)))) throw new ConfigError(`--out ${out}: the directory ${path.dirname(out)} does not exist`, 'out');
  // Built before the clock starts (an HNSW graph takes a while), so users/s is scoring and writing alone.
  if (kind !== 'exact') progress.log(`building the ${kind} index over ${model.itemIds.length} products`);
  model.useRankingIndex(kind);
  const started = Date.now();
  const temp = tempPathFor(path.resolve(out));
  // Ctrl-C or a scheduler's SIGTERM: remove the temporary file, then die of the signal as usual.
  const onSignal = (signal: NodeJS.Signals): void => {
    fs.rmSync(temp, { force: true });
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let rows: number;
  try {
    progress.start(`recommending for ${users.length} users (shard ${shard.index}/${shard.count})`, users.length);
    rows = await writeParquet(temp, users, (batch) => model.recommend(batch, options.k, { includeCold: options.includeCold }), progress);
    progress.finish(`${rows} rows`);
    fsyncFile(temp);
    fs.renameSync(temp, out);
    fsyncDir(path.dirname(path.resolve(out)));
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const seconds = (Date.now() - started) / 1000;
  return { file: out, shard: `${shard.index}/${shard.count}`, index: kind, users: users.length, rows, seconds, usersPerSecond: users.length / Math.max(seconds, 1e-3) };
}

type Lists = Array<Array<{ itemId: string; score: number; cold: boolean }>>;

/** Appends every user's list, BATCH_USERS users per search, to an in-memory DuckDB table, then COPYs it to `file`; returns the row count. */
async function writeParquet(file: string, users: string[], recommend: (batch: string[]) => Promise<Lists>, progress: Progress): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run('CREATE TABLE recs (user_id VARCHAR NOT NULL, rank INTEGER NOT NULL, item_id VARCHAR NOT NULL, score FLOAT NOT NULL, cold BOOLEAN NOT NULL)');
    const appender = await db.createAppender('recs');
    let rows = 0;
    for (let start = 0; start < users.length; start += BATCH_USERS) {
      const batch = users.slice(start, start + BATCH_USERS);
      rows += appendLists(appender, batch, await recommend(batch));
      progress.update(start + batch.length);
    }
    appender.closeSync();
    await db.run(`COPY recs TO '${file.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
    return rows;
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** Flushes a file DuckDB wrote to disk, so that the rename never publishes data still only in the page cache. */
function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function appendLists(appender: DuckDBAppender, users: string[], lists: Lists): number {
  let rows = 0;
  lists.forEach((list, j) => list.forEach((r, rank) => {
    appender.appendVarchar(users[j]);
    appender.appendInteger(rank + 1);
    appender.appendVarchar(r.itemId);
    appender.appendFloat(r.score);
    appender.appendBoolean(r.cold);
    appender.endRow();
    rows += 1;
  }));
  return rows;
}
