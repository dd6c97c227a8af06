// `vasg evaluate`: VASG against RAND, MostPop, WBOI and (on generated data) the Oracle, with the
// same split, candidates and AUC code. The model is scored as it ranks (with its item bias), and its
// embeddings both by cosine (the paper) and by dot product, because cosine discards the norm.
import type { Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { normalizeRows } from '../model/matrix.js';
import type { VasgModel } from '../model/vasg-model.js';
import { evaluateAuc, type EvaluationResult, type FactorScorer, type WarmCold } from './auc.js';
import { DEFAULT_KS, isRankKey, type TopKMetrics, type WarmColdAll } from './topk.js';
import { mostPopScorer, oracleScorer, randScorer, wboiScorer } from './baselines.js';

/** Eq. 4 AUC on warm and cold test pairs, and over both with one ranking (pair-weighted). */
export interface AucSummary extends WarmCold {
  combined: number;
}

/** A method's AUC and its top-k metrics (`recall@K`/`ndcg@K` per K asked, list metrics at 20). */
export type MethodSummary = AucSummary & TopKMetrics;

/** The model as it ranks (`auc` and, at the top level, its top-k metrics: configured scoring plus its item bias, if any), and every row of the table. */
export type EvaluationReport = TopKMetrics & {
  auc: AucSummary;
  scoring: string;
  /** Whether `auc` and the top-k metrics include the model's item bias. */
  itemBias: boolean;
  /** The model's embeddings under each scoring rule, without the item bias. */
  byScoring: { cosine: MethodSummary; dot: MethodSummary };
  baselines: { rand: MethodSummary; mostpop: MethodSummary; wboi: MethodSummary };
  oracle?: MethodSummary;
  pairs: { warm: number; cold: number };
};

export async function evaluateModel(model: VasgModel, split: Split, options: { threads: number; seed: number; progress: Progress; ks?: number[] }): Promise<EvaluationReport> {
  checkAligned(model, split);
  const { users, items } = model.parts;
  const scorers: FactorScorer[] = [
    { name: 'VASG', ...model.rankingMatrices() },
    { name: 'VASG (cosine)', users: normalizeRows(users), items: normalizeRows(items) },
    { name: 'VASG (dot)', users, items },
    randScorer(split, options.seed),
    mostPopScorer(split),
    wboiScorer(split),
  ];
  const oracle = oracleScorer(split);
  if (oracle) scorers.push(oracle);
  const results: EvaluationResult[] = [];
  options.progress.start('evaluate', scorers.length);
  for (const scorer of scorers) {
    results.push(await evaluateAuc(scorer, split, options.threads, options.ks ?? DEFAULT_KS));
    options.progress.update(results.length, scorer.name);
  }
  options.progress.finish();
  const summary = (r: EvaluationResult): MethodSummary => ({ warm: r.warm, cold: r.cold, combined: r.combined, ...r.topK });
  const [, cosine, dot, rand, mostpop, wboi, truth] = results.map(summary);
  const own = results[0];
  return {
    auc: { warm: own.warm, cold: own.cold, combined: own.combined },
    ...own.topK,
    scoring: model.config.scoring,
    itemBias: model.parts.itemBias !== undefined,
    byScoring: { cosine, dot },
    baselines: { rand, mostpop, wboi },
    ...(truth ? { oracle: truth } : {}),
    pairs: { warm: results[0].pairsWarm, cold: results[0].pairsCold },
  };
}

function checkAligned(model: VasgModel, split: Split): void {
  const { userIds, itemIds } = model.parts;
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((id, i) => id === b[i]);
  if (!same(userIds, split.userIds) || !same(itemIds, split.itemIds)) {
    throw new Error('the model was not trained on this prepared split (its user/item ids differ); evaluate with the --data it was trained on');
  }
}

/** A fixed-width text table of an evaluation report. */
export function formatReport(report: EvaluationReport): string {
  const rows: Array<[string, AucSummary & Partial<TopKMetrics>]> = [
    [`VASG (${report.scoring}${report.itemBias ? ' + item bias' : ''})`, { ...report.auc, ...report }],
    ...(report.itemBias ? [[`VASG (${report.scoring}, no bias)`, report.byScoring[report.scoring as 'cosine' | 'dot']] as [string, MethodSummary]] : []),
    [`VASG (${report.scoring === 'cosine' ? 'dot' : 'cosine'})`, report.scoring === 'cosine' ? report.byScoring.dot : report.byScoring.cosine],
    ['RAND', report.baselines.rand],
    ['MostPop', report.baselines.mostpop],
    ['WBOI', report.baselines.wboi],
  ];
  if (report.oracle) rows.push(['Oracle (ceiling)', report.oracle]);
  const f = (x: number) => (Number.isNaN(x) ? '   -  ' : x.toFixed(4));
  const width = Math.max(18, ...rows.map(([name]) => name.length));
  const recall = (r: Partial<TopKMetrics>) => (r['recall@20'] ? `    ${f(r['recall@20'].all)}` : '');
  const lines = [`${'method'.padEnd(width)} warm AUC  cold AUC  combined${report['recall@20'] ? '  Recall@20 all' : ''}`,
    ...rows.map(([name, r]) => `${name.padEnd(width)} ${f(r.warm)}    ${f(r.cold)}    ${f(r.combined)}${recall(r)}`)];
  const top = (m: WarmColdAll) => `${f(m.all)} all, ${f(m.warm)} warm, ${f(m.cold)} cold`;
  for (const key of Object.keys(report).filter(isRankKey)) {
    lines.push(`VASG ${key.replace('recall', 'Recall').replace('ndcg', 'NDCG')}: ${top(report[key])}`);
  }
  const exposure = report['exposure@20'];
  lines.push(`VASG top-20 lists: coverage ${f(report['coverage@20'])}, cold-product slots ${f(exposure.cold)} (cold share of test purchases ${f(exposure.coldTestShare)}), ` +
    `mean popularity percentile ${f(report['popularity@20'])}`);
  lines.push(`test pairs: ${report.pairs.warm} warm, ${report.pairs.cold} cold`);
  return lines.join('\n');
}
