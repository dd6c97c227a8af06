// Markdown sections for the experiments' results (tables; figures are linked SVG files).
import type { AucResults, WarmColdAllStat } from './auc.js';
import type { SensitivitySeries } from './sensitivity.js';
import { formatStat } from './stats.js';
import { SIMILAR_K, type RelationsResult } from './relations.js';
import type { AnalysisResult } from './analysis.js';

export function aucSection({ rows, seconds }: AucResults, runs: number): string {
  const three = (m: WarmColdAllStat) => `${formatStat(m.all, 3)} / ${formatStat(m.warm, 3)} / ${formatStat(m.cold, 3)}`;
  const ks = rows.length > 0 ? Object.keys(rows[0]).filter((key) => key.startsWith('recall@')).map((key) => Number(key.slice('recall@'.length))) : [];
  const coldShare = rows.find((r) => Number.isFinite(r['exposure@20'].coldTestShare.mean))?.['exposure@20'].coldTestShare.mean;
  const lines = [
    '## Table 2: AUC and the top-20 list, warm and cold test products',
    '',
    `Mean ± sd over ${runs} training seed(s) on one prepared split; methods without randomness ran once.`,
    '',
    '| method | warm AUC | cold AUC | combined AUC | Recall@20 all / warm / cold | NDCG@20 all / warm / cold | coverage@20 | cold slots@20 | popularity@20 |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.method} | ${formatStat(r.warm)} | ${formatStat(r.cold)} | ${formatStat(r.combined)} | ` +
      `${three(r['recall@20'] ?? NO_STAT)} | ${three(r['ndcg@20'] ?? NO_STAT)} | ${formatStat(r['coverage@20'], 3)} | ${formatStat(r['exposure@20'].cold, 3)} | ${formatStat(r['popularity@20'], 3)} |`),
    '',
    'Combined AUC is eq. 4 over all test pairs with one ranking (warm and cold products compete for every user). ' +
      'Recall@K and NDCG@K are leave-one-out: the test product\'s rank among all products the user has not bought, warm and cold in one list; ' +
      '"all" averages over every test pair, "warm"/"cold" over those whose product is warm/cold. Over the test users\' top-20 lists: coverage@20 = share of the catalogue ' +
      `shown to anyone; cold slots@20 = share of slots given to cold products${coldShare === undefined ? '' : ` (their share of test purchases: ${coldShare.toFixed(3)})`}; ` +
      'popularity@20 = mean popularity percentile of what is shown (1 = the most bought). Definitions: docs/evaluation.md.',
    '',
  ];
  if (ks.some((k) => k !== 20)) {
    lines.push(`| method | ${ks.map((k) => `Recall@${k} all / warm / cold`).join(' | ')} | ${ks.map((k) => `NDCG@${k} all`).join(' | ')} |`,
      `|---|${ks.map(() => '---|').join('')}${ks.map(() => '---|').join('')}`,
      ...rows.map((r) => `| ${r.method} | ${ks.map((k) => three(r[`recall@${k}`])).join(' | ')} | ${ks.map((k) => formatStat(r[`ndcg@${k}`].all, 3)).join(' | ')} |`), '');
  }
  lines.push(
    'Skip-Gram is the paper\'s ablation (no decoder, so no M for cold products): warm products only, as in §6; its "all" is the list it would show, cold products scored as the mean warm product. ' +
      'EASE and iALS have no model of cold products either (they rank them last): warm columns only, and their "all" is the list they would show (docs/baselines.md).',
    '',
    `Wall time per method (all runs): ${Object.entries(seconds).map(([m, t]) => `${m} ${t.toFixed(0)} s`).join(', ')}.`,
  );
  return lines.join('\n');
}

const NO_STAT: WarmColdAllStat = { warm: { mean: NaN, sd: NaN }, cold: { mean: NaN, sd: NaN }, all: { mean: NaN, sd: NaN } };

