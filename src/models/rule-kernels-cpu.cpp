#include "rule-kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace glassbox::models::rule_kernels {
namespace {

// Piecewise-linear activations: value and derivative, the kind fixed at compile time so that the
// kernels' loops have no branch and vectorise.
template <rule_ops::Activation kind>
struct Piecewise {
  float a, b;
  float value(float v) const {
    if constexpr (kind == rule_ops::Activation::relu) return std::max(v, 0.0f);
    if constexpr (kind == rule_ops::Activation::hardtanh) return std::min(std::max(v, a), b);
    if constexpr (kind == rule_ops::Activation::leaky_relu) return std::max(v, 0.0f) + a * std::min(v, 0.0f);
    return v;
  }
  float slope(float v) const {
    if constexpr (kind == rule_ops::Activation::relu) return float(v > 0);
    if constexpr (kind == rule_ops::Activation::hardtanh) return float((v > a) & (v < b));
    if constexpr (kind == rule_ops::Activation::leaky_relu) return float(v > 0) + a * float(v <= 0);
    return 1.0f;
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
    // Both loads unconditional and the test a select, so that the loop vectorises.
    for (int64_t i = begin; i < end; ++i) {
      const float gi = gp[i], xi = xp[i];
      op[i] = (gi > 0.0f) & (xi > 0.0f) ? gi : 0.0f;
    }
  });
  return out;
}

bool has_rescale_kernel(rule_ops::Activation kind) {
  return kind == rule_ops::Activation::relu || kind == rule_ops::Activation::hardtanh || kind == rule_ops::Activation::leaky_relu;
}

namespace {

// Rows [inputs; references]: the references start `half` elements in. Both multipliers are computed and
// one selected (a quotient by a difference under the threshold is discarded, never used).
template <rule_ops::Activation kind>
void rescale_rows(const float* xp, const float* gp, float* op, int64_t half, float a, float b, float threshold) {
  const Piecewise<kind> f{a, b};
  at::parallel_for(0, half, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float xi = xp[i], xr = xp[i + half], dx = xi - xr;
      const float close = float(std::fabs(dx) < threshold);
      const float m = (f.value(xi) - f.value(xr)) / (dx + close);  // dx + 1 where the quotient is discarded
      op[i] = gp[i] * (close * f.slope(xi) + (1 - close) * m);
      op[i + half] = gp[i + half] * (close * f.slope(xr) + (1 - close) * m);
    }
  });
}

}  // namespace

at::Tensor rescale_backward(const at::Tensor& x, const at::Tensor& g, rule_ops::Activation kind, double a, double b, double eps) {
  const at::Tensor xc = x.contiguous(), gc = g.contiguous();
  at::Tensor out = at::empty_like(gc, at::MemoryFormat::Contiguous);
  const int64_t half = xc.numel() / 2;
  const float* xp = xc.data_ptr<float>();
  const float* gp = gc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  switch (kind) {
    case rule_ops::Activation::relu: rescale_rows<rule_ops::Activation::relu>(xp, gp, op, half, float(a), float(b), float(eps)); break;
    case rule_ops::Activation::hardtanh:
      rescale_rows<rule_ops::Activation::hardtanh>(xp, gp, op, half, float(a), float(b), float(eps));
      break;
    case rule_ops::Activation::leaky_relu:
      rescale_rows<rule_ops::Activation::leaky_relu>(xp, gp, op, half, float(a), float(b), float(eps));
      break;
    default: TORCH_CHECK(false, "rescale_backward: no kernel for this activation");
  }
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
  // Only the two halves' maxima receive anything, so the rule runs over the pooled positions: each
  // routed difference is divided by x - x_ref where it lands (the quotient of a sum is the sum of the
  // quotients), and lands in both halves, or, where the two inputs are equal there, each half's plain
  // gradient lands in its own half. Reads the input only at the maxima.
  at::parallel_for(0, planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, in_plane)), [&](int64_t begin, int64_t end) {
    std::fill(op + begin * in_plane, op + end * in_plane, 0.0f);
    std::fill(op + ref_in + begin * in_plane, op + ref_in + end * in_plane, 0.0f);
    for (int64_t p = begin; p < end; ++p) {
      const float* x_in = xp + p * in_plane;
      const float* x_ref = x_in + ref_in;
      float* o_in = op + p * in_plane;
      float* o_ref = o_in + ref_in;
      // `routed` to input position q; `plain`: that half's own gradient there, used where x = x_ref.
      auto land = [&](int64_t q, float routed, float plain, bool reference_half) {
        const float dx = x_in[q] - x_ref[q];
        if (std::fabs(dx) < threshold) {
          (reference_half ? o_ref : o_in)[q] += plain;
        } else {
          const float v = routed / dx;
          o_in[q] += v;
          o_ref[q] += v;
        }
      };
      for (int64_t o = p * out_plane; o < (p + 1) * out_plane; ++o) {
        const float yi = yp[o], yr = yp[o + ref_out], m = std::max(yi, yr);
        const float gi = gp[o], gr = gp[o + ref_out];
        land(ip[o], gi * (m - yr), gi, false);
        land(ip[o + ref_out], gr * (yi - m), gr, true);
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
    for (int64_t i = begin; i < end; ++i) {
      const float zi = zp[i];
      op[i] = rp[i] / (zi + (zi >= 0 ? e : -e));
    }
  });
  return out;
}

}  // namespace glassbox::models::rule_kernels
