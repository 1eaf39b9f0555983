// Fused optimizer steps on f32 parameters (the master weights), one pass per parameter tensor:
// PyTorch's torch.optim.SGD (momentum, dampening, Nesterov, L2 weight decay) and Adam / AdamW.
#include "common.cuh"

// d = g + wd * p; with momentum: buf = first ? d : momentum * buf + keep * d and
// d = nesterov ? d + momentum * buf : buf; then p -= lr * d. `buf` is unused without momentum.
extern "C" __global__ void sgd_step_f32(float* p, const float* g, float* buf, uint64_t n, float lr, float momentum,
                                        float keep, float wd, int first, int nesterov) {
  GRID_STRIDE(i, n) {
    const float pv = p[i];
    float d = g[i] + wd * pv;
    if (momentum != 0.f) {
      const float b = first ? d : momentum * buf[i] + keep * d;
      buf[i] = b;
      d = nesterov ? d + momentum * b : b;
    }
    p[i] = pv - lr * d;
  }
}

// Adam (L2 decay in the gradient) or AdamW (decoupled: p *= 1 - lr * wd); bc1 = 1 - beta1^t,
// bc2_sqrt = sqrt(1 - beta2^t); p -= lr / bc1 * m / (sqrt(v) / bc2_sqrt + eps).
extern "C" __global__ void adam_step_f32(float* p, const float* g, float* m, float* v, uint64_t n, float lr,
                                         float beta1, float beta2, float eps, float wd, int decoupled, float bc1,
                                         float bc2_sqrt) {
  GRID_STRIDE(i, n) {
    float pv = p[i];
    float gv = g[i];
    if (wd != 0.f) {
      if (decoupled) pv = pv * (1.f - lr * wd);
      else gv = gv + wd * pv;
    }
    const float mv = beta1 * m[i] + (1.f - beta1) * gv;
    const float vv = beta2 * v[i] + (1.f - beta2) * gv * gv;
    m[i] = mv;
    v[i] = vv;
    p[i] = pv - (lr / bc1) * (mv / (sqrtf(vv) / bc2_sqrt + eps));
  }
}
