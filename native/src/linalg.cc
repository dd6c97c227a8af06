#include "linalg.h"
#include <cblas.h>
#include <cstdint>
#include <string>
#include "worker.h"

// LAPACK's Fortran entry points, shipped inside libopenblas (no lapacke.h needed).
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotrs_(const char* uplo, const int* n, const int* nrhs, const float* a, const int* lda, float* b, const int* ldb,
             int* info);
}

namespace vasg {
namespace {

// A row-major symmetric matrix is its own transpose, so LAPACK's column-major "L" is row-major upper: we ask
// for "U" (column-major) which fills the row-major lower triangle, and mirror the result where needed.
class EaseWorker : public PromiseWorker {
 public:
  EaseWorker(Napi::Env env, float* g, int n, int threads)
      : PromiseWorker(env, "vasg.easeWeights"), g_(g), n_(n), threads_(threads) {}

 protected:
  void Execute() override {
    const int before = openblas_get_num_threads();
    openblas_set_num_threads(threads_);
    int info = 0;
    spotrf_("U", &n_, g_, &n_, &info);
    if (info == 0) spotri_("U", &n_, g_, &n_, &info);
    openblas_set_num_threads(before);
    if (info != 0) {
      SetError(info > 0 ? "easeWeights: the Gram matrix is not positive definite (leading minor " + std::to_string(info) +
                              "); raise lambda"
                        : "easeWeights: LAPACK argument " + std::to_string(-info) + " is invalid");
      return;
    }
    const int64_t n = n_;
    // Column-major upper = row-major lower: P_ij valid for j ≤ i. Mirror, then scale column j by −1/P_jj.
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < i; ++j) g_[j * n + i] = g_[i * n + j];
    }
    std::vector<float> inv(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) inv[j] = -1.0f / g_[j * n + j];
    ParallelFor(n, threads_, [&](int64_t r0, int64_t r1, int) {
      for (int64_t i = r0; i < r1; ++i) {
        float* row = g_ + i * n;
        for (int64_t j = 0; j < n; ++j) row[j] *= inv[j];
        row[i] = 0.0f;
      }
    });
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  float* g_;
  int n_;
  int threads_;
};

Napi::Value EaseWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto G = TypedArg<float>(info, 0, "G");
  const int64_t n = IntArg(info, 1, "n");
  const int64_t threads = IntArg(info, 2, "threads");
  RequireRange(env, n >= 1 && n <= 46340, "n must be in [1, 46340]");
  RequireRange(env, static_cast<int64_t>(G.length) == n * n, "G has " + std::to_string(G.length) + " elements, n² = " + std::to_string(n * n));
  RequireRange(env, threads >= 1, "threads must be >= 1");
  auto* worker = new EaseWorker(env, G.data, static_cast<int>(n), static_cast<int>(threads));
  worker->Keep(info[0]);
  return worker->Start();
}

Napi::Value CholeskySolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto A = TypedArg<float>(info, 0, "A");
  const int64_t n = IntArg(info, 1, "n");
  auto B = TypedArg<float>(info, 2, "B");
  const int64_t m = IntArg(info, 3, "m");
  RequireRange(env, n >= 1 && n <= 46340, "n must be in [1, 46340]");
  RequireRange(env, m >= 0, "m must be >= 0");
  RequireRange(env, static_cast<int64_t>(A.length) == n * n, "A has " + std::to_string(A.length) + " elements, n² = " + std::to_string(n * n));
  RequireRange(env, static_cast<int64_t>(B.length) == n * m, "B has " + std::to_string(B.length) + " elements, n·m = " + std::to_string(n * m));
  const int N = static_cast<int>(n);
  int info_ = 0;
  spotrf_("U", &N, A.data, &N, &info_);
  if (info_ > 0) throw Napi::Error::New(env, "choleskySolve: A is not positive definite (leading minor " + std::to_string(info_) + ")");
  if (m == 0) return env.Undefined();
  // Row-major B [n×m] is column-major Bᵀ [m×n]: solve with the columns as rows — transpose through a buffer.
  std::vector<float> colMajor(static_cast<size_t>(n * m));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) colMajor[j * n + i] = B.data[i * m + j];
  }
  const int M = static_cast<int>(m);
  spotrs_("U", &N, &M, A.data, &N, colMajor.data(), &N, &info_);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) B.data[i * m + j] = colMajor[j * n + i];
  }
  return env.Undefined();
}

}  // namespace

void InitLinalg(Napi::Env env, Napi::Object exports) {
  exports.Set("easeWeights", Napi::Function::New(env, EaseWeights));
  exports.Set("choleskySolve", Napi::Function::New(env, CholeskySolve));
}

}  // namespace vasg
