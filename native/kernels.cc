// Dendritic's native training kernels: a Node-API (C API) addon with the same contracts as the pure-JS
// kernels in src/engine/kernels.ts, which stay the reference and the fallback.
//
// - Matrix products use AVX-512 or AVX2+FMA register tiles when the CPU has them (checked at load time;
//   both give the same bits), else plain loops; the build targets the baseline x86-64 ISA so the binary
//   runs on any CPU (no -march=native).
// - Everything runs on the calling thread, in a fixed order: the same inputs give the same bits.
// - Built with -ffp-contract=off, so the elementwise kernels (ReLU, pooling, dropout, col2im, Adam) round
//   exactly as the JS ones and give identical results; only the matrix products (explicit FMA, float
//   accumulators) differ from JS in the last bits.
#include <node_api.h>

#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DENDRITIC_X86 1
#endif

namespace {

// Bumped whenever an exported signature changes: the JS loader ignores an addon of another ABI.
constexpr int32_t kAbi = 2;

enum Init { kZero, kLoad, kBias };

// ---------------------------------------------------------------------------------------------------
// Matrix products. The general form: C[i, j] (init) + sum_k A(i, k) B[k * ldb + j], where
// A(i, k) = A[i * ars + k * acs] covers both A (ars = K, acs = 1) and A^T (ars = 1, acs = M).

void gemm_generic(int M, int N, int K, const float* A, long ars, long acs, const float* B, long ldb,
                  float* C, long ldc, Init init, const float* bias) {
  for (int i = 0; i < M; i++) {
    float* c = C + i * ldc;
    if (init == kZero) std::memset(c, 0, sizeof(float) * N);
    if (init == kBias) std::memcpy(c, bias, sizeof(float) * N);
    for (int k = 0; k < K; k++) {
      const float a = A[i * ars + k * acs];
      const float* b = B + k * ldb;
      for (int j = 0; j < N; j++) c[j] += a * b[j];
    }
  }
}

#ifdef DENDRITIC_X86
#define AVX2 __attribute__((target("avx2,fma")))

// One MR x (8 * NV) tile of C over K; with MASK the last 8-lane vector is partial (lanes in `mask`).
template <int MR, int NV, bool MASK>
AVX2 inline void tile_avx2(int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
                           long ldc, Init init, const float* bias, __m256i mask) {
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      const bool part = MASK && v == NV - 1;
      if (init == kZero) {
        acc[r][v] = _mm256_setzero_ps();
      } else {
        const float* src = init == kLoad ? C + r * ldc + 8 * v : bias + 8 * v;
        acc[r][v] = part ? _mm256_maskload_ps(src, mask) : _mm256_loadu_ps(src);
      }
    }
  }
  for (int k = 0; k < K; k++) {
    const float* b = B + k * ldb;
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      bv[v] = (MASK && v == NV - 1) ? _mm256_maskload_ps(b + 8 * v, mask) : _mm256_loadu_ps(b + 8 * v);
    }
    const float* a = A + k * acs;
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m256 ar = _mm256_broadcast_ss(a + r * ars);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      float* dst = C + r * ldc + 8 * v;
      if (MASK && v == NV - 1) _mm256_maskstore_ps(dst, mask, acc[r][v]);
      else _mm256_storeu_ps(dst, acc[r][v]);
    }
  }
}

// All rows of one column panel: full MRMAX-row tiles, then one tile for the remaining rows.
template <int NV, bool MASK>
AVX2 void panel_avx2(int M, int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
                     long ldc, Init init, const float* bias, __m256i mask) {
  constexpr int MRMAX = NV == 1 ? 8 : 6;
  int i = 0;
  for (; i + MRMAX <= M; i += MRMAX) {
    tile_avx2<MRMAX, NV, MASK>(K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, init, bias, mask);
  }
  const float* a = A + i * ars;
  float* c = C + i * ldc;
  switch (M - i) {
    case 1: tile_avx2<1, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    case 2: tile_avx2<2, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    case 3: tile_avx2<3, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    case 4: tile_avx2<4, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    case 5: tile_avx2<5, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    case 6: if constexpr (MRMAX > 6) tile_avx2<6, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    case 7: if constexpr (MRMAX > 7) tile_avx2<7, NV, MASK>(K, a, ars, acs, B, ldb, c, ldc, init, bias, mask); break;
    default: break;
  }
}

// K is cut into chunks so that a chunk of A and B stays in L1 while every tile of C passes over it.
constexpr int kChunk = 256;

