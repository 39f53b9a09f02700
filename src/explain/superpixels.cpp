// SLIC as the paper gives it. Plain loops on the CPU: the work is a few passes over the pixels of one
// image (windows of 2S x 2S around K centres cover the image about four times per round), small beside
// the hundreds of forward passes the forward-only methods then spend on the features.
#include "glassbox/explain/superpixels.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox::explain {
namespace {

// sRGB in [0, 1] -> CIELAB under D65 (the standard formulas, as skimage's rgb2lab).
void rgb_to_lab(float r, float g, float b, float* lab) {
  auto linear = [](float c) { return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f); };
  const float R = linear(r), G = linear(g), B = linear(b);
  const float X = (0.412453f * R + 0.357580f * G + 0.180423f * B) / 0.950456f;
  const float Y = 0.212671f * R + 0.715160f * G + 0.072169f * B;
  const float Z = (0.019334f * R + 0.119193f * G + 0.950227f * B) / 1.088754f;
  auto f = [](float t) { return t > 0.008856f ? std::cbrt(t) : 7.787f * t + 16.0f / 116.0f; };
  const float fx = f(X), fy = f(Y), fz = f(Z);
  lab[0] = 116.0f * fy - 16.0f;
  lab[1] = 500.0f * (fx - fy);
  lab[2] = 200.0f * (fy - fz);
}

// [C, H, W] -> per pixel, its C colour features (row-major [H * W, C]).
std::vector<float> colour_features(const at::Tensor& image) {
  const int64_t C = image.size(0), N = image.size(1) * image.size(2);
  // Each channel stretched to [0, 1]: undoes any per-channel normalisation (a constant channel is 0).
  const at::Tensor flat = image.reshape({C, N});
  const at::Tensor low = std::get<0>(flat.min(1, true)), range = std::get<0>(flat.max(1, true)) - low;
  const at::Tensor unit = ((flat - low) / at::where(range > 0, range, at::ones_like(range))).t().contiguous();
  const float* u = unit.data_ptr<float>();
  std::vector<float> out(static_cast<size_t>(N * C));
  for (int64_t i = 0; i < N; ++i) {
    if (C == 3)
      rgb_to_lab(u[i * 3], u[i * 3 + 1], u[i * 3 + 2], &out[size_t(i * 3)]);
    else
      for (int64_t c = 0; c < C; ++c) out[size_t(i * C + c)] = 100.0f * u[i * C + c];  // L's scale
  }
  return out;
}

// Relabels 4-connected components; one smaller than min_size joins the component beside it that was
// labelled before it (raster order: every component but the first has one). Labels become 0..K-1.
std::vector<int64_t> enforce_connectivity(const std::vector<int64_t>& label, int64_t H, int64_t W, int64_t min_size) {
  std::vector<int64_t> out(label.size(), -1), members;
  int64_t next = 0;
  const int64_t dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
  for (int64_t start = 0; start < H * W; ++start) {
    if (out[size_t(start)] >= 0) continue;
    members.assign(1, start);
    out[size_t(start)] = next;
    int64_t adjacent = -1;
    for (size_t i = 0; i < members.size(); ++i) {
      const int64_t p = members[i], y = p / W, x = p % W;
      for (int d = 0; d < 4; ++d) {
        const int64_t ny = y + dy[d], nx = x + dx[d];
        if (ny < 0 || ny >= H || nx < 0 || nx >= W) continue;
        const int64_t q = ny * W + nx;
        if (label[size_t(q)] == label[size_t(p)] && out[size_t(q)] < 0) {
          out[size_t(q)] = next;
          members.push_back(q);
        } else if (out[size_t(q)] >= 0 && out[size_t(q)] != next && adjacent < 0) {
          adjacent = out[size_t(q)];
        }
      }
    }
    if (int64_t(members.size()) < min_size && adjacent >= 0)
      for (int64_t p : members) out[size_t(p)] = adjacent;
    else
      ++next;
  }
  return out;
}

}  // namespace

