// Training-mode batch normalisation over NCHW tensors (f32 or bf16 activations; gamma, beta and
// the statistics in f32, sums in double): statistics, the normalise(+ReLU) pass and the backward.
//
// x is [B, C, HW] with B * C * HW < 2^32 (checked by the caller), so that index arithmetic runs
// in 32 bits; channel c has N = B * HW values. The partial kernels run on a (P, C) grid:
// block (p, c) sums over values p * chunk .. min((p + 1) * chunk, N) of channel c, in float per
// thread (a few dozen values each) and in double across the block; the final kernels add the P
// partials of a channel in a fixed order. Forward sums are shifted by the channel's first value
// (x[0, c, 0]) so that a large mean does not cancel the variance.
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void stats_partial(const T* x, double* part, uint32_t B, uint32_t C, uint32_t HW,
                                              uint32_t chunk) {
  __shared__ double sh[THREADS / 32];
  const uint32_t p = blockIdx.x, c = blockIdx.y, P = gridDim.x;
  const uint64_t n = (uint64_t)B * HW;
  const uint64_t start = (uint64_t)p * chunk;
  const uint64_t end = min(start + (uint64_t)chunk, n);
  const float shift = to_f(x[(uint64_t)c * HW]);
  float s = 0.f, q = 0.f;
  for (uint64_t e = start + threadIdx.x; e < end; e += THREADS) {
    const uint32_t e32 = (uint32_t)e, b = e32 / HW, i = e32 - b * HW;
    const float d = to_f(x[(b * C + c) * HW + i]) - shift;
    s += d;
    q += d * d;
  }
  const double ds = block_sum((double)s, sh);
  const double dq = block_sum((double)q, sh);
  if (threadIdx.x == 0) {
    part[((uint64_t)c * P + p) * 2] = ds;
    part[((uint64_t)c * P + p) * 2 + 1] = dq;
  }
}

// One warp per channel (grid C, block 32): mean, 1 / sqrt(var + eps) and the unbiased variance.
template <typename T>
__device__ __forceinline__ void stats_final(const T* x, const double* part, float* mean, float* invstd,
                                            float* var_unbiased, uint32_t B, uint32_t HW, uint32_t P, double eps) {
  const uint32_t c = blockIdx.x, C = gridDim.x;
  double s = 0.0, q = 0.0;
  for (uint32_t p = threadIdx.x; p < P; p += 32) {
    s += part[((uint64_t)c * P + p) * 2];
    q += part[((uint64_t)c * P + p) * 2 + 1];
  }
  s = warp_sum(s);
  q = warp_sum(q);
  (void)C;
  if (threadIdx.x == 0) {
    const double n = (double)B * (double)HW;
    const double ms = s / n;
    double var = q / n - ms * ms;
    if (var < 0.0) var = 0.0;
    mean[c] = (float)((double)to_f(x[(uint64_t)c * HW]) + ms);
    invstd[c] = (float)(1.0 / sqrt(var + eps));
    var_unbiased[c] = (float)(var * n / (n - 1.0));
  }
}

template <typename T>
__device__ __forceinline__ void apply(const T* x, const float* gamma, const float* beta, const float* mean,
                                      const float* invstd, T* y, uint64_t total, uint32_t C, uint32_t HW, int relu) {
  GRID_STRIDE(i, total) {
    const uint32_t c = ((uint32_t)i / HW) % C;
    float v = (to_f(x[i]) - mean[c]) * (gamma[c] * invstd[c]) + beta[c];
    if (relu) v = fmaxf(v, 0.f);
    y[i] = from_f<T>(v);
  }
}

// The output gradient as batch norm sees it: masked by y > 0 when fused with a ReLU.
template <typename T>
__device__ __forceinline__ float grad_in(const T* y, const T* dy, uint64_t i, int relu) {
  const float d = to_f(dy[i]);
  return (relu && !(to_f(y[i]) > 0.f)) ? 0.f : d;
}

template <typename T>
__device__ __forceinline__ void bwd_partial(const T* x, const T* y, const T* dy, const float* mean, double* part,
                                            uint32_t B, uint32_t C, uint32_t HW, uint32_t chunk, int relu) {
  __shared__ double sh[THREADS / 32];
  const uint32_t p = blockIdx.x, c = blockIdx.y, P = gridDim.x;
  const uint64_t n = (uint64_t)B * HW;
  const uint64_t start = (uint64_t)p * chunk;
  const uint64_t end = min(start + (uint64_t)chunk, n);
  const float m = mean[c];
  float s = 0.f, q = 0.f;
  for (uint64_t e = start + threadIdx.x; e < end; e += THREADS) {
    const uint32_t e32 = (uint32_t)e, b = e32 / HW, i = e32 - b * HW;
    const uint32_t at = (b * C + c) * HW + i;
    const float d = grad_in(y, dy, at, relu);
    s += d;
    q += d * (to_f(x[at]) - m);
  }
  const double ds = block_sum((double)s, sh);
  const double dq = block_sum((double)q, sh);
  if (threadIdx.x == 0) {
    part[((uint64_t)c * P + p) * 2] = ds;
    part[((uint64_t)c * P + p) * 2 + 1] = dq;
  }
}

