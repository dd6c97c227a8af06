// Ranking evaluation over dot-product scores: per-pair AUC (paper eq. 4) and top-k recommendation.
#pragma once
#include <napi.h>

namespace vasg {
// [async] rankTestPairs(U: Float32Array [nUsers×dim], V: Float32Array [nItems×dim], dim, testUsers: Int32Array,
//                 testItems: Int32Array, excludeIndptr: Int32Array, excludeIndices: Int32Array, k, threads)
//           → Promise<{auc: Float64Array (one value per test pair), lists: Int32Array [pairs × k]}>
//   score(u, i) = U[u]·V[i]. For pair j (u = testUsers[j], t = testItems[j]):
//   AUC_j = (#{i candidate: s_i < s_t} + ½·#{i candidate: s_i = s_t}) / #candidates, where the candidates are
//   all items except t and except the user's exclusion list excludeIndices[excludeIndptr[u] .. excludeIndptr[u+1])
//   (CSR indexed by user id; lists are expected sorted unique; an entry equal to t is ignored).
//   #candidates = nItems − 1 − |exclusions without t|; NaN when it is 0.
//   Pairs go in blocks of 512: one cblas_sgemm of the block's user rows against all of V (OpenBLAS threads),
//   then the per-row counting on `threads` threads. Excluded items are subtracted, not masked. With k > 0, each
//   pair's row then gives the user's top k as topK does (exclusion list skipped, t a candidate): one GEMM for both.
//   Throws TypeError (types), RangeError (dim < 1, U/V length not a multiple of dim, testItems length ≠ testUsers
//   length, a test user outside [0, min(nUsers, excludeIndptr.length − 1)), a test item outside [0, nItems),
//   excludeIndptr not non-decreasing within excludeIndices, an excluded id outside [0, nItems), k < 0, threads < 1).
// [sync] topK(U, V, dim, users: Int32Array, k, excludeIndptr: Int32Array, excludeIndices: Int32Array)
//           → {items: Int32Array [users.length × k], scores: Float32Array [users.length × k]}
//   Per user the k best items by U[u]·V[i], best first (ties: lower item id first), skipping the user's
//   exclusion list; rows with fewer than k candidates are padded with item −1 and score −Infinity.
//   Throws TypeError, RangeError (as rankTestPairs).
void InitScore(Napi::Env env, Napi::Object exports);
}  // namespace vasg