AVX2 void gemm_avx2(int M, int N, int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
                    long ldc, Init init, const float* bias) {
  if (K == 0) {
    gemm_generic(M, N, 0, A, ars, acs, B, ldb, C, ldc, init, bias);
    return;
  }
  const __m256i full = _mm256_set1_epi32(-1);
  for (int k0 = 0; k0 < K; k0 += kChunk) {
    const int kc = K - k0 < kChunk ? K - k0 : kChunk;
    const Init in = k0 == 0 ? init : kLoad;
    const float* a = A + k0 * acs;
    const float* b = B + k0 * ldb;
    int j = 0;
    for (; j + 16 <= N; j += 16) panel_avx2<2, false>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, full);
    for (; j + 8 <= N; j += 8) panel_avx2<1, false>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, full);
    if (j < N) {
      alignas(32) int32_t lanes[8];
      for (int t = 0; t < 8; t++) lanes[t] = t < N - j ? -1 : 0;
      const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
      panel_avx2<1, true>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, mask);
    }
  }
}

// The same tiles with 16-lane AVX-512 vectors and mask registers. Every element of C still sees the
// same fused multiply-adds in the same order (k ascending within the same chunks), so the results are
// bit-identical to the AVX2 path: only the width of the work per instruction changes.
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

template <int MR, int NV, bool MASK>
AVX512 inline void tile_avx512(int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
                               long ldc, Init init, const float* bias, __mmask16 mask) {
  __m512 acc[MR][NV];
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      const bool part = MASK && v == NV - 1;
      if (init == kZero) {
        acc[r][v] = _mm512_setzero_ps();
      } else {
        const float* src = init == kLoad ? C + r * ldc + 16 * v : bias + 16 * v;
        acc[r][v] = part ? _mm512_maskz_loadu_ps(mask, src) : _mm512_loadu_ps(src);
      }
    }
  }
  for (int k = 0; k < K; k++) {
    const float* b = B + k * ldb;
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      bv[v] = (MASK && v == NV - 1) ? _mm512_maskz_loadu_ps(mask, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
    }
    const float* a = A + k * acs;
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
      const __m512 ar = _mm512_set1_ps(a[r * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      float* dst = C + r * ldc + 16 * v;
      if (MASK && v == NV - 1) _mm512_mask_storeu_ps(dst, mask, acc[r][v]);
      else _mm512_storeu_ps(dst, acc[r][v]);
    }
  }
}

template <int MR, int NV, bool MASK>
AVX512 void rows_avx512(int M, int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
                        long ldc, Init init, const float* bias, __mmask16 mask) {
  int i = 0;
  for (; i + MR <= M; i += MR) {
    tile_avx512<MR, NV, MASK>(K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, init, bias, mask);
  }
  if constexpr (MR > 1) {
    if (i < M) {
      // Remainder rows: halve the tile height until it fits (at most log2(MR) more tiles).
      rows_avx512<MR / 2, NV, MASK>(M - i, K, A + i * ars, ars, acs, B, ldb, C + i * ldc, ldc, init, bias, mask);
    }
  }
}

AVX512 void gemm_avx512(int M, int N, int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
                        long ldc, Init init, const float* bias) {
  if (K == 0) {
    gemm_generic(M, N, 0, A, ars, acs, B, ldb, C, ldc, init, bias);
    return;
  }
  for (int k0 = 0; k0 < K; k0 += kChunk) {
    const int kc = K - k0 < kChunk ? K - k0 : kChunk;
    const Init in = k0 == 0 ? init : kLoad;
    const float* a = A + k0 * acs;
    const float* b = B + k0 * ldb;
    int j = 0;
    for (; j + 32 <= N; j += 32) rows_avx512<8, 2, false>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, 0xffff);
    for (; j + 16 <= N; j += 16) rows_avx512<8, 1, false>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, 0xffff);
    if (N - j > 8) {
      const __mmask16 mask = static_cast<__mmask16>((1u << (N - j)) - 1);
      rows_avx512<8, 1, true>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, mask);
    } else if (N - j == 8) {
      // Eight columns fill an AVX2 vector exactly (same arithmetic, so the same bits).
      panel_avx2<1, false>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, _mm256_set1_epi32(-1));
    } else if (j < N) {
      alignas(32) int32_t lanes[8];
      for (int t = 0; t < 8; t++) lanes[t] = t < N - j ? -1 : 0;
      const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
      panel_avx2<1, true>(M, kc, a, ars, acs, b + j, ldb, C + j, ldc, in, bias + j, mask);
    }
  }
}
#endif

bool g_avx2 = false;
bool g_avx512 = false;

void gemm_any(int M, int N, int K, const float* A, long ars, long acs, const float* B, long ldb, float* C,
              long ldc, Init init, const float* bias) {
  if (M <= 0 || N <= 0) return;
  if (init != kBias) bias = C;  // never read; keeps the tile code free of null pointers
#ifdef DENDRITIC_X86
  if (g_avx512) {
    gemm_avx512(M, N, K, A, ars, acs, B, ldb, C, ldc, init, bias);
    return;
  }
  if (g_avx2) {
    gemm_avx2(M, N, K, A, ars, acs, B, ldb, C, ldc, init, bias);
    return;
  }
#endif
  gemm_generic(M, N, K, A, ars, acs, B, ldb, C, ldc, init, bias);
}

