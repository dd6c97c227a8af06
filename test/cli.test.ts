// The command line as the README promises it: `--help` on every command, nothing on stderr with --json,
// `vasg demo` (and `demo --serve`, the page with pictures), `vasg evaluate --json`'s fields, `vasg recommend`,
// and a tiny `vasg tune`. One tiny demo run provides the split and model the other commands use.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { VasgModel } from '../src/index.js';
import { buildProgram } from '../src/cli/program.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'vasg-cli-'));
/** The children's own temp directory, to see that `vasg demo` leaves nothing there. */
const childTmp = path.join(dir, 'tmp');
const demoDir = path.join(dir, 'demo');
const quick = ['--threads', '1', '--dim', '16'];
let demo: Record<string, any> = {};

function vasg(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(root, 'bin/vasg.js'), ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: childTmp } });
}

/** Runs a command with --json: it succeeds, prints one JSON document and nothing on stderr. */
function json(...args: string[]): any {
  const run = vasg(...args, '--json');
  assert.equal(run.status, 0, `vasg ${args.join(' ')}: ${run.stderr}`);
  assert.equal(run.stderr, '', `vasg ${args.join(' ')} --json writes nothing to stderr`);
  return JSON.parse(run.stdout);
}

before(() => {
  fs.mkdirSync(childTmp);
  demo = json('demo', '--preset', 'tiny', '--dir', demoDir, ...quick);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every command and subcommand of the program, as typed after `vasg`. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

/** `vasg ARGS --help` in this process (a process per command would take seconds each): what it printed and its exit code. */
function helpOf(args: string[]): { out: string; err: string; exitCode: number } {
  const program = buildProgram();
  let out = '';
  let err = '';
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
    c.commands.forEach(quiet);
  };
  quiet(program);
  try {
    program.parse(['node', 'vasg', ...args, '--help']);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { out, err, exitCode: error.exitCode };
  }
  return { out, err, exitCode: -1 }; // help always exits
}

test('--help on every command: usage and options on stdout, exit 0, nothing on stderr', () => {
  const paths = commandPaths(buildProgram());
  assert.deepEqual(paths.map((p) => p.join(' ')).sort(), ['ab-report', 'demo', 'embed', 'evaluate', 'experiment', 'export', 'export-events', 'features', 'generate', 'import', 'import amazon', 'import table',
    'prepare', 'recommend', 'serve', 'train', 'tune'], 'this list is every command: a new one is checked here too');
  for (const args of [[], ...paths]) {
    const { out, err, exitCode } = helpOf(args);
    const name = ['vasg', ...args].join(' ');
    assert.equal(exitCode, 0, name);
    assert.equal(err, '', name);
    assert.match(out, new RegExp(`^Usage: ${name} `), name);
    assert.match(out, /-h, --help/, name);
  }
  // And once through the real entry point: the process exits 0 with the help on stdout only.
  const run = vasg('train', '--help');
  assert.equal(run.status, 0);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /^Usage: vasg train /);
});

test('vasg demo --json: the whole pipeline on generated data, VASG above the baselines, data kept with --dir', () => {
  assert.equal(demo.preset, 'tiny');
  assert.ok(demo.seconds > 0 && demo.trainSeconds > 0 && demo.trainSeconds < demo.seconds);
  assert.ok(demo.auc.warm > demo.baselines.mostpop.warm, `warm ${demo.auc.warm} vs MostPop ${demo.baselines.mostpop.warm}`);
  assert.ok(demo.auc.cold > demo.baselines.wboi.cold, `cold ${demo.auc.cold} vs WBOI ${demo.baselines.wboi.cold}`);
  for (const part of ['data', 'split', 'model']) assert.ok(fs.existsSync(path.join(demoDir, part)), `${part} kept`);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(demoDir, 'model', 'manifest.json'), 'utf8')).info.metrics.auc, demo.auc, 'the metrics are recorded in the model');
});

test('vasg evaluate --json: the fields the README lists, and the numbers the demo printed for the same model', () => {
  const report = json('evaluate', '--model', path.join(demoDir, 'model'), '--data', path.join(demoDir, 'split'), '--threads', '1');
  assert.deepEqual(Object.keys(report).sort(), ['auc', 'baselines', 'byScoring', 'coverage@20', 'exposure@20', 'itemBias', 'ndcg@10', 'ndcg@20', 'ndcg@50', 'oracle', 'pairs',
    'popularity@20', 'recall@10', 'recall@20', 'recall@50', 'scoring'].sort());
  assert.deepEqual(Object.keys(report.auc).sort(), ['cold', 'combined', 'warm']);
  assert.deepEqual(Object.keys(report['recall@20']).sort(), ['all', 'cold', 'warm']);
  assert.deepEqual(Object.keys(report['ndcg@20']).sort(), ['all', 'cold', 'warm']);
  assert.deepEqual(Object.keys(report['exposure@20']).sort(), ['cold', 'coldTestShare']);
  assert.deepEqual(Object.keys(report.byScoring).sort(), ['cosine', 'dot']);
  assert.deepEqual(Object.keys(report.baselines).sort(), ['mostpop', 'rand', 'wboi']);
  assert.equal(report.scoring, 'cosine');
  assert.deepEqual(report.auc, demo.auc);
  for (const value of [report.auc.warm, report.auc.cold, report['recall@20'].warm, report['ndcg@20'].warm]) assert.ok(value > 0 && value <= 1);
  assert.ok(report.oracle.warm > report.auc.warm - 0.02, 'the oracle is the ceiling');
});

