// The contained process's sandbox, from the system calls it refuses: in a child that entered it, files
// open for reading but not for writing, creating, truncating or appending; nothing can be renamed,
// removed, linked or made; no socket opens and no program runs. And run_isolated_for_bytes hands back
// what the child produced, or its error, crash or time-out as one line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "glassbox/util/error.h"
#include "glassbox/util/isolated-call.h"
#include "test-support.h"

namespace fs = std::filesystem;

namespace {

// Runs `probe` in a forked child after it entered the sandbox; returns its exit status (0: as expected).
int in_sandbox(const std::function<int()>& probe) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      glassbox::enter_write_free_sandbox();
    } catch (...) {
      _exit(100);
    }
    _exit(probe());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

}  // namespace

TEST(Sandbox, RefusesEveryWayOfChangingTheMachine) {
  const std::string dir = glassbox::testing::scratch_dir("sandbox");
  const std::string existing = dir + "/existing", fresh = dir + "/fresh";
  { std::ofstream(existing) << "kept"; }
  EXPECT_EQ(in_sandbox([&] {
              const int fd = open(existing.c_str(), O_RDONLY);
              if (fd < 0) return 1;  // reading stays allowed
              char c;
              if (read(fd, &c, 1) != 1) return 2;
              close(fd);
              for (const int flags : {O_WRONLY, O_RDWR, O_WRONLY | O_CREAT, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND})
                if (openat(AT_FDCWD, existing.c_str(), flags, 0644) >= 0 || errno != EPERM) return 3;
              if (open(fresh.c_str(), O_CREAT | O_RDONLY, 0644) >= 0 || errno != EPERM) return 4;
              if (rename(existing.c_str(), fresh.c_str()) == 0 || unlink(existing.c_str()) == 0) return 5;
              if (mkdir(fresh.c_str(), 0755) == 0 || symlink(existing.c_str(), fresh.c_str()) == 0) return 6;
              if (truncate(existing.c_str(), 0) == 0) return 7;
              if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || socket(AF_UNIX, SOCK_STREAM, 0) >= 0) return 8;
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              execv("/bin/true", argv);
              return errno == EPERM ? 0 : 9;
            }),
            0);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(glassbox::testing::read_all(existing), "kept");
}

TEST(Sandbox, IsolatedCallsReturnBytesErrorsCrashesAndTimeOuts) {
  EXPECT_EQ(glassbox::run_isolated_for_bytes([] { return std::string(200000, 'x') + "end"; }, "work", 10, 1 << 20),
            std::string(200000, 'x') + "end");
  auto error_of = [](const std::function<void()>& f) { return glassbox::testing::error_message_of<glassbox::Error>(f); };
  EXPECT_EQ(error_of([] { glassbox::run_isolated([] { throw glassbox::Error("work: bad\nsecond line"); }, "work", 10); }),
            "work: bad");
  EXPECT_NE(error_of([] { glassbox::run_isolated([] { std::raise(SIGSEGV); }, "work", 10); }).find("crashed reading it (SIGSEGV)"),
            std::string::npos);
  EXPECT_NE(error_of([] { glassbox::run_isolated([] { for (;;) pause(); }, "work", 0.5); }).find("its contained check did not finish within 0.5 s"),
            std::string::npos);
  EXPECT_NE(error_of([] { glassbox::run_isolated_for_bytes([] { return std::string(5000, 'x'); }, "work", 10, 100); })
                .find("exceed 100 bytes"),
            std::string::npos);
}