// ---------------------------------------------------------------------------------------------------
// Node-API plumbing: positional arguments, with every array's length checked against what the kernel
// touches, so a wrong size from JS throws instead of corrupting memory.

struct Args {
  napi_env env;
  napi_value argv[16];
  size_t argc = 16;
  bool failed = false;

  Args(napi_env e, napi_callback_info info, size_t need) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    if (argc < need) fail("too few arguments");
  }

  void fail(const char* msg) {
    if (!failed) napi_throw_error(env, "DENDRITIC_KERNELS", msg);
    failed = true;
  }

  template <typename T>
  T* array(size_t i, napi_typedarray_type want, size_t minLen, const char* what) {
    if (failed) return nullptr;
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, argv[i], &type, &len, &data, &ab, &off) != napi_ok || type != want) {
      fail(what);
      return nullptr;
    }
    if (len < minLen) {
      fail(what);
      return nullptr;
    }
    return static_cast<T*>(data);
  }

  float* f32(size_t i, size_t minLen, const char* what) { return array<float>(i, napi_float32_array, minLen, what); }
  int32_t* i32a(size_t i, size_t minLen, const char* what) { return array<int32_t>(i, napi_int32_array, minLen, what); }
  uint32_t* u32a(size_t i, size_t minLen, const char* what) { return array<uint32_t>(i, napi_uint32_array, minLen, what); }

  size_t length(size_t i) {
    if (failed) return 0;
    napi_typedarray_type type;
    size_t len = 0;
    void* data;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, argv[i], &type, &len, &data, &ab, &off) != napi_ok) fail("expected a typed array");
    return len;
  }

  int32_t i32(size_t i) {
    int32_t v = 0;
    if (!failed && napi_get_value_int32(env, argv[i], &v) != napi_ok) fail("expected an integer");
    return v;
  }

  double f64(size_t i) {
    double v = 0;
    if (!failed && napi_get_value_double(env, argv[i], &v) != napi_ok) fail("expected a number");
    return v;
  }

  bool boolean(size_t i) {
    bool v = false;
    if (!failed && napi_get_value_bool(env, argv[i], &v) != napi_ok) fail("expected a boolean");
    return v;
  }

  bool isUndefined(size_t i) {
    napi_valuetype t;
    napi_typeof(env, argv[i], &t);
    return t == napi_undefined || t == napi_null;
  }

  bool nonNegative(std::initializer_list<int32_t> vs) {
    for (int32_t v : vs) {
      if (v < 0) {
        fail("negative size");
        return false;
      }
    }
    return !failed;
  }
};

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

size_t sz(long a, long b) { return static_cast<size_t>(a) * static_cast<size_t>(b); }

// gemm(M, N, K, A[M,K], B[K,N], C[M,N], accumulate, bias?[N]): C = (accumulate ? C : bias or 0) + A.B
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  const int M = a.i32(0), N = a.i32(1), K = a.i32(2);
  if (!a.nonNegative({M, N, K})) return nullptr;
  const float* A = a.f32(3, sz(M, K), "gemm: A too short");
  const float* B = a.f32(4, sz(K, N), "gemm: B too short");
  float* C = a.f32(5, sz(M, N), "gemm: C too short");
  const bool acc = a.boolean(6);
  const float* bias = nullptr;
  if (!acc && a.argc > 7 && !a.isUndefined(7)) bias = a.f32(7, N, "gemm: bias too short");
  if (a.failed) return nullptr;
  gemm_any(M, N, K, A, K, 1, B, N, C, N, acc ? kLoad : bias ? kBias : kZero, bias);
  return undefined(env);
}

// gemmTN(M, N, K, A[K,M], B[K,N], C[M,N], accumulate): C (+)= A^T.B
napi_value GemmTN(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  const int M = a.i32(0), N = a.i32(1), K = a.i32(2);
  if (!a.nonNegative({M, N, K})) return nullptr;
  const float* A = a.f32(3, sz(K, M), "gemmTN: A too short");
  const float* B = a.f32(4, sz(K, N), "gemmTN: B too short");
  float* C = a.f32(5, sz(M, N), "gemmTN: C too short");
  const bool acc = a.boolean(6);
  if (a.failed) return nullptr;
  gemm_any(M, N, K, A, 1, M, B, N, C, N, acc ? kLoad : kZero, nullptr);
  return undefined(env);
}

