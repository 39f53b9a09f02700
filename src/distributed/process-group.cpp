// The only file that speaks to c10d. Stores and process groups are built the way
// torch.distributed.init_process_group builds them (TCPStore served by rank 0, or FileStore), and
// every c10d or Gloo failure becomes one line naming the rank and what it was doing.
#include "glassbox/distributed/process-group.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <c10/util/Logging.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GLASSBOX_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "glassbox/util/watchdog.h"

namespace glassbox::distributed {
namespace {

// The first line of a c10d or Gloo message, without the source location Gloo puts first
// ("[.../pair.cc:598] Connection closed by peer ...").
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  const size_t start = text.find_first_not_of(" \n");
  text = start == std::string::npos ? "" : text.substr(start, text.find('\n', start) - start);
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("] ");
    if (close != std::string::npos) text = text.substr(close + 2);
  }
  return printable_excerpt(text, 200);
}

// Why a rendezvous failed, said plainly for the two common cases (c10d's messages list every address it
// tried), else c10d's first line.
std::string join_failure(const std::exception& e, const ProcessGroupOptions& o) {
  const std::string text = first_line(e);
  const bool tcp = o.rendezvous().kind() == RendezvousKind::tcp;
  if (tcp && text.find("Address already in use") != std::string::npos)
    return "port " + std::to_string(o.rendezvous().master_port()) + " is in use on this machine; expected a free "
           "port (MASTER_PORT)";
  if (tcp && text.find("timed out") != std::string::npos)
    return fmt::format("no rank 0 answered within {:g} s", double(o.timeout().count()) / 1000) + "; expected rank 0 to serve the rendezvous there (MASTER_ADDR, MASTER_PORT; the timeout)";
  return text;
}

std::string where(int rank, int world_size, const std::string& activity) {
  std::string s = "rank " + std::to_string(rank) + " of " + std::to_string(world_size);
  if (!activity.empty()) s += " (" + activity + ")";
  return s;
}

// Gloo on CPU, NCCL on the rank's GPU: the same calls on both groups.
template <typename Group>
class C10dCommunicator final : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int rank, int world_size,
                   c10::Device device)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), world_size_(world_size), device_(device) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  c10::Device device() const override { return device_; }

  void broadcast(at::Tensor& tensor, int root, const char* what) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    finish(run("broadcast", what, [&] { return group_->broadcast(tensors, options); }), "broadcast", what);
  }

  void all_reduce_sum(at::Tensor& tensor, const char* what) override { start_all_reduce_sum(tensor, what)->wait(); }

  std::unique_ptr<PendingCollective> start_all_reduce_sum(at::Tensor tensor, const char* what) override {
    auto tensors = std::make_shared<std::vector<at::Tensor>>(std::vector<at::Tensor>{std::move(tensor)});
    auto work = run("all-reduce", what, [&] { return group_->allreduce(*tensors); });
    struct Pending final : PendingCollective {
      C10dCommunicator* self;
      c10::intrusive_ptr<c10d::Work> work;
      std::shared_ptr<std::vector<at::Tensor>> tensors;  // alive until the work is done
      const char* what;
      Pending(C10dCommunicator* s, c10::intrusive_ptr<c10d::Work> w, std::shared_ptr<std::vector<at::Tensor>> t,
              const char* wh)
          : self(s), work(std::move(w)), tensors(std::move(t)), what(wh) {}
      void wait() override { self->finish(work, "all-reduce", what); }
    };
    return std::make_unique<Pending>(this, std::move(work), std::move(tensors), what);
  }

  std::vector<at::Tensor> all_gather(const at::Tensor& tensor, const char* what) override {
    std::vector<at::Tensor> inputs{tensor.contiguous()};
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int r = 0; r < world_size_; ++r) outputs[0].push_back(at::empty_like(inputs[0]));
    finish(run("all-gather", what, [&] { return group_->allgather(outputs, inputs); }), "all-gather", what);
    return outputs[0];
  }

  void barrier(const char* what) override {
    finish(run("barrier", what, [&] { return group_->barrier(); }), "barrier", what);
  }

 private:
  [[noreturn]] void fail(const char* op, const char* what, const std::exception& e) const {
    throw DistributedError(where(rank_, world_size_, activity()) + ": " + op + " of " + what +
                           " failed: " + first_line(e) + " (another rank stopped, or did not answer in time)");
  }

  template <typename Start>
  c10::intrusive_ptr<c10d::Work> run(const char* op, const char* what, Start&& start) {
    try {
      return start();
    } catch (const std::exception& e) {
      fail(op, what, e);
    }
  }

  void finish(const c10::intrusive_ptr<c10d::Work>& work, const char* op, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      fail(op, what, e);
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;  // the group talks through it while it lives
  c10::intrusive_ptr<Group> group_;
  int rank_, world_size_;
  c10::Device device_;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// As PyTorch picks Gloo's network device: GLOO_SOCKET_IFNAME when set; the loopback address for a
// master on this machine; otherwise the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const RendezvousOptions& r) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0')
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (r.kind() == RendezvousKind::tcp && is_loopback(r.master_addr()))
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::Store> make_store(const ProcessGroupOptions& o) {
  const RendezvousOptions& r = o.rendezvous();
  if (r.kind() == RendezvousKind::file) {
    auto store = c10::make_intrusive<c10d::FileStore>(r.file(), o.world_size());
    store->setTimeout(o.timeout());
    return store;
  }
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(r.master_port());
  options.isServer = o.rank() == 0;
  options.numWorkers = static_cast<std::size_t>(o.world_size());
  options.waitWorkers = true;
  options.timeout = o.timeout();
  return c10::make_intrusive<c10d::TCPStore>(r.master_addr(), options);
}

std::string rendezvous_name(const RendezvousOptions& r) {
  return r.kind() == RendezvousKind::file ? "file " + r.file()
                                          : "master " + r.master_addr() + ":" + std::to_string(r.master_port());
}

}  // namespace

