#include "glassbox/models/checkpoint.h"

#include <ATen/Parallel.h>
#include <torch/nn/module.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include <iostream>
#include <sstream>
#include <type_traits>

#include "glassbox/models/checkpoint-format.h"
#include "glassbox/models/checkpoint-seal.h"
#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/isolated-call.h"

namespace glassbox::models {
namespace {

// glassbox 0.1 kept its metadata as a string in the pickle; format 2 keeps it in its own entry.
constexpr const char* kLegacyMetaKey = "glassbox_meta";
constexpr const char* kOptimizerKey = "glassbox_optimizer";

std::string first_line(const std::string& s) {
  const size_t start = s.find_first_not_of(" \n");
  return start == std::string::npos ? "" : s.substr(start, s.find('\n', start) - start);
}

std::string libtorch_reason(const c10::Error& e) { return printable_excerpt(first_line(e.what_without_backtrace()), 200); }

// ------------------------------------------------------------------------------ format 3: tensors

// The optimizer keys its per-parameter state by the parameter's TensorImpl: as a string in LibTorch 1.x,
// as the pointer itself in 2.x.
using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
template <class Key>
Key state_key_as(c10::TensorImpl* impl) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;  // how LibTorch 1.x spells the key (c10::guts::to_string of the pointer)
    s << impl;
    return s.str();
  } else {
    return static_cast<Key>(impl);
  }
}
StateMap::key_type state_key(const at::Tensor& p) { return state_key_as<StateMap::key_type>(p.unsafeGetTensorImpl()); }

std::vector<at::Tensor> optimizer_parameters(const torch::optim::Optimizer& optimizer) {
  std::vector<at::Tensor> out;
  for (const auto& group : optimizer.param_groups())
    for (const at::Tensor& p : group.params()) out.push_back(p);
  return out;
}

// Tensors to write, kept alive as contiguous CPU float copies while their bytes are viewed.
struct TensorList {
  std::vector<at::Tensor> keep;
  std::vector<SafetensorsTensor> list;
  void add(const std::string& name, const at::Tensor& t) {
    at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
    keep.push_back(c);
    SafetensorsTensor s;
    s.name = name;
    s.dtype = SafetensorsDtype::F32;
    s.shape.assign(c.sizes().begin(), c.sizes().end());
    s.bytes = std::string_view(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * 4);
    list.push_back(std::move(s));
  }
};

std::string encode(ModuleClassifier& model, const torch::optim::Optimizer* optimizer, const CheckpointMeta& meta) {
  TensorList t;
  for (const auto& p : model.module().named_parameters(true)) t.add("model." + p.key(), p.value());
  for (const auto& b : model.module().named_buffers(true)) t.add("model." + b.key(), b.value());
  std::string kind;
  std::map<int64_t, int64_t> steps;
  if (optimizer != nullptr) {
    kind = dynamic_cast<const torch::optim::SGD*>(optimizer) ? "sgd" : "adam";
    const std::vector<at::Tensor> params = optimizer_parameters(*optimizer);
    const auto& state = optimizer->state();
    for (size_t i = 0; i < params.size(); ++i) {
      const auto it = state.find(state_key(params[i]));
      if (it == state.end()) continue;
      const std::string prefix = "optimizer." + std::to_string(i) + ".";
      if (const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(it->second.get())) {
        steps[static_cast<int64_t>(i)] = adam->step();
        t.add(prefix + "exp_avg", adam->exp_avg());
        t.add(prefix + "exp_avg_sq", adam->exp_avg_sq());
        if (adam->max_exp_avg_sq().defined()) t.add(prefix + "max_exp_avg_sq", adam->max_exp_avg_sq());
      } else if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(it->second.get())) {
        if (sgd->momentum_buffer().defined()) t.add(prefix + "momentum_buffer", sgd->momentum_buffer());
      }
    }
  }
  return encode_checkpoint(meta, kind, steps, t.list);
}

// The tensor called `name`, checked to have `like`'s shape, as a CPU float tensor over the file's bytes.
at::Tensor stored_tensor(const CheckpointContents& c, const std::string& name, const at::Tensor& like, const std::string& path) {
  const SafetensorsTensor* s = c.tensors.find(name);
  GLASSBOX_CHECK(s != nullptr, path, ": tensor '", printable_excerpt(name, 80), "' is missing");
  GLASSBOX_CHECK(s->dtype == SafetensorsDtype::F32 && c10::IntArrayRef(s->shape) == like.sizes(), path, ": tensor '",
                 printable_excerpt(name, 80), "' is ", safetensors_dtype_name(s->dtype), " ", c10::IntArrayRef(s->shape),
                 ", expected F32 ", like.sizes());
  // from_blob does not copy: the caller copies out before the bytes go away. The bytes may be unaligned.
  at::Tensor t = at::empty(like.sizes(), at::kFloat);
  std::memcpy(t.data_ptr(), s->bytes.data(), s->bytes.size());
  return t;
}

