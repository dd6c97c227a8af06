// `vasg evaluate`: VASG against RAND, MostPop, WBOI and (on generated data) the Oracle, with the
// same split, candidates and AUC code. The model is scored as it ranks (with its item bias), and its
// embeddings both by cosine (the paper) and by dot product, because cosine discards the norm.
import type { Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { normalizeRows } from '../model/matrix.js';
import type { VasgModel } from '../model/vasg-model.js';
import { evaluateAuc, type AucResult, type FactorScorer, type WarmCold } from './auc.js';
import { mostPopScorer, oracleScorer, randScorer, wboiScorer } from './baselines.js';

/** Eq. 4 AUC on warm and cold test pairs, and over both with one ranking (pair-weighted). */
export interface AucSummary extends WarmCold {
  combined: number;
}

export interface EvaluationReport {
  /** The model as it ranks: its configured scoring plus its item bias (if any). */
  auc: AucSummary;
  /** Leave-one-out top-20 metrics of the model under its configured scoring. */
  'recall@20': WarmCold;
  'ndcg@20': WarmCold;
  scoring: string;
  /** Whether `auc` and the top-20 metrics include the model's item bias. */
  itemBias: boolean;
  /** The model's embeddings under each scoring rule, without the item bias. */
  byScoring: { cosine: AucSummary; dot: AucSummary };
  baselines: { rand: AucSummary; mostpop: AucSummary; wboi: AucSummary };
  oracle?: AucSummary;
  pairs: { warm: number; cold: number };
}

export async function evaluateModel(model: VasgModel, split: Split, options: { threads: number; seed: number; progress: Progress }): Promise<EvaluationReport> {
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
  const results: AucResult[] = [];
  options.progress.start('evaluate', scorers.length);
  for (const scorer of scorers) {
    results.push(await evaluateAuc(scorer, split, options.threads));
    options.progress.update(results.length, scorer.name);
  }
  options.progress.finish();
  const summary = (r: AucResult): AucSummary => ({ warm: r.warm, cold: r.cold, combined: r.combined });
  const [ranking, cosine, dot, rand, mostpop, wboi, truth] = results.map(summary);
  const own = results[0];
  return {
    auc: ranking,
    'recall@20': own.recallAt20,
    'ndcg@20': own.ndcgAt20,
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
  const rows: Array<[string, AucSummary]> = [
    [`VASG (${report.scoring}${report.itemBias ? ' + item bias' : ''})`, report.auc],
    ...(report.itemBias ? [[`VASG (${report.scoring}, no bias)`, report.byScoring[report.scoring as 'cosine' | 'dot']] as [string, AucSummary]] : []),
    [`VASG (${report.scoring === 'cosine' ? 'dot' : 'cosine'})`, report.scoring === 'cosine' ? report.byScoring.dot : report.byScoring.cosine],
    ['RAND', report.baselines.rand],
    ['MostPop', report.baselines.mostpop],
    ['WBOI', report.baselines.wboi],
  ];
  if (report.oracle) rows.push(['Oracle (ceiling)', report.oracle]);
  const f = (x: number) => (Number.isNaN(x) ? '   -  ' : x.toFixed(4));
  const width = Math.max(18, ...rows.map(([name]) => name.length));
  const lines = [`${'method'.padEnd(width)} warm AUC  cold AUC  combined`,
    ...rows.map(([name, r]) => `${name.padEnd(width)} ${f(r.warm)}    ${f(r.cold)}    ${f(r.combined)}`)];
  const top = (m: WarmCold) => `${f(m.warm)} warm, ${f(m.cold)} cold`;
  lines.push(`VASG Recall@20: ${top(report['recall@20'])};  NDCG@20: ${top(report['ndcg@20'])}`);
  lines.push(`test pairs: ${report.pairs.warm} warm, ${report.pairs.cold} cold`);
  return lines.join('\n');
}