export function sensitivitySection(series: SensitivitySeries[], runs: number, figures: Map<string, string>): string {
  const lines = ['## Sensitivity', '', `VASG with one setting changed at a time (others at their defaults), ${runs} run(s) each.`, ''];
  for (const s of series) {
    lines.push(`### ${s.parameter}`, '');
    const figure = figures.get(s.parameter);
    if (figure) lines.push(`![AUC vs ${s.parameter}](${figure})`, '');
    lines.push(`| ${s.parameter} | warm AUC | cold AUC |`, '|---|---|---|');
    for (const p of s.points) lines.push(`| ${p.value} | ${formatStat(p.warm)} | ${formatStat(p.cold)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

export function relationsSection(result: RelationsResult, runs: number): string {
  const { rows, pairs, anchors } = result;
  return [
    '## Table 3: co-purchase relations',
    '',
    `Accuracy of "similarity > t" on held-out pairs (t chosen on a validation half); |R| = |Q| = ${pairs / 2} warm product pairs, ` +
      `mean ± sd over ${runs} run(s). No method's similarity is trained on the evaluation pairs (VASG's walks contain them, as in the paper). ` +
      `Recall@${SIMILAR_K}: per anchor (a test product), the share of its held-out co-purchased products (the buyer's training products never ` +
      `bought with it in training) among its ${SIMILAR_K} most similar products; ${anchors.warm} warm and ${anchors.cold} cold anchors.`,
    '',
    `| method | accuracy | Recall@${SIMILAR_K} warm anchors | Recall@${SIMILAR_K} cold anchors |`,
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.method} | ${formatStat(r.accuracy)} | ${formatStat(r['recall@20'].warm)} | ${formatStat(r['recall@20'].cold)} |`),
  ].join('\n');
}

/** `linkFigures`: the SVGs are written beside the report (with --out), so the Markdown may link them. */
export function analysisSection(a: Omit<AnalysisResult, 'figures'>, linkFigures: boolean): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const figure = (file: string, alt: string) => (linkFigures ? [`![${alt}](${file})`, ''] : []);
  return [
    '## Analyses (one model, first seed)',
    '',
    ...figure('pca.svg', 'PCA'),
    `PCA of ${a.pca.points} random products: the first two axes explain ${a.pca.explained.map(pct).join(' and ')} of the variance.`,
    '',
    ...figure('tsne.svg', 't-SNE'),
    `t-SNE (perplexity ${a.tsne.perplexity}) of the ${a.tsne.points} products of users ${a.tsne.users.join(', ')}, coloured by user.`,
    '',
    ...figure('recommendations.svg', 'recommendations'),
    'Three random users: up to 5 products they bought (left) and their top-5 recommendations (right; cold products marked).',
    '',
    ...figure('cosine.svg', 'cosine similarity'),
    '| representation | mean cosine | sd | excess kurtosis |',
    '|---|---|---|---|',
    `| VASG embeddings | ${a.kurtosis.vasg.mean.toFixed(3)} | ${a.kurtosis.vasg.sd.toFixed(3)} | ${a.kurtosis.vasg.excessKurtosis.toFixed(2)} |`,
    `| image features | ${a.kurtosis.image.mean.toFixed(3)} | ${a.kurtosis.image.sd.toFixed(3)} | ${a.kurtosis.image.excessKurtosis.toFixed(2)} |`,
    '',
    `Linear relations over ${a.linearRelations.samples} samples (u1, p1 ∈ P_u1, u2 ≠ u1). precision@5 = fraction of samples where at least one ` +
      'of the 5 products nearest (cosine) to the query, p1 excluded, was bought by u2 in training:',
    '',
    '| query | precision@5 |',
    '|---|---|',
    `| X_p1 − X_u1 + X_u2 | ${pct(a.linearRelations.precisionAt5)} (mean share of the 5 bought by u2: ${pct(a.linearRelations.meanHitsAt5)}) |`,
    `| X_u2 alone | ${pct(a.linearRelations.userOnlyAt5)} |`,
    `| X_p1 alone | ${pct(a.linearRelations.productOnlyAt5)} |`,
  ].join('\n');
}