void read_weights(const CheckpointContents& c, const std::string& path, ModuleClassifier& model) {
  torch::NoGradGuard no_grad;
  size_t expected = 0;
  auto copy_in = [&](const std::string& name, at::Tensor target) {
    const at::Tensor stored = stored_tensor(c, "model." + name, target, path);
    target.copy_(stored);
    ++expected;
  };
  for (const auto& p : model.module().named_parameters(true)) copy_in(p.key(), p.value());
  for (const auto& b : model.module().named_buffers(true)) copy_in(b.key(), b.value());
  size_t stored = 0;
  for (const SafetensorsTensor& t : c.tensors.tensors) stored += t.name.rfind("model.", 0) == 0;
  GLASSBOX_CHECK(stored == expected, path, ": holds ", stored, " model tensors, a ", model.options().architecture(),
                 " model of its metadata has ", expected);
}

void read_optimizer_state(const CheckpointContents& c, const std::string& path, torch::optim::Optimizer& optimizer) {
  const bool sgd = dynamic_cast<torch::optim::SGD*>(&optimizer) != nullptr;
  GLASSBOX_CHECK(!c.optimizer_kind.empty(), path, ": checkpoint has no optimizer state");
  GLASSBOX_CHECK(c.optimizer_kind == (sgd ? "sgd" : "adam"), path, ": optimizer state is ", c.optimizer_kind, "'s, the ",
                 "optimizer is ", sgd ? "sgd" : "adam");
  const std::vector<at::Tensor> params = optimizer_parameters(optimizer);
  for (const auto& [i, step] : c.adam_steps)
    GLASSBOX_CHECK(i < static_cast<int64_t>(params.size()), path, ": optimizer state for parameter ", i, " of ", params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string prefix = "optimizer." + std::to_string(i) + ".";
    const at::Tensor& p = params[i];
    if (sgd) {
      if (c.tensors.find(prefix + "momentum_buffer") == nullptr) continue;
      auto state = std::make_unique<torch::optim::SGDParamState>();
      state->momentum_buffer(stored_tensor(c, prefix + "momentum_buffer", p, path).to(p.device()));
      optimizer.state()[state_key(p)] = std::move(state);
      continue;
    }
    const auto step = c.adam_steps.find(static_cast<int64_t>(i));
    if (step == c.adam_steps.end()) continue;
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(step->second);
    state->exp_avg(stored_tensor(c, prefix + "exp_avg", p, path).to(p.device()));
    state->exp_avg_sq(stored_tensor(c, prefix + "exp_avg_sq", p, path).to(p.device()));
    if (c.tensors.find(prefix + "max_exp_avg_sq") != nullptr)
      state->max_exp_avg_sq(stored_tensor(c, prefix + "max_exp_avg_sq", p, path).to(p.device()));
    optimizer.state()[state_key(p)] = std::move(state);
  }
}

// ------------------------------------------------------------------ earlier formats: zip archives

std::unique_ptr<torch::serialize::InputArchive> parse_archive(const std::string& bytes, const std::string& path) {
  auto archive = std::make_unique<torch::serialize::InputArchive>();
  try {
    // Onto the CPU whatever device wrote it: a checkpoint saved from a GPU loads on a machine without one.
    archive->load_from(bytes.data(), bytes.size(), c10::Device(c10::kCPU));
  } catch (const c10::Error& e) {
    throw Error(path + ": not a readable checkpoint (" + libtorch_reason(e) + ")");
  } catch (const std::exception& e) {  // the TorchScript importer's ErrorReport is not a c10::Error
    throw Error(path + ": not a readable checkpoint (" + printable_excerpt(first_line(e.what()), 200) + ")");
  }
  return archive;
}

CheckpointMeta legacy_meta(torch::serialize::InputArchive& archive, const std::string& path, uint64_t tensor_bytes) {
  c10::IValue value;
  GLASSBOX_CHECK(archive.try_read(kLegacyMetaKey, value) && value.isString(), path,
                 ": not a glassbox checkpoint (no glassbox metadata)");
  CheckpointMeta meta = CheckpointMeta::from_json(value.toStringRef(), path);
  check_weights_fit(meta.model, tensor_bytes, path);
  return meta;
}