at::Tensor slic(const at::Tensor& image, const SlicOptions& o) {
  GLASSBOX_CHECK(image.dim() == 3 && image.size(0) >= 1 && image.size(1) >= 1 && image.size(2) >= 1, "slic: image ",
                 image.sizes(), ": expected [C, H, W]");
  GLASSBOX_CHECK_PARAM(o.n_segments() >= 1 && o.n_segments() <= (int64_t(1) << 20), "n_segments", o.n_segments(),
                       "expected 1..1048576");
  GLASSBOX_CHECK_PARAM(std::isfinite(o.compactness()) && o.compactness() > 0, "compactness", o.compactness(),
                       "expected a positive number");
  GLASSBOX_CHECK_PARAM(o.iterations() >= 1 && o.iterations() <= 100, "iterations", o.iterations(), "expected 1..100");
  const int64_t C = image.size(0), H = image.size(1), W = image.size(2), N = H * W;
  const std::vector<float> colour = colour_features(image.detach().to(at::kCPU, at::kFloat).contiguous());

  // Starting centres: the middles of a grid of about n_segments cells, as square as the image allows.
  const double side = std::sqrt(double(N) / double(o.n_segments()));
  const int64_t rows = std::clamp<int64_t>(std::llround(H / side), 1, H), cols = std::clamp<int64_t>(std::llround(W / side), 1, W);
  const double step_y = double(H) / rows, step_x = double(W) / cols, step = std::sqrt(step_y * step_x);
  const int64_t K = rows * cols, D = C + 2;  // a centre: colour, then y, x
  std::vector<double> centre(static_cast<size_t>(K * D));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t k = r * cols + c;
      const double y = (r + 0.5) * step_y, x = (c + 0.5) * step_x;
      const int64_t p = std::min<int64_t>(H - 1, int64_t(y)) * W + std::min<int64_t>(W - 1, int64_t(x));
      for (int64_t j = 0; j < C; ++j) centre[size_t(k * D + j)] = colour[size_t(p * C + j)];
      centre[size_t(k * D + C)] = y;
      centre[size_t(k * D + C + 1)] = x;
    }
  std::vector<int64_t> label(static_cast<size_t>(N));
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      label[size_t(y * W + x)] = std::min<int64_t>(rows - 1, int64_t(y / step_y)) * cols + std::min<int64_t>(cols - 1, int64_t(x / step_x));

  const double spatial = (o.compactness() / step) * (o.compactness() / step);  // (m / S)^2
  std::vector<double> best(static_cast<size_t>(N)), sums(static_cast<size_t>(K * D));
  std::vector<int64_t> counts(static_cast<size_t>(K));
  for (int64_t it = 0; it < o.iterations(); ++it) {
    std::fill(best.begin(), best.end(), std::numeric_limits<double>::infinity());
    for (int64_t k = 0; k < K; ++k) {
      const double* ck = &centre[size_t(k * D)];
      const int64_t y0 = std::max<int64_t>(0, int64_t(std::floor(ck[C] - step_y))), y1 = std::min<int64_t>(H, int64_t(std::ceil(ck[C] + step_y)));
      const int64_t x0 = std::max<int64_t>(0, int64_t(std::floor(ck[C + 1] - step_x))),
                    x1 = std::min<int64_t>(W, int64_t(std::ceil(ck[C + 1] + step_x)));
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) {
          const int64_t p = y * W + x;
          double dc = 0;
          for (int64_t j = 0; j < C; ++j) {
            const double d = colour[size_t(p * C + j)] - ck[j];
            dc += d * d;
          }
          // Pixel positions are their cells' middles, as the centres' starting positions are.
          const double ey = y + 0.5 - ck[C], ex = x + 0.5 - ck[C + 1];
          const double dist = dc + spatial * (ey * ey + ex * ex);
          if (dist < best[size_t(p)]) {
            best[size_t(p)] = dist;
            label[size_t(p)] = k;
          }
        }
    }
    // A pixel no window reached keeps its label from the round before.
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t p = 0; p < N; ++p) {
      const int64_t k = label[size_t(p)];
      for (int64_t j = 0; j < C; ++j) sums[size_t(k * D + j)] += colour[size_t(p * C + j)];
      sums[size_t(k * D + C)] += p / W + 0.5;
      sums[size_t(k * D + C + 1)] += p % W + 0.5;
      ++counts[size_t(k)];
    }
    for (int64_t k = 0; k < K; ++k)
      if (counts[size_t(k)] > 0)  // an empty cluster keeps its centre
        for (int64_t j = 0; j < D; ++j) centre[size_t(k * D + j)] = sums[size_t(k * D + j)] / double(counts[size_t(k)]);
  }
  const int64_t min_size = std::max<int64_t>(1, int64_t(step_y * step_x / 4));
  const std::vector<int64_t> connected = enforce_connectivity(label, H, W, min_size);
  return at::tensor(connected, at::TensorOptions().dtype(at::kLong)).view({H, W}).to(image.device());
}

}  // namespace glassbox::explain