// gemmNT(M, N, K, A[M,K], B[N,K], C[M,N], accumulate): C (+)= A.B^T (B, the weights, is transposed once).
napi_value GemmNT(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  const int M = a.i32(0), N = a.i32(1), K = a.i32(2);
  if (!a.nonNegative({M, N, K})) return nullptr;
  const float* A = a.f32(3, sz(M, K), "gemmNT: A too short");
  const float* B = a.f32(4, sz(N, K), "gemmNT: B too short");
  float* C = a.f32(5, sz(M, N), "gemmNT: C too short");
  const bool acc = a.boolean(6);
  if (a.failed) return nullptr;
  thread_local std::vector<float> bt;  // per thread: the addon may be loaded by worker threads too
  if (bt.size() < sz(N, K)) bt.resize(sz(N, K));
  float* t = bt.data();  // once: every access to a thread_local in a shared object costs a TLS lookup
  for (int n = 0; n < N; n++) {
    const float* row = B + sz(n, K);
    for (int k = 0; k < K; k++) t[sz(k, N) + n] = row[k];
  }
  gemm_any(M, N, K, A, K, 1, t, N, C, N, acc ? kLoad : kZero, nullptr);
  return undefined(env);
}

// addColumnSums(rows, N, M[rows,N], out[N]): out[j] += sum_r M[r, j]
napi_value AddColumnSums(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  const int rows = a.i32(0), N = a.i32(1);
  if (!a.nonNegative({rows, N})) return nullptr;
  const float* m = a.f32(2, sz(rows, N), "addColumnSums: matrix too short");
  float* out = a.f32(3, N, "addColumnSums: out too short");
  if (a.failed) return nullptr;
  for (int r = 0; r < rows; r++) {
    const float* row = m + sz(r, N);
    for (int j = 0; j < N; j++) out[j] += row[j];
  }
  return undefined(env);
}

// Window geometry shared by im2col/col2im and max pooling (positional: n h w c ho wo padTop padLeft kh kw sh sw).
struct Geom {
  int n, h, w, c, ho, wo, padTop, padLeft, kh, kw, sh, sw;
};

bool readGeom(Args& a, size_t first, Geom& g) {
  int* f = &g.n;
  for (int t = 0; t < 12; t++) f[t] = a.i32(first + t);
  if (a.failed) return false;
  if (g.n < 0 || g.h < 1 || g.w < 1 || g.c < 1 || g.ho < 0 || g.wo < 0 || g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1) {
    a.fail("bad window geometry");
    return false;
  }
  return true;
}

// im2col(x, cols, geometry...): cols[(n, oh, ow), (kh, kw, c)] = x[n, oh*sh - padTop + kh, ow*sw - padLeft + kw, c],
// zero where the window leaves the input.
napi_value Im2col(napi_env env, napi_callback_info info) {
  Args a(env, info, 14);
  Geom g;
  if (!readGeom(a, 2, g)) return nullptr;
  const size_t depth = sz(g.kh * g.kw, g.c);
  const float* x = a.f32(0, sz(g.n, sz(g.h * g.w, g.c)), "im2col: x too short");
  float* cols = a.f32(1, sz(sz(g.n, g.ho * g.wo), depth), "im2col: cols too short");
  if (a.failed) return nullptr;
  const size_t run = sizeof(float) * g.c;
  float* dst = cols;
  for (int b = 0; b < g.n; b++) {
    const float* xb = x + sz(b, sz(g.h * g.w, g.c));
    for (int oh = 0; oh < g.ho; oh++) {
      const int ih0 = oh * g.sh - g.padTop;
      for (int ow = 0; ow < g.wo; ow++, dst += depth) {
        const int iw0 = ow * g.sw - g.padLeft;
        const int lo = iw0 < 0 ? -iw0 : 0;
        const int hi = g.kw < g.w - iw0 ? g.kw : g.w - iw0;
        for (int i = 0; i < g.kh; i++) {
          float* d = dst + sz(i * g.kw, g.c);
          const int ih = ih0 + i;
          if (ih < 0 || ih >= g.h || hi <= lo) {
            std::memset(d, 0, run * g.kw);
            continue;
          }
          if (lo > 0) std::memset(d, 0, run * lo);
          std::memcpy(d + sz(lo, g.c), xb + sz(ih * g.w + iw0 + lo, g.c), run * (hi - lo));
          if (hi < g.kw) std::memset(d + sz(hi, g.c), 0, run * (g.kw - hi));
        }
      }
    }
  }
  return undefined(env);
}

