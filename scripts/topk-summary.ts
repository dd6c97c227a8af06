// `node dist/scripts/topk-summary.js FILE.jsonl …`: reads topk-probe.js output (one JSON line per seed and variant)
// and prints one Markdown row per variant: Recall@20 and NDCG@20 (all / warm / cold), exposure@20 against the cold
// share of test pairs, and warm / cold / combined AUC, each as mean ± sd over the seeds found. Grid lines are skipped.
import fs from 'node:fs';
import { formatStat, summarize } from '../src/experiments/stats.js';

interface Line {
  seed: number;
  variant: string;
  recall: { warm: number; cold: number; all: number };
  ndcg: { warm: number; cold: number; all: number };
  exposure: number;
  coldShareOfTest: number;
  auc: { warm: number; cold: number; combined: number };
}

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: topk-summary.js FILE.jsonl …');
const byVariant = new Map<string, Line[]>();
for (const file of files) {
  for (const text of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!text.startsWith('{')) continue;
    const line = JSON.parse(text) as Line;
    if (line.variant.includes('grid')) continue;
    byVariant.set(line.variant, [...(byVariant.get(line.variant) ?? []), line]);
  }
}
const stat = (lines: Line[], pick: (l: Line) => number) => formatStat(summarize(lines.map(pick)), 3);
console.log('| variant | seeds | R@20 all | R@20 warm | R@20 cold | NDCG@20 all | exposure@20 (cold share) | AUC warm | AUC cold | AUC combined |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [variant, lines] of byVariant) {
  console.log(`| ${variant} | ${lines.map((l) => l.seed).join(',')} | ${stat(lines, (l) => l.recall.all)} | ${stat(lines, (l) => l.recall.warm)} | ` +
    `${stat(lines, (l) => l.recall.cold)} | ${stat(lines, (l) => l.ndcg.all)} | ${stat(lines, (l) => l.exposure)} (${stat(lines, (l) => l.coldShareOfTest)}) | ` +
    `${stat(lines, (l) => l.auc.warm)} | ${stat(lines, (l) => l.auc.cold)} | ${stat(lines, (l) => l.auc.combined)} |`);
}