const char* backend_name(Backend backend) { return backend == Backend::nccl ? "nccl" : "gloo"; }

bool backend_available(Backend backend) {
#ifdef GLASSBOX_WITH_NCCL
  return true;
#else
  return backend == Backend::gloo;
#endif
}

void validate(const ProcessGroupOptions& o) {
  GLASSBOX_CHECK(o.world_size() >= 1 && o.world_size() <= 65536, "world_size ", o.world_size(), ": expected 1..65536");
  GLASSBOX_CHECK(o.rank() >= 0 && o.rank() < o.world_size(), "rank ", o.rank(), ": expected 0..", o.world_size() - 1,
                 " (world_size ", o.world_size(), ")");
  GLASSBOX_CHECK(o.timeout().count() >= 1000, "timeout ", o.timeout().count(), " ms: expected at least 1 s");
  GLASSBOX_CHECK(backend_available(o.backend()), "backend ", backend_name(o.backend()),
                 ": this glassbox was built against a LibTorch without it (expected gloo)");
  validate(o.rendezvous());
}

void validate(const RendezvousOptions& r) {
  if (r.kind() == RendezvousKind::tcp) {
    GLASSBOX_CHECK(r.master_port() >= 1 && r.master_port() <= 65535, "master_port ", r.master_port(),
                   ": expected 1..65535");
    GLASSBOX_CHECK(!r.master_addr().empty() && r.master_addr().size() <= 255, "master_addr '",
                   printable_excerpt(r.master_addr()), "': expected a host name or address");
  } else {
    GLASSBOX_CHECK(!r.file().empty(), "rendezvous file: expected a path");
    const std::filesystem::path parent = std::filesystem::absolute(r.file()).parent_path();
    GLASSBOX_CHECK(std::filesystem::is_directory(parent), "rendezvous file ", printable_excerpt(r.file(), 200),
                   ": its directory does not exist");
    // Never through a link (c10d appends to the file), never a directory (c10d dies of it).
    std::error_code ec;
    const auto status = std::filesystem::symlink_status(r.file(), ec);
    GLASSBOX_CHECK(!std::filesystem::is_symlink(status), "rendezvous file ", printable_excerpt(r.file(), 200),
                   ": a symbolic link; expected a regular file or nothing");
    GLASSBOX_CHECK(!std::filesystem::exists(status) || std::filesystem::is_regular_file(status), "rendezvous file ",
                   printable_excerpt(r.file(), 200), ": not a regular file; expected a regular file or nothing");
  }
}

