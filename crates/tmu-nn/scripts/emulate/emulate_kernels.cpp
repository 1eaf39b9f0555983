// Runs tmu-nn's CUDA kernels (src/ops/cuda/kernels/*.cu, unchanged) on CPU threads through the
// emulation in cuda_bf16.h, with the launch geometry the Rust side uses, and compares them with
// double-precision references written from the definitions. A development check for machines
// without a GPU; the GPU itself is checked by the cuda_parity tests. See emulate_kernels.sh.
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "batch_norm.cu"
#include "elementwise.cu"
#include "optim.cu"
#include "augment.cu"

static int failures = 0;

static void report(const std::string& what, double err, double tol) {
  const bool ok = err <= tol;
  std::printf("%-44s max error %.3e (tolerance %.1e) %s\n", what.c_str(), err, tol, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

static Dim3 grid_1d(uint64_t n) {
  uint64_t blocks = (n + THREADS - 1) / THREADS;
  if (blocks < 1) blocks = 1;
  if (blocks > 8192) blocks = 8192;
  return Dim3{(unsigned)blocks, 1, 1};
}

template <typename T> T store(float v);
template <> float store<float>(float v) { return v; }
template <> __nv_bfloat16 store<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <typename T>
static void bn_case(unsigned B, unsigned C, unsigned HW, bool relu, double tol, const char* tname, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  const uint64_t total = (uint64_t)B * C * HW, n = (uint64_t)B * HW;
  std::vector<T> x(total), dy(total), y(total), dx(total);
  std::vector<float> xf(total), dyf(total), gamma(C), beta(C);
  for (uint64_t i = 0; i < total; ++i) {
    x[i] = store<T>(3.f + 2.f * nd(rng));
    xf[i] = to_f(x[i]);
    dy[i] = store<T>(nd(rng));
    dyf[i] = to_f(dy[i]);
  }
  for (unsigned c = 0; c < C; ++c) {
    gamma[c] = 1.f + 0.5f * nd(rng);
    beta[c] = nd(rng);
  }
  // launch geometry of src/ops/cuda/batch_norm.rs
  uint64_t parts = (n + 4095) / 4096;
  parts = parts < 1 ? 1 : (parts > 256 ? 256 : parts);
  const uint32_t chunk = (uint32_t)((n + parts - 1) / parts);
  std::vector<double> part(C * parts * 2);
  std::vector<float> mean(C), invstd(C), varu(C), dgamma(C), dbeta(C), coef(2 * C);
  const double eps = 1e-5;
  launch(Dim3{(unsigned)parts, C, 1}, Dim3{THREADS, 1, 1}, [&] {
    stats_partial<T>(x.data(), part.data(), B, C, HW, chunk);
  });
  launch(Dim3{C, 1, 1}, Dim3{32, 1, 1}, [&] {
    stats_final<T>(x.data(), part.data(), mean.data(), invstd.data(), varu.data(), B, HW, (uint32_t)parts, eps);
  });
  launch(grid_1d(total), Dim3{THREADS, 1, 1}, [&] {
    apply<T>(x.data(), gamma.data(), beta.data(), mean.data(), invstd.data(), y.data(), total, C, HW, relu);
  });
  launch(Dim3{(unsigned)parts, C, 1}, Dim3{THREADS, 1, 1}, [&] {
    bwd_partial<T>(x.data(), y.data(), dy.data(), mean.data(), part.data(), B, C, HW, chunk, relu);
  });
  launch(Dim3{C, 1, 1}, Dim3{32, 1, 1}, [&] {
    bwd_final(part.data(), invstd.data(), dgamma.data(), dbeta.data(), coef.data(), (uint32_t)parts, (double)n);
  });
  launch(grid_1d(total), Dim3{THREADS, 1, 1}, [&] {
    bwd_apply<T>(x.data(), y.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), coef.data(), dx.data(), total,
                 C, HW, relu);
  });
  // double references, from the definitions
  double e_mean = 0, e_inv = 0, e_var = 0, e_y = 0, e_dx = 0, e_dg = 0, e_db = 0;
  double s_y = 1, s_dx = 1, s_dg = 1, s_db = 1;
  std::vector<double> ry(total), rdx(total);
  for (unsigned c = 0; c < C; ++c) {
    auto at = [&](uint64_t e) { return ((e / HW) * C + c) * HW + e % HW; };
    double m = 0;
    for (uint64_t e = 0; e < n; ++e) m += xf[at(e)];
    m /= n;
    double v = 0;
    for (uint64_t e = 0; e < n; ++e) v += (xf[at(e)] - m) * (xf[at(e)] - m);
    v /= n;
    const double is = 1.0 / std::sqrt(v + eps);
    e_mean = std::max(e_mean, std::fabs(mean[c] - m) / std::max(1.0, std::fabs(m)));
    e_inv = std::max(e_inv, std::fabs(invstd[c] - is) / is);
    e_var = std::max(e_var, std::fabs(varu[c] - v * n / (n - 1)) / (v * n / (n - 1)));
    double sd = 0, sdx = 0;
    std::vector<double> d(n);
    for (uint64_t e = 0; e < n; ++e) {
      const uint64_t i = at(e);
      double yv = (xf[i] - m) * is * gamma[c] + beta[c];
      if (relu && yv < 0) yv = 0;
      ry[i] = yv;
      d[e] = (relu && !(yv > 0)) ? 0.0 : dyf[i];
      sd += d[e];
      sdx += d[e] * (xf[i] - m) * is;
    }
    for (uint64_t e = 0; e < n; ++e) {
      const uint64_t i = at(e);
      const double xh = (xf[i] - m) * is;
      rdx[i] = gamma[c] * is * (d[e] - sd / n - xh * sdx / n);
    }
    s_dg = std::max(s_dg, std::fabs(sdx));
    s_db = std::max(s_db, std::fabs(sd));
    e_dg = std::max(e_dg, std::fabs(dgamma[c] - sdx));
    e_db = std::max(e_db, std::fabs(dbeta[c] - sd));
  }
  for (uint64_t i = 0; i < total; ++i) {
    s_y = std::max(s_y, std::fabs(ry[i]));
    s_dx = std::max(s_dx, std::fabs(rdx[i]));
  }
  for (uint64_t i = 0; i < total; ++i) {
    // an output exactly at the ReLU's kink may take either side after rounding
    if (relu && std::fabs(ry[i]) < 1e-3) continue;
    e_y = std::max(e_y, std::fabs(to_f(y[i]) - ry[i]));
    e_dx = std::max(e_dx, std::fabs(to_f(dx[i]) - rdx[i]));
  }
  char name[128];
  std::snprintf(name, sizeof name, "bn%s %s %ux%ux%u (%u parts)", relu ? "+relu" : "", tname, B, C, HW, (unsigned)parts);
  const double stat_tol = 1e-5;  // statistics are f32 results of double sums in every case
  report(std::string(name) + " mean", e_mean, stat_tol);
  report(std::string(name) + " invstd", e_inv, stat_tol);
  report(std::string(name) + " var_unbiased", e_var, stat_tol);
  report(std::string(name) + " y", e_y / s_y, tol);
  report(std::string(name) + " dgamma", e_dg / s_dg, 1e-5);
  report(std::string(name) + " dbeta", e_db / s_db, 1e-5);
  report(std::string(name) + " dx", e_dx / s_dx, tol);
}

template <typename T>
static void elementwise_case(const char* tname, void (*relu_fwd)(const T*, T*, uint64_t),
                             void (*add_fwd)(const T*, const T*, T*, uint64_t),
                             void (*bwd)(const T*, const T*, T*, uint64_t)) {
  const uint64_t n = 3001;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<T> a(n), b(n), y(n), z(n), d(n), g(n);
  for (uint64_t i = 0; i < n; ++i) {
    a[i] = store<T>(nd(rng));
    b[i] = store<T>(nd(rng));
    d[i] = store<T>(nd(rng));
  }
  launch(grid_1d(n), Dim3{THREADS, 1, 1}, [&] { relu_fwd(a.data(), y.data(), n); });
  launch(grid_1d(n), Dim3{THREADS, 1, 1}, [&] { add_fwd(a.data(), b.data(), z.data(), n); });
  launch(grid_1d(n), Dim3{THREADS, 1, 1}, [&] { bwd(z.data(), d.data(), g.data(), n); });
  double e = 0;
  for (uint64_t i = 0; i < n; ++i) {
    e = std::max(e, (double)std::fabs(to_f(y[i]) - std::max(to_f(a[i]), 0.f)));
    const float s = to_f(store<T>(std::max(to_f(a[i]) + to_f(b[i]), 0.f)));
    e = std::max(e, (double)std::fabs(to_f(z[i]) - s));
    e = std::max(e, (double)std::fabs(to_f(g[i]) - (to_f(z[i]) > 0 ? to_f(d[i]) : 0.f)));
  }
  report(std::string("relu, add_relu, relu_bwd ") + tname, e, 0.0);
}

static void optim_cases() {
  const uint64_t n = 1000;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.f, 1.f);
  struct Sgd {
    float lr, mom, damp, wd;
    int nesterov;
  };
  for (Sgd c : {Sgd{0.1f, 0.9f, 0.f, 5e-4f, 0}, Sgd{0.05f, 0.9f, 0.f, 1e-3f, 1}, Sgd{0.2f, 0.5f, 0.3f, 0.f, 0},
                Sgd{0.1f, 0.f, 0.f, 1e-2f, 0}}) {
    std::vector<float> p(n), buf(n), rp(n), rb(n);
    for (auto& v : p) v = nd(rng);
    rp = p;
    double e = 0;
    for (int step = 0; step < 3; ++step) {
      std::vector<float> g(n);
      for (auto& v : g) v = nd(rng);
      launch(grid_1d(n), Dim3{THREADS, 1, 1}, [&] {
        sgd_step_f32(p.data(), g.data(), buf.data(), n, c.lr, c.mom, 1.f - c.damp, c.wd, step == 0, c.nesterov);
      });
      for (uint64_t i = 0; i < n; ++i) {  // torch.optim.SGD.step
        double d = (double)g[i] + c.wd * (double)rp[i];
        if (c.mom != 0) {
          rb[i] = step == 0 ? d : c.mom * (double)rb[i] + (1.0 - c.damp) * d;
          d = c.nesterov ? d + c.mom * (double)rb[i] : rb[i];
        }
        rp[i] = rp[i] - c.lr * d;
      }
    }
    for (uint64_t i = 0; i < n; ++i) e = std::max(e, (double)std::fabs(p[i] - rp[i]));
    char name[96];
    std::snprintf(name, sizeof name, "sgd lr %.2f mom %.1f damp %.1f wd %.0e nest %d", c.lr, c.mom, c.damp, c.wd, c.nesterov);
    report(name, e, 1e-5);
  }
  for (int decoupled = 0; decoupled < 2; ++decoupled) {
    const float lr = 1e-2f, b1 = 0.9f, b2 = 0.99f, eps = 1e-8f, wd = 0.05f;
    std::vector<float> p(n), m(n, 0.f), v(n, 0.f);
    std::vector<double> rp(n), rm(n, 0.0), rv(n, 0.0);
    for (uint64_t i = 0; i < n; ++i) rp[i] = p[i] = nd(rng);
    for (int t = 1; t <= 4; ++t) {
      std::vector<float> g(n);
      for (auto& x : g) x = nd(rng);
      const float bc1 = 1.f - std::pow(b1, (float)t), bc2s = std::sqrt(1.f - std::pow(b2, (float)t));
      launch(grid_1d(n), Dim3{THREADS, 1, 1}, [&] {
        adam_step_f32(p.data(), g.data(), m.data(), v.data(), n, lr, b1, b2, eps, wd, decoupled, bc1, bc2s);
      });
      for (uint64_t i = 0; i < n; ++i) {  // torch.optim.Adam / AdamW step
        double gi = g[i];
        if (decoupled) rp[i] *= 1.0 - (double)lr * wd;
        else gi += (double)wd * rp[i];
        rm[i] = b1 * rm[i] + (1.0 - b1) * gi;
        rv[i] = b2 * rv[i] + (1.0 - b2) * gi * gi;
        const double c1 = 1.0 - std::pow((double)b1, t), c2 = 1.0 - std::pow((double)b2, t);
        rp[i] -= lr / c1 * rm[i] / (std::sqrt(rv[i]) / std::sqrt(c2) + eps);
      }
    }
    double e = 0;
    for (uint64_t i = 0; i < n; ++i) e = std::max(e, std::fabs(p[i] - rp[i]));
    report(decoupled ? "adamw 4 steps" : "adam 4 steps", e, 1e-5);
  }
}

