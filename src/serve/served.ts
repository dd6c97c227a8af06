// The catalog a server answers from, swapped whole at a reload (SIGHUP, POST /admin/reload): routes read
// `served.catalog` once per request, so a request in flight finishes on the model it started with and the next
// one gets the new model. Reloads run one at a time; a failed one leaves the old catalog serving.
import type { Catalog } from './catalog.js';

export interface ReloadResult {
  /** False when the directory holds the model already served (nothing to do). */
  reloaded: boolean;
  model_id: string;
  previous_model_id: string;
  seconds: number;
}

export class Served {
  private pending: Promise<unknown> = Promise.resolve();

  constructor(public catalog: Catalog, private readonly notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  /** Loads the directory's model beside the served one and swaps it in (Catalog.reload); throws, changing nothing, when it cannot. */
  reload(): Promise<ReloadResult> {
    const run = this.pending.then(() => this.swap());
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async swap(): Promise<ReloadResult> {
    const started = performance.now();
    const previous = this.catalog;
    try {
      const next = await previous.reload();
      this.catalog = next;
      const result = { reloaded: next !== previous, model_id: next.modelId, previous_model_id: previous.modelId, seconds: (performance.now() - started) / 1000 };
      this.notice(result.reloaded
        ? `vasg serve: reloaded: now serving model ${result.model_id} (was ${result.previous_model_id}; ${next.size} products; ${result.seconds.toFixed(2)} s)`
        : `vasg serve: reload: the directory holds the model already served (${result.model_id}); nothing to do`);
      return result;
    } catch (error) {
      this.notice(`vasg serve: reload failed, still serving model ${previous.modelId}: ${(error as Error).message}`);
      throw error;
    }
  }
}
