// The one distributed layer: the collectives training needs (all-reduce, all-gather, broadcast,
// barrier) on a c10d process group — Gloo for CPU tensors, NCCL for CUDA ones. A single process is
// a world of one through the same calls, which then return at once without copying. A tensor on
// another device than the group's (a CPU counter in an NCCL world) is staged through the group's
// device and copied back, so callers pass bookkeeping tensors without caring which backend runs.
//
// Every collective waits at most DistOptions::timeout_seconds; a failure (a peer rank that exited,
// a timeout) becomes one ff::Error naming this rank, the collective and what c10d reported.
// Usage: auto world = World::connect(rendezvous_from_env(), options.dist);
//        world->all_reduce(loss_sum); auto parts = world->all_gather(embeddings);
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "src/dist/dist_options.h"
#include "src/dist/rendezvous.h"

namespace ff::dist {

enum class ReduceOp { sum, max };

class World {
 public:
  World();  // a world of one (rank 0 of 1), no process group
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Joins the process group the rendezvous describes (rank 0 hosts the TCP store at
  // master_addr:master_port); a world size of 1 gives a world of one. `device`: where the
  // training tensors live (a CUDA device: backend auto picks NCCL, whose collectives run there).
  static std::shared_ptr<World> connect(const Rendezvous& rendezvous, const DistOptions& options,
                                        c10::Device device = c10::kCPU);

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }
  std::string backend() const;  // "none" for a world of one, else "gloo" / "nccl"
  c10::Device device() const { return device_; }  // where collectives run (CPU for Gloo)

  // In place on every rank. Gloo has no average: callers sum and divide.
  void all_reduce(at::Tensor& tensor, ReduceOp op = ReduceOp::sum);
  // Every rank's tensor (same shape and dtype on each), in rank order.
  std::vector<at::Tensor> all_gather(const at::Tensor& tensor);
  // The gathered tensors concatenated along dimension 0.
  at::Tensor all_gather_cat(const at::Tensor& tensor);
  void broadcast(at::Tensor& tensor, int root = 0);
  std::string broadcast_string(const std::string& text, int root = 0);
  void barrier();

 private:
  struct Group;  // the c10d objects, defined in c10d_world.cpp only
  std::unique_ptr<Group> group_;
  c10::Device device_ = c10::kCPU;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  double timeout_seconds_ = 300;
};

}  // namespace ff::dist
