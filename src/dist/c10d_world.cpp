// The c10d adapter: the only file that includes c10d (TCPStore, ProcessGroupGloo, ProcessGroupNCCL).
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if __has_include(<gloo/algorithm.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define FF_HAVE_GLOO 1
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#define FF_COMPAT_C10D
#include "src/util/torch_compat.h"

#include "src/dist/world.h"

#include <chrono>
#include <cstdlib>
#include <functional>

#include <ATen/ATen.h>

#include "src/util/error.h"

namespace ff::dist {

struct World::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::C10dBackend> backend;
  std::string name;
};

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

World::World() = default;
World::~World() = default;

std::shared_ptr<World> World::connect(const Rendezvous& r, const DistOptions& options, c10::Device device) {
  auto world = std::make_shared<World>();
  world->timeout_seconds_ = options.timeout_seconds;
  if (r.world <= 1) return world;
  world->rank_ = r.rank;
  world->size_ = r.world;
  world->local_rank_ = r.local_rank;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
  std::string backend = options.backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : options.backend;
  if (backend == "nccl" && !device.is_cuda())
    fail("dist.backend nccl needs the training tensors on a CUDA device (train.device), they are on {}", device.str());
  world->device_ = backend == "nccl" ? device : c10::Device(c10::kCPU);
  auto group = std::make_unique<Group>();
  group->name = backend;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(r.master_port);
    store_options.isServer = r.rank == 0;
    store_options.numWorkers = static_cast<size_t>(r.world);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(r.master_addr, store_options);
    group->store = c10::make_intrusive<c10d::PrefixStore>("faceforge/" + backend, tcp);
  } catch (const std::exception& e) {
    fail("rank {} of {}: rendezvous at {}:{} failed within {} s (is rank 0 running, and MASTER_ADDR/MASTER_PORT "
         "the same on every rank?): {}",
         r.rank, r.world, r.master_addr, r.master_port, options.timeout_seconds, e.what());
  }
  try {
    if (backend == "gloo") {
#ifdef FF_HAVE_GLOO
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
      // Loopback for single-node worlds (always reachable); otherwise the interface named by
      // GLOO_SOCKET_IFNAME, else the address this host's name resolves to.
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (is_loopback(r.master_addr))
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      gloo_options->threads = 2;
      group->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, r.rank, r.world, gloo_options);
#else
      fail("dist.backend gloo: this LibTorch build has no Gloo headers (use nccl with CUDA tensors)");
#endif
    } else {
#ifdef USE_C10D_NCCL
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create(false);
      nccl_options->timeout = timeout;
      group->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store, r.rank, r.world, nccl_options);
#else
      fail("dist.backend nccl: this LibTorch build has no NCCL (it is a CPU build); use gloo");
#endif
    }
  } catch (const ff::Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("rank {} of {}: creating the {} process group failed: {}", r.rank, r.world, backend, e.what());
  }
  world->group_ = std::move(group);
  return world;
}

std::string World::backend() const { return group_ ? group_->name : "none"; }

namespace {

// Runs one collective and waits for it, turning any c10d failure into one line naming the rank.
void run(const char* what, int rank, int size, double timeout_seconds,
         const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
  try {
    auto work = start();
    work->wait(std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000)));
  } catch (const std::exception& e) {
    std::string message = e.what();
    if (auto newline = message.find('\n'); newline != std::string::npos) message.resize(newline);
    fail("rank {} of {}: {} failed — another rank exited or did not answer within {} s (dist.timeout_seconds): {}",
         rank, size, what, timeout_seconds, message);
  }
}

// The tensor on the group's device (itself when already there): what the backend accepts.
at::Tensor on_device(const at::Tensor& tensor, c10::Device device) {
  return tensor.device() == device ? tensor : tensor.to(device);
}

}  // namespace

void World::all_reduce(at::Tensor& tensor, ReduceOp op) {
  if (!group_) return;
  std::vector<at::Tensor> tensors{on_device(tensor, device_)};
  c10d::AllreduceOptions options;
  options.reduceOp = op == ReduceOp::sum ? c10d::ReduceOp::SUM : c10d::ReduceOp::MAX;
  run("all_reduce", rank_, size_, timeout_seconds_, [&] { return group_->backend->allreduce(tensors, options); });
  if (!tensors[0].is_same(tensor)) tensor.copy_(tensors[0]);
}

std::vector<at::Tensor> World::all_gather(const at::Tensor& tensor) {
  if (!group_) return {tensor};
  std::vector<at::Tensor> inputs{on_device(tensor, device_).contiguous()};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < size_; ++r) outputs[0].push_back(at::empty_like(inputs[0]));
  run("all_gather", rank_, size_, timeout_seconds_, [&] { return group_->backend->allgather(outputs, inputs); });
  if (tensor.device() != device_)
    for (auto& t : outputs[0]) t = t.to(tensor.device());
  return outputs[0];
}

at::Tensor World::all_gather_cat(const at::Tensor& tensor) {
  if (!group_) return tensor;
  return at::cat(all_gather(tensor), 0);
}

void World::broadcast(at::Tensor& tensor, int root) {
  if (!group_) return;
  std::vector<at::Tensor> tensors{on_device(tensor, device_)};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  run("broadcast", rank_, size_, timeout_seconds_, [&] { return group_->backend->broadcast(tensors, options); });
  if (!tensors[0].is_same(tensor)) tensor.copy_(tensors[0]);
}

std::string World::broadcast_string(const std::string& text, int root) {
  if (!group_) return text;
  at::Tensor length = at::tensor(static_cast<int64_t>(text.size()));
  broadcast(length, root);
  at::Tensor bytes = at::zeros({length.item<int64_t>()}, at::kByte);
  if (rank_ == root) std::copy(text.begin(), text.end(), bytes.data_ptr<uint8_t>());
  broadcast(bytes, root);
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), static_cast<size_t>(bytes.numel()));
}

void World::barrier() {
  if (!group_) return;
  // A one-element all-reduce instead of c10d's barrier: it needs no device guess and obeys the timeout.
  at::Tensor token = at::zeros({1});
  all_reduce(token);
}

}  // namespace ff::dist
