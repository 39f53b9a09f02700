// The page's samples: the PNG and JPEG files directly in one folder given at start (a served dataset's
// pictures, or the demo's faces). Requests name a sample by the name the listing gave; it is looked up in
// a fresh listing, never joined onto a path, and symbolic links are not followed.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace glassbox::serve {

class SampleFolder {
 public:
  explicit SampleFolder(std::string folder) : folder_(std::move(folder)) {}
  bool enabled() const { return !folder_.empty(); }
  // {"samples": ["a.png", ...]}: at most 500, in name order.
  nlohmann::json list() const;
  // The bytes and media type of a listed sample; nullopt for a name the listing does not hold.
  std::optional<std::pair<std::string, std::string>> read(const std::string& name) const;

 private:
  std::string folder_;
};

}  // namespace glassbox::serve
