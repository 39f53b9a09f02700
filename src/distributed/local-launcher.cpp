#include "glassbox/distributed/local-launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "glassbox/distributed/process-group.h"
#include "glassbox/util/error.h"

extern char** environ;

namespace glassbox::distributed {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t stop_signal = 0;
void on_stop_signal(int signal) { stop_signal = signal; }

constexpr const char* kErrorPrefix = "glassbox: error: ";
constexpr size_t kMaxLine = 4096;  // longer lines are forwarded in pieces

struct Rank {
  int local = 0, global = 0;
  pid_t pid = -1;
  int stderr_fd = -1;
  std::string partial;     // an unfinished line
  std::string error_line;  // its last error line, held back
  bool running = false;
  bool stopped_by_us = false;
  int status = 0;
};

void write_all(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void handle_line(Rank& r, const std::string& line) {
  if (line.compare(0, std::strlen(kErrorPrefix), kErrorPrefix) == 0) {
    r.error_line = line;
    return;
  }
  write_all(STDERR_FILENO, (r.global == 0 ? "" : "[rank " + std::to_string(r.global) + "] ") + line + "\n");
}

// Reads what is there; false at end of file.
bool read_stderr(Rank& r) {
  char buffer[4096];
  const ssize_t n = ::read(r.stderr_fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    if (!r.partial.empty()) handle_line(r, r.partial), r.partial.clear();
    ::close(r.stderr_fd);
    r.stderr_fd = -1;
    return false;
  }
  r.partial.append(buffer, static_cast<size_t>(n));
  for (size_t end; (end = r.partial.find('\n')) != std::string::npos || r.partial.size() >= kMaxLine;) {
    if (end == std::string::npos) end = kMaxLine;
    handle_line(r, r.partial.substr(0, end));
    r.partial.erase(0, std::min(end + 1, r.partial.size()));
  }
  return true;
}

// The job's name, shared by its ranks: the caller's TORCHELASTIC_RUN_ID when set; on one machine a
// random one, so that two jobs started there on the same port never take each other's ranks for their
// own; across machines none (each node's launcher would draw another: set TORCHELASTIC_RUN_ID alike on
// every node to keep jobs apart there too).
std::string job_name(const LocalLaunchOptions& o) {
  if (const char* given = std::getenv("TORCHELASTIC_RUN_ID"); given != nullptr && *given != '\0') return given;
  if (o.nnodes() > 1) return "";
  std::random_device random;
  char name[17];
  std::snprintf(name, sizeof name, "%08x%08x", random(), random());
  return name;
}

std::vector<std::string> environment_for(const LocalLaunchOptions& o, const Rank& rank, const std::string& job) {
  static const char* const kOurs[] = {"RANK",        "WORLD_SIZE",  "LOCAL_RANK",         "LOCAL_WORLD_SIZE",
                                      "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID"};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    bool ours = false;
    for (const char* name : kOurs) {
      const size_t n = std::strlen(name);
      ours = ours || (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=');
    }
    if (!ours) env.emplace_back(*e);
  }
  env.push_back("RANK=" + std::to_string(rank.global));
  env.push_back("WORLD_SIZE=" + std::to_string(o.nnodes() * o.nproc_per_node()));
  env.push_back("LOCAL_RANK=" + std::to_string(rank.local));
  env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(o.nproc_per_node()));
  env.push_back("MASTER_ADDR=" + o.master_addr());
  env.push_back("MASTER_PORT=" + std::to_string(o.master_port()));
  if (!job.empty()) env.push_back("TORCHELASTIC_RUN_ID=" + job);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

void start(Rank& r, const std::string& program, std::vector<std::string> argv, std::vector<std::string> env) {
  int fds[2];
  GLASSBOX_CHECK(::pipe2(fds, O_CLOEXEC) == 0, "cannot start rank ", r.global, ": ", std::strerror(errno));
  // Everything the child needs is built before fork: between fork and exec it only makes system calls.
  std::vector<char*> args = pointers(argv), envp = pointers(env);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]), ::close(fds[1]);
    throw Error("cannot start rank " + std::to_string(r.global) + ": " + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(program.c_str(), args.data(), envp.data());
    const char message[] = "glassbox: error: cannot start a rank: exec failed\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(2);
  }
  ::close(fds[1]);
  r.pid = pid;
  r.stderr_fd = fds[0];
  r.running = true;
}

void signal_all(std::vector<Rank>& ranks, int signal) {
  for (Rank& r : ranks)
    if (r.running) {
      r.stopped_by_us = true;
      ::kill(r.pid, signal);
      if (signal == SIGTERM) ::kill(r.pid, SIGCONT);  // a stopped rank must run to take its SIGTERM
    }
}

bool failed(const Rank& r) { return !r.stopped_by_us && !(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0); }

// Which failure stopped the run: a rank killed from outside first, then one that failed on its own
// (2: bad input), then one that failed because another did (1: a peer closed its connection).
int severity(const Rank& r) {
  if (WIFSIGNALED(r.status)) return 3;
  return WEXITSTATUS(r.status) == 2 ? 2 : 1;
}

