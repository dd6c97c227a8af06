// `npm run bench [-- --preset men]`: throughput of the native kernels and the whole pipeline,
// printed as one JSON object. Not a test: targets are checked by reading the numbers.
//   walks/skipgram: tokens per second on the preset's training graph (default settings), and
//     gensim's Word2Vec on the same corpus when python3-gensim is installed;
//   dense: decoder forward+backward GFLOP/s next to the machine's sgemm peak measured now;
//   vbpr: one VBPR epoch (issue 3's baseline) on the same split;
//   pipeline_<preset>: prepare → train → evaluate in a child process (generate excluded);
//   search: exact and HNSW top-k over 1 M random products (bench/search.ts; `--search-model DIR` searches a
//     model's own vectors instead; `--hnsw-connectivity`, `--hnsw-expansion-add`, `--hnsw-expansion-search`);
//   import: peak RSS of `vasg import amazon` against the kept feature bytes on a generated 2 GiB .b file
//     (bench/import.ts; `--import-gb` sets the size);
//   serve: `vasg serve` under autocannon on loopback (bench/serve.ts), on the preset's model (`--serve-model DIR`:
//     a saved model instead; `--serve-index hnsw`, `--serve-connections`, `--serve-seconds`);
//   load: what checking the files' CRC-32s adds to loading a prepared split (bench/load.ts);
//   soak (only alone): `vasg serve` under mixed reads and writes, killed -9 and restarted every few seconds
//     (bench/soak.ts; `--soak-minutes` (default 1), `--soak-rate` requests/s, `--soak-connections`,
//     `--soak-kill-seconds`, `--soak-compact-bytes`): lost writes and 5xx answers must be 0.
//   batch: users/s of `vasg recommend --all-users` into Parquet, exact and HNSW, whole and one shard of four
//     (bench/batch.ts; `--batch-preset`, `--batch-model DIR`, `--batch-k` (default 50)).
// `--only search`, `--only import`, `--only serve`, `--only load`, `--only soak` or `--only batch` runs that section alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../src/native.js';
import { loadSplit } from '../src/data/split.js';
import { buildGraph, negativeTable, nodeFrequencies } from '../src/graph/graph.js';
import { generateWalks } from '../src/graph/walks.js';
import { defaultConfig } from '../src/model/config.js';
import { trainVbpr } from '../src/baselines/vbpr.js';
import { searchBench } from './search.js';
import { serveBench } from './serve.js';
import { loadBench } from './load.js';
import { soakBench } from './soak.js';
import { batchBench } from './batch.js';
import { HNSW_DEFAULTS } from '../src/search/hnsw.js';
import type { PresetName } from '../src/data/generate.js';
import { provenance } from '../src/experiments/provenance.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../../bin/vasg.js');
const preset = process.argv.includes('--preset') ? process.argv[process.argv.indexOf('--preset') + 1] : 'men';
const threads = Math.max(1, os.availableParallelism());
const flag = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const runSearch = () => searchBench({
  n: flag('--search-n', 1_000_000), dim: flag('--search-dim', 100), queries: flag('--search-queries', 200), clusters: flag('--search-clusters', 1000), threads,
  model: process.argv.includes('--search-model') ? process.argv[process.argv.indexOf('--search-model') + 1] : undefined,
  hnsw: { connectivity: flag('--hnsw-connectivity', HNSW_DEFAULTS.connectivity), expansionAdd: flag('--hnsw-expansion-add', HNSW_DEFAULTS.expansionAdd), expansionSearch: flag('--hnsw-expansion-search', HNSW_DEFAULTS.expansionSearch) },
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
const runImport = () => {
  const run = spawnSync(process.execPath, [path.join(here, 'import.js'), '--gb', String(flag('--import-gb', 2))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error('bench/import failed');
  return JSON.parse(run.stdout) as unknown;
};
const runServe = (fallback: string) => serveBench({
  preset: (process.argv.includes('--serve-preset') ? process.argv[process.argv.indexOf('--serve-preset') + 1] : fallback) as PresetName,
  model: process.argv.includes('--serve-model') ? process.argv[process.argv.indexOf('--serve-model') + 1] : undefined,
  index: process.argv.includes('--serve-index') ? process.argv[process.argv.indexOf('--serve-index') + 1] : undefined,
  seconds: flag('--serve-seconds', 10), connections: flag('--serve-connections', 10),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
const runLoad = () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bench-load-'));
  try {
    const loadPreset = (process.argv.includes('--load-preset') ? process.argv[process.argv.indexOf('--load-preset') + 1] : 'men') as PresetName;
    return loadBench({ preset: loadPreset, work, log: (line) => process.stderr.write(`bench: ${line}\n`) });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
};
const runSoak = () => soakBench({
  minutes: flag('--soak-minutes', 1), rate: flag('--soak-rate', 60), connections: flag('--soak-connections', 4),
  killSeconds: flag('--soak-kill-seconds', 5), compactBytes: flag('--soak-compact-bytes', 30_000),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
const runBatch = async (fallback: string) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bench-batch-'));
  try {
    return await batchBench({
      preset: (process.argv.includes('--batch-preset') ? process.argv[process.argv.indexOf('--batch-preset') + 1] : fallback) as PresetName,
      model: process.argv.includes('--batch-model') ? process.argv[process.argv.indexOf('--batch-model') + 1] : undefined,
      k: flag('--batch-k', 50), threads, work, log: (line) => process.stderr.write(`bench: ${line}\n`),
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
};
const alone: Record<string, () => unknown> = { search: runSearch, import: runImport, serve: () => runServe('small'), load: runLoad, soak: runSoak, batch: () => runBatch('small') };
if (only !== null && !(only in alone)) throw new Error(`--only ${only}: the sections that run alone are: ${Object.keys(alone).join(', ')}`);
if (only !== null) {
  console.log(JSON.stringify({ threads, [only]: await alone[only](), provenance: provenance(undefined, process.argv, 'npm run bench --') }));
  process.exit(0);
}

function vasg(args: string[]): string {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`vasg ${args.join(' ')} failed:\n${run.stderr}`);
  return run.stdout;
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function sgemmPeak(): number {
  const n = 2048;
  const a = new Float32Array(n * n).fill(0.5);
  const c = new Float32Array(n * n);
  native.sgemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n); // warm-up
  const reps = 5;
  const start = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) native.sgemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n);
  return (2 * n ** 3 * reps) / seconds(start) / 1e9;
}

function denseTraining(featureDim: number): number {
  const sizes = [defaultConfig.dim, ...defaultConfig.hidden, featureDim];
  const batch = defaultConfig.batchSize;
  const mlp = new native.Mlp(sizes, { dropout: defaultConfig.dropout, outputRelu: true, seed: 1 });
  const x = new Float32Array(batch * sizes[0]).fill(0.1);
  const target = new Float32Array(batch * featureDim).fill(0.2);
  const grad = new Float32Array(batch * featureDim);
  let flops = 0;
  for (let l = 0; l + 1 < sizes.length; l++) flops += 2 * batch * sizes[l] * sizes[l + 1];
  const step = () => {
    const y = mlp.forward(x, batch, true);
    native.mse(y, target, null, batch, featureDim, grad);
    mlp.backward(grad, batch);
    mlp.adamStep(1e-3, 0.9, 0.999, 1e-8);
  };
  step();
  const reps = 10;
  const start = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) step();
  // forward + backward (input and weight gradients) = 3 GEMMs per layer; Adam counted as overhead.
  return (3 * flops * reps) / seconds(start) / 1e9;
}

/**
 * gensim's Word2Vec on the same corpus and settings, when Debian's python3-gensim is installed
 * (optional: null otherwise). Walks are written one per line.
 */
function gensimSkipgram(corpus: Int32Array, walkLength: number, dir: string): number | null {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import gensim'], { stdio: 'ignore' }).status !== 0) return null;
  const file = path.join(dir, 'walks.txt');
  const lines: string[] = [];
  for (let start = 0; start < corpus.length; start += walkLength) lines.push(Array.from(corpus.subarray(start, start + walkLength)).join(' '));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const script = path.join(here, '../../bench/gensim_skipgram.py');
  const run = spawnSync(python, [script, file, String(defaultConfig.dim), String((defaultConfig.window - 1) / 2), String(defaultConfig.negatives), String(threads), String(defaultConfig.negativePower)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`gensim benchmark failed:\n${run.stderr}`);
  return JSON.parse(run.stdout).tokens_per_s;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bench-'));
try {
  process.stderr.write(`bench: generating ${preset} (not timed)\n`);
  vasg(['generate', '--preset', preset, '--seed', '1', '--out', path.join(work, 'data'), '--json']);
  vasg(['prepare', '--data', path.join(work, 'data'), '--out', path.join(work, 'split'), '--json']);
  const split = loadSplit(path.join(work, 'split'));
  const graph = buildGraph(split.train, split.userIds.length, split.itemIds.length);

  process.stderr.write('bench: kernels\n');
  let start = process.hrtime.bigint();
  const corpus = await generateWalks(graph, { walksPerNode: defaultConfig.walksPerNode, walkLength: defaultConfig.walkLength, weighted: false, seed: 1, threads });
  const walkSeconds = seconds(start);
  const vectors = new Float32Array(graph.nNodes * defaultConfig.dim).map((_, k) => ((k * 2654435761) % 1000) / 1000 / defaultConfig.dim - 0.5 / defaultConfig.dim);
  const skipgramRun = async (negatives: number) => {
    const begin = process.hrtime.bigint();
    await native.skipgram({
      vectors, contexts: null, dim: defaultConfig.dim, corpus, walkLength: defaultConfig.walkLength, radius: (defaultConfig.window - 1) / 2,
      negatives, negTable: negativeTable(nodeFrequencies(corpus, graph.nNodes), defaultConfig.negativePower),
      lrStart: 0.025, lrEnd: 0.0001, centreScale: null, nUsers: graph.nUsers, threads, seed: 1,
    });
    return corpus.length / seconds(begin);
  };
  const skipgramTokens = await skipgramRun(defaultConfig.negatives);
  const skipgramTokensNoNegatives = await skipgramRun(0);
  const gensim = gensimSkipgram(corpus, defaultConfig.walkLength, work);
  const peak = sgemmPeak();
  const dense = denseTraining(split.features.cols);
  start = process.hrtime.bigint();
  trainVbpr(split, { epochs: 1, threads });
  const vbprEpochSeconds = seconds(start);

  process.stderr.write(`bench: pipeline on ${preset} (prepare → train → evaluate)\n`);
  const pipeline = JSON.parse(spawnSync(process.execPath, [path.join(here, 'pipeline.js'), path.join(work, 'data'), path.join(work, 'run')], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
  }).stdout);

  const search = await runSearch();
  process.stderr.write('bench: import amazon (generated .b file)\n');
  const importAmazon = runImport();
  const serve = await runServe(preset);
  const batch = await runBatch(preset);

  console.log(JSON.stringify({
    preset,
    threads,
    walks: { tokens_per_s: Math.round(corpus.length / walkSeconds), tokens: corpus.length },
    skipgram: { tokens_per_s: Math.round(skipgramTokens), gensim_tokens_per_s: gensim, negatives: defaultConfig.negatives, tokens_per_s_no_negatives: Math.round(skipgramTokensNoNegatives), window: defaultConfig.window, dim: defaultConfig.dim },
    dense: { gflops: +dense.toFixed(1), sgemm_peak_gflops: +peak.toFixed(1), ratio: +(dense / peak).toFixed(3), layers: [defaultConfig.dim, ...defaultConfig.hidden, split.features.cols], batch: defaultConfig.batchSize },
    vbpr: { epoch_seconds: +vbprEpochSeconds.toFixed(1), note: 'one epoch incl. setup and the final item projection' },
    [`pipeline_${preset}`]: pipeline,
    search,
    import: importAmazon,
    serve,
    batch,
    provenance: provenance(undefined, process.argv, 'npm run bench --'),
  }));
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
