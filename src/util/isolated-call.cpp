#include "glassbox/util/isolated-call.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>

#include "glassbox/util/error.h"

namespace glassbox {
namespace {

constexpr size_t kMaxMessage = 1024;

[[noreturn]] void child(int out, const std::function<void()>& work) {
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDERR_FILENO), ::dup2(null, STDOUT_FILENO);
  std::string message;
  try {
    work();
    ::_exit(0);  // _exit: no atexit handlers, no flushing of stdio buffers inherited from the parent
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown error";
  }
  const size_t start = std::min(message.size(), message.find_first_not_of(" \n"));
  message = message.substr(start, message.find('\n', start) - start);
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  size_t done = 0;
  while (done < message.size()) {
    const ssize_t n = ::write(out, message.data() + done, message.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::_exit(3);
}

}  // namespace

void run_isolated(const std::function<void()>& work, const std::string& what, double timeout_seconds) {
  int fds[2];
  GLASSBOX_CHECK(::pipe2(fds, O_CLOEXEC) == 0, what, ": cannot create a pipe (", std::strerror(errno), ")");
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]), ::close(fds[1]);
    throw Error(what + ": cannot fork a checking process (" + std::strerror(err) + ")");
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], work);
  }
  ::close(fds[1]);
  std::string message;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child closed its end: it exited (or crashed)
    if (message.size() < kMaxMessage) message.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  GLASSBOX_CHECK(!timed_out, what, ": still loading after ", timeout_seconds, " s; stopped");
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    throw Error(what + ": libtorch crashed reading it (SIG" + (name ? name : std::to_string(sig)) +
                "): the file is damaged or not what it claims to be");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  GLASSBOX_CHECK(!message.empty(), what, ": the checking process failed (exit status ",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")");
  // The child's message names `what` when it comes from glassbox; a bare one from a library gets it.
  message = printable_excerpt(message, kMaxMessage);
  throw Error(message.rfind(what, 0) == 0 ? message : what + ": " + message);
}

}  // namespace glassbox
