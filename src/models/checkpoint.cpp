#include "glassbox/models/checkpoint.h"

#include <ATen/Parallel.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize.h>

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

void read_weights(torch::serialize::InputArchive& archive, const std::string& path, const CheckpointMeta& meta,
                  ModuleClassifier& model) {
  try {
    model.module().load(archive);
  } catch (const c10::Error& e) {
    throw Error(path + ": weights do not fit a " + meta.model.architecture() + " model (" + libtorch_reason(e) + ")");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, ModuleClassifier& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  // Never write what could not be read back.
  CheckpointMeta::from_json(meta.to_json(), path + " (being written)");
  GLASSBOX_CHECK(meta.model.architecture() == model.options().architecture() &&
                     parameter_count(meta.model) == parameter_count(model.options()),
                 path, ": the metadata describes a ", meta.model.architecture(), ", not this ", model.name(), " model");
  torch::serialize::OutputArchive archive;
  model.module().save(archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write(kOptimizerKey, optimizer_archive);
  }
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  write_file_atomically(path, seal_checkpoint(bytes, meta));
}

CheckpointFile::CheckpointFile(const std::string& path, const CheckpointLoadOptions& options) : path_(path) {
  const std::string bytes = read_file(path);
  CheckedCheckpoint checked = check_checkpoint(bytes, path);
  sealed_ = checked.sealed;
  if (!sealed_ && options.isolate_unsealed()) {
    // Everything libtorch will parse, parsed first where a crash cannot take glassbox down.
    run_isolated(
        [&] {
          at::set_num_threads(1);  // a forked child has no thread pool
          auto archive = parse_archive(bytes, path);
          const CheckpointMeta meta = legacy_meta(*archive, path, checked.tensor_bytes);
          read_weights(*archive, path, meta, *std::make_unique<ModuleClassifier>(meta.model));
        },
        path, options.isolation_timeout_seconds());
  }
  archive_ = parse_archive(bytes, path);
  meta_ = sealed_ ? std::move(*checked.meta) : legacy_meta(*archive_, path, checked.tensor_bytes);
}

CheckpointFile::~CheckpointFile() = default;

std::unique_ptr<ModuleClassifier> CheckpointFile::make_model() const {
  auto model = std::make_unique<ModuleClassifier>(meta_.model);
  read_weights(*archive_, path_, meta_, *model);
  return model;
}

void CheckpointFile::load_weights(ModuleClassifier& model) const {
  const ModelOptions &m = meta_.model, &o = model.options();
  GLASSBOX_CHECK(m.architecture() == o.architecture() && m.num_classes() == o.num_classes() &&
                     m.shape().channels == o.shape().channels && m.shape().height == o.shape().height &&
                     m.shape().width == o.shape().width && m.hidden() == o.hidden() &&
                     m.conv_channels() == o.conv_channels(),
                 path_, ": checkpoint holds a ", m.architecture(), " model for ", m.shape().channels, "x",
                 m.shape().height, "x", m.shape().width, " inputs and ", m.num_classes(), " classes, expected ",
                 o.architecture(), " for ", o.shape().channels, "x", o.shape().height, "x", o.shape().width, " and ",
                 o.num_classes());
  read_weights(*archive_, path_, meta_, model);
}

bool CheckpointFile::has_optimizer_state() const {
  torch::serialize::InputArchive optimizer_archive;
  return archive_->try_read(kOptimizerKey, optimizer_archive);
}

void CheckpointFile::load_optimizer_state(torch::optim::Optimizer& optimizer) const {
  torch::serialize::InputArchive optimizer_archive;
  GLASSBOX_CHECK(archive_->try_read(kOptimizerKey, optimizer_archive), path_, ": checkpoint has no optimizer state");
  try {
    optimizer.load(optimizer_archive);
  } catch (const c10::Error& e) {
    throw Error(path_ + ": optimizer state does not fit (" + libtorch_reason(e) + ")");
  }
}

Checkpoint load_checkpoint(const std::string& path, const CheckpointLoadOptions& options) {
  const CheckpointFile file(path, options);
  return {file.meta(), file.make_model()};
}

}  // namespace glassbox::models
