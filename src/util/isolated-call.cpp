#include "glassbox/util/isolated-call.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <exception>
#include <vector>

#include "glassbox/util/error.h"

namespace glassbox {
namespace {

constexpr size_t kMaxMessage = 1024;
constexpr char kResult = 'R', kFailure = 'E';
constexpr int kPipeFd = 3;  // where the child keeps its end of the pipe, every other descriptor closed

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "the sandbox's system call filter knows x86-64 and AArch64"
#endif

bool write_all(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Nothing inherited stays open (a log file, an event file the parent writes): the child can write only
// to its pipe, which sits at kPipeFd.
void close_other_descriptors(int pipe_fd) {
  if (pipe_fd != kPipeFd) {
    ::dup2(pipe_fd, kPipeFd);
    ::close(pipe_fd);
  }
  ::fcntl(kPipeFd, F_SETFD, FD_CLOEXEC);
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, kPipeFd + 1, ~0U, 0) == 0) return;
#endif
  for (int fd = kPipeFd + 1; fd < 65536; ++fd) ::close(fd);
}

[[noreturn]] void child(int out, const std::function<std::string()>& work) {
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDERR_FILENO), ::dup2(null, STDOUT_FILENO), ::close(null);
  close_other_descriptors(out);
  std::string message;
  try {
    enter_write_free_sandbox();
    const std::string result = work();
    const char tag = kResult;
    const bool sent = write_all(kPipeFd, &tag, 1) && write_all(kPipeFd, result.data(), result.size());
    ::_exit(sent ? 0 : 4);  // _exit: no atexit handlers, no flushing of stdio buffers inherited from the parent
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown error";
  }
  const size_t start = std::min(message.size(), message.find_first_not_of(" \n"));
  message = message.substr(start, message.find('\n', start) - start);
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  message.insert(message.begin(), kFailure);
  write_all(kPipeFd, message.data(), message.size());
  ::_exit(3);
}

}  // namespace

void enter_write_free_sandbox() {
  constexpr uint32_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
  constexpr uint32_t kDeny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  std::vector<sock_filter> f;
  auto stmt = [&](uint16_t code, uint32_t k) { f.push_back(BPF_STMT(code, k)); };
  auto jump = [&](uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { f.push_back(BPF_JUMP(code, k, jt, jf)); };
  // Another architecture's system call numbers mean other calls: refuse them outright.
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
  const std::vector<long> denied = {
#ifdef __NR_creat
      __NR_creat,
#endif
#ifdef __NR_rename
      __NR_rename,
#endif
#ifdef __NR_unlink
      __NR_unlink,
#endif
#ifdef __NR_link
      __NR_link,
#endif
#ifdef __NR_symlink
      __NR_symlink,
#endif
#ifdef __NR_mkdir
      __NR_mkdir,
#endif
#ifdef __NR_rmdir
      __NR_rmdir,
#endif
#ifdef __NR_chmod
      __NR_chmod,
#endif
#ifdef __NR_chown
      __NR_chown,
#endif
#ifdef __NR_mknod
      __NR_mknod,
#endif
#ifdef __NR_fork
      __NR_fork,
#endif
#ifdef __NR_vfork
      __NR_vfork,
#endif
      __NR_renameat, __NR_renameat2, __NR_unlinkat, __NR_linkat, __NR_symlinkat, __NR_mkdirat, __NR_mknodat,
      __NR_truncate, __NR_ftruncate, __NR_fchmod, __NR_fchmodat, __NR_fchown, __NR_fchownat, __NR_socket,
      __NR_socketpair, __NR_connect, __NR_bind, __NR_execve, __NR_execveat, __NR_ptrace, __NR_process_vm_writev,
      __NR_kill, __NR_mount, __NR_io_uring_setup, __NR_openat2, __NR_open_by_handle_at, __NR_name_to_handle_at,
      __NR_fallocate, __NR_utimensat, __NR_setxattr, __NR_fsetxattr, __NR_lsetxattr};
  for (const long nr : denied) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1);
    stmt(BPF_RET | BPF_K, kDeny);
  }
  // open and openat: allowed for reading only (libtorch reads /proc and its own files).
  auto open_for_reading_only = [&](long nr, int flags_arg) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 4);
    // The low 32 bits of the flags argument (little-endian: the first word).
    stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * flags_arg));
    jump(BPF_JMP | BPF_JSET | BPF_K, kWriteFlags, 0, 1);
    stmt(BPF_RET | BPF_K, kDeny);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  };
#ifdef __NR_open
  open_for_reading_only(__NR_open, 1);
#endif
  open_for_reading_only(__NR_openat, 2);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  sock_fprog program{static_cast<unsigned short>(f.size()), f.data()};
  GLASSBOX_CHECK(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "sandbox: cannot set no_new_privs (", std::strerror(errno), ")");
  GLASSBOX_CHECK(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0, "sandbox: the kernel refused the ",
                 "system call filter (", std::strerror(errno), ")");
}

std::string run_isolated_for_bytes(const std::function<std::string()>& work, const std::string& what,
                                   double timeout_seconds, uint64_t max_bytes) {
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
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  bool timed_out = false, too_much = false;
  std::vector<char> buf(1 << 16);
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
    const ssize_t n = ::read(fds[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child closed its end: it exited (or crashed)
    received.append(buf.data(), static_cast<size_t>(n));
    if (received.size() > max_bytes + 1 + kMaxMessage) {
      too_much = true;
      break;
    }
  }
  ::close(fds[0]);
  if (timed_out || too_much) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  GLASSBOX_CHECK(!timed_out, what, ": its contained check did not finish within ", timeout_seconds,
                 " s (code that never ends, or a machine too slow for that limit); stopped");
  GLASSBOX_CHECK(!too_much, what, ": its contents exceed ", max_bytes, " bytes; stopped");
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    throw Error(what + ": libtorch crashed reading it (SIG" + (name ? name : std::to_string(sig)) +
                "): the file is damaged or not what it claims to be");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !received.empty() && received[0] == kResult) {
    GLASSBOX_CHECK(received.size() - 1 <= max_bytes, what, ": its contents exceed ", max_bytes, " bytes");
    return received.substr(1);
  }
  std::string message = !received.empty() && received[0] == kFailure ? received.substr(1, kMaxMessage) : "";
  GLASSBOX_CHECK(!message.empty(), what, ": the checking process failed (exit status ",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")");
  // The child's message names `what` when it comes from glassbox; a bare one from a library gets it.
  message = printable_excerpt(message, kMaxMessage);
  throw Error(message.rfind(what, 0) == 0 ? message : what + ": " + message);
}

void run_isolated(const std::function<void()>& work, const std::string& what, double timeout_seconds) {
  run_isolated_for_bytes(
      [&] {
        work();
        return std::string();
      },
      what, timeout_seconds, 0);
}

}  // namespace glassbox
