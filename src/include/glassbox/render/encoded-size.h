// The size of an encoded figure, read from its header.
#pragma once

#include <string>

namespace glassbox::render {

// Width and height from a PNG's IHDR or a GIF's logical screen descriptor; false if neither.
bool encoded_image_size(const std::string& bytes, int& width, int& height);

}  // namespace glassbox::render
