// Running risky work in a child process first. libtorch 1.13's unpickler and TorchScript parser crash
// (SIGSEGV, heap corruption) on some malformed files; run in a forked child, such a crash becomes an
// error message instead of the end of glassbox. The child shares nothing back: callers repeat the work
// in their own process once the child has shown that it completes.
#pragma once

#include <functional>
#include <string>

namespace glassbox {

// Forks; the child runs `work` with its standard error silenced and exits. Returns when the child
// exits 0. Throws glassbox::Error, on one line naming `what`:
//   - with the first line of the message of the exception `work` threw in the child;
//   - when the child is killed by a signal ("crashed ... (SIGSEGV)");
//   - when it runs longer than `timeout_seconds` (it is then killed).
// `work` must not rely on threads of the parent (a forked child has only the calling thread).
void run_isolated(const std::function<void()>& work, const std::string& what, double timeout_seconds);

}  // namespace glassbox
