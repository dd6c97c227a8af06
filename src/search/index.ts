// Picks the nearest-product retriever: exact (default, fast to about a million products) or HNSW
// (approximate, for larger catalogs). `vasg serve --index hnsw` goes through here.
import type { Matrix } from '../data/types.js';
import { ConfigError } from '../errors.js';
import { ExactRetriever } from './exact.js';
import { HnswRetriever, type HnswOptions } from './hnsw.js';
import type { Retriever } from './retriever.js';

export type RetrieverKind = 'exact' | 'hnsw';
export const RETRIEVER_KINDS: readonly RetrieverKind[] = ['exact', 'hnsw'];

export interface RetrieverOptions {
  hnsw?: HnswOptions;
}

export function createRetriever(kind: RetrieverKind, vectors: Matrix, options: RetrieverOptions = {}): Retriever {
  switch (kind) {
    case 'exact':
      return new ExactRetriever(vectors);
    case 'hnsw':
      return new HnswRetriever(vectors, options.hnsw);
    default:
      throw new ConfigError(`unknown index "${String(kind)}": use one of ${RETRIEVER_KINDS.join(', ')}`, 'index');
  }
}

export { ExactRetriever, HnswRetriever };
export type { HnswOptions };
export type { BatchFilter, Retriever, SearchFilter, SearchResult } from './retriever.js';
