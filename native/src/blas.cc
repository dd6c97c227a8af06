#include "blas.h"
#include <cblas.h>
#include "napi_util.h"

namespace vasg {

static Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ta = BoolArg(info, 0, "transA"), tb = BoolArg(info, 1, "transB");
  int64_t M = IntArg(info, 2, "M"), N = IntArg(info, 3, "N"), K = IntArg(info, 4, "K");
  float alpha = static_cast<float>(NumArg(info, 5, "alpha"));
  auto A = TypedArg<float>(info, 6, "A");
  int64_t lda = IntArg(info, 7, "lda");
  auto B = TypedArg<float>(info, 8, "B");
  int64_t ldb = IntArg(info, 9, "ldb");
  float beta = static_cast<float>(NumArg(info, 10, "beta"));
  auto C = TypedArg<float>(info, 11, "C");
  int64_t ldc = IntArg(info, 12, "ldc");
  // op(A) is M×K; stored rows = M (no trans) or K (trans).
  CheckLength(env, A.length, static_cast<size_t>((ta ? K : M) > 0 ? ((ta ? K : M) - 1) * lda + (ta ? M : K) : 0), "A");
  CheckLength(env, B.length, static_cast<size_t>((tb ? N : K) > 0 ? ((tb ? N : K) - 1) * ldb + (tb ? K : N) : 0), "B");
  CheckLength(env, C.length, static_cast<size_t>(M > 0 ? (M - 1) * ldc + N : 0), "C");
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
              alpha, A.data, (int)lda, B.data, (int)ldb, beta, C.data, (int)ldc);
  return env.Undefined();
}

static Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(static_cast<int>(IntArg(info, 0, "threads")));
  return info.Env().Undefined();
}

static Napi::Value BlasThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), openblas_get_num_threads());
}

void InitBlas(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("setBlasThreads", Napi::Function::New(env, SetBlasThreads));
  exports.Set("blasThreads", Napi::Function::New(env, BlasThreads));
}

}  // namespace vasg
