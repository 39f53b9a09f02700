// Untrusted text on its way to a terminal: class names, file names, event text, a model's own print().
// A terminal obeys escape sequences (ESC [ ..., and the 8-bit CSI 0x9B) that move the cursor, rewrite
// what is on the screen, set the window title or, in some terminals, answer back: such bytes are shown,
// never sent.
#pragma once

#include <string>
#include <string_view>

namespace glassbox {

// `text` with every control character (C0, DEL, C1 — U+0080..U+009F) and every byte that is not part of
// valid UTF-8 written as \xNN; printable ASCII and valid UTF-8 (names in any script) pass unchanged.
std::string terminal_text(std::string_view text);

}  // namespace glassbox
