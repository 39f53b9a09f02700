// Each operator is a torch::autograd::Function (forward: the ordinary operation; backward: the rule),
// registered with the dispatcher as a composite kernel, so that a TorchScript graph calling
// glassbox::activation records the Function's node in autograd exactly as C++ calling it directly does.
// Backward recomputes what it needs from the saved input rather than saving more: these methods run one
// backward per forward, and the recomputation is one layer's forward.
#include "rule-operators.h"

#include "rule-kernels.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/library.h>

#include "glassbox/util/error.h"

namespace glassbox::models::rule_ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Captum's threshold below which a difference of inputs counts as none (the gradient is used instead).
constexpr double kRescaleEps = 1e-10;

at::Tensor apply_activation(const at::Tensor& x, Activation kind, double a, double b) {
  switch (kind) {
    case Activation::relu: return at::relu(x);
    case Activation::hardtanh: return at::hardtanh(x, a, b);
    case Activation::leaky_relu: return at::leaky_relu(x, a);
    case Activation::elu: return at::elu(x, a);
    case Activation::gelu: return at::gelu(x, a != 0 ? "tanh" : "none");
    case Activation::silu: return at::silu(x);
    case Activation::sigmoid: return at::sigmoid(x);
    case Activation::tanh: return at::tanh(x);
    case Activation::softplus: return at::softplus(x, a, b);
  }
  throw Error("activation: unknown kind");
}

// g * f'(x): the ordinary backward. The derivatives of the common activations are written out (autograd
// on a copy builds a graph per call: Guided Backprop measured 6x its floor on the cnn so); the others take it.
at::Tensor plain_backward(const at::Tensor& x, const at::Tensor& g, Activation kind, double a, double b) {
  switch (kind) {
    case Activation::relu: return g * x.gt(0);
    case Activation::hardtanh: return g * (x.gt(a) & x.lt(b));
    case Activation::leaky_relu: return g * at::where(x.gt(0), at::ones_like(x), at::full_like(x, a));
    case Activation::sigmoid: {
      const at::Tensor y = at::sigmoid(x);
      return g * y * (1 - y);
    }
    case Activation::tanh: {
      const at::Tensor y = at::tanh(x);
      return g * (1 - y * y);
    }
    default: break;
  }
  torch::autograd::AutoGradMode enable(true);
  const at::Tensor leaf = x.detach().requires_grad_(true);
  return torch::autograd::grad({apply_activation(leaf, kind, a, b)}, {leaf}, {g})[0];
}

// The two halves of a rescale batch, [inputs; references], checked.
void check_halves(const at::Tensor& x, const char* op) {
  GLASSBOX_CHECK(x.dim() >= 1 && x.size(0) % 2 == 0, op, ": the Rescale rule reads a batch of inputs and their references, ",
                 "an even number of rows, got ", x.sizes());
}

at::Tensor twice(const at::Tensor& half) { return at::cat({half, half}, 0); }

