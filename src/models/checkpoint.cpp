#include "glassbox/models/checkpoint.h"

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "glassbox/util/atomic-file.h"
#include "glassbox/util/error.h"

namespace glassbox::models {
namespace {

constexpr const char* kMetaKey = "glassbox_meta";
constexpr const char* kOptimizerKey = "glassbox_optimizer";
constexpr const char* kFormat = "glassbox-checkpoint-1";

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

torch::serialize::InputArchive open_archive(const std::string& path) {
  GLASSBOX_CHECK(std::filesystem::is_regular_file(path), path, ": no such checkpoint file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw Error(path + ": corrupt or not a checkpoint (" + first_line(e.what_without_backtrace()) + ")");
  }
  return archive;
}

}  // namespace

ModelOptions CheckpointMeta::model_options() const {
  return ModelOptions(architecture, shape, num_classes).hidden(hidden).conv_channels(conv_channels);
}

std::string CheckpointMeta::to_json() const {
  nlohmann::json j;
  j["format"] = kFormat;
  j["architecture"] = architecture;
  j["input_shape"] = {shape.channels, shape.height, shape.width};
  j["num_classes"] = num_classes;
  j["hidden"] = hidden;
  j["conv_channels"] = conv_channels;
  j["class_names"] = class_names;
  j["normalization"] = {{"mean", normalization.mean}, {"std", normalization.std}};
  j["epoch"] = epoch;
  j["global_step"] = global_step;
  j["metrics"] = metrics;
  j["optimizer"] = optimizer;
  j["learning_rate"] = learning_rate;
  j["seed"] = seed;
  return j.dump();
}

CheckpointMeta CheckpointMeta::from_json(const std::string& text, const std::string& path) {
  CheckpointMeta m;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    GLASSBOX_CHECK(j.at("format") == kFormat, path, ": checkpoint format ", j.at("format").dump(), ", expected ",
                   kFormat);
    m.architecture = j.at("architecture").get<std::string>();
    const auto dims = j.at("input_shape").get<std::vector<int64_t>>();
    GLASSBOX_CHECK(dims.size() == 3, path, ": input_shape has ", dims.size(), " values, expected 3");
    m.shape = InputShape{dims[0], dims[1], dims[2]};
    m.num_classes = j.at("num_classes").get<int64_t>();
    m.hidden = j.at("hidden").get<int64_t>();
    m.conv_channels = j.at("conv_channels").get<int64_t>();
    m.class_names = j.at("class_names").get<std::vector<std::string>>();
    m.normalization.mean = j.at("normalization").at("mean").get<std::vector<double>>();
    m.normalization.std = j.at("normalization").at("std").get<std::vector<double>>();
    m.epoch = j.at("epoch").get<int64_t>();
    m.global_step = j.at("global_step").get<int64_t>();
    m.metrics = j.at("metrics").get<std::map<std::string, double>>();
    m.optimizer = j.at("optimizer").get<std::string>();
    m.learning_rate = j.at("learning_rate").get<double>();
    m.seed = j.at("seed").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": bad checkpoint metadata (" + e.what() + ")");
  }
  try {
    m.normalization.validate(m.shape.channels);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return m;
}

void save_checkpoint(const std::string& path, ModuleClassifier& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  torch::serialize::OutputArchive archive;
  model.module().save(archive);
  archive.write(kMetaKey, c10::IValue(meta.to_json()));
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write(kOptimizerKey, optimizer_archive);
  }
  // Serialise to memory first so the file is written (and fsynced) in one place, atomically.
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  write_file_atomically(path, bytes);
}

namespace {

CheckpointMeta read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue meta_value;
  GLASSBOX_CHECK(archive.try_read(kMetaKey, meta_value) && meta_value.isString(), path,
                 ": not a glassbox checkpoint (no metadata record)");
  return CheckpointMeta::from_json(meta_value.toStringRef(), path);
}

void read_weights(torch::serialize::InputArchive& archive, const std::string& path, const CheckpointMeta& meta,
                  ModuleClassifier& model) {
  try {
    model.module().load(archive);
  } catch (const c10::Error& e) {
    throw Error(path + ": weights do not fit a " + meta.architecture + " model (" +
                first_line(e.what_without_backtrace()) + ")");
  }
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive = open_archive(path);
  Checkpoint ckpt;
  ckpt.meta = read_meta(archive, path);
  ckpt.model = make_model(ckpt.meta.model_options());
  read_weights(archive, path, ckpt.meta, *ckpt.model);
  return ckpt;
}

CheckpointMeta load_weights(const std::string& path, ModuleClassifier& model) {
  torch::serialize::InputArchive archive = open_archive(path);
  CheckpointMeta meta = read_meta(archive, path);
  const ModelOptions& o = model.options();
  GLASSBOX_CHECK(meta.architecture == o.architecture() && meta.num_classes == o.num_classes() &&
                     meta.shape.channels == o.shape().channels && meta.shape.height == o.shape().height &&
                     meta.shape.width == o.shape().width,
                 path, ": checkpoint holds a ", meta.architecture, " model for ", meta.shape.channels, "x",
                 meta.shape.height, "x", meta.shape.width, " inputs and ", meta.num_classes, " classes, expected ",
                 o.architecture(), " for ", o.shape().channels, "x", o.shape().height, "x", o.shape().width, " and ",
                 o.num_classes());
  read_weights(archive, path, meta, model);
  return meta;
}

void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive archive = open_archive(path);
  torch::serialize::InputArchive optimizer_archive;
  GLASSBOX_CHECK(archive.try_read(kOptimizerKey, optimizer_archive), path, ": checkpoint has no optimizer state");
  try {
    optimizer.load(optimizer_archive);
  } catch (const c10::Error& e) {
    throw Error(path + ": optimizer state does not fit (" + first_line(e.what_without_backtrace()) + ")");
  }
}

}  // namespace glassbox::models
