// Skip-gram with (optional) negative sampling over the walk corpus, Hogwild-parallel.
#pragma once
#include <napi.h>

namespace vasg {
// [async] skipgram(args: SkipgramArgs) → Promise<{lossUsers, lossProducts, pairsUsers, pairsProducts}>
//   args: {vectors: Float32Array [nNodes×dim], contexts: Float32Array | null, dim, corpus: Int32Array,
//          walkLength, radius, negatives, negTable: Int32Array | null, lrStart, lrEnd,
//          centreScale: Float32Array | null, nUsers, threads, seed}; nNodes = vectors.length / dim.
//   For every centre position p of every walk and every context position q ≠ p with |q − p| ≤ radius in the
//   same walk: pair (v = corpus[p], c = corpus[q]); x = vectors[v], y_t = (contexts ?? vectors)[t].
//   Targets: (c, label 1), then `negatives` draws t from negTable (label 0; a draw equal to c is skipped).
//   Per target: f = clamp(x·y_t, ±30), g = (label − σ(f))·lr·centreScale[v], neu1e += g·y_t, y_t += g·x
//   (immediately, word2vec style), loss += −log σ(f) (label 1) or −log σ(−f) (label 0). After the pair's
//   targets x += neu1e. lr = lrStart + (lrEnd − lrStart)·done/total, where done counts centre tokens
//   already processed by all threads (exact with threads = 1). Threads take contiguous ranges of walks,
//   each with its own RNG stream (seed, thread). Losses and pair counts (positive pairs only) go to users
//   when v < nUsers, else to products. Tables are updated in place.
//   Throws TypeError (argument types) or RangeError (dim < 1, vectors.length not a multiple of dim,
//   contexts length ≠ vectors length, walkLength < 1, corpus.length not a multiple of walkLength, radius < 0,
//   negatives < 0, negatives > 0 without a non-empty negTable, centreScale shorter than nNodes,
//   nUsers outside [0, nNodes], threads < 1). Rejects (Error) when a corpus or negTable id is outside
//   [0, nNodes); nothing is updated then.
void InitSkipgram(Napi::Env env, Napi::Object exports);
}  // namespace vasg