struct ActivationFunction : torch::autograd::Function<ActivationFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, int64_t kind, double a, double b, int64_t rule) {
    ctx->save_for_backward({x});
    ctx->saved_data["kind"] = kind;
    ctx->saved_data["a"] = a;
    ctx->saved_data["b"] = b;
    ctx->saved_data["rule"] = rule;
    if (static_cast<ActivationRule>(rule) == ActivationRule::rescale) check_halves(x, "activation");
    return apply_activation(x, static_cast<Activation>(kind), a, b);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const auto kind = static_cast<Activation>(ctx->saved_data["kind"].toInt());
    const double a = ctx->saved_data["a"].toDouble(), b = ctx->saved_data["b"].toDouble();
    const at::Tensor& g = grads[0];
    at::Tensor out;
    switch (static_cast<ActivationRule>(ctx->saved_data["rule"].toInt())) {
      case ActivationRule::gradient: out = plain_backward(x, g, kind, a, b); break;
      case ActivationRule::pass: out = g; break;
      case ActivationRule::deconvnet: out = at::relu(g); break;
      case ActivationRule::guided:  // relu of the gradient, where the activation lets it through
        if (kind == Activation::relu && rule_kernels::applies(x) && rule_kernels::applies(g))
          out = rule_kernels::guided_relu_backward(x, g);
        else
          out = kind == Activation::relu ? at::relu(g) * x.gt(0) : at::relu(g) * (plain_backward(x, at::ones_like(g), kind, a, b) > 0);
        break;
      case ActivationRule::rescale: {
        if (rule_kernels::has_rescale_kernel(kind) && rule_kernels::applies(x) && rule_kernels::applies(g)) {
          out = rule_kernels::rescale_backward(x, g, kind, a, b, kRescaleEps);
          break;
        }
        const int64_t n = x.size(0) / 2;
        const at::Tensor y = apply_activation(x, kind, a, b);
        const at::Tensor dx = twice(x.narrow(0, 0, n) - x.narrow(0, n, n));
        const at::Tensor dy = twice(y.narrow(0, 0, n) - y.narrow(0, n, n));
        out = at::where(dx.abs() < kRescaleEps, plain_backward(x, g, kind, a, b), g * dy / dx);
        break;
      }
    }
    return {out, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct RescaleMaxPoolFunction : torch::autograd::Function<RescaleMaxPoolFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                            std::vector<int64_t> padding, std::vector<int64_t> dilation, bool ceil_mode) {
    check_halves(x, "max_pool2d");
    auto pooled = at::max_pool2d_with_indices(x, kernel, stride, padding, dilation, ceil_mode);
    ctx->save_for_backward({x, std::get<0>(pooled), std::get<1>(pooled)});
    ctx->saved_data["kernel"] = kernel;
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["ceil_mode"] = ceil_mode;
    return std::get<0>(pooled);
  }
  // Captum's rule: with m = max(y, y_ref), the input half routes g * (m - y_ref) to its own maxima and
  // the reference half g * (y - m) to its maxima; their sum, divided by x - x_ref, is both halves'
  // multiplier, so that the contributions add up to y - y_ref. The scatter sums where windows overlap
  // (Captum's max_unpool2d keeps one of them), which keeps that sum exact for overlapping pools too.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& y = saved[1];
    const at::Tensor& indices = saved[2];
    const at::Tensor& g = grads[0];
    if (rule_kernels::applies(x) && rule_kernels::applies(g) && x.dim() == 4)
      return {rule_kernels::rescale_max_pool_backward(x, y, indices, g, kRescaleEps), at::Tensor(), at::Tensor(), at::Tensor(),
              at::Tensor(), at::Tensor()};
    const auto kernel = ctx->saved_data["kernel"].toIntVector(), stride = ctx->saved_data["stride"].toIntVector();
    const auto padding = ctx->saved_data["padding"].toIntVector(), dilation = ctx->saved_data["dilation"].toIntVector();
    const bool ceil_mode = ctx->saved_data["ceil_mode"].toBool();
    const int64_t n = x.size(0) / 2;
    const at::Tensor y_in = y.narrow(0, 0, n), y_ref = y.narrow(0, n, n);
    const at::Tensor m = at::max(y_in, y_ref);
    const at::Tensor delta_out = at::cat({m - y_ref, y_in - m}, 0);
    auto scatter = [&](const at::Tensor& values) {
      return at::max_pool2d_with_indices_backward(values, x, kernel, stride, padding, dilation, ceil_mode, indices);
    };
    const at::Tensor routed = scatter(g * delta_out);
    const at::Tensor summed = twice(routed.narrow(0, 0, n) + routed.narrow(0, n, n));
    const at::Tensor dx = twice(x.narrow(0, 0, n) - x.narrow(0, n, n));
    const at::Tensor out = at::where(dx.abs() < kRescaleEps, scatter(g), summed / dx);
    return {out, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// softmax along `dim` whose backward is Captum's DeepLift rule for softmax: the Rescale multipliers
// taken element by element (the softmax's own gradient where an input equals its reference), then
// centred: their mean subtracted, so that raising every logit alike contributes nothing (the DeepLift
// paper's normalisation for softmax outputs, section 3.6). The mean runs along `dim` of each row;
// Captum's runs over the whole tensor, batch included, which would make a sample's attributions depend
// on its batch. The contributions then sum to the centred logit's difference scaled by the rescale
// factor, not to the probability's difference: DeepLift reports that gap as its delta.
struct RescaleSoftmaxFunction : torch::autograd::Function<RescaleSoftmaxFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, int64_t dim) {
    check_halves(x, "softmax");
    ctx->save_for_backward({x});
    ctx->saved_data["dim"] = dim;
    return at::softmax(x, dim);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const int64_t dim = ctx->saved_data["dim"].toInt(), n = x.size(0) / 2;
    const at::Tensor& g = grads[0];
    const at::Tensor y = at::softmax(x, dim);
    const at::Tensor dx = twice(x.narrow(0, 0, n) - x.narrow(0, n, n));
    const at::Tensor dy = twice(y.narrow(0, 0, n) - y.narrow(0, n, n));
    const at::Tensor plain = y * (g - (g * y).sum(dim, true));
    const at::Tensor unnormalised = at::where(dx.abs() < kRescaleEps, plain, g * dy / dx);
    return {unnormalised - unnormalised.mean(dim, true), at::Tensor()};
  }
};

