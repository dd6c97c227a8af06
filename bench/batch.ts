// The "batch" bench section (`npm run bench -- --only batch [--batch-preset small] [--batch-model DIR] [--batch-k 50]`):
// users/s of `vasg recommend --all-users` writing every user's top-k to Parquet, with exact and HNSW search, and one
// shard of four (the same work split over machines). The model is trained here on the preset with a short schedule
// (throughput depends on the numbers of users and products and the dimension, not on how well it was trained), or a
// saved model is used (`--batch-model DIR`). users/s counts scoring and writing, not loading the model or building
// the HNSW graph, which are reported apart (`wall_seconds` is the whole child process).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fit, generate, prepareSplit, type PresetName } from '../src/index.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vasg.js');

export interface BatchBenchOptions {
  preset: PresetName;
  model?: string;
  k: number;
  threads: number;
  work: string;
  log: (line: string) => void;
}

interface RunReport {
  index: string;
  shard: string;
  users: number;
  rows: number;
  seconds: number;
  users_per_s: number;
  wall_seconds: number;
  parquet_mb: number;
}

function recommendAll(model: string, out: string, k: number, index: string, shard: string): RunReport {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [cli, 'recommend', '--model', model, '--all-users', '--out', out, '-k', String(k), '--index', index, '--shard', shard, '--json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`vasg recommend --all-users --index ${index} --shard ${shard} failed`);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const report = JSON.parse(run.stdout);
  return {
    index, shard, users: report.users, rows: report.rows, seconds: +report.seconds.toFixed(2), users_per_s: Math.round(report.usersPerSecond),
    wall_seconds: +wall.toFixed(2), parquet_mb: +(fs.statSync(out).size / 1e6).toFixed(2),
  };
}

export async function batchBench(options: BatchBenchOptions): Promise<Record<string, unknown>> {
  let model = options.model;
  if (!model) {
    options.log(`batch: training a ${options.preset} model (short schedule, not timed)`);
    model = path.join(options.work, 'batch-model');
    const split = prepareSplit(generate(options.preset, 1), { seed: 1 });
    (await fit('vasg', split, { seed: 1, epochs: 1, rankEpochs: 2, encoderSteps: 200, threads: options.threads })).save(model);
  }
  const runs = ([['exact', '0/1'], ['exact', '0/4'], ['hnsw', '0/1']] as const).map(([index, shard]) => {
    options.log(`batch: recommend --all-users --index ${index} --shard ${shard}`);
    return recommendAll(model, path.join(options.work, `recs-${index}-${shard.replace('/', 'of')}.parquet`), options.k, index, shard);
  });
  return { preset: options.model ? null : options.preset, model: options.model ?? null, k: options.k, runs };
}
