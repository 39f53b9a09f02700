#include "glassbox/models/classifier.h"

#include "glassbox/models/backward-rules.h"
#include "glassbox/util/error.h"

namespace glassbox::models {

std::vector<std::pair<std::string, at::Tensor>> Classifier::named_parameters() {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const at::Tensor& p : parameters()) out.emplace_back(std::to_string(out.size()), p);
  return out;
}

LayerForward Classifier::forward_with_layer(const at::Tensor&, const std::string& layer) {
  throw Error::about("layer", layer, "the model " + name() + " has no named layers");
}

at::Tensor Classifier::forward_replacing_layer(const at::Tensor&, const std::string& layer, const at::Tensor&) {
  throw Error::about("layer", layer, "the model " + name() + " has no named layers");
}

AttentionForward Classifier::forward_with_attention(const at::Tensor&) {
  throw Error::about("model", name(), "has no attention modules (nn.MultiheadAttention in a TorchScript module)");
}

at::Tensor Classifier::forward_with_rules(const at::Tensor&, const BackwardRules& rules) {
  throw Error::about("method", rules.method(), "the model " + name() + " cannot run with a changed backward");
}

std::string layer_names(const std::vector<LayerInfo>& layers) {
  std::string out;
  for (const LayerInfo& l : layers) out += (out.empty() ? "" : ", ") + l.name;
  return out.empty() ? "none" : out;
}

}  // namespace glassbox::models