// Autograd functions cannot take undefined tensors (their inputs' metadata is recorded): a layer without
// a bias gets zeros, which change neither its output nor any rule.
at::Tensor bias_or_zeros(const at::Tensor& b, const at::Tensor& w) { return b.defined() ? b : at::zeros({w.size(0)}, w.options()); }

// An undefined bias as the optional the operators take (an undefined tensor inside one is an error).
c10::optional<at::Tensor> optional_bias(const at::Tensor& b) { return b.defined() ? c10::optional<at::Tensor>(b) : c10::nullopt; }

// z + epsilon * sign(z), sign(0) = 1 (Zennit's stabilizer).
at::Tensor stabilize(const at::Tensor& z, double epsilon) { return z + epsilon * (z.ge(0).to(z.scalar_type()) * 2 - 1); }

// relevance / stabilize(z, epsilon), in one pass where a kernel takes it. `z_is_scratch`: z is this
// backward's own temporary, so the quotient may take its memory (a layer's output size, the largest
// tensors LRP touches; one fewer allocation of them measurably speeds the rule up).
at::Tensor stabilized_divide(const at::Tensor& relevance, const at::Tensor& z, double epsilon, bool z_is_scratch = false) {
  if (rule_kernels::applies(z) && rule_kernels::applies(relevance) && relevance.sizes() == z.sizes())
    return rule_kernels::stabilized_divide(relevance, z, epsilon, z_is_scratch && z.is_contiguous() ? z : at::Tensor());
  return relevance / stabilize(z, epsilon);
}

// The LRP rules, written once for any layer f(input, weight, bias) and its transpose t(s, input, weight)
// = (d f / d input)^T s: each rule is a sum of terms f(input_k, weight_k, bias_k); z is their sum; the
// relevance of the input is sum_k input_k * t(R / stabilize(z), input_k, weight_k). The epsilon rule's z
// is the layer's own output, which forward saved. Transposed layers called directly, not autograd on a
// copy: LRP measured 8x its floor on the cnn that way.
using LayerFn = std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&)>;

// Where a rule's terms can be one call of the layer: inputs concatenated along `input_dim` and weights
// along their input dimension (1) make f(cat x_k, cat W_k) = sum_k f(x_k, W_k), and the transpose of the
// concatenation hands each term its own part. A grouped convolution cannot (its groups would mix terms).
struct LayerStacking {
  bool possible = false;
  int64_t input_dim = 1;  // the input's feature dimension: 1 for a convolution's channels, -1 for a linear layer
};

