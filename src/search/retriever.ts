// Nearest-product search behind one interface, so serving can swap exact search for an approximate
// index without changing its callers. Scores are inner products: the model's scoring matrices are
// already normalised when it ranks by cosine.

/** Business rules applied inside the search, so that k results come back when enough rows pass. */
export interface SearchFilter {
  /** Rows never returned (the user's purchases, an exclude list); any order, duplicates allowed. */
  exclude?: Int32Array;
  /**
   * When given, only rows with allow[row] !== 0 may be returned (availability, categories, allow-lists).
   * Rows past its end (products added after the mask was built) are not allowed.
   */
  allow?: Uint8Array;
}

/** Filters for a batch of queries: one exclusion list per query, one allow mask for all. */
export interface BatchFilter {
  exclude?: Int32Array[];
  allow?: Uint8Array;
}

export interface SearchResult {
  /** Row indices, best first. Fewer than k only when fewer rows pass the filter. */
  rows: Int32Array;
  scores: Float32Array;
}

export interface Retriever {
  readonly dim: number;
  /** Number of indexed rows (row ids are 0 … size-1). */
  readonly size: number;
  /** The k rows with the largest query·row, best first. Must not block the event loop on large catalogs. */
  search(query: Float32Array, k: number, filter?: SearchFilter): Promise<SearchResult>;
  /**
   * search() for each row of `queries` ([n × dim], row-major), in one call: exact search scores the whole
   * batch with one matrix product. Results in query order.
   */
  searchBatch?(queries: Float32Array, k: number, filter?: BatchFilter): Promise<SearchResult[]>;
  /** Row `row`'s indexed vector (a view, valid until the next upsert: do not modify). */
  vector(row: number): Float32Array;
  /** Replaces row `row`'s vector, or appends it when row === size. */
  upsert(row: number, vector: Float32Array): void;
}
