// A training run's directory (--logdir): one run at a time. Four runs into one directory used to mix
// their metrics.csv rows and claim each other's checkpoints; now a run claims the directory for its
// lifetime and a second run stops with one line naming the first. A directory that holds an earlier,
// finished run is only continued with resume (then metrics.csv keeps the rows up to the checkpoint).
#pragma once

#include <string>

namespace glassbox::train {

class RunDirectory {
 public:
  // Creates `dir` (and its parents) if needed and claims it: an exclusive lock on dir/.glassbox-run.lock
  // (flock: released when the process ends, however it ends), which records who holds it. Throws
  // glassbox::Error naming `flag` and the directory when another process holds it, or when it holds an
  // earlier run (metrics.csv, checkpoints/, event files) and `resuming` is false.
  RunDirectory(const std::string& dir, bool resuming, const std::string& flag = "logdir");
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
  int lock_fd_ = -1;
};

}  // namespace glassbox::train
