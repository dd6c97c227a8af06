// Small helpers shared by the native modules: typed-array access and argument checks.
// The TypeScript layer validates options; here we only check types and buffer lengths.
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>

namespace vasg {

template <typename T>
struct View {
  T* data;
  size_t length;
};

inline void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

template <typename T>
View<T> TypedArg(const Napi::CallbackInfo& info, size_t i, const char* name);

#define VASG_TYPED_ARG(CType, NapiType, TypeName)                                     \
  template <>                                                                          \
  inline View<CType> TypedArg<CType>(const Napi::CallbackInfo& info, size_t i,         \
                                     const char* name) {                               \
    if (i >= info.Length() || !info[i].IsTypedArray() ||                               \
        info[i].As<Napi::TypedArray>().TypedArrayType() != NapiType) {                 \
      ThrowType(info.Env(), std::string(name) + " must be a " TypeName);               \
    }                                                                                  \
    auto a = info[i].As<Napi::TypedArrayOf<CType>>();                                  \
    return View<CType>{a.Data(), a.ElementLength()};                                   \
  }

VASG_TYPED_ARG(float, napi_float32_array, "Float32Array")
VASG_TYPED_ARG(double, napi_float64_array, "Float64Array")
VASG_TYPED_ARG(int32_t, napi_int32_array, "Int32Array")
VASG_TYPED_ARG(uint32_t, napi_uint32_array, "Uint32Array")
VASG_TYPED_ARG(uint16_t, napi_uint16_array, "Uint16Array")
VASG_TYPED_ARG(uint8_t, napi_uint8_array, "Uint8Array")

inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}

inline double NumArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) ThrowType(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

inline void CheckLength(Napi::Env env, size_t have, size_t need, const char* name) {
  if (have < need) {
    throw Napi::RangeError::New(env, std::string(name) + " has " + std::to_string(have) +
                                         " elements, needs at least " + std::to_string(need));
  }
}

}  // namespace vasg
