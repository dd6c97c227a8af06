// The "serve" bench section (`npm run bench -- --only serve [--serve-preset small] [--serve-seconds 10]`):
// `vasg serve` in a child process on loopback, loaded by autocannon: requests/s and p50/p99 latency of
// GET /users/{id}/recommendations?k=10 over all users, then POST /items throughput (one new product per
// request, each fsync'd to the write log). The model is trained here on the preset with few epochs
// (serving speed depends on the catalog size and dimension, not on how well it was trained), or, with
// `--serve-model DIR`, a copy of a saved model is served (its users as the queries, random features as the posts);
// `--serve-index hnsw` serves it with the HNSW retriever.
// Then a reload under load: while GET /users/{id}/recommendations runs, a second model (trained on the same
// preset with another seed) is swapped into the served directory, as `vasg train --out DIR` does, and the server
// gets SIGHUP; "reload" reports failed requests, the p99 of the requests answered while the reload ran, and its
// seconds (SIGHUP to /healthz naming the new model). Only on a preset (a saved model has no second model).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, prepareSplit, train, VasgModel, type Matrix, type PresetName } from '../src/index.js';

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
interface AutocannonRequest { method: string; path: string; headers?: Record<string, string>; setupRequest?: (request: Record<string, unknown>) => Record<string, unknown> }
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;
/** The same with a callback: it then returns the instance, whose "response" events carry each request's latency. */
const autocannonCallback = autocannon as unknown as (options: Record<string, unknown>, done: (error: Error | null, result: AutocannonResult) => void) => { on(event: 'response', listener: (...args: never[]) => void): void };

export interface ServeBenchOptions {
  preset: PresetName;
  /** A saved model to serve instead of training one on the preset. */
  model?: string;
  /** `vasg serve --index` (default exact). */
  index?: string;
  seconds: number;
  connections: number;
  log: (line: string) => void;
}

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vasg.js');

export async function serveBench(options: ServeBenchOptions) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bench-serve-'));
  try {
    const { model, features } = await benchModel(options, path.join(work, 'model'));
    const { child, address } = await startServe(path.join(work, 'model'), ['--index', options.index ?? 'exact']);
    try {
      let next = 0;
      const users = model.parts.userIds;
      options.log(`serve: GET /users/{id}/recommendations?k=10 for ${options.seconds} s, ${options.connections} connections`);
      const reads = await load(address, options, {
        method: 'GET', path: '/',
        setupRequest: (request) => ({ ...request, path: `/users/${encodeURIComponent(users[next++ % users.length])}/recommendations?k=10` }),
      });
      options.log(`serve: POST /items for ${options.seconds} s`);
      const writes = await load(address, options, {
        method: 'POST', path: '/items', headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const row = next++ % features.rows;
          const vector = Array.from(features.data.subarray(row * features.cols, (row + 1) * features.cols));
          return { ...request, body: JSON.stringify({ items: [{ id: `bench-${next}`, features: vector }] }) };
        },
      });
      const reload = options.model ? null : await reloadUnderLoad(address, options, path.join(work, 'model'), path.join(work, 'next'), users, child);
      return {
        model: options.model ?? options.preset,
        index: options.index ?? 'exact',
        items: model.parts.itemIds.length,
        users: users.length,
        dim: model.config.dim,
        requests_per_s: Math.round(reads.requests.average),
        p50_ms: reads.latency.p50,
        p99_ms: reads.latency.p99,
        items_added_per_s: Math.round(writes.requests.average),
        items_added_p99_ms: writes.latency.p99,
        connections: options.connections,
        seconds: options.seconds,
        ...(reload ? { reload } : {}),
      };
    } finally {
      // Wait for the clean stop (it compacts the write log into the model directory) before removing the directory.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Starts `vasg serve --model DIR --port 0 ARGS` in a child process; resolves once it listens, with its address. */
export async function startServe(dir: string, args: string[] = []): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--model', dir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`vasg serve exited with ${code}`)));
  });
  return { child, address };
}

/** The model served, written to `dir` (the server writes to its directory), and feature rows to post. */
async function benchModel(options: ServeBenchOptions, dir: string): Promise<{ model: VasgModel; features: Matrix }> {
  if (options.model) {
    fs.cpSync(options.model, dir, { recursive: true });
    const model = VasgModel.load(dir);
    const cols = model.parts.featureDim;
    let state = 1;
    const data = Float32Array.from({ length: 256 * cols }, () => (state = (state * 48271) % 2147483647) / 2147483647);
    return { model, features: { data, rows: 256, cols } };
  }
  options.log(`serve: training two ${options.preset} models (2 epochs; the second is deployed during the reload test)`);
  const split = prepareSplit(generate(options.preset, 1), { seed: 1 });
  const { model } = await train(split, { config: { seed: 1, epochs: 2 } });
  model.save(dir);
  (await train(split, { config: { seed: 2, epochs: 2 } })).model.save(path.join(path.dirname(dir), 'next'));
  return { model, features: split.features };
}

/**
 * Reads under load; one second in, `next` replaces the served directory (two renames: the directory swap
 * `vasg train --out` ends with) and the server gets SIGHUP. Latencies are taken per response, so the p99 is that
 * of the requests answered between the SIGHUP and the moment /healthz names the new model.
 */
async function reloadUnderLoad(address: string, options: ServeBenchOptions, served: string, next: string, users: readonly string[], child: ChildProcess) {
  const wanted = VasgModel.load(next).modelId;
  const seconds = Math.max(4, Math.min(options.seconds, 10));
  options.log(`serve: reload of a ${options.preset} model under load (${options.connections} connections, ${seconds} s)`);
  const responses: Array<{ at: number; ms: number }> = [];
  let i = 0;
  const run = new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannonCallback({
      url: address, connections: options.connections, duration: seconds,
      requests: [{ method: 'GET', path: '/', setupRequest: (request: Record<string, unknown>) => ({ ...request, path: `/users/${encodeURIComponent(users[i++ % users.length])}/recommendations?k=10` }) }],
    }, (error: Error | null, result: AutocannonResult) => (error ? reject(error) : resolve(result)));
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => responses.push({ at: performance.now(), ms }));
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  fs.renameSync(served, `${served}.old`);
  fs.renameSync(next, served);
  const start = performance.now();
  child.kill('SIGHUP');
  let end = start;
  for (;;) {
    const health = await (await fetch(`${address}/healthz`)).json() as { model_id: string };
    end = performance.now();
    if (health.model_id === wanted) break;
    if (end - start > 60_000) throw new Error('the reload did not finish within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const result = await run;
  const during = responses.filter((r) => r.at >= start && r.at <= end).map((r) => r.ms).sort((a, b) => a - b);
  return {
    failed_requests: result.non2xx + result.errors,
    p99_ms_during: during.length ? during[Math.min(during.length - 1, Math.floor(0.99 * during.length))] : null,
    requests_during: during.length,
    p99_ms_whole_run: result.latency.p99,
    seconds: Number(((end - start) / 1000).toFixed(3)),
    connections: options.connections,
  };
}

async function load(url: string, options: ServeBenchOptions, request: AutocannonRequest): Promise<AutocannonResult> {
  const result = await autocannon({ url, connections: options.connections, duration: options.seconds, requests: [request] });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${request.method} ${request.path}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}
