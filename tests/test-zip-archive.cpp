// The zip container check, against archives written by an independent writer (Python's zipfile):
// stored, deflated and zip64 archives read back exactly; every kind of damage is an error naming the
// file; a deflate stream that inflates past its declared size is stopped at that size.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "glassbox/util/error.h"
#include "glassbox/util/file-bytes.h"
#include "glassbox/util/zip-archive.h"
#include "test-support.h"

using glassbox::ZipArchive;
namespace fs = std::filesystem;

namespace {

// Runs a Python snippet with `path` as sys.argv[1]; returns the file it wrote.
std::string python_zip(const std::string& dir, const std::string& name, const std::string& body) {
  const std::string script = dir + "/" + name + ".py", path = dir + "/" + name + ".zip";
  std::ofstream(script) << "import sys, zipfile, zlib\n" << body;
  const auto r = glassbox::testing::run_command("/usr/bin/python3 " + script + " " + path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return glassbox::read_file(path);
}

std::string error_of(const std::string& bytes) {
  try {
    ZipArchive z(bytes, "t.zip");
  } catch (const glassbox::Error& e) {
    return e.what();
  }
  return "";
}

void put_le(std::string& s, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

TEST(ZipArchive, ReadsWhatPythonWrites) {
  const std::string dir = glassbox::testing::scratch_dir("zip-python");
  const std::string bytes = python_zip(dir, "mixed", R"(
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr(zipfile.ZipInfo("archive/data.pkl"), b"pickle" * 100, compress_type=zipfile.ZIP_STORED)
    z.writestr(zipfile.ZipInfo("archive/code/x.py"), b"def f(): pass\n" * 300, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo("archive/empty"), b"", compress_type=zipfile.ZIP_STORED)
    z.comment = b"a comment"
)");
  const ZipArchive z(bytes, "mixed.zip");
  ASSERT_EQ(z.entries().size(), 3u);
  EXPECT_EQ(z.prefix(), "archive/");
  EXPECT_EQ(z.read(*z.find("archive/data.pkl")), [] { std::string s; for (int i = 0; i < 100; ++i) s += "pickle"; return s; }());
  EXPECT_EQ(z.find("archive/code/x.py")->method, 8);
  EXPECT_EQ(z.read(*z.find("archive/code/x.py")).size(), 14u * 300);
  EXPECT_EQ(z.read(*z.find("archive/empty")), "");
  EXPECT_EQ(z.comment(), "a comment");
  EXPECT_EQ(z.find("nope"), nullptr);
}

TEST(ZipArchive, ReadsZip64ArchivesAndDataDescriptors) {
  const std::string dir = glassbox::testing::scratch_dir("zip-64");
  // force_zip64 writes zip64 extra fields; a non-seekable stream makes Python write data descriptors.
  const std::string bytes = python_zip(dir, "z64", R"(
import io
class Stream(io.RawIOBase):
    def __init__(self, f): self.f = f
    def writable(self): return True
    def write(self, b): return self.f.write(b)
with open(sys.argv[1], "wb") as f:
    with zipfile.ZipFile(Stream(f), "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("m/a.bin", "w", force_zip64=True) as e: e.write(bytes(range(256)) * 40)
        with z.open("m/b.bin", "w") as e: e.write(b"xyz" * 1000)
)");
  const ZipArchive z(bytes, "z64.zip");
  ASSERT_EQ(z.entries().size(), 2u);
  const std::string a = z.read(*z.find("m/a.bin"));
  ASSERT_EQ(a.size(), 256u * 40);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(static_cast<uint8_t>(a[i]), i % 256) << i;
  EXPECT_EQ(z.read(*z.find("m/b.bin")).size(), 3000u);
}

TEST(ZipArchive, DamageIsAnErrorNamingTheFile) {
  const std::string dir = glassbox::testing::scratch_dir("zip-damage");
  const std::string good = python_zip(dir, "good", R"(
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("t/a", b"A" * 1000, compress_type=zipfile.ZIP_STORED)
    z.writestr("t/b", b"B" * 1000, compress_type=zipfile.ZIP_DEFLATED)
)");
  ASSERT_EQ(error_of(good), "");
  // Every single-byte deletion and every truncation.
  for (size_t i = 0; i < good.size(); ++i) {
    const std::string deleted = good.substr(0, i) + good.substr(i + 1);
    const std::string what = error_of(deleted);
    EXPECT_EQ(what.rfind("t.zip: ", 0), 0u) << "deletion at " << i << ": " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
    EXPECT_EQ(error_of(good.substr(0, i)).rfind("t.zip: ", 0), 0u) << "truncation at " << i;
  }
  // Stored data changed: its CRC-32 no longer matches.
  std::string flipped = good;
  flipped[good.find("AAAA") + 10] = 'C';
  EXPECT_NE(error_of(flipped).find("CRC-32 mismatch"), std::string::npos);
  // The central directory moved past the end record.
  std::string moved = good;
  const size_t end = good.rfind(std::string("PK\x05\x06", 4));
  put_le(moved, end + 16, good.size(), 4);
  EXPECT_NE(error_of(moved).find("central directory"), std::string::npos);
  EXPECT_NE(error_of("").find("too short"), std::string::npos);
  EXPECT_NE(error_of(std::string(100, 'x')).find("no zip end record"), std::string::npos);
}

TEST(ZipArchive, DeflateStreamsAreHeldToTheirDeclaredSize) {
  const std::string dir = glassbox::testing::scratch_dir("zip-bomb");
  // 10 MB of zeros deflated to ~10 KB, declared in the directory (and the local header) as 1,000 bytes.
  const std::string bomb = python_zip(dir, "bomb", R"(
import struct
data = b"\0" * (10 << 20)
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("t/x", data, compress_type=zipfile.ZIP_DEFLATED)
raw = bytearray(open(sys.argv[1], "rb").read())
i = raw.find(b"PK\x01\x02"); struct.pack_into("<I", raw, i + 24, 1000)
struct.pack_into("<I", raw, 22, 1000)
open(sys.argv[1], "wb").write(raw)
)");
  const std::string what = error_of(bomb);
  EXPECT_NE(what.find("inflates to more than its declared 1000 bytes"), std::string::npos) << what;
  // A declared size deflate could never produce from so few bytes is refused before inflating.
  const std::string liar = python_zip(dir, "liar", R"(
import struct
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("t/x", b"abc" * 10, compress_type=zipfile.ZIP_DEFLATED)
raw = bytearray(open(sys.argv[1], "rb").read())
i = raw.find(b"PK\x01\x02"); struct.pack_into("<I", raw, i + 24, 4000000000)
struct.pack_into("<I", raw, 22, 4000000000)
open(sys.argv[1], "wb").write(raw)
)");
  EXPECT_NE(error_of(liar).find("more than deflate can produce"), std::string::npos) << error_of(liar);
}

// A valid archive whose one entry inflates to 512 MiB of zeros (from about half a megabyte): checking it
// inflates piece by piece, so memory does not grow by the entry's size; a cap on the whole is refused by
// the declared sizes alone.
TEST(ZipArchive, CheckingAValidBombAllocatesNothingOfItsSize) {
  const std::string dir = glassbox::testing::scratch_dir("zip-valid-bomb");
  const std::string bomb = python_zip(dir, "zeros", R"(
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("t/zeros", "w", force_zip64=True) as f:
        block = b"\0" * (1 << 20)
        for _ in range(512):
            f.write(block)
)");
  ASSERT_LT(bomb.size(), 4u << 20);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const ZipArchive zip(bomb, "zeros.zip");
  getrusage(RUSAGE_SELF, &after);
  ASSERT_EQ(zip.entries().size(), 1u);
  EXPECT_EQ(zip.entries()[0].size, uint64_t(512) << 20);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "kB of peak memory grew while checking";
  glassbox::ZipLimits limits;
  limits.max_total_bytes = uint64_t(256) << 20;
  std::string what;
  try {
    ZipArchive capped(bomb, "zeros.zip", limits);
  } catch (const glassbox::Error& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("zeros.zip: its entries declare more than 268435456 bytes in all"), std::string::npos) << what;
}

TEST(ZipArchive, AppendedEntriesAreReadByPython) {
  const std::string dir = glassbox::testing::scratch_dir("zip-append");
  const std::string base = python_zip(dir, "base", R"(
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("p/a", b"first", compress_type=zipfile.ZIP_DEFLATED)
)");
  const ZipArchive z(base, "base.zip");
  const std::string out = glassbox::zip_append(z, base, {{"p/new.json", "{\"k\": 1}"}}, "the comment");
  std::ofstream(dir + "/out.zip", std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
  const auto r = glassbox::testing::run_command(
      "/usr/bin/python3 -c \"import zipfile; z = zipfile.ZipFile('" + dir +
      "/out.zip'); assert z.testzip() is None; print(z.read('p/a').decode(), z.read('p/new.json').decode(), z.comment.decode())\"");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "first {\"k\": 1} the comment\n");
  const ZipArchive back(out, "out.zip");
  EXPECT_EQ(back.read(*back.find("p/new.json")), "{\"k\": 1}");
}