at::Tensor lrp_backward(const LayerFn& f, const LayerFn& t, const LayerStacking& stacking, const at::Tensor& x,
                        const at::Tensor& w, const at::Tensor& bias, const at::Tensor& output, const LayerRule rule,
                        double epsilon, double gamma, const at::Tensor& low, const at::Tensor& high,
                        const at::Tensor& relevance) {
  struct Term {
    at::Tensor input, weight;  // a term's sign is folded into its weight
  };
  std::vector<Term> terms;
  at::Tensor term_bias;  // the first term's bias (the others have none)
  const double stabilizer = 1e-6;  // Zennit's default for the rules other than epsilon
  switch (rule) {
    case LayerRule::gradient:
      throw Error("lrp: the gradient rule has no relevance backward");
    case LayerRule::epsilon:
      return t(stabilized_divide(relevance, output, epsilon), x, w).mul_(x);
    case LayerRule::gamma:
      terms.push_back({x, w + gamma * w.clamp_min(0)});
      if (bias.defined()) term_bias = bias + gamma * bias.clamp_min(0);
      break;
    case LayerRule::zplus:
      terms.push_back({x.clamp_min(0), w.clamp_min(0)});
      terms.push_back({x.clamp_max(0), w.clamp_max(0)});
      break;
    case LayerRule::zbox: {
      GLASSBOX_CHECK(low.defined() && high.defined(), "lrp: the zbox rule needs the input's bounds");
      const int64_t per_row = x.numel() / std::max<int64_t>(1, x.size(0));
      // The bounds are per channel (one value for all, or [1 or B, C, H, W] holding each channel's value
      // everywhere), so they fit a first layer whose input is padded or resized from the model's.
      auto bound = [&](const at::Tensor& v) {
        const at::Tensor t = v.to(x.options());
        if (t.numel() == 1) return t.reshape({}).expand_as(x).contiguous();
        if (t.dim() == 4 && x.dim() == 4 && t.size(1) == x.size(1) && (t.size(0) == 1 || t.size(0) == x.size(0)))
          return t.narrow(2, 0, 1).narrow(3, 0, 1).expand_as(x).contiguous();
        GLASSBOX_CHECK(t.numel() == per_row || t.numel() == x.numel(), "lrp: zbox bounds ", t.sizes(),
                       " do not fit the first layer's input ", x.sizes());
        return (t.numel() == x.numel() ? t.reshape(x.sizes()) : t.reshape(x.sizes().slice(1)).unsqueeze(0).expand_as(x)).contiguous();
      };
      terms.push_back({x, w});
      term_bias = bias;
      terms.push_back({bound(low), -w.clamp_min(0)});
      terms.push_back({bound(high), -w.clamp_max(0)});
      break;
    }
  }
  if (stacking.possible && terms.size() > 1) {
    std::vector<at::Tensor> inputs, weights;
    for (const Term& term : terms) {
      inputs.push_back(term.input);
      weights.push_back(term.weight);
    }
    const at::Tensor input = at::cat(inputs, stacking.input_dim), weight = at::cat(weights, 1);
    const at::Tensor s = stabilized_divide(relevance, f(input, weight, term_bias), stabilizer, true);
    const at::Tensor g = t(s, input, weight);
    const int64_t width = x.size(stacking.input_dim);
    at::Tensor r = g.narrow(stacking.input_dim, 0, width) * terms[0].input;
    for (size_t k = 1; k < terms.size(); ++k) r.addcmul_(g.narrow(stacking.input_dim, int64_t(k) * width, width), terms[k].input);
    return r;
  }
  at::Tensor z;
  for (size_t k = 0; k < terms.size(); ++k) {
    const at::Tensor out = f(terms[k].input, terms[k].weight, k == 0 ? term_bias : at::Tensor());
    z = z.defined() ? z.add_(out) : out;
  }
  const at::Tensor s = stabilized_divide(relevance, z, stabilizer, true);
  at::Tensor r;
  for (const Term& term : terms) {
    const at::Tensor part = t(s, term.input, term.weight).mul_(term.input);
    r = r.defined() ? r.add_(part) : part;
  }
  return r;
}

void save_rule(AutogradContext* ctx, int64_t rule, double epsilon, double gamma) {
  ctx->saved_data["rule"] = rule;
  ctx->saved_data["epsilon"] = epsilon;
  ctx->saved_data["gamma"] = gamma;
}