static void running_case() {
  const unsigned C = 300;
  std::vector<float> rm(C), rv(C), m(C), v(C);
  std::vector<double> em(C), ev(C);
  for (unsigned c = 0; c < C; ++c) {
    rm[c] = 0.01f * c, rv[c] = 1.f + 0.02f * c, m[c] = -0.5f + 0.003f * c, v[c] = 2.f - 0.001f * c;
    em[c] = 0.9 * rm[c] + 0.1 * m[c];
    ev[c] = 0.9 * rv[c] + 0.1 * v[c];
  }
  launch(grid_1d(C), Dim3{THREADS, 1, 1}, [&] { bn_running_update(rm.data(), rv.data(), m.data(), v.data(), C, 0.1f); });
  double e = 0;
  for (unsigned c = 0; c < C; ++c) e = std::max({e, std::fabs(rm[c] - em[c]), std::fabs(rv[c] - ev[c])});
  report("bn_running_update", e, 2e-6);  // values below 8: two f32 roundings
}

static void augment_case() {
  const unsigned N = 7, C = 3, H = 5, W = 6, B = 6;
  std::vector<uint8_t> img(N * C * H * W), out(B * C * H * W);
  for (size_t i = 0; i < img.size(); ++i) img[i] = (uint8_t)(1 + (i * 37) % 250);
  const std::vector<uint32_t> index = {4, 0, 6, 4, 2, 1};
  const std::vector<int32_t> params = {0, 0, 0, 1, -2, 1, -4, 0, 0, 2, 3, 1, 0, -1, 1, -5, 6, 0};
  launch(grid_1d(out.size()), Dim3{THREADS, 1, 1}, [&] {
    crop_flip_u8(img.data(), index.data(), params.data(), out.data(), B, C, H, W);
  });
  double e = 0;
  for (unsigned b = 0; b < B; ++b)
    for (unsigned c = 0; c < C; ++c)
      for (unsigned y = 0; y < H; ++y)
        for (unsigned x = 0; x < W; ++x) {
          const int dy = params[3 * b], dx = params[3 * b + 1], flip = params[3 * b + 2];
          const int xc = flip ? (int)(W - 1 - x) : (int)x, sy = (int)y + dy, sx = xc + dx;
          const int want = (sy >= 0 && sy < (int)H && sx >= 0 && sx < (int)W) ? img[((index[b] * C + c) * H + sy) * W + sx] : 0;
          e = std::max(e, (double)std::abs(out[((b * C + c) * H + y) * W + x] - want));
        }
  report("crop_flip_u8", e, 0.0);
}

int main() {
  const unsigned shapes[][3] = {{8, 16, 64}, {16, 4, 1024}, {3, 2, 2250}, {64, 32, 1}, {2, 3, 35}};
  unsigned seed = 1;
  for (auto& s : shapes)
    for (bool relu : {false, true}) {
      bn_case<float>(s[0], s[1], s[2], relu, 1e-5, "f32", seed++);
      bn_case<__nv_bfloat16>(s[0], s[1], s[2], relu, 1e-2, "bf16", seed++);
    }
  elementwise_case<float>("f32", relu_fwd_f32, add_relu_fwd_f32, relu_bwd_f32);
  elementwise_case<__nv_bfloat16>("bf16", relu_fwd_bf16, add_relu_fwd_bf16, relu_bwd_bf16);
  optim_cases();
  running_case();
  augment_case();
  std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "all kernels match", failures);
  return failures ? 1 : 0;
}