// col2im(dcols, dx, geometry...): dx = 0, then dx[...] += dcols[...] over im2col's index map (same order as JS).
napi_value Col2im(napi_env env, napi_callback_info info) {
  Args a(env, info, 14);
  Geom g;
  if (!readGeom(a, 2, g)) return nullptr;
  const size_t depth = sz(g.kh * g.kw, g.c);
  const size_t xlen = sz(g.n, sz(g.h * g.w, g.c));
  const float* dcols = a.f32(0, sz(sz(g.n, g.ho * g.wo), depth), "col2im: dcols too short");
  float* dx = a.f32(1, xlen, "col2im: dx too short");
  if (a.failed) return nullptr;
  std::memset(dx, 0, sizeof(float) * xlen);
  const float* src = dcols;
  for (int b = 0; b < g.n; b++) {
    float* xb = dx + sz(b, sz(g.h * g.w, g.c));
    for (int oh = 0; oh < g.ho; oh++) {
      const int ih0 = oh * g.sh - g.padTop;
      for (int ow = 0; ow < g.wo; ow++, src += depth) {
        const int iw0 = ow * g.sw - g.padLeft;
        const int lo = iw0 < 0 ? -iw0 : 0;
        const int hi = g.kw < g.w - iw0 ? g.kw : g.w - iw0;
        if (hi <= lo) continue;
        const int len = (hi - lo) * g.c;
        for (int i = 0; i < g.kh; i++) {
          const int ih = ih0 + i;
          if (ih < 0 || ih >= g.h) continue;
          float* d = xb + sz(ih * g.w + iw0 + lo, g.c);
          const float* s = src + sz(i * g.kw + lo, g.c);
          for (int t = 0; t < len; t++) d[t] += s[t];
        }
      }
    }
  }
  return undefined(env);
}

// y[ch], arg[ch] = x[ch], base + ch where x[ch] > y[ch] (strictly: the first max wins, NaN never does).
// Branch-free bit selects, so it vectorises and random data does not mispredict.
inline void maxInto(const float* x, float* y, int32_t* arg, int32_t base, int c) {
  const uint32_t* xb = reinterpret_cast<const uint32_t*>(x);
  uint32_t* yb = reinterpret_cast<uint32_t*>(y);
  for (int ch = 0; ch < c; ch++) {
    const uint32_t m = 0u - static_cast<uint32_t>(x[ch] > y[ch]);
    yb[ch] = (xb[ch] & m) | (yb[ch] & ~m);
    arg[ch] = static_cast<int32_t>((static_cast<uint32_t>(base + ch) & m) | (static_cast<uint32_t>(arg[ch]) & ~m));
  }
}

// maxPool(x, y, argmax, geometry...): y = window max (padded cells never win, first max wins ties),
// argmax = flat input index of each winner.
napi_value MaxPool(napi_env env, napi_callback_info info) {
  Args a(env, info, 15);
  Geom g;
  if (!readGeom(a, 3, g)) return nullptr;
  const size_t ylen = sz(sz(g.n, g.ho * g.wo), g.c);
  const float* x = a.f32(0, sz(g.n, sz(g.h * g.w, g.c)), "maxPool: x too short");
  float* y = a.f32(1, ylen, "maxPool: y too short");
  int32_t* arg = a.i32a(2, ylen, "maxPool: argmax too short");
  if (a.failed) return nullptr;
  const int c = g.c;
  size_t o = 0;
  for (int b = 0; b < g.n; b++) {
    const int xb = b * g.h * g.w * c;
    for (int oh = 0; oh < g.ho; oh++) {
      const int hs = oh * g.sh - g.padTop;
      const int h0 = hs > 0 ? hs : 0, h1 = hs + g.kh < g.h ? hs + g.kh : g.h;
      for (int ow = 0; ow < g.wo; ow++, o += c) {
        const int ws = ow * g.sw - g.padLeft;
        const int w0 = ws > 0 ? ws : 0, w1 = ws + g.kw < g.w ? ws + g.kw : g.w;
        const int first = xb + (h0 * g.w + w0) * c;
        float* yo = y + o;
        int32_t* ao = arg + o;
        for (int ch = 0; ch < c; ch++) {
          yo[ch] = x[first + ch];
          ao[ch] = first + ch;
        }
        for (int ih = h0; ih < h1; ih++) {
          for (int iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
            const int base = xb + (ih * g.w + iw) * c;
            maxInto(x + base, yo, ao, base, c);
          }
        }
      }
    }
  }
  return undefined(env);
}

// maxPoolBackward(dy, argmax, dx): dx = 0, then dx[argmax[i]] += dy[i].
napi_value MaxPoolBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, 3);
  const size_t n = a.length(0);
  const float* dy = a.f32(0, n, "maxPoolBackward: dy");
  const int32_t* arg = a.i32a(1, n, "maxPoolBackward: argmax too short");
  const size_t xlen = a.length(2);
  float* dx = a.f32(2, xlen, "maxPoolBackward: dx");
  if (a.failed) return nullptr;
  std::memset(dx, 0, sizeof(float) * xlen);
  for (size_t i = 0; i < n; i++) {
    const int32_t t = arg[i];
    if (t < 0 || static_cast<size_t>(t) >= xlen) {
      a.fail("maxPoolBackward: argmax out of range");
      return nullptr;
    }
    dx[t] += dy[i];
  }
  return undefined(env);
}