struct LrpLinearFunction : torch::autograd::Function<LrpLinearFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                            int64_t rule, double epsilon, double gamma, const at::Tensor& low, const at::Tensor& high) {
    at::Tensor out = at::linear(x, w, optional_bias(b));
    ctx->save_for_backward({x, w, b, low, high, out});
    save_rule(ctx, rule, epsilon, gamma);
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const LayerFn f = [](const at::Tensor& in, const at::Tensor& w, const at::Tensor& b) { return at::linear(in, w, optional_bias(b)); };
    const LayerFn t = [](const at::Tensor& s, const at::Tensor&, const at::Tensor& w) { return s.matmul(w); };
    const at::Tensor r = lrp_backward(f, t, LayerStacking{true, -1}, saved[0], saved[1], saved[2], saved[5],
                                      static_cast<LayerRule>(ctx->saved_data["rule"].toInt()), ctx->saved_data["epsilon"].toDouble(),
                                      ctx->saved_data["gamma"].toDouble(), saved[3], saved[4], grads[0]);
    return {r, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct LrpConv2dFunction : torch::autograd::Function<LrpConv2dFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                            std::vector<int64_t> stride, std::vector<int64_t> padding, std::vector<int64_t> dilation,
                            int64_t groups, int64_t rule, double epsilon, double gamma, const at::Tensor& low,
                            const at::Tensor& high) {
    GLASSBOX_CHECK(w.dim() == 4, "lrp_conv2d: weight ", w.sizes(), ", expected a 2-d convolution's [out, in, kh, kw]");
    at::Tensor out = at::conv2d(x, w, optional_bias(b), stride, padding, dilation, groups);
    ctx->save_for_backward({x, w, b, low, high, out});
    save_rule(ctx, rule, epsilon, gamma);
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto stride = ctx->saved_data["stride"].toIntVector(), padding = ctx->saved_data["padding"].toIntVector();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const LayerFn f = [&](const at::Tensor& in, const at::Tensor& w, const at::Tensor& b) {
      return at::conv2d(in, w, optional_bias(b), stride, padding, dilation, groups);
    };
    const LayerFn t = [&](const at::Tensor& s, const at::Tensor& in, const at::Tensor& w) {
      return std::get<0>(at::convolution_backward(s, in, w, c10::nullopt, stride, padding, dilation, false, {0, 0}, groups,
                                                  {true, false, false}));
    };
    const at::Tensor r = lrp_backward(f, t, LayerStacking{groups == 1, 1}, saved[0], saved[1], saved[2], saved[5],
                                      static_cast<LayerRule>(ctx->saved_data["rule"].toInt()), ctx->saved_data["epsilon"].toDouble(),
                                      ctx->saved_data["gamma"].toDouble(), saved[3], saved[4], grads[0]);
    variable_list out(12);
    out[0] = r;
    return out;
  }
};

struct LrpAddFunction : torch::autograd::Function<LrpAddFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b, double alpha, double epsilon) {
    ctx->save_for_backward({a, b});
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["epsilon"] = epsilon;
    return at::add(a, b, alpha);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const double alpha = ctx->saved_data["alpha"].toDouble();
    const at::Tensor scaled_b = saved[1] * alpha;
    const at::Tensor s = grads[0] / stabilize(saved[0] + scaled_b, ctx->saved_data["epsilon"].toDouble());
    // Broadcast terms (a bias-like tensor added to a map) get their relevance summed back to their shape.
    auto to_shape = [](const at::Tensor& r, const at::Tensor& like) { return at::sum_to(r, like.sizes()); };
    return {to_shape(saved[0] * s, saved[0]), to_shape(scaled_b * s, saved[1]), at::Tensor(), at::Tensor()};
  }
};

// The dispatcher's entries (TorchScript calls these).
at::Tensor activation_op(const at::Tensor& x, int64_t kind, double a, double b, int64_t rule) {
  return ActivationFunction::apply(x, kind, a, b, rule);
}
at::Tensor max_pool2d_op(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding,
                         at::IntArrayRef dilation, bool ceil_mode) {
  return rescale_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode);
}
at::Tensor lrp_linear_op(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b, int64_t rule,
                         double epsilon, double gamma, const at::Tensor& low, const at::Tensor& high) {
  return LrpLinearFunction::apply(x, w, bias_or_zeros(b.value_or(at::Tensor()), w), rule, epsilon, gamma, low, high);
}
at::Tensor lrp_conv2d_op(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b, at::IntArrayRef stride,
                         at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups, int64_t rule, double epsilon,
                         double gamma, const at::Tensor& low, const at::Tensor& high) {
  return LrpConv2dFunction::apply(x, w, bias_or_zeros(b.value_or(at::Tensor()), w), stride.vec(), padding.vec(), dilation.vec(), groups, rule,
                                  epsilon, gamma, low, high);
}
at::Tensor lrp_add_op(const at::Tensor& a, const at::Tensor& b, double alpha, double epsilon) {
  return LrpAddFunction::apply(a, b, alpha, epsilon);
}
at::Tensor softmax_op(const at::Tensor& x, int64_t dim) { return rescale_softmax(x, dim); }