// Run only in the contained child: libtorch's unpickler reads the archive (it may run code the file
// carries), and what it read comes back as a format-3 file, which is all the parent ever parses.
std::string convert_zip_checkpoint(const std::string& bytes, const std::string& path) {
  const CheckedCheckpoint checked = check_checkpoint(bytes, path);
  auto archive = parse_archive(bytes, path);
  const CheckpointMeta meta = checked.sealed ? *checked.meta : legacy_meta(*archive, path, checked.tensor_bytes);
  ModuleClassifier model(meta.model);
  try {
    model.module().load(*archive);
  } catch (const c10::Error& e) {
    throw Error(path + ": weights do not fit a " + meta.model.architecture() + " model (" + libtorch_reason(e) + ")");
  }
  torch::serialize::InputArchive optimizer_archive;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (archive->try_read(kOptimizerKey, optimizer_archive)) {
    if (meta.optimizer == "sgd")
      optimizer = std::make_unique<torch::optim::SGD>(model.parameters(), torch::optim::SGDOptions(meta.learning_rate));
    else
      optimizer = std::make_unique<torch::optim::Adam>(model.parameters(), torch::optim::AdamOptions(meta.learning_rate));
    try {
      optimizer->load(optimizer_archive);
    } catch (const c10::Error& e) {
      throw Error(path + ": optimizer state does not fit (" + libtorch_reason(e) + ")");
    }
  }
  return encode(model, optimizer.get(), meta);
}

}  // namespace

void save_checkpoint(const std::string& path, ModuleClassifier& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  // Never write what could not be read back.
  CheckpointMeta::from_json(meta.to_json(), path + " (being written)");
  GLASSBOX_CHECK(meta.model.architecture() == model.options().architecture() &&
                     parameter_count(meta.model) == parameter_count(model.options()),
                 path, ": the metadata describes a ", meta.model.architecture(), ", not this ", model.name(), " model");
  write_file_atomically(path, encode(model, optimizer, meta));
}

struct CheckpointFile::Contents {
  std::string bytes;  // format 3, read from the file or converted from an earlier format
  CheckpointContents decoded;
};

CheckpointFile::CheckpointFile(const std::string& path, const CheckpointLoadOptions& options)
    : path_(path), contents_(std::make_unique<Contents>()) {
  std::string bytes = read_file(path, options.max_file_bytes());
  if (is_zip_checkpoint(bytes)) {
    GLASSBOX_CHECK(options.convert_earlier_formats(), path,
                   ": a checkpoint in an earlier glassbox format (a TorchScript archive, which holds code); expected ",
                   kCheckpointFormat3);
    check_checkpoint(bytes, path);  // the container and digests, before anything parses it
    // Parsed only in a contained child, which sends back the same contents in the data-only format.
    contents_->bytes = run_isolated_for_bytes(
        [&] {
          at::set_num_threads(1);  // a forked child has no thread pool
          return convert_zip_checkpoint(bytes, path);
        },
        path, options.isolation_timeout_seconds(), options.max_file_bytes());
    converted_ = true;
    std::cerr << "glassbox: warning: " << printable_excerpt(path, 200)
              << ": an earlier checkpoint format, which holds code; it was read in a contained process. Re-save it "
                 "as data only: glassbox upgrade-checkpoint "
              << printable_excerpt(path, 200) << " NEW.ckpt\n";
  } else {
    contents_->bytes = std::move(bytes);
  }
  contents_->decoded = decode_checkpoint(contents_->bytes, path);
  // Whatever the metadata says, the weights must fit its architecture: checked now, so that every use
  // of the file can rely on it.
  ModuleClassifier probe(contents_->decoded.meta.model);
  read_weights(contents_->decoded, path_, probe);
}

CheckpointFile::~CheckpointFile() = default;

const CheckpointMeta& CheckpointFile::meta() const { return contents_->decoded.meta; }

std::unique_ptr<ModuleClassifier> CheckpointFile::make_model() const {
  auto model = std::make_unique<ModuleClassifier>(meta().model);
  read_weights(contents_->decoded, path_, *model);
  return model;
}

void CheckpointFile::load_weights(ModuleClassifier& model) const {
  const ModelOptions &m = meta().model, &o = model.options();
  GLASSBOX_CHECK(m.architecture() == o.architecture() && m.num_classes() == o.num_classes() &&
                     m.shape().channels == o.shape().channels && m.shape().height == o.shape().height &&
                     m.shape().width == o.shape().width && m.hidden() == o.hidden() &&
                     m.conv_channels() == o.conv_channels(),
                 path_, ": checkpoint holds a ", m.architecture(), " model for ", m.shape().channels, "x",
                 m.shape().height, "x", m.shape().width, " inputs and ", m.num_classes(), " classes, expected ",
                 o.architecture(), " for ", o.shape().channels, "x", o.shape().height, "x", o.shape().width, " and ",
                 o.num_classes());
  read_weights(contents_->decoded, path_, model);
}

bool CheckpointFile::has_optimizer_state() const { return !contents_->decoded.optimizer_kind.empty(); }

void CheckpointFile::load_optimizer_state(torch::optim::Optimizer& optimizer) const {
  read_optimizer_state(contents_->decoded, path_, optimizer);
}

void CheckpointFile::save_as(const std::string& path) const { write_file_atomically(path, contents_->bytes); }

Checkpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options) {
  const CheckpointFile file(path, options);
  return {file.meta(), file.make_model()};
}

}  // namespace glassbox::models
