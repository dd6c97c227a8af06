// Dense linear algebra over OpenBLAS.
#pragma once
#include <napi.h>

namespace vasg {
// [sync] sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha·op(A)·op(B) + beta·C, row-major.
// [sync] setBlasThreads(n) / blasThreads(): OpenBLAS thread count.
void InitBlas(Napi::Env env, Napi::Object exports);
}  // namespace vasg
