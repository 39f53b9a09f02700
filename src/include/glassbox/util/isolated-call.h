// Running risky work in a contained child process. libtorch's unpickler and TorchScript loader run the
// code a file carries (a class's __setstate__, a module's methods) and crash (SIGSEGV, heap corruption)
// on some malformed files. In a forked child, a crash becomes an error message instead of the end of
// glassbox, and a sandbox (seccomp-bpf, installed before the work starts) keeps the code from acting on
// the machine: opening or creating any file for writing, renaming, removing or linking files, making
// directories, sockets and connections, and executing programs all fail with EPERM.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace glassbox {

// Forks; the child installs the sandbox, runs `work` with its standard output and error silenced, and
// exits. Returns when the child exits 0. Throws glassbox::Error, on one line naming `what`:
//   - with the first line of the message of the exception `work` threw in the child;
//   - when the child is killed by a signal ("crashed ... (SIGSEGV)");
//   - when it runs longer than `timeout_seconds` (it is then killed).
// `work` must not rely on threads of the parent (a forked child has only the calling thread).
void run_isolated(const std::function<void()>& work, const std::string& what, double timeout_seconds);

// The same, for work that produces bytes: what `work` returned in the child, at most `max_bytes` of it
// (more is an error).
std::string run_isolated_for_bytes(const std::function<std::string()>& work, const std::string& what,
                                   double timeout_seconds, uint64_t max_bytes);

// Installs the sandbox described above in the calling process, for good (exposed for tests). Throws
// glassbox::Error when the kernel refuses it.
void enter_write_free_sandbox();

}  // namespace glassbox