// relu(x, y): y = x > 0 ? x : 0 over y's length.
napi_value Relu(napi_env env, napi_callback_info info) {
  Args a(env, info, 2);
  const size_t n = a.length(1);
  const float* x = a.f32(0, n, "relu: x too short");
  float* y = a.f32(1, n, "relu: y");
  if (a.failed) return nullptr;
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
  return undefined(env);
}

// reluBackward(y, dy, dx): dx = y > 0 ? dy : 0 over dx's length.
napi_value ReluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, 3);
  const size_t n = a.length(2);
  const float* y = a.f32(0, n, "reluBackward: y too short");
  const float* dy = a.f32(1, n, "reluBackward: dy too short");
  float* dx = a.f32(2, n, "reluBackward: dx");
  if (a.failed) return nullptr;
  // Branch-free (the signs are random): dy's bits where y > 0, else +0.
  const uint32_t* dyb = reinterpret_cast<const uint32_t*>(dy);
  uint32_t* dxb = reinterpret_cast<uint32_t*>(dx);
  for (size_t i = 0; i < n; i++) dxb[i] = dyb[i] & (0u - static_cast<uint32_t>(y[i] > 0));
  return undefined(env);
}

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// dropout(x, y, mask, keep, scale, rngState[4]): per element u = next(), m = u < keep ? scale : 0,
// mask = m, y = x * m (in double, as JS), advancing the generator's state in place.
napi_value Dropout(napi_env env, napi_callback_info info) {
  Args a(env, info, 6);
  const size_t n = a.length(2);
  const float* x = a.f32(0, n, "dropout: x too short");
  float* y = a.f32(1, n, "dropout: y too short");
  float* mask = a.f32(2, n, "dropout: mask");
  const double keep = a.f64(3), scale = a.f64(4);
  uint32_t* s = a.u32a(5, 4, "dropout: rng state must be a Uint32Array(4)");
  if (a.failed) return nullptr;
  uint32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  const float fscale = static_cast<float>(scale);
  uint64_t scaleBits;
  uint32_t fscaleBits;
  std::memcpy(&scaleBits, &scale, sizeof scaleBits);
  std::memcpy(&fscaleBits, &fscale, sizeof fscaleBits);
  const double kb = std::ceil(keep * 4294967296.0);
  const uint64_t keepBelow = kb <= 0 ? 0 : kb >= 4294967296.0 ? 4294967296ull : static_cast<uint64_t>(kb);
  for (size_t i = 0; i < n; i++) {
    // xoshiro128** (Rng.nextU32), on locals so the state stays in registers.
    const uint32_t r = rotl(s1 * 5u, 7) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    // r / 2^32 < keep  <=>  r < keepBelow (r is an integer). Selects by bit masks: GCC turns the
    // obvious ternaries back into branches, which mispredict on random draws.
    const uint64_t kept = 0 - static_cast<uint64_t>(r < keepBelow);
    uint64_t mbits = scaleBits & kept;
    double m;
    std::memcpy(&m, &mbits, sizeof m);
    const uint32_t fbits = fscaleBits & static_cast<uint32_t>(kept);
    std::memcpy(mask + i, &fbits, sizeof fbits);
    y[i] = static_cast<float>(static_cast<double>(x[i]) * m);
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
  return undefined(env);
}

// mul(a, b, out): out = a * b elementwise over out's length (dropout backward).
napi_value Mul(napi_env env, napi_callback_info info) {
  Args a(env, info, 3);
  const size_t n = a.length(2);
  const float* x = a.f32(0, n, "mul: a too short");
  const float* m = a.f32(1, n, "mul: b too short");
  float* out = a.f32(2, n, "mul: out");
  if (a.failed) return nullptr;
  for (size_t i = 0; i < n; i++) out[i] = x[i] * m[i];
  return undefined(env);
}

// adam(w, g, m, v, b1, b2, stepSize, sqrtC2, eps): one Adam update in double arithmetic, as Adam.step.
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  const size_t n = a.length(0);
  float* w = a.f32(0, n, "adam: w");
  const float* g = a.f32(1, n, "adam: g too short");
  float* m = a.f32(2, n, "adam: m too short");
  float* v = a.f32(3, n, "adam: v too short");
  const double b1 = a.f64(4), b2 = a.f64(5), stepSize = a.f64(6), sqrtC2 = a.f64(7), eps = a.f64(8);
  if (a.failed) return nullptr;
  const double ob1 = 1 - b1, ob2 = 1 - b2;
  for (size_t i = 0; i < n; i++) {
    const double gi = g[i];
    const double mi = b1 * m[i] + ob1 * gi;
    const double vi = b2 * v[i] + ob2 * gi * gi;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    w[i] = static_cast<float>(w[i] - (stepSize * mi) / (std::sqrt(vi) / sqrtC2 + eps));
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------------
// Channel-broadcast helpers of the dendritic layer (src/dendrites/dendritic-layer.ts). Each arithmetic
// step is done in double and rounded to float once, exactly as the JS loops do, so results are identical
// (sigmoid and tanh go through the C library's exp/tanh instead of V8's: within an ulp, not bitwise).
// Compiled for AVX2 and the baseline, picked at load time by the ifunc that target_clones emits.
#ifdef DENDRITIC_X86
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

// acc[k] += src[k] * scale[k mod C]
CLONES void addScaledLoop(float* acc, const float* src, const float* scale, size_t n, int C) {
  for (size_t r = 0; r + C <= n; r += C) {
    for (int c = 0; c < C; c++) acc[r + c] = static_cast<float>(static_cast<double>(acc[r + c]) + static_cast<double>(src[r + c]) * scale[c]);
  }
}

// out[c] += a[k] * b[k] over positions, channel c = k mod C, positions in order.
CLONES void channelDotLoop(const float* a, const float* b, float* out, size_t n, int C) {
  for (size_t r = 0; r + C <= n; r += C) {
    for (int c = 0; c < C; c++) out[c] = static_cast<float>(static_cast<double>(out[c]) + static_cast<double>(a[r + c]) * b[r + c]);
  }
}

napi_value AddScaled(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  const size_t n = a.length(0);
  const int C = a.i32(3);
  if (!a.failed && (C < 1 || n % static_cast<size_t>(C) != 0)) a.fail("addScaled: length must be a multiple of C");
  float* acc = a.f32(0, n, "addScaled: acc");
  const float* src = a.f32(1, n, "addScaled: src too short");
  const float* scale = a.f32(2, C, "addScaled: scale too short");
  if (a.failed) return nullptr;
  addScaledLoop(acc, src, scale, n, C);
  return undefined(env);
}

napi_value ChannelDot(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  const size_t n = a.length(0);
  const int C = a.i32(3);
  if (!a.failed && (C < 1 || n % static_cast<size_t>(C) != 0)) a.fail("channelDot: length must be a multiple of C");
  const float* x = a.f32(0, n, "channelDot: a");
  const float* y = a.f32(1, n, "channelDot: b too short");
  float* out = a.f32(2, C, "channelDot: out too short");
  if (a.failed) return nullptr;
  channelDotLoop(x, y, out, n, C);
  return undefined(env);
}

enum Act { kSigmoid = 0, kTanh = 1, kRelu = 2 };

CLONES void reluInPlace(float* v, size_t n) {
  // v < 0 -> +0; -0 and NaN stay (as `if (v < 0) v = 0`).
  uint32_t* b = reinterpret_cast<uint32_t*>(v);
  for (size_t k = 0; k < n; k++) b[k] &= ~(0u - static_cast<uint32_t>(v[k] < 0));
}

void sigmoidScalar(float* v, size_t n) {
  for (size_t k = 0; k < n; k++) v[k] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v[k]))));
}

