#include "sample-folder.h"

#include <filesystem>
#include <map>

#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"

namespace fs = std::filesystem;

namespace glassbox::serve {
namespace {

constexpr size_t kMaxSamples = 500;
constexpr uint64_t kMaxSampleBytes = 32u << 20;

// name -> (path, media type) of the plain PNG and JPEG files in `folder`.
std::map<std::string, std::pair<std::string, std::string>> scan(const std::string& folder) {
  std::map<std::string, std::pair<std::string, std::string>> found;
  std::error_code ec;
  size_t looked = 0;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end && looked < 20000; it.increment(ec), ++looked) {
    const fs::path& p = it->path();
    std::string ext = p.extension().string();
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    const char* type = ext == ".png" ? "image/png" : (ext == ".jpg" || ext == ".jpeg") ? "image/jpeg" : nullptr;
    std::error_code e2;
    if (type == nullptr || fs::symlink_status(p, e2).type() != fs::file_type::regular || fs::file_size(p, e2) > kMaxSampleBytes)
      continue;
    found[p.filename().string()] = {p.string(), type};
    if (found.size() >= kMaxSamples) break;
  }
  return found;
}

}  // namespace

nlohmann::json SampleFolder::list() const {
  nlohmann::json names = nlohmann::json::array();
  if (enabled())
    for (const auto& [name, file] : scan(folder_)) names.push_back(name);
  return {{"samples", names}};
}

std::optional<std::pair<std::string, std::string>> SampleFolder::read(const std::string& name) const {
  if (!enabled()) return std::nullopt;
  const auto files = scan(folder_);
  const auto it = files.find(name);
  if (it == files.end()) return std::nullopt;
  return std::make_pair(read_file(it->second.first, kMaxSampleBytes), it->second.second);
}

}  // namespace glassbox::serve