test('vasg recommend: the top-k unseen products, as a table and as JSON, the same as the library gives', async () => {
  const model = VasgModel.load(path.join(demoDir, 'model'));
  const user = model.parts.userIds[0];
  const expected = await model.recommend(user, 5);
  const printed = json('recommend', '--model', path.join(demoDir, 'model'), '--user', user, '-k', '5');
  assert.equal(printed.user, user);
  assert.deepEqual(printed.recommendations.map((r: { itemId: string }) => r.itemId), expected.map((r) => r.itemId));
  const u = model.userIndexOf(user);
  const seen = new Set(Array.from(model.parts.seenIndices.subarray(model.parts.seenIndptr[u], model.parts.seenIndptr[u + 1]), (i) => model.parts.itemIds[i]));
  assert.ok(printed.recommendations.every((r: { itemId: string }) => !seen.has(r.itemId)), 'nothing the user bought');
  const table = vasg('recommend', '--model', path.join(demoDir, 'model'), '--user', user, '-k', '5');
  assert.equal(table.status, 0);
  assert.deepEqual([...table.stdout.matchAll(/^\s+\d\. (\S+)/gm)].map((m) => m[1]), expected.map((r) => r.itemId));
  const unknown = vasg('recommend', '--model', path.join(demoDir, 'model'), '--user', 'nobody');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown user "nobody"/);
});

test('vasg tune: a one-trial search reports the trial on the validation split and the best flags, which vasg train takes', () => {
  const result = json('tune', '--data', path.join(demoDir, 'split'), '--trials', '1', '--threads', '1');
  assert.equal(result.trials.length, 1);
  for (const trial of result.trials) {
    for (const key of ['warm', 'cold', 'combined']) assert.ok(trial[key] > 0.5 && trial[key] <= 1, `${key} ${trial[key]}`);
    assert.ok(trial.seconds > 0 && typeof trial.settings.dim === 'number');
  }
  assert.ok(result.validation.warmPairs > 0 && result.validation.coldPairs > 0);
  const best = result.trials.reduce((a: { combined: number }, b: { combined: number }) => (b.combined > a.combined ? b : a));
  assert.match(result.best, new RegExp(`--dim ${best.settings.dim}\\b`));
  const trained = json('train', '--data', path.join(demoDir, 'split'), '--out', path.join(dir, 'tuned'), '--threads', '1', ...result.best.split(' '));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'tuned', 'manifest.json'), 'utf8')).config.dim, best.settings.dim);
  assert.ok(trained.seconds > 0);
});

test('vasg demo --serve: pictures rendered, the page and the pictures served, the link opens on a user; Ctrl-C stops it and removes the temporary folder', async () => {
  const child = spawn(process.execPath, [path.join(root, 'bin/vasg.js'), 'demo', '--serve', '--preset', 'tiny', '--port', '0', ...quick], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: childTmp } });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let origin = '';
  try {
    const link = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no link from vasg demo --serve within 120 s: ${out} ${stderr}`)), 120_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /the page is at (\S+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`vasg demo --serve exited with ${code}: ${stderr}`)); });
    });
    const url = new URL(link);
    origin = url.origin;
    assert.match(url.search, /^\?user=U\d+$/);
    assert.equal((await fetch(link)).status, 200);
    assert.equal((await (await fetch(`${url.origin}/healthz`)).json()).images, true);
    const user = url.searchParams.get('user')!;
    const [first] = (await (await fetch(`${url.origin}/users/${user}/recommendations?k=1`)).json()).recommendations;
    const picture = await fetch(`${url.origin}/items/${first.id}/image`);
    assert.equal(picture.status, 200);
    assert.equal(picture.headers.get('content-type'), 'image/png');
    assert.deepEqual([...new Uint8Array(await picture.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.equal(first.imageUrl, `${first.id}.png`, 'items.csv names each picture');
  } finally {
    child.kill('SIGINT');
  }
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve('still running 60 s after SIGINT'), 60_000); })]);
  clearTimeout(timer);
  if (code !== 0) {
    const answer = await fetch(`${origin}/healthz`).then((r) => `answers ${r.status}`, (e: Error) => `does not answer: ${e.message}`);
    child.kill('SIGKILL');
    assert.fail(`${code}; the server ${answer}; stderr: ${stderr.slice(-300)}`);
  }
  assert.equal(code, 0, stderr);
  assert.deepEqual(fs.readdirSync(childTmp).filter((name) => name.startsWith('vasg-demo-')), [], 'the temporary folder is removed');
});

test('--json keeps stderr empty: generate, prepare, train, experiment (evaluate, recommend, tune and demo above)', () => {
  const data = path.join(dir, 'json-data');
  const generated = json('generate', '--preset', 'tiny', '--seed', '3', '--out', data);
  assert.equal(generated.out, data);
  const split = path.join(dir, 'json-split');
  assert.ok(json('prepare', '--data', data, '--out', split).users > 0);
  const model = path.join(dir, 'json-model');
  json('train', '--data', split, '--out', model, ...quick, '--epochs', '1', '--rank-epochs', '1');
  assert.ok(fs.existsSync(path.join(model, 'manifest.json')));
  const experiment = json('experiment', 'auc', '--data', split, '--runs', '1', '--methods', 'RAND,MostPop');
  assert.deepEqual(experiment.rows.map((r: { method: string }) => r.method), ['RAND', 'MostPop']);
  assert.match(experiment.provenance.command, /^vasg experiment auc --data \S+ --runs 1 --methods RAND,MostPop --json$/);
  assert.ok(experiment.provenance.machine.cores > 0 && !Number.isNaN(Date.parse(experiment.provenance.date)));
});