#ifdef DENDRITIC_X86
// 1 / (1 + exp(-v)) in double, four lanes: exp by n = round(x log2 e), x = n ln 2 + r, a degree-12
// Taylor polynomial in r (|r| <= ln2 / 2, relative error < 1e-15: far below float's rounding step), times 2^n.
// The argument is clamped to [-700, 700], where the sigmoid is already exactly 0 or 1 in float; NaN
// passes through the clamps (max/min return their second operand on NaN).
AVX2 void sigmoidAvx2(float* v, size_t n) {
  const __m256d lo = _mm256_set1_pd(-700.0), hi = _mm256_set1_pd(700.0);
  const __m256d log2e = _mm256_set1_pd(1.4426950408889634), ln2hi = _mm256_set1_pd(6.93145751953125e-1),
                ln2lo = _mm256_set1_pd(1.42860682030941723212e-6), one = _mm256_set1_pd(1.0);
  static const double inv[13] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
                                 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    __m256d x = _mm256_sub_pd(_mm256_setzero_pd(), _mm256_cvtps_pd(_mm_loadu_ps(v + k)));
    x = _mm256_min_pd(hi, _mm256_max_pd(lo, x));
    const __m256d nf = _mm256_round_pd(_mm256_mul_pd(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d r = _mm256_fnmadd_pd(nf, ln2lo, _mm256_fnmadd_pd(nf, ln2hi, x));
    __m256d p = _mm256_set1_pd(inv[12]);
    for (int t = 11; t >= 0; t--) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(inv[t]));
    // 2^n through the exponent bits (|n| <= 1010, a normal double).
    const __m128i ni = _mm256_cvtpd_epi32(nf);
    const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(ni), _mm256_set1_epi64x(1023)), 52);
    const __m256d e = _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
    _mm_storeu_ps(v + k, _mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_add_pd(one, e))));
  }
  sigmoidScalar(v + k, n - k);
}
#endif