// One warp per channel: dgamma = invstd * sum(d * xc), dbeta = sum(d), and the two coefficients
// of dx: coef = (sum(d) / N, invstd^2 * sum(d * xc) / N).
__device__ __forceinline__ void bwd_final(const double* part, const float* invstd, float* dgamma, float* dbeta,
                                          float* coef, uint32_t P, double n) {
  const uint32_t c = blockIdx.x;
  double s = 0.0, q = 0.0;
  for (uint32_t p = threadIdx.x; p < P; p += 32) {
    s += part[((uint64_t)c * P + p) * 2];
    q += part[((uint64_t)c * P + p) * 2 + 1];
  }
  s = warp_sum(s);
  q = warp_sum(q);
  if (threadIdx.x == 0) {
    const double is = invstd[c];
    dgamma[c] = (float)(q * is);
    dbeta[c] = (float)s;
    coef[2 * c] = (float)(s / n);
    coef[2 * c + 1] = (float)(is * is * q / n);
  }
}

// dx = gamma * invstd * (d - sum(d) / N - xc * invstd^2 * sum(d * xc) / N)
template <typename T>
__device__ __forceinline__ void bwd_apply(const T* x, const T* y, const T* dy, const float* gamma,
                                          const float* mean, const float* invstd, const float* coef, T* dx,
                                          uint64_t total, uint32_t C, uint32_t HW, int relu) {
  GRID_STRIDE(i, total) {
    const uint32_t c = ((uint32_t)i / HW) % C;
    const float d = grad_in(y, dy, i, relu);
    const float v = gamma[c] * invstd[c] * (d - coef[2 * c] - (to_f(x[i]) - mean[c]) * coef[2 * c + 1]);
    dx[i] = from_f<T>(v);
  }
}

#define BN_KERNELS(T, S)                                                                                          \
  extern "C" __global__ void __launch_bounds__(THREADS)                                                         \
      bn_stats_partial_##S(const T* x, double* part, uint32_t B, uint32_t C, uint32_t HW, uint32_t chunk) {      \
    stats_partial<T>(x, part, B, C, HW, chunk);                                                                   \
  }                                                                                                               \
  extern "C" __global__ void bn_stats_final_##S(const T* x, const double* part, float* mean, float* invstd,      \
                                                float* var_unbiased, uint32_t B, uint32_t HW, uint32_t P,         \
                                                double eps) {                                                     \
    stats_final<T>(x, part, mean, invstd, var_unbiased, B, HW, P, eps);                                           \
  }                                                                                                               \
  extern "C" __global__ void bn_apply_##S(const T* x, const float* gamma, const float* beta, const float* mean,  \
                                          const float* invstd, T* y, uint64_t total, uint32_t C, uint32_t HW,     \
                                          int relu) {                                                             \
    apply<T>(x, gamma, beta, mean, invstd, y, total, C, HW, relu);                                                \
  }                                                                                                               \
  extern "C" __global__ void __launch_bounds__(THREADS)                                                         \
      bn_bwd_partial_##S(const T* x, const T* y, const T* dy, const float* mean, double* part, uint32_t B,       \
                         uint32_t C, uint32_t HW, uint32_t chunk, int relu) {                                     \
    bwd_partial<T>(x, y, dy, mean, part, B, C, HW, chunk, relu);                                                  \
  }                                                                                                               \
  extern "C" __global__ void bn_bwd_apply_##S(const T* x, const T* y, const T* dy, const float* gamma,          \
                                              const float* mean, const float* invstd, const float* coef, T* dx,   \
                                              uint64_t total, uint32_t C, uint32_t HW, int relu) {                \
    bwd_apply<T>(x, y, dy, gamma, mean, invstd, coef, dx, total, C, HW, relu);                                    \
  }

BN_KERNELS(float, f32)
BN_KERNELS(__nv_bfloat16, bf16)

extern "C" __global__ void bn_bwd_final(const double* part, const float* invstd, float* dgamma, float* dbeta,
                                        float* coef, uint32_t P, double n) {
  bwd_final(part, invstd, dgamma, dbeta, coef, P, n);
}

// PyTorch's running-statistics update in place, both vectors in one launch:
// running = (1 - momentum) * running + momentum * batch (batch variance unbiased).
extern "C" __global__ void bn_running_update(float* running_mean, float* running_var, const float* mean,
                                             const float* var_unbiased, uint32_t C, float momentum) {
  GRID_STRIDE(c, C) {
    running_mean[c] = (1.f - momentum) * running_mean[c] + momentum * mean[c];
    running_var[c] = (1.f - momentum) * running_var[c] + momentum * var_unbiased[c];
  }
}
