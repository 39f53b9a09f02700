// Base64 (RFC 4648, standard alphabet, padded) for the bytes that travel inside JSON: images sent to the
// server and attributions sent back. OpenSSL does the coding; the strictness is ours.
#pragma once

#include <string>
#include <string_view>

namespace glassbox::serve {

std::string base64_encode(std::string_view bytes);

// Decodes `text`, also given as a data URL ("data:image/png;base64,..."), ignoring line breaks. Throws
// glassbox::Error::about(field, ...) for a character outside the alphabet, misplaced padding or a length
// that is not a whole number of quads, and when the decoded bytes would exceed `max_bytes`.
std::string base64_decode(std::string_view text, const std::string& field, size_t max_bytes);

}  // namespace glassbox::serve