void sigmoidInPlace(float* v, size_t n) {
#ifdef DENDRITIC_X86
  if (g_avx2) {
    sigmoidAvx2(v, n);
    return;
  }
#endif
  sigmoidScalar(v, n);
}

// activate(kind, v): v = f(v) in place; kind 0 sigmoid 1 / (1 + exp(-v)), 1 tanh, 2 relu.
napi_value Activate(napi_env env, napi_callback_info info) {
  Args a(env, info, 2);
  const int kind = a.i32(0);
  const size_t n = a.length(1);
  float* v = a.f32(1, n, "activate: v");
  if (a.failed) return nullptr;
  switch (kind) {
    case kSigmoid:
      sigmoidInPlace(v, n);
      break;
    case kTanh:
      for (size_t k = 0; k < n; k++) v[k] = static_cast<float>(std::tanh(static_cast<double>(v[k])));
      break;
    case kRelu:
      reluInPlace(v, n);
      break;
    default:
      a.fail("activate: unknown activation");
      return nullptr;
  }
  return undefined(env);
}

CLONES void sigmoidDerive(const float* d, float* g, size_t n) {
  for (size_t k = 0; k < n; k++) {
    const double dk = d[k];
    g[k] = static_cast<float>(g[k] * (dk * (1 - dk)));
  }
}

CLONES void tanhDerive(const float* d, float* g, size_t n) {
  for (size_t k = 0; k < n; k++) {
    const double dk = d[k];
    g[k] = static_cast<float>(g[k] * (1 - dk * dk));
  }
}

CLONES void reluDerive(const float* d, float* g, size_t n) {
  // g = 0 unless d > 0 (as `if (!(d > 0)) g = 0`).
  uint32_t* b = reinterpret_cast<uint32_t*>(g);
  for (size_t k = 0; k < n; k++) b[k] &= 0u - static_cast<uint32_t>(d[k] > 0);
}

// activationBackward(kind, d, g): g *= f'(pre) over g's length, written with d = f(pre).
napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, 3);
  const int kind = a.i32(0);
  const size_t n = a.length(2);
  const float* d = a.f32(1, n, "activationBackward: d too short");
  float* g = a.f32(2, n, "activationBackward: g");
  if (a.failed) return nullptr;
  switch (kind) {
    case kSigmoid: sigmoidDerive(d, g, n); break;
    case kTanh: tanhDerive(d, g, n); break;
    case kRelu: reluDerive(d, g, n); break;
    default:
      a.fail("activationBackward: unknown activation");
      return nullptr;
  }
  return undefined(env);
}

CLONES void addLoop(float* acc, const float* src, size_t n) {
  for (size_t k = 0; k < n; k++) acc[k] += src[k];
}

// addInto(acc, src): acc += src over acc's length.
napi_value AddInto(napi_env env, napi_callback_info info) {
  Args a(env, info, 2);
  const size_t n = a.length(0);
  float* acc = a.f32(0, n, "addInto: acc");
  const float* src = a.f32(1, n, "addInto: src too short");
  if (a.failed) return nullptr;
  addLoop(acc, src, n);
  return undefined(env);
}

napi_value Init(napi_env env, napi_value exports) {
#ifdef DENDRITIC_X86
  __builtin_cpu_init();
  g_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  g_avx512 = g_avx2 && __builtin_cpu_supports("avx512f");
#endif
  if (const char* isa = std::getenv("DENDRITIC_ISA")) {
    // Testing knob: DENDRITIC_ISA=avx2 or generic caps the instruction set used.
    if (std::strcmp(isa, "generic") == 0) g_avx2 = false;
    if (std::strcmp(isa, "generic") == 0 || std::strcmp(isa, "avx2") == 0) g_avx512 = false;
  }
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {
      {"gemm", Gemm},         {"gemmTN", GemmTN},   {"gemmNT", GemmNT},
      {"addColumnSums", AddColumnSums},             {"im2col", Im2col},
      {"col2im", Col2im},     {"maxPool", MaxPool}, {"maxPoolBackward", MaxPoolBackward},
      {"relu", Relu},         {"reluBackward", ReluBackward},
      {"dropout", Dropout},   {"mul", Mul},         {"adam", Adam},
      {"addScaled", AddScaled}, {"channelDot", ChannelDot}, {"activate", Activate},
      {"activationBackward", ActivationBackward},   {"addInto", AddInto},
  };
  for (const Fn& f : fns) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  napi_value abi, isa;
  napi_create_int32(env, kAbi, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  const char* name = g_avx512 ? "avx512" : g_avx2 ? "avx2" : "generic";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &isa);
  napi_set_named_property(env, exports, "isa", isa);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
