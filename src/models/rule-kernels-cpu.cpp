#include "rule-kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace glassbox::models::rule_kernels {
namespace {

// Piecewise-linear activations: value and derivative.
struct Piecewise {
  rule_ops::Activation kind;
  float a, b;
  float value(float v) const {
    switch (kind) {
      case rule_ops::Activation::relu: return v > 0 ? v : 0.0f;
      case rule_ops::Activation::hardtanh: return v < a ? a : (v > b ? b : v);
      case rule_ops::Activation::leaky_relu: return v > 0 ? v : a * v;
      default: return v;
    }
  }
  float slope(float v) const {
    switch (kind) {
      case rule_ops::Activation::relu: return v > 0 ? 1.0f : 0.0f;
      case rule_ops::Activation::hardtanh: return v > a && v < b ? 1.0f : 0.0f;
      case rule_ops::Activation::leaky_relu: return v > 0 ? 1.0f : a;
      default: return 1.0f;
    }
  }
};

constexpr int64_t kGrain = 1 << 14;  // elements per task: below it a thread costs more than it saves

}  // namespace

bool applies(const at::Tensor& x) { return x.device().is_cpu() && x.scalar_type() == at::kFloat; }

at::Tensor guided_relu_backward(const at::Tensor& x, const at::Tensor& g) {
  const at::Tensor xc = x.contiguous(), gc = g.contiguous();
  at::Tensor out = at::empty_like(gc, at::MemoryFormat::Contiguous);
  const float* xp = xc.data_ptr<float>();
  const float* gp = gc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, xc.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) op[i] = gp[i] > 0 && xp[i] > 0 ? gp[i] : 0.0f;
  });
  return out;
}

bool has_rescale_kernel(rule_ops::Activation kind) {
  return kind == rule_ops::Activation::relu || kind == rule_ops::Activation::hardtanh || kind == rule_ops::Activation::leaky_relu;
}

at::Tensor rescale_backward(const at::Tensor& x, const at::Tensor& g, rule_ops::Activation kind, double a, double b, double eps) {
  const at::Tensor xc = x.contiguous(), gc = g.contiguous();
  at::Tensor out = at::empty_like(gc, at::MemoryFormat::Contiguous);
  const Piecewise f{kind, float(a), float(b)};
  const int64_t half = xc.numel() / 2;  // rows [inputs; references]: the references start half-way
  const float* xp = xc.data_ptr<float>();
  const float* gp = gc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const float threshold = float(eps);
  at::parallel_for(0, half, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float xi = xp[i], xr = xp[i + half], dx = xi - xr;
      if (std::fabs(dx) < threshold) {
        op[i] = gp[i] * f.slope(xi);
        op[i + half] = gp[i + half] * f.slope(xr);
      } else {
        const float m = (f.value(xi) - f.value(xr)) / dx;
        op[i] = gp[i] * m;
        op[i + half] = gp[i + half] * m;
      }
    }
  });
  return out;
}

at::Tensor rescale_max_pool_backward(const at::Tensor& x, const at::Tensor& pooled, const at::Tensor& indices,
                                     const at::Tensor& g, double eps) {
  const at::Tensor xc = x.contiguous(), yc = pooled.contiguous(), ic = indices.contiguous(), gc = g.contiguous();
  at::Tensor out = at::empty_like(xc, at::MemoryFormat::Contiguous);
  const int64_t n = xc.size(0) / 2, planes = n * xc.size(1);
  const int64_t in_plane = xc.size(2) * xc.size(3), out_plane = yc.size(2) * yc.size(3);
  const int64_t ref_in = planes * in_plane, ref_out = planes * out_plane;  // offsets of the reference half
  const float* xp = xc.data_ptr<float>();
  const float* yp = yc.data_ptr<float>();
  const int64_t* ip = ic.data_ptr<int64_t>();
  const float* gp = gc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const float threshold = float(eps);
  at::parallel_for(0, planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, in_plane)), [&](int64_t begin, int64_t end) {
    // Per input plane: the routed differences of both halves summed, and each half's plain routing.
    std::vector<float> summed(static_cast<size_t>(in_plane)), plain_in(static_cast<size_t>(in_plane)),
        plain_ref(static_cast<size_t>(in_plane));
    for (int64_t p = begin; p < end; ++p) {
      std::fill(summed.begin(), summed.end(), 0.0f);
      std::fill(plain_in.begin(), plain_in.end(), 0.0f);
      std::fill(plain_ref.begin(), plain_ref.end(), 0.0f);
      const int64_t o0 = p * out_plane;
      for (int64_t o = o0; o < o0 + out_plane; ++o) {
        const float yi = yp[o], yr = yp[o + ref_out], m = std::max(yi, yr);
        const float gi = gp[o], gr = gp[o + ref_out];
        const int64_t ii = ip[o], ir = ip[o + ref_out];
        summed[size_t(ii)] += gi * (m - yr);
        summed[size_t(ir)] += gr * (yi - m);
        plain_in[size_t(ii)] += gi;
        plain_ref[size_t(ir)] += gr;
      }
      const int64_t q0 = p * in_plane;
      for (int64_t q = 0; q < in_plane; ++q) {
        const float dx = xp[q0 + q] - xp[q0 + q + ref_in];
        if (std::fabs(dx) < threshold) {
          op[q0 + q] = plain_in[size_t(q)];
          op[q0 + q + ref_in] = plain_ref[size_t(q)];
        } else {
          op[q0 + q] = op[q0 + q + ref_in] = summed[size_t(q)] / dx;
        }
      }
    }
  });
  return out;
}

at::Tensor stabilized_divide(const at::Tensor& relevance, const at::Tensor& z, double epsilon, const at::Tensor& into) {
  const at::Tensor rc = relevance.contiguous(), zc = z.contiguous();
  at::Tensor out = into.defined() ? into : at::empty_like(zc, at::MemoryFormat::Contiguous);
  const float* rp = rc.data_ptr<float>();
  const float* zp = zc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const float e = float(epsilon);
  at::parallel_for(0, zc.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) op[i] = rp[i] / (zp[i] >= 0 ? zp[i] + e : zp[i] - e);
  });
  return out;
}

}  // namespace glassbox::models::rule_kernels
