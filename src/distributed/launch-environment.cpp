#include "glassbox/distributed/launch-environment.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <optional>

#include "glassbox/util/error.h"

namespace glassbox::distributed {
namespace {

std::optional<long long> integer(const GetEnvironment& get, const char* name, long long low, long long high,
                                 const char* expected) {
  const char* text = get(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  // Digits only: strtoll alone also takes leading blanks and a sign.
  bool digits = true;
  for (const char* c = text; *c; ++c) digits = digits && *c >= '0' && *c <= '9';
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  GLASSBOX_CHECK(digits && errno == 0 && end != text && *end == '\0' && value >= low && value <= high, "environment ", name, "='",
                 printable_excerpt(text), "': expected ", expected);
  return value;
}

}  // namespace

LaunchEnvironment read_launch_environment(const GetEnvironment& given) {
  const GetEnvironment get = given ? given : [](const char* name) -> const char* { return std::getenv(name); };
  LaunchEnvironment env;
  const auto world = integer(get, "WORLD_SIZE", 1, 65536, "a number of ranks, 1..65536");
  const auto rank = integer(get, "RANK", 0, 65535, "a rank, 0..65535");
  GLASSBOX_CHECK(world.has_value() == rank.has_value(), "environment ", world ? "WORLD_SIZE" : "RANK", "='",
                 printable_excerpt(get(world ? "WORLD_SIZE" : "RANK")), "' is set but ", world ? "RANK" : "WORLD_SIZE",
                 " is not: expected both, as torchrun sets them");
  if (world) {
    env.launched = true;
    env.world_size = static_cast<int>(*world);
    env.rank = static_cast<int>(*rank);
    GLASSBOX_CHECK(env.rank < env.world_size, "environment RANK='", env.rank, "': expected 0..", env.world_size - 1,
                   " (WORLD_SIZE is ", env.world_size, ")");
  }
  env.local_world_size = static_cast<int>(
      integer(get, "LOCAL_WORLD_SIZE", 1, env.world_size, "a number of ranks on this machine, 1..WORLD_SIZE")
          .value_or(env.world_size));
  env.local_rank = static_cast<int>(
      integer(get, "LOCAL_RANK", 0, env.local_world_size - 1, "a rank on this machine, 0..LOCAL_WORLD_SIZE-1")
          .value_or(env.rank % env.local_world_size));
  if (const char* addr = get("MASTER_ADDR"); addr != nullptr) env.master_addr = addr;
  GLASSBOX_CHECK(env.master_addr.size() <= 255, "environment MASTER_ADDR='", printable_excerpt(env.master_addr),
                 "': expected a host name or address");
  env.master_port = static_cast<int>(integer(get, "MASTER_PORT", 1, 65535, "a port, 1..65535").value_or(0));
  if (const char* id = get("TORCHELASTIC_RUN_ID"); id != nullptr) env.run_id = id;
  GLASSBOX_CHECK(env.run_id.size() <= 128 && printable_excerpt(env.run_id, 128) == env.run_id,
                 "environment TORCHELASTIC_RUN_ID='", printable_excerpt(env.run_id), "': expected a name of at most 128 "
                 "printable characters");
  return env;
}

}  // namespace glassbox::distributed
