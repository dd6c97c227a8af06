// A registry entry as the methods layer sees it: the core contract's MethodSpec, fitting to the common model
// artifact (VasgModel's format), plus the optional hook the relation experiment (Table 3) uses.
import type { Dataset, Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import type { MethodSpec } from '../core/recommender.js';
import type { ItemSimilarity } from '../core/pairs.js';
import type { VasgModel } from '../model/vasg-model.js';

export interface Method<O = Record<string, unknown>> extends MethodSpec<O> {
  /** Listed in the experiments' ranking table (Table 2: warm/cold AUC). */
  rankingTable: boolean;
  fit(data: Dataset | Split, options?: Partial<O>, progress?: Progress): Promise<VasgModel>;
  /**
   * Table 2: options selected on the validation split carved from `split`'s training pairs with `seed` (never its
   * test pairs), which the table's row then fits with (its run seed and threads added). Absent: the defaults.
   */
  tune?(split: Split, options: { seed: number; threads: number }, progress: Progress): Promise<Partial<O>>;
  /** Table 2 reports its warm columns only: it has no model of cold products and ranks them last by construction. */
  warmOnly?: boolean;
  /**
   * Table 3: the method's product–product similarity (what its similar items rank by), fitted without learning from
   * the pairs in `exclude` (the pairs it will be scored on; keys of core/pairs.ts). Absent: not in the relation table.
   */
  relations?(split: Split, options: Partial<O>, exclude: Set<number>, progress: Progress): Promise<ItemSimilarity>;
}
