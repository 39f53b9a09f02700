// The page's files, embedded in the binary when it is built (from src/serve/page/): the server reads
// nothing from disk to serve its page, and a machine without internet gets the whole page.
#pragma once

#include <string_view>

namespace glassbox::serve {

struct PageAsset {
  const char* path;        // "/", "/app.js", "/style.css"
  const char* media_type;
  std::string_view body;
};

// Every embedded file; the end is marked by a null path.
extern const PageAsset kPageAssets[];

}  // namespace glassbox::serve
