// ReLU, the residual join relu(a + b), and their shared backward (the gradient where y > 0).
#include "common.cuh"

#define ELEMENTWISE_KERNELS(T, S)                                                                   \
  extern "C" __global__ void relu_fwd_##S(const T* x, T* y, uint64_t n) {                         \
    GRID_STRIDE(i, n) { y[i] = from_f<T>(fmaxf(to_f(x[i]), 0.f)); }                                \
  }                                                                                                 \
  extern "C" __global__ void add_relu_fwd_##S(const T* a, const T* b, T* y, uint64_t n) {         \
    GRID_STRIDE(i, n) { y[i] = from_f<T>(fmaxf(to_f(a[i]) + to_f(b[i]), 0.f)); }                   \
  }                                                                                                 \
  extern "C" __global__ void relu_bwd_##S(const T* y, const T* dy, T* dx, uint64_t n) {           \
    GRID_STRIDE(i, n) { dx[i] = to_f(y[i]) > 0.f ? dy[i] : from_f<T>(0.f); }                       \
  }

ELEMENTWISE_KERNELS(float, f32)
ELEMENTWISE_KERNELS(__nv_bfloat16, bf16)
