// Text on its way to a terminal: control characters and bytes outside valid UTF-8 written as \xNN, valid
// UTF-8 in any script kept (the cases from the Unicode standard's table of well-formed sequences).
#include <gtest/gtest.h>

#include "glassbox/util/terminal-text.h"

using glassbox::terminal_text;

TEST(TerminalText, PrintableAsciiAndUtf8PassUnchanged) {
  EXPECT_EQ(terminal_text("class 7: sandal"), "class 7: sandal");
  EXPECT_EQ(terminal_text("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x90\x88"), "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x90\x88");
  EXPECT_EQ(terminal_text(""), "");
}

TEST(TerminalText, ControlCharactersAreShownNotSent) {
  EXPECT_EQ(terminal_text("\x1B]0;title\x07"), "\\x1B]0;title\\x07");
  EXPECT_EQ(terminal_text("a\nb\rc\td\x7F"), "a\\x0Ab\\x0Dc\\x09d\\x7F");
  EXPECT_EQ(terminal_text(std::string("nul\0x", 5)), "nul\\x00x");
  // C1 controls: the 8-bit CSI as one raw byte, and U+009B encoded in UTF-8.
  EXPECT_EQ(terminal_text("\x9B" "31m"), "\\x9B31m");
  EXPECT_EQ(terminal_text("\xC2\x9B" "31m"), "\\xC2\\x9B31m");
  EXPECT_EQ(terminal_text("\xC2\xA0"), "\xC2\xA0");  // U+00A0, the first code point after C1, is text
}

TEST(TerminalText, MalformedUtf8IsEscapedByteByByte) {
  EXPECT_EQ(terminal_text("\xC3"), "\\xC3");                  // cut short
  EXPECT_EQ(terminal_text("\xC0\xAF"), "\\xC0\\xAF");         // overlong '/'
  EXPECT_EQ(terminal_text("\xE0\x80\xAF"), "\\xE0\\x80\\xAF");  // overlong, three bytes
  EXPECT_EQ(terminal_text("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // a surrogate
  EXPECT_EQ(terminal_text("\xF4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(terminal_text("\xFF" "a"), "\\xFFa");
}
