// The attacks as morph engines (FGSM, PGD in L-infinity and L2, targeted and untargeted), against their
// definitions (Goodfellow et al.; Madry et al.; torchattacks' semantics) written out for a linear model,
// where the cross-entropy's gradient is known in closed form: d log p_t / dx = W^T (e_t - p).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "glassbox/explain/morph.h"
#include "glassbox/models/architectures.h"
#include "glassbox/models/input-spec.h"
#include "test-support.h"

using namespace glassbox;
using namespace glassbox::explain;

namespace {

struct Linear {
  std::unique_ptr<models::ModuleClassifier> model;
  at::Tensor w, b;
};

Linear linear_model() {
  Linear l;
  l.model = models::make_model(models::ModelOptions("logreg", {1, 4, 4}, 3));
  for (const auto& [name, p] : l.model->named_parameters()) {
    if (name == "l1.weight") l.w = p.detach().to(at::kDouble);
    if (name == "l1.bias") l.b = p.detach().to(at::kDouble);
  }
  return l;
}

// d log p_c / dx for the linear model, as an image.
at::Tensor log_probability_gradient(const Linear& l, const at::Tensor& pixels, int64_t c) {
  const at::Tensor p = at::softmax(at::linear(pixels.flatten().to(at::kDouble), l.w, l.b), 0);
  return (l.w[c] - p.matmul(l.w)).view(pixels.sizes());
}

at::Tensor input() {
  at::manual_seed(3);
  return at::rand({1, 1, 4, 4}).mul_(0.6).add_(0.2);
}

}  // namespace

TEST(Attacks, FgsmIsOneSignedStepOfEps) {
  const Linear l = linear_model();
  const at::Tensor x = input();
  for (const bool targeted : {true, false}) {
    SCOPED_TRACE(targeted);
    const MorphOptions o = MorphOptions(2).engine(MorphEngine::fgsm).eps(0.05).norm(MorphNorm::linf).targeted(targeted);
    const MorphTrajectory t = morph(*l.model, models::InputSpec(), x, o);
    ASSERT_EQ(t.frames.size(), 2u);
    const at::Tensor g = log_probability_gradient(l, x[0], 2);
    const at::Tensor expected = (x[0].to(at::kDouble) + (targeted ? 1 : -1) * 0.05 * g.sign()).clamp(0, 1);
    EXPECT_LT((t.frames[1].to(at::kDouble) - expected).abs().max().item<double>(), 1e-6);
  }
}

TEST(Attacks, PgdWithoutRandomStartIsTheProjectedStepsWrittenOut) {
  const Linear l = linear_model();
  const at::Tensor x = input();
  const MorphOptions o = MorphOptions(1).engine(MorphEngine::pgd).norm(MorphNorm::linf).eps(0.03).step_size(0.01).steps(6)
                             .random_start(false).stop_probability(1.0);
  const MorphTrajectory t = morph(*l.model, models::InputSpec(), x, o);
  at::Tensor p = x[0].to(at::kDouble);
  const at::Tensor start = p.clone();
  ASSERT_EQ(t.frames.size(), 7u);
  for (size_t k = 1; k < t.frames.size(); ++k) {
    p = p + 0.01 * log_probability_gradient(l, p, 1).sign();
    p = (start + (p - start).clamp(-0.03, 0.03)).clamp(0, 1);
    EXPECT_LT((t.frames[k].to(at::kDouble) - p).abs().max().item<double>(), 1e-5) << "step " << k;
  }
  // L2: steps of step_size along the gradient's direction, projected to the ball.
  const MorphOptions o2 = MorphOptions(1).engine(MorphEngine::pgd).norm(MorphNorm::l2).eps(0.1).step_size(0.04).steps(5)
                              .random_start(false).stop_probability(1.0);
  const MorphTrajectory t2 = morph(*l.model, models::InputSpec(), x, o2);
  p = start.clone();
  for (size_t k = 1; k < t2.frames.size(); ++k) {
    const at::Tensor g = log_probability_gradient(l, p, 1);
    p = p + 0.04 * g / g.norm();
    const double d = (p - start).norm().item<double>();
    if (d > 0.1) p = start + (p - start) * (0.1 / d);
    p = p.clamp(0, 1);
    EXPECT_LT((t2.frames[k].to(at::kDouble) - p).abs().max().item<double>(), 1e-5) << "step " << k;
  }
}

TEST(Attacks, PgdsRandomStartStaysInTheBallAndFollowsItsSeed) {
  const Linear l = linear_model();
  const at::Tensor x = input();
  for (const MorphNorm norm : {MorphNorm::linf, MorphNorm::l2}) {
    const MorphOptions o = MorphOptions(0).engine(MorphEngine::pgd).norm(norm).eps(0.08).step_size(0.02).steps(10)
                               .targeted(false).stop_probability(1.0).seed(5);
    const MorphTrajectory a = morph(*l.model, models::InputSpec(), x, o);
    const MorphTrajectory b = morph(*l.model, models::InputSpec(), x, o);
    const MorphTrajectory c = morph(*l.model, models::InputSpec(), x, MorphOptions(o).seed(6));
    EXPECT_TRUE(a.frames[0].equal(x[0]));  // the trajectory starts at the input
    ASSERT_EQ(a.frames.size(), 12u);  // the input, the random start, ten steps
    EXPECT_TRUE(a.frames.back().equal(b.frames.back()));
    EXPECT_FALSE(a.frames[1].equal(c.frames[1]));  // the random starts differ
    for (const at::Tensor& f : a.frames) {
      const at::Tensor d = f - x[0];
      const double size = norm == MorphNorm::linf ? d.abs().max().item<double>() : d.norm().item<double>();
      EXPECT_LE(size, 0.08 + 1e-6);
      EXPECT_GE(f.min().item<double>(), 0);
      EXPECT_LE(f.max().item<double>(), 1);
    }
    // Untargeted: class 0's probability goes down.
    EXPECT_LT(a.target_probability.back(), a.target_probability.front());
  }
}

TEST(Attacks, AnAttackWithoutABudgetIsRefused) {
  const Linear l = linear_model();
  EXPECT_THROW(morph(*l.model, models::InputSpec(), input(), MorphOptions(1).engine(MorphEngine::pgd)), Error);
  EXPECT_THROW(morph(*l.model, models::InputSpec(), input(), MorphOptions(1).engine(MorphEngine::fgsm)), Error);
}
