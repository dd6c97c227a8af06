// Widening float16 features to float32 a block or a list of rows at a time (see half.h).
#include "half.h"
#include "napi_util.h"
#include "worker.h"

namespace vasg {
namespace {

// halfToFloat(src: Uint16Array, offset, count, out: Float32Array): out[k] = src[offset + k] for k < count.
void HalfToFloatExport(const Napi::CallbackInfo& info) {
  auto src = TypedArg<uint16_t>(info, 0, "src");
  const int64_t offset = IntArg(info, 1, "offset");
  const int64_t count = IntArg(info, 2, "count");
  auto out = TypedArg<float>(info, 3, "out");
  RequireRange(info.Env(), offset >= 0 && count >= 0, "offset and count must be non-negative");
  CheckLength(info.Env(), src.length, static_cast<size_t>(offset + count), "src");
  CheckLength(info.Env(), out.length, static_cast<size_t>(count), "out");
  HalfToFloatRow(src.data + offset, out.data, count);
}

// gatherHalf(src: Uint16Array, cols, rows: Int32Array, out: Float32Array): out row r = src row rows[r], widened.
void GatherHalf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto src = TypedArg<uint16_t>(info, 0, "src");
  const int64_t cols = IntArg(info, 1, "cols");
  auto rows = TypedArg<int32_t>(info, 2, "rows");
  auto out = TypedArg<float>(info, 3, "out");
  RequireRange(env, cols >= 1, "cols must be at least 1");
  const int64_t n = static_cast<int64_t>(src.length) / cols;
  CheckLength(env, out.length, rows.length * static_cast<size_t>(cols), "out");
  for (size_t r = 0; r < rows.length; ++r) {
    RequireRange(env, rows.data[r] >= 0 && rows.data[r] < n, "row " + std::to_string(rows.data[r]) + " outside the " + std::to_string(n) + " rows");
  }
  for (size_t r = 0; r < rows.length; ++r) HalfToFloatRow(src.data + rows.data[r] * cols, out.data + r * cols, cols);
}

}  // namespace

void InitHalf(Napi::Env env, Napi::Object exports) {
  exports.Set("halfToFloat", Napi::Function::New(env, HalfToFloatExport, "halfToFloat"));
  exports.Set("gatherHalf", Napi::Function::New(env, GatherHalf, "gatherHalf"));
}

}  // namespace vasg