// LRP's canonizer's arithmetic: a layer's weight and bias with the batch norm after it folded in.
std::tuple<at::Tensor, at::Tensor> merge_batch_norm_op(const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                                                       const c10::optional<at::Tensor>& bn_weight,
                                                       const c10::optional<at::Tensor>& bn_bias,
                                                       const c10::optional<at::Tensor>& mean,
                                                       const c10::optional<at::Tensor>& var, double eps) {
  GLASSBOX_CHECK(mean && var && mean->defined() && var->defined(),
                 "lrp: a batch norm without running statistics cannot be merged into its layer");
  const at::Tensor w = weight.detach();
  at::Tensor scale = at::rsqrt(var->detach() + eps);
  if (bn_weight && bn_weight->defined()) scale = scale * bn_weight->detach();
  std::vector<int64_t> shape(static_cast<size_t>(w.dim()), 1);
  shape[0] = -1;
  at::Tensor b = bias && bias->defined() ? bias->detach() : at::zeros({w.size(0)}, w.options());
  b = (b - mean->detach()) * scale;
  if (bn_bias && bn_bias->defined()) b = b + bn_bias->detach();
  return {w * scale.view(shape), b};
}

}  // namespace

at::Tensor activation(const at::Tensor& x, Activation kind, double a, double b, ActivationRule rule) {
  return ActivationFunction::apply(x, static_cast<int64_t>(kind), a, b, static_cast<int64_t>(rule));
}

at::Tensor rescale_max_pool2d(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding,
                              at::IntArrayRef dilation, bool ceil_mode) {
  // max_pool2d's own convention: an empty stride means the kernel's size.
  return RescaleMaxPoolFunction::apply(x, kernel.vec(), stride.empty() ? kernel.vec() : stride.vec(), padding.vec(),
                                       dilation.vec(), ceil_mode);
}

at::Tensor rescale_softmax(const at::Tensor& x, int64_t dim) {
  return RescaleSoftmaxFunction::apply(x, dim < 0 ? dim + x.dim() : dim);
}

at::Tensor lrp_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const LayerRuleParameters& p) {
  return LrpLinearFunction::apply(x, weight, bias_or_zeros(bias, weight), static_cast<int64_t>(p.rule), p.epsilon, p.gamma, p.low, p.high);
}

at::Tensor lrp_conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                      at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups, const LayerRuleParameters& p) {
  return LrpConv2dFunction::apply(x, weight, bias_or_zeros(bias, weight), stride.vec(), padding.vec(), dilation.vec(), groups,
                                  static_cast<int64_t>(p.rule), p.epsilon, p.gamma, p.low, p.high);
}

at::Tensor lrp_add(const at::Tensor& a, const at::Tensor& b, double alpha, double epsilon) {
  return LrpAddFunction::apply(a, b, alpha, epsilon);
}

}  // namespace glassbox::models::rule_ops

TORCH_LIBRARY(glassbox, m) {
  using namespace glassbox::models::rule_ops;
  m.def("activation(Tensor x, int kind, float a, float b, int rule) -> Tensor", &activation_op);
  m.def("max_pool2d(Tensor x, int[] kernel_size, int[] stride, int[] padding, int[] dilation, bool ceil_mode) -> Tensor",
        &max_pool2d_op);
  m.def("lrp_linear(Tensor x, Tensor weight, Tensor? bias, int rule, float epsilon, float gamma, Tensor low, Tensor high) -> Tensor",
        &lrp_linear_op);
  m.def("lrp_conv2d(Tensor x, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, int groups, int rule, "
        "float epsilon, float gamma, Tensor low, Tensor high) -> Tensor",
        &lrp_conv2d_op);
  m.def("merge_batch_norm(Tensor weight, Tensor? bias, Tensor? bn_weight, Tensor? bn_bias, Tensor? running_mean, "
        "Tensor? running_var, float eps) -> (Tensor, Tensor)",
        &merge_batch_norm_op);
  m.def("lrp_add(Tensor a, Tensor b, float alpha, float epsilon) -> Tensor", &lrp_add_op);
  m.def("softmax(Tensor x, int dim) -> Tensor", &softmax_op);
}
