// §6 analyses of one trained VASG model (the first seed): PCA of 200 products, t-SNE of 4 users'
// products, cosine-similarity distributions (VASG vs image features, with kurtosis) and the
// linear relation X_p1 − X_u1 + X_u2, each with its figure.
import sharp from 'sharp';
import type { Split } from '../data/types.js';
import { imageFileFor } from '../features/image.js';
import { resolveConfig } from '../model/config.js';
import { linearRelations, pcaProducts, similarityDistributions, tsneUserProducts, type LinearRelationResult, type Moments } from '../eval/analysis.js';
import { histogramFigure, recommendationsFigure, scatterFigure, type ProductCell } from '../eval/figures.js';
import { Rng } from '../data/random.js';
import type { VasgModel } from '../model/vasg-model.js';
import type { ExperimentOptions } from './auc.js';
import { trainedModel } from '../methods/vasg.js';

export interface AnalysisResult {
  pca: { explained: number[]; points: number };
  tsne: { users: number[]; perplexity: number; points: number };
  kurtosis: { vasg: Moments; image: Moments };
  linearRelations: LinearRelationResult;
  /** File name → SVG. */
  figures: Map<string, string>;
}

/**
 * A product's thumbnail as a figure href: with `imagesDir`, its image file found as `vasg features` finds it
 * (image_url as a path, a URL's file name, or <item_id>.<ext>) as a small data: URI; otherwise a web
 * image_url as it is; '' for none.
 */
export async function thumbnailHref(itemId: string, imageUrl: string, imagesDir: string | undefined): Promise<string> {
  const file = imagesDir ? imageFileFor(imagesDir, itemId, imageUrl) : null;
  if (file) {
    try {
      return `data:image/png;base64,${(await sharp(file).resize(48, 48, { fit: 'cover' }).png().toBuffer()).toString('base64')}`;
    } catch {
      // an unreadable image gets the web URL, if any
    }
  }
  return /^https?:\/\//i.test(imageUrl) ? imageUrl : '';
}

/**
 * Three random users as rows: up to 5 of their training products at columns 0..4, their top-5
 * recommendations at 6..10, labelled with title and category, with thumbnails where images exist.
 */
async function recommendationGrid(model: VasgModel, split: Split, seed: number, imagesDir?: string): Promise<ProductCell[]> {
  const rng = new Rng(seed + 5);
  const cells: ProductCell[] = [];
  const bought = new Map<number, number[]>();
  split.train.users.forEach((u, e) => bought.set(u, [...(bought.get(u) ?? []), split.train.items[e]]));
  const users = rng.shuffle(Array.from(bought.keys())).slice(0, 3);
  const itemIndex = new Map(split.itemIds.map((id, i) => [id, i]));
  const cell = async (row: string, column: number, item: number, cold: boolean): Promise<ProductCell> => {
    const meta = split.items[item];
    return { row, column, category: meta.category || 'uncategorised', title: meta.title || split.itemIds[item], cold, href: await thumbnailHref(split.itemIds[item], meta.imageUrl, imagesDir) };
  };
  for (const u of users) {
    const row = `user ${split.userIds[u]}`;
    for (const [x, item] of bought.get(u)!.slice(0, 5).entries()) cells.push(await cell(row, x, item, false));
    for (const [x, r] of (await model.recommend(split.userIds[u], 5)).entries()) cells.push(await cell(row, 6 + x, itemIndex.get(r.itemId)!, r.cold));
  }
  return cells;
}

export async function analysisExperiment(split: Split, options: ExperimentOptions): Promise<AnalysisResult> {
  const model = await trainedModel(split, resolveConfig({ ...options.config, threads: options.threads, seed: options.seed }), options.progress);
  const { users, items } = model.parts;
  options.progress.log('analysis: PCA, t-SNE, similarity distributions, linear relations');
  const pca = pcaProducts(items, split, 200, options.seed);
  const tsne = tsneUserProducts(items, split, 4, { seed: options.seed });
  const distributions = similarityDistributions(items, split, 100000, options.seed);
  const relations = linearRelations(users, items, split, 10000, options.seed);
  const figures = new Map<string, string>([
    ['pca.svg', await scatterFigure(pca.points, { title: 'PCA of 200 random product embeddings', xTitle: 'PC 1', yTitle: 'PC 2' })],
    ['tsne.svg', await scatterFigure(tsne.points, { title: 't-SNE of the products of 4 random users', xTitle: 't-SNE 1', yTitle: 't-SNE 2' })],
    ['recommendations.svg', await recommendationsFigure(await recommendationGrid(model, split, options.seed, options.images), {
      title: 'Bought (left) and top-5 recommended (right) products of 3 random users', yTitle: '',
    })],
    ['cosine.svg', await histogramFigure([
      { name: 'VASG embeddings', histogram: distributions.vasg.histogram },
      { name: 'image features', histogram: distributions.image.histogram },
    ], { title: 'Cosine similarity of random product pairs', xTitle: 'cosine similarity', yTitle: 'density' })],
  ]);
  return {
    pca: { explained: pca.explained, points: pca.points.length },
    tsne: { users: tsne.users, perplexity: tsne.perplexity, points: tsne.points.length },
    kurtosis: { vasg: distributions.vasg.moments, image: distributions.image.moments },
    linearRelations: relations,
    figures,
  };
}
