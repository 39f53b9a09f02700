#include "glassbox/models/backward-rules.h"

#include "glassbox/util/enum-names.h"

namespace glassbox::models {
namespace {
const char* const kLayerRuleNames[] = {"gradient", "epsilon", "gamma", "zplus", "zbox"};  // LayerRule's order
}  // namespace

LayerRule parse_layer_rule(const std::string& name) { return enum_from_name<LayerRule>(kLayerRuleNames, name, "rule"); }
const char* layer_rule_name(LayerRule rule) { return enum_name(kLayerRuleNames, rule); }

bool BackwardRules::changes_backward() const {
  return activation_ != ActivationRule::gradient || rescale_max_pool_ || relevance_ || (first_layer_ && *first_layer_ != LayerRule::gradient) ||
         convolutions_ != LayerRule::gradient || dense_ != LayerRule::gradient;
}

std::string BackwardRules::structure_key() const {
  return std::to_string(int(activation_)) + (rescale_max_pool_ ? "m" : "_") + (relevance_ ? "r" : "_") +
         (first_layer_ ? std::to_string(int(*first_layer_)) : std::string("k")) + std::to_string(int(convolutions_)) + std::to_string(int(dense_));
}

}  // namespace glassbox::models
