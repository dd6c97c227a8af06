// The contract every model honours (implicit's RecommenderBase): fit on a split or a data set, recommend
// for one user or a batch, similar items, the factor matrices a retriever or the evaluation scores with,
// save and load. VASG and every baseline implement it; `src/methods/registry.ts` lists them by name.
// docs/library.md describes the contract and how to add a model.
import type { Dataset, Matrix, Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import type { OptionSpec } from './options.js';

export interface Recommendation {
  itemId: string;
  score: number;
  /** True for products that were never in training (scored from their image features, or not at all). */
  cold: boolean;
}

export interface RecommendOptions {
  /** Product ids never to recommend, besides each user's purchases (unknown ids are ignored). */
  exclude?: string[];
  /** Only these product ids may be recommended (unknown ids are ignored); absent: every product. */
  allow?: string[];
  /**
   * false: warm products only. Default: true for a model that scores cold products (`capabilities.coldItems`),
   * false for one that cannot (its cold products would all tie); true asks for them anyway.
   */
  includeCold?: boolean;
}

/** What a model can do beyond recommending to its trained users; asking for more throws an UnsupportedError. */
export interface Capabilities {
  /** `similarItems` answers (false for MostPop: its ranking is the same whatever the query). */
  similarItems: boolean;
  /** Cold products get scores of their own (from image features); false: they all tie (BPR-MF, MostPop). */
  coldItems: boolean;
  /** New products can be embedded from image features after training (`addItems`, `POST /items`). */
  newItems: boolean;
}

export interface Recommender {
  /** The registry name of the method that trained it: "vasg", "bpr-mf", … */
  readonly method: string;
  readonly capabilities: Capabilities;
  /** Ids in row order of `scoringMatrices()`. */
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** Top-k unseen products for a user, or for each of several users (one pass over the catalogue for all). */
  recommend(user: string, k: number, options?: RecommendOptions): Promise<Recommendation[]>;
  recommend(users: string[], k: number, options?: RecommendOptions): Promise<Recommendation[][]>;
  /** Top-k products most similar to a product (itself excluded). Throws UnsupportedError without `capabilities.similarItems`. */
  similarItems(itemId: string, k: number): Promise<Recommendation[]>;
  /** The embedding space: matrices whose row dot products compare users and products (similar items, vector queries). */
  scoringMatrices(): { users: Matrix; items: Matrix };
  /**
   * What recommendations rank by, what the evaluation and every retriever of recommendations use: `scoringMatrices()`
   * plus any per-product term as extra columns (VASG's item bias: users 1, products b_i); the same matrices without one.
   */
  rankingMatrices(): { users: Matrix; items: Matrix };
  /** Writes the model directory (whole or not at all); `loadRecommender` reads it back. */
  save(dir: string): void;
}

/** A registry entry: how to fit one method, and its option table (library defaults, checks and CLI flags). */
export interface MethodSpec<O = Record<string, unknown>> {
  /** Registry and `--method` name, lower case. */
  name: string;
  /** Display name in tables and messages: "BPR-MF". */
  label: string;
  /** False for a method whose model does not depend on the seed (MostPop, WBOI): experiments fit it once. */
  seeded: boolean;
  /** One line for `--help` and the docs. */
  description: string;
  options: ReadonlyArray<OptionSpec<O>>;
  /** Fits on a prepared split (evaluation) or a whole data set (production: every product, never-bought ones cold). */
  fit(data: Dataset | Split, options?: Partial<O>, progress?: Progress): Promise<Recommender>;
}
