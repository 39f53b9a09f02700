// Joining a world of ranks: rendezvous through a c10d store (TCPStore at a master address, or a
// FileStore on a shared filesystem), then a process group (Gloo; NCCL where LibTorch has it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "glassbox/distributed/communicator.h"
#include "glassbox/util/arg.h"

namespace glassbox::distributed {

enum class Backend {
  gloo,  // CPU tensors, TCP between processes
  nccl,  // CUDA tensors, one GPU a rank: only where glassbox was built against a LibTorch with NCCL
};
const char* backend_name(Backend backend);
bool backend_available(Backend backend);

enum class RendezvousKind {
  tcp,   // a TCPStore served by rank 0 at master_addr:master_port
  file,  // a FileStore: a file every rank can reach (a shared filesystem); it must not exist yet
};

struct RendezvousOptions {
  GLASSBOX_ARG(RendezvousKind, kind) = RendezvousKind::tcp;
  GLASSBOX_ARG(std::string, master_addr) = "127.0.0.1";  // tcp: rank 0's host
  GLASSBOX_ARG(int, master_port) = 29500;                 // tcp: torchrun's default
  GLASSBOX_ARG(std::string, file);                       // file: the store's path
};

struct ProcessGroupOptions {
  GLASSBOX_ARG(int, rank) = 0;
  GLASSBOX_ARG(int, world_size) = 1;
  GLASSBOX_ARG(Backend, backend) = Backend::gloo;
  GLASSBOX_ARG(RendezvousOptions, rendezvous);
  // How long rendezvous and every collective wait for the other ranks before failing.
  GLASSBOX_ARG(std::chrono::milliseconds, timeout) = std::chrono::seconds(120);
  // nccl: the rank's GPU (usually LOCAL_RANK).
  GLASSBOX_ARG(int, device_index) = 0;
  // The job's name, the same on every rank (torchrun's TORCHELASTIC_RUN_ID): the rendezvous keeps its
  // keys under it, so that ranks of another job that reach the same store never mix with this one's.
  GLASSBOX_ARG(std::string, run_id);
};

// Throws glassbox::Error naming the option (rank, world_size, master_port, file, timeout, backend) when
// the options cannot work.
void validate(const ProcessGroupOptions& options);
// The rendezvous alone: master_addr and master_port (tcp), or the file's directory (file).
void validate(const RendezvousOptions& options);

// Joins the world; returns when every rank has joined. world_size 1 needs no rendezvous. A port in use,
// an unreachable master or a missing rank within the timeout: glassbox::Error, one line naming the
// address or file.
std::shared_ptr<Communicator> connect(const ProcessGroupOptions& options);

}  // namespace glassbox::distributed