// Binds a TCP socket to `address`:`port` and closes it again; port 0 asks for any free port and gets
// the one bound. Returns 0, or the errno of what failed.
int bind_probe(uint32_t address, int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  const int on = 1;
  if (port != 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as the store will bind it
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = address;
  a.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t size = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0;
  const int error = ok ? 0 : errno;
  ::close(fd);
  if (ok) port = ntohs(a.sin_port);
  return error;
}

}  // namespace

void validate(const LocalLaunchOptions& o) {
  GLASSBOX_CHECK(o.nproc_per_node() >= 1 && o.nproc_per_node() <= 1024, "nproc_per_node ", o.nproc_per_node(),
                 ": expected 1..1024");
  GLASSBOX_CHECK(o.nnodes() >= 1 && o.nnodes() <= 4096, "nnodes ", o.nnodes(), ": expected 1..4096");
  GLASSBOX_CHECK(o.node_rank() >= 0 && o.node_rank() < o.nnodes(), "node_rank ", o.node_rank(), ": expected 0..",
                 o.nnodes() - 1, " (nnodes ", o.nnodes(), ")");
  validate(RendezvousOptions().master_addr(o.master_addr()).master_port(o.master_port()));
}

int free_local_port() {
  int port = 0;
  const int error = bind_probe(htonl(INADDR_LOOPBACK), port);
  GLASSBOX_CHECK(error == 0, "cannot pick a port: ", std::strerror(error));
  return port;
}

std::string port_unavailable(int port) {
  const int error = bind_probe(htonl(INADDR_ANY), port);
  return error == 0 ? std::string() : std::strerror(error);
}

int launch_local_ranks(const std::string& program, const std::vector<std::string>& arguments,
                       const LocalLaunchOptions& o) {
  validate(o);
  stop_signal = 0;
  struct sigaction action {}, old_int{}, old_term{};
  action.sa_handler = on_stop_signal;
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);

  std::vector<Rank> ranks(static_cast<size_t>(o.nproc_per_node()));
  bool stopping = false;
  Clock::time_point kill_at{};
  auto stop = [&] {
    if (stopping) return;
    stopping = true;
    signal_all(ranks, SIGTERM);
    kill_at = Clock::now() + o.stop_grace();
  };
  const std::string job = job_name(o);
  try {
    for (int i = 0; i < o.nproc_per_node(); ++i) {
      Rank& r = ranks[static_cast<size_t>(i)];
      r.local = i;
      r.global = o.node_rank() * o.nproc_per_node() + i;
      start(r, program, arguments, environment_for(o, r, job));
    }
  } catch (const Error&) {
    stop();
    for (Rank& r : ranks)
      if (r.running) ::waitpid(r.pid, &r.status, 0);
    throw;
  }

  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Rank*> owners;
    for (Rank& r : ranks)
      if (r.stderr_fd >= 0) fds.push_back({r.stderr_fd, POLLIN, 0}), owners.push_back(&r);
    if (!fds.empty() && ::poll(fds.data(), fds.size(), 100) > 0) {
      for (size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents != 0) read_stderr(*owners[i]);
    } else if (fds.empty()) {
      ::usleep(100 * 1000);
    }
    bool any_running = false;
    for (Rank& r : ranks) {
      if (r.running && ::waitpid(r.pid, &r.status, WNOHANG) == r.pid) {
        r.running = false;
        if (failed(r)) stop();
      }
      any_running = any_running || r.running;
    }
    if (stop_signal != 0) stop();
    if (stopping && any_running && Clock::now() >= kill_at) signal_all(ranks, SIGKILL);
    bool open = false;
    for (const Rank& r : ranks) open = open || r.stderr_fd >= 0;
    if (!any_running && !open) break;
    if (!any_running)  // exited: read what is left of their output
      for (Rank& r : ranks)
        while (r.stderr_fd >= 0 && read_stderr(r)) {
        }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);

  const Rank* cause = nullptr;
  for (const Rank& r : ranks)
    if (failed(r) && (cause == nullptr || severity(r) > severity(*cause))) cause = &r;
  if (cause == nullptr) {
    if (stop_signal == 0) return 0;
    write_all(STDERR_FILENO, std::string(kErrorPrefix) + "interrupted (" + ::strsignal(stop_signal) +
                                 "): stopped every rank\n");
    return 128 + stop_signal;
  }
  if (WIFSIGNALED(cause->status)) {
    const int signal = WTERMSIG(cause->status);
    write_all(STDERR_FILENO, std::string(kErrorPrefix) + "rank " + std::to_string(cause->global) + " (pid " +
                                 std::to_string(cause->pid) + ") was killed by signal " + std::to_string(signal) +
                                 " (" + ::strsignal(signal) + "); the other ranks were stopped\n");
    return 1;
  }
  write_all(STDERR_FILENO, cause->error_line.empty()
                               ? std::string(kErrorPrefix) + "rank " + std::to_string(cause->global) +
                                     " exited with status " + std::to_string(WEXITSTATUS(cause->status)) + "\n"
                               : cause->error_line + "\n");
  return WEXITSTATUS(cause->status);
}

}  // namespace glassbox::distributed
