import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generate } from '../src/data/generate.js';
import { prepareSplit, writeSplit } from '../src/data/split.js';
import type { Split } from '../src/data/types.js';
import { aucExperiment, tableMethods } from '../src/experiments/auc.js';
import { summarize, formatStat } from '../src/experiments/stats.js';
import { analysisSection, aucSection } from '../src/experiments/report.js';
import { relationsExperiment } from '../src/experiments/relations.js';
import { analysisExperiment } from '../src/experiments/analysis.js';
import { silentProgress } from '../src/progress.js';

test('summarize: mean and sample sd; non-finite values ignored', () => {
  const s = summarize([1, 2, 3, 4, NaN]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.sd - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual(summarize([0.5]), { mean: 0.5, sd: 0 });
  assert.equal(formatStat({ mean: 0.81234, sd: 0.01 }), '0.8123 ± 0.0100');
});

test('auc experiment on tiny: one row per method, seeded methods vary, VASG above RAND', async () => {
  const split = prepareSplit(generate('tiny', 1), { seed: 1 });
  const result = await aucExperiment(split, tableMethods, {
    runs: 2, seed: 1, threads: 1, progress: silentProgress, config: { dim: 16, epochs: 3, encoderSteps: 100 },
  });
  const { rows } = result;
  assert.deepEqual(rows.map((r) => r.method), ['RAND', 'MostPop', 'WBOI', 'VBPR', 'VBPR (visual only)', 'BPR-MF', 'EASE', 'iALS', 'Content→CF', 'Skip-Gram', 'VASG', 'VASG (paper)', 'Oracle']);
  const row = (name: string) => rows.find((r) => r.method === name)!;
  assert.equal(row('MostPop').warm.sd, 0, 'unseeded methods run once');
  assert.ok(row('RAND').warm.sd > 0, 'RAND differs between seeds');
  assert.ok(row('VASG').warm.mean > row('RAND').warm.mean + 0.2);
  // Floors against the strongest simple baseline on the same split (measured: VASG 0.856 / 0.821, MostPop warm
  // 0.798, WBOI cold 0.702): a model that learned only popularity or only images falls below them.
  assert.ok(row('VASG').warm.mean > row('MostPop').warm.mean + 0.03, `VASG warm ${row('VASG').warm.mean} vs MostPop ${row('MostPop').warm.mean}`);
  assert.ok(row('VASG').cold.mean > row('WBOI').cold.mean + 0.05, `VASG cold ${row('VASG').cold.mean} vs WBOI ${row('WBOI').cold.mean}`);
  assert.ok(row('VASG').combined.mean > row('VASG (paper)').combined.mean, 'the visual term and the ranking stage improve on the paper\'s model');
  assert.ok(Math.abs(row('VASG').combined.mean - (row('VASG').warm.mean + row('VASG').cold.mean) / 2) < 0.02, 'combined lies between warm and cold');
  assert.ok(row('Oracle').warm.mean > row('VASG').warm.mean - 0.02);
  assert.ok(row('Skip-Gram').warm.mean > row('RAND').warm.mean + 0.2, 'the ablation learns');
  assert.ok(Number.isNaN(row('Skip-Gram').cold.mean), 'the ablation has no cold AUC (no M without the decoder)');
  assert.equal(row('EASE').warm.sd, 0, 'EASE is deterministic: one fit');
  for (const name of ['EASE', 'iALS']) assert.ok(Number.isNaN(row(name).cold.mean), `${name} has no cold-product model: no cold AUC`);
  assert.ok(row('Content→CF').cold.mean > row('RAND').cold.mean + 0.1, 'the content map ranks cold products');
  // EASE's top-k metrics come from its score blocks (no factors): its list is there, without a cold column.
  assert.ok(row('EASE')['recall@20'].all.mean > 0 && row('EASE')['coverage@20'].mean > 0, 'EASE has top-k metrics');
  assert.ok(Number.isNaN(row('EASE')['recall@20'].cold.mean) && Number.isNaN(row('iALS')['ndcg@20'].cold.mean), 'warm-only rows: no cold top-k');
  assert.deepEqual(Object.keys(result.seconds), tableMethods.map((m) => m.name));
  const markdown = aucSection(result, 2);
  assert.match(markdown, /\| VASG \| 0\.\d{4} ± 0\.\d{4} \|/);
  assert.match(markdown, /\| Skip-Gram \| 0\.\d{4} ± 0\.\d{4} \| — \| — \|/);
});

test('relations and analysis experiments on tiny: rows per method, figures rendered', async () => {
  const split = prepareSplit(generate('tiny', 2), { seed: 1 });
  const options = { runs: 1, seed: 1, threads: 1, progress: silentProgress, config: { dim: 16, epochs: 2, encoderSteps: 50 } };
  const relations = await relationsExperiment(split, options);
  assert.deepEqual(relations.rows.map((r) => r.method), ['VASG', 'INN', 'IBR']);
  for (const row of relations.rows) assert.ok(row.accuracy.mean > 0.3 && row.accuracy.mean <= 1, `${row.method} ${row.accuracy.mean}`);
  // Half the pairs are co-purchases, so chance is 0.5; image neighbours alone (INN) barely beat it on tiny
  // (measured: VASG 0.640, INN 0.531, IBR 0.696).
  const accuracy = (name: string) => relations.rows.find((r) => r.method === name)!.accuracy.mean;
  assert.ok(accuracy('VASG') > 0.55 && accuracy('IBR') > 0.55, `VASG ${accuracy('VASG')}, IBR ${accuracy('IBR')} vs chance 0.5`);
  assert.ok(accuracy('VASG') > accuracy('INN') + 0.05, `VASG ${accuracy('VASG')} vs INN ${accuracy('INN')}`);
  const analysis = await analysisExperiment(split, options);
  assert.deepEqual([...analysis.figures.keys()].sort(), ['cosine.svg', 'pca.svg', 'recommendations.svg', 'tsne.svg']);
  for (const svg of analysis.figures.values()) assert.match(svg, /^<svg/);
  assert.ok(Number.isFinite(analysis.kurtosis.vasg.excessKurtosis) && Number.isFinite(analysis.kurtosis.image.excessKurtosis));
  // The analogy X_p1 − X_u1 + X_u2 finds u2's products far more often than 5 random products would, and than
  // p1's own neighbours, which ignore u2 (measured: 0.720 vs chance ≈ 0.07 and 0.091).
  const relation = analysis.linearRelations;
  const chance = chanceOfAnyHit(split, 5);
  assert.ok(chance > 0 && chance < 0.2, `chance ${chance}`);
  assert.ok(relation.precisionAt5 > chance + 0.3, `analogy precision@5 ${relation.precisionAt5} vs chance ${chance}`);
  assert.ok(relation.precisionAt5 > relation.productOnlyAt5 + 0.3, `analogy ${relation.precisionAt5} vs X_p1 alone ${relation.productOnlyAt5}`);
  assert.ok(relation.meanHitsAt5 <= relation.precisionAt5 && relation.meanHitsAt5 >= relation.precisionAt5 / 5, 'a strict precision lies between any-hit/5 and any-hit');
  const markdown = analysisSection(analysis, true);
  assert.match(markdown, /excess kurtosis/);
  assert.match(markdown, /!\[PCA\]\(pca\.svg\)/);
  assert.doesNotMatch(analysisSection(analysis, false), /\.svg/, 'no links to figures that are not written');
});

/** The chance that k products drawn at random include one a random user with training products bought (per-user mean). */
function chanceOfAnyHit(split: Split, k: number): number {
  const counts = new Map<number, number>();
  for (const u of split.train.users) counts.set(u, (counts.get(u) ?? 0) + 1);
  const n = split.itemIds.length;
  let sum = 0;
  for (const bought of counts.values()) sum += 1 - (1 - bought / n) ** k;
  return sum / counts.size;
}

test('vasg experiment analysis: says it trained one model, and links figures only when --out writes them', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-experiment-'));
  try {
    const data = path.join(root, 'split');
    writeSplit(data, prepareSplit(generate('tiny', 2), { seed: 1 }));
    const run = (...extra: string[]) => spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'experiment', 'analysis', '--data', data, '--runs', '5',
      '--dim', '8', '--hidden', '16', '--epochs', '1', '--rank-epochs', '1', '--encoder-steps', '10', '--threads', '1', ...extra], { encoding: 'utf8' });
    const printed = run();
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /products\); one model \(seed 1\);/);
    assert.doesNotMatch(printed.stdout, /run\(s\)|\.svg/);
    assert.match(printed.stdout, /4 figure\(s\) not written: pass --out DIR/);
    const out = path.join(root, 'report');
    const written = run('--out', out);
    assert.equal(written.status, 0, written.stderr);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const [, file] of report.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) assert.ok(fs.existsSync(path.join(out, file)), `${file} is linked and written`);
    assert.equal([...report.matchAll(/\.svg\)/g)].length, 4);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('vasg experiment auc --methods: runs only the rows asked for, in the order given, and names an unknown one', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-experiment-'));
  try {
    const data = path.join(root, 'split');
    writeSplit(data, prepareSplit(generate('tiny', 2), { seed: 1 }));
    const run = (methods: string) => spawnSync(process.execPath, [path.resolve('bin/vasg.js'), 'experiment', 'auc', '--data', data, '--runs', '2',
      '--methods', methods, '--json'], { encoding: 'utf8' });
    const printed = run('mostpop,RAND,ease,content->cf');
    assert.equal(printed.status, 0, printed.stderr);
    const result = JSON.parse(printed.stdout) as { rows: Array<{ method: string; cold: { mean: number | null } }> };
    assert.deepEqual(result.rows.map((r) => r.method), ['MostPop', 'RAND', 'EASE', 'Content→CF']);
    assert.equal(result.rows[2].cold.mean, null, 'EASE has no cold AUC: null in the JSON');
    assert.equal(typeof result.rows[3].cold.mean, 'number');
    const bad = run('RAND,VBRP');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown method "VBRP"; one of RAND, MostPop/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
