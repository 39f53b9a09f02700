#include "torchscript-output.h"

#include <ATen/core/Dict.h>
#include <ATen/core/List.h>
#include <ATen/core/jit_type.h>

#include <vector>

#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

// The elements of a tuple or a list of tensors, with the tuple's field names where it is a named tuple.
std::vector<c10::IValue> elements_of(const c10::IValue& out, std::vector<std::string>* names) {
  std::vector<c10::IValue> items;
  if (out.isTuple()) {
    const auto& tuple = out.toTupleRef();
    for (const c10::IValue& v : tuple.elements()) items.push_back(v);
    if (names != nullptr) {
      const auto fields = tuple.type()->names();
      if (fields && fields->size() == items.size())
        for (const auto& f : *fields) names->emplace_back(f.data(), f.size());
    }
  } else if (out.isList()) {
    for (const c10::IValue& v : out.toListRef()) items.push_back(v);
  }
  return items;
}

bool looks_like_logits(const c10::IValue& v, int64_t batch) {
  if (!v.isTensor()) return false;
  const at::Tensor& t = v.toTensor();
  return t.dim() == 2 && t.size(0) == batch && at::isFloatingType(t.scalar_type());
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() <= 6 && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

LogitsSelection::LogitsSelection(const c10::IValue& out, const std::string& stated, int64_t batch, const std::string& path)
    : path_(path) {
  const std::string shown = printable_excerpt(stated, 64);
  if (out.isTensor()) {
    GLASSBOX_CHECK_PARAM(stated.empty() || stated == "0", "logits", shown, path, " returns a single tensor; leave logits unset");
    return;
  }
  if (out.isGenericDict()) {
    const c10::impl::GenericDict dict = out.toGenericDict();
    std::string keys;
    for (const auto& item : dict) {
      if (!item.key().isString()) continue;
      const std::string key = item.key().toStringRef();
      keys += (keys.empty() ? "" : ", ") + printable_excerpt(key, 32);
      if ((stated.empty() && key_.empty() && looks_like_logits(item.value(), batch)) || key == stated) key_ = key;
    }
    GLASSBOX_CHECK_PARAM(!key_.empty(), "logits", stated.empty() ? std::string("(first [B, classes] tensor)") : shown,
                         path, " returns a dict with keys ", keys.empty() ? std::string("(none that are strings)") : keys,
                         stated.empty() ? ", none a [B, classes] floating tensor: name the key" : ", not this one");
    kind_ = Kind::key;
    description_ = "'" + printable_excerpt(key_, 32) + "' of the dict forward returns";
    return;
  }
  std::vector<std::string> names;
  const std::vector<c10::IValue> items = elements_of(out, &names);
  GLASSBOX_CHECK_PARAM(out.isTuple() || out.isList(), "logits", shown.empty() ? std::string("(unset)") : shown, path,
                       " returns ", out.tagKind(), ", expected a tensor, a tuple, a list or a dict holding the logits");
  bool found = false;
  for (size_t i = 0; i < items.size() && !found; ++i) {
    const bool named = i < names.size() && names[i] == stated;
    if ((stated.empty() && looks_like_logits(items[i], batch)) || named || (is_index(stated) && std::stoul(stated) == i))
      index_ = i, found = true;
  }
  std::string fields;
  for (const std::string& n : names) fields += (fields.empty() ? "" : ", ") + printable_excerpt(n, 32);
  GLASSBOX_CHECK_PARAM(found, "logits", stated.empty() ? std::string("(first [B, classes] tensor)") : shown, path,
                       " returns a ", out.tagKind(), " of ", items.size(), " elements", fields.empty() ? "" : " (" + fields + ")",
                       stated.empty() ? ", none a [B, classes] floating tensor: name one" : ", none of them this one");
  kind_ = Kind::element;
  description_ = "element " + std::to_string(index_) +
                 (index_ < names.size() ? " ('" + printable_excerpt(names[index_], 32) + "')" : std::string()) + " of the " +
                 (out.isTuple() ? (names.empty() ? "tuple" : "named tuple") : "list") + " forward returns";
}

at::Tensor LogitsSelection::operator()(const c10::IValue& out) const {
  c10::IValue v;
  switch (kind_) {
    case Kind::tensor: v = out; break;
    case Kind::key:
      if (out.isGenericDict()) {
        const c10::impl::GenericDict dict = out.toGenericDict();
        const auto it = dict.find(c10::IValue(key_));
        if (it != dict.end()) v = it->value();
      }
      break;
    case Kind::element: {
      const std::vector<c10::IValue> items = elements_of(out, nullptr);
      if (index_ < items.size()) v = items[index_];
      break;
    }
  }
  GLASSBOX_CHECK(v.isTensor(), path_, ": forward returned ", out.tagKind(), " where the logits were ",
                 description_.empty() ? std::string("a tensor") : description_, " before");
  return v.toTensor();
}

}  // namespace glassbox::models