// c10d reports a failed bind or a connection timeout twice: in LibTorch's log on stderr and in the
// exception it throws, which becomes glassbox's one-line error. The log is silenced unless the user
// asks for it (GLOG_minloglevel, TORCH_CPP_LOG_LEVEL).
namespace {
void quiet_libtorch_log() {
  if (std::getenv("GLOG_minloglevel") != nullptr || std::getenv("TORCH_CPP_LOG_LEVEL") != nullptr) return;
#ifdef C10_USE_GLOG
  FLAGS_minloglevel = std::max<int>(FLAGS_minloglevel, google::GLOG_FATAL);
#endif
  using namespace c10;  // the flag is global, or in c10, depending on how LibTorch was built
  FLAGS_caffe2_log_level = std::max<int>(FLAGS_caffe2_log_level, 3);  // c10's own logging: FATAL only
}

}  // namespace

// c10d's TCPStore client waits without a deadline for the answer of whatever holds the master port (an
// HTTP server, a peer that reads and never answers, eight junk bytes), and a FileStore over a file of
// other bytes waits forever too: nothing in c10d can stop those waits. So joining has a watchdog: past
// the timeout (and a grace of 2 s, so that c10d's own, more precise errors come first where it has
// them), it ends the process (util/watchdog.h).
std::shared_ptr<Communicator> connect(const ProcessGroupOptions& o) {
  validate(o);
  if (o.world_size() == 1) return single_process();
  quiet_libtorch_log();
  const std::string who = rendezvous_name(o.rendezvous()) + ": rank " + std::to_string(o.rank()) + " of " +
                          std::to_string(o.world_size());
  const Watchdog watchdog(
      printable_excerpt(who, 300) + fmt::format(" could not join within {:g} s", double(o.timeout().count()) / 1000) +
          // Rank 0 serves the rendezvous: what it lacks is the others; the others lack a rendezvous.
          (o.rank() == 0
               ? fmt::format(": the other {} rank{} did not join (expected them to start and reach this rendezvous)",
                             o.world_size() - 1, o.world_size() == 2 ? "" : "s")
           : o.rendezvous().kind() == RendezvousKind::tcp
               ? ": nothing answered as a c10d store there (expected rank 0 of this job at MASTER_ADDR:MASTER_PORT)"
               : ": the file holds no rendezvous of this job (expected a new or empty file for the ranks to share)"),
      o.timeout() + std::chrono::milliseconds(2000));
  c10::intrusive_ptr<c10d::Store> store;
  try {
    // Keys under the job's name: another job's rank that reaches this store (two jobs started at once on
    // one port, where one's rank 0 lost the port to the other's) then waits for its own peers and times
    // out, instead of taking a rank's place in this job.
    store = c10::make_intrusive<c10d::PrefixStore>("glassbox/" + o.run_id(), make_store(o));
  } catch (const std::exception& e) {
    throw Error(rendezvous_name(o.rendezvous()) + ": rank " + std::to_string(o.rank()) + " of " +
                std::to_string(o.world_size()) + " could not join: " + join_failure(e, o));
  }
  try {
    if (o.backend() == Backend::gloo) {
      auto options = c10d::ProcessGroupGloo::Options::create(o.timeout());
      options->devices.push_back(gloo_device(o.rendezvous()));
      options->threads = 2;
      auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank(), o.world_size(), options);
      return std::make_shared<C10dCommunicator<c10d::ProcessGroupGloo>>(store, group, o.rank(), o.world_size(),
                                                                         c10::Device(c10::kCPU));
    }
#ifdef GLASSBOX_WITH_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = o.timeout();
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.rank(), o.world_size(), options);
    return std::make_shared<C10dCommunicator<c10d::ProcessGroupNCCL>>(
        store, group, o.rank(), o.world_size(), c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(o.device_index())));
#endif
  } catch (const std::exception& e) {
    throw Error(rendezvous_name(o.rendezvous()) + ": rank " + std::to_string(o.rank()) + " of " +
                std::to_string(o.world_size()) + " could not connect to the others: " + first_line(e));
  }
  throw Error(std::string("backend ") + backend_name(o.backend()) + ": not available");
}

}  // namespace glassbox::distributed
