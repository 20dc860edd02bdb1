// Partial FC across processes (Gloo on localhost): equality with one process and a full
// classifier at sample_rate 1, and the sampling and sparse-update rules (losses/partial_fc.h).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <set>

#include <torch/torch.h>

#include "losses/classifier.h"
#include "losses/partial_fc.h"
#include "src/dist/launcher.h"
#include "support.h"

namespace {

using ff::test::TempDir;
namespace fs = std::filesystem;

// A port per call, away from the defaults other jobs on this machine may hold.
int next_port() {
  static int calls = 0;
  return 20000 + static_cast<int>(::getpid() % 20000) + 7 * calls++;
}

// Runs `world` ff_dist_worker ranks through the launcher and loads each rank's archive.
std::vector<torch::serialize::InputArchive> run_workers(int world, const std::filesystem::path& out,
                                                        std::vector<std::string> args) {
  ff::dist::LaunchOptions launch;
  launch.nproc_per_node = world;
  launch.master = "127.0.0.1:" + std::to_string(next_port());
  launch.kill_grace_seconds = 5;
  launch.command = {FF_DIST_WORKER, out.string()};
  launch.command.insert(launch.command.end(), args.begin(), args.end());
  REQUIRE(ff::dist::launch(launch) == 0);
  std::vector<torch::serialize::InputArchive> ranks(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) ranks[static_cast<size_t>(r)].load_from((out / ("rank" + std::to_string(r) + ".pt")).string());
  return ranks;
}

at::Tensor get(torch::serialize::InputArchive& a, const std::string& key) {
  at::Tensor t;
  a.read(key, t);
  return t;
}

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// The single-process reference: the same linear backbone and global batch as tests/dist_worker.cpp,
// a full MarginClassifier (plain cross-entropy), and torch's SGD on both.
struct Reference {
  std::vector<double> losses;
  std::vector<at::Tensor> grad_weight, grad_bias, centres_after;
};

Reference reference(const std::string& head_name, const at::Tensor& initial_centres, int steps, int64_t rows,
                    int64_t classes) {
  ff::losses::HeadOptions head;
  head.head = head_name;
  head.scale = 16;
  head.margin = 0.5;
  torch::manual_seed(1);
  torch::nn::Linear backbone(10, 8);
  torch::manual_seed(2);
  at::Tensor inputs = torch::randn({rows, 10});
  at::Tensor labels = torch::randint(0, classes, {rows}, torch::kLong);
  ff::losses::MarginClassifier fc(classes, 8, ff::losses::make_margin_head(head));
  fc.train();
  {
    torch::NoGradGuard no_grad;
    fc.weight.copy_(initial_centres);
  }
  auto options = torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4);
  torch::optim::SGD sgd(backbone->parameters(), options);
  torch::optim::SGD sgd_fc(fc.parameters(), options);
  Reference r;
  for (int s = 0; s < steps; ++s) {
    sgd.zero_grad();
    sgd_fc.zero_grad();
    at::Tensor loss = fc.forward(backbone->forward(inputs), labels);
    loss.backward();
    r.losses.push_back(loss.item<double>());
    r.grad_weight.push_back(backbone->weight.grad().clone());
    r.grad_bias.push_back(backbone->bias.grad().clone());
    sgd.step();
    sgd_fc.step();
    r.centres_after.push_back(fc.weight.detach().clone());
  }
  return r;
}

}  // namespace

TEST_CASE("Partial FC at sample_rate 1 on 2 ranks equals one process with the full classifier", "[dist]") {
  for (std::string head : {"arcface", "curricularface"}) {
    INFO(head);
    TempDir dir("pfc_equal");
    const int steps = 3;
    const int64_t rows = 12, classes = 23;
    auto ranks = run_workers(2, dir.path(), {head, "1.0", std::to_string(steps), std::to_string(rows), std::to_string(classes)});
    // Rank 0 holds classes 0..11, rank 1 12..22 (the first C mod W ranks get one more).
    CHECK(get(ranks[0], "range").equal(torch::tensor({int64_t{0}, int64_t{12}})));
    CHECK(get(ranks[1], "range").equal(torch::tensor({int64_t{12}, int64_t{23}})));
    at::Tensor initial = torch::cat({get(ranks[0], "weight_before_0"), get(ranks[1], "weight_before_0")});
    // The centres do not depend on the world size: a world of one draws the same matrix.
    ff::losses::HeadOptions o;
    o.head = head;
    ff::losses::PartialFC alone(nullptr, classes, 8, ff::losses::make_margin_head(o), {}, 5);
    CHECK(alone.weight.equal(initial));

    Reference ref = reference(head, initial, steps, rows, classes);
    for (int s = 0; s < steps; ++s) {
      const std::string k = std::to_string(s);
      for (auto& rank : ranks) {
        CHECK(get(rank, "loss_" + k).item<double>() == Approx(ref.losses[static_cast<size_t>(s)]).epsilon(1e-5));
        CHECK(max_diff(get(rank, "grad_weight_" + k), ref.grad_weight[static_cast<size_t>(s)]) < 1e-5);
        CHECK(max_diff(get(rank, "grad_bias_" + k), ref.grad_bias[static_cast<size_t>(s)]) < 1e-5);
      }
      at::Tensor centres = torch::cat({get(ranks[0], "weight_after_" + k), get(ranks[1], "weight_after_" + k)});
      CHECK(max_diff(centres, ref.centres_after[static_cast<size_t>(s)]) < 1e-5);
    }
    // The gradients are not trivially small: a wrong scale (1/W, or W) would fail the checks.
    CHECK(ref.grad_weight[0].abs().max().item<double>() > 1e-2);
  }
}

TEST_CASE("Partial FC sampling keeps every positive, draws the exact count and touches only sampled centres",
          "[dist]") {
  const int steps = 4;
  const int64_t rows = 8, classes = 40;  // 20 classes per rank
  at::Tensor labels;
  {
    torch::manual_seed(2);
    (void)torch::randn({rows, 10});
    labels = torch::randint(0, classes, {rows}, torch::kLong);  // the worker's global labels
  }
  for (std::string rate : {"0.25", "0.1"}) {
    INFO("sample_rate " << rate);
    TempDir dir("pfc_sample");
    auto ranks = run_workers(2, dir.path(), {"cosface", rate, std::to_string(steps), std::to_string(rows), std::to_string(classes)});
    const int64_t budget = static_cast<int64_t>(std::stod(rate) * 20);
    for (int r = 0; r < 2; ++r) {
      auto& a = ranks[static_cast<size_t>(r)];
      const int64_t begin = r * 20;
      std::set<int64_t> positives;
      for (int64_t i = 0; i < rows; ++i)
        if (labels[i].item<int64_t>() >= begin && labels[i].item<int64_t>() < begin + 20)
          positives.insert(labels[i].item<int64_t>() - begin);
      CHECK(get(a, "sample_count").item<int64_t>() == budget);
      std::set<std::vector<int64_t>> distinct_sets;
      for (int s = 0; s < steps; ++s) {
        const std::string k = std::to_string(s);
        at::Tensor sampled = get(a, "sampled_" + k);
        std::vector<int64_t> v(sampled.data_ptr<int64_t>(), sampled.data_ptr<int64_t>() + sampled.numel());
        distinct_sets.insert(v);
        std::set<int64_t> set(v.begin(), v.end());
        CHECK(set.size() == v.size());
        for (int64_t p : positives) CHECK(set.count(p) == 1);
        CHECK(static_cast<int64_t>(v.size()) == std::max<int64_t>(budget, static_cast<int64_t>(positives.size())));
        at::Tensor before = get(a, "weight_before_" + k), after = get(a, "weight_after_" + k);
        at::Tensor m_before = get(a, "momentum_before_" + k), m_after = get(a, "momentum_after_" + k);
        for (int64_t c = 0; c < 20; ++c) {
          if (set.count(c)) {
            CHECK_FALSE(after[c].equal(before[c]));
          } else {
            CHECK(after[c].equal(before[c]));
            CHECK(m_after[c].equal(m_before[c]));
          }
        }
      }
      // Negatives are redrawn every step (unless positives alone fill the budget).
      if (static_cast<int64_t>(positives.size()) < budget) CHECK(distinct_sets.size() > 1);
      else CHECK(distinct_sets.size() == 1);
    }
  }
  // Dense updates (insightface v2): momentum and weight decay move unsampled centres too.
  TempDir dir("pfc_dense");
  auto ranks = run_workers(2, dir.path(), {"cosface", "0.25", "2", std::to_string(rows), std::to_string(classes), "dense"});
  at::Tensor sampled = get(ranks[0], "sampled_1");
  std::set<int64_t> set(sampled.data_ptr<int64_t>(), sampled.data_ptr<int64_t>() + sampled.numel());
  int64_t moved_unsampled = 0;
  at::Tensor before = get(ranks[0], "weight_before_1"), after = get(ranks[0], "weight_after_1");
  for (int64_t c = 0; c < 20; ++c)
    if (!set.count(c) && !after[c].equal(before[c])) ++moved_unsampled;
  CHECK(moved_unsampled == 20 - static_cast<int64_t>(set.size()));
}

TEST_CASE("Partial FC in a world of one at sample_rate 1 equals the full classifier for every head", "[dist][losses]") {
  for (const auto& name : ff::losses::margin_head_names()) {
    if (name == "elasticface" || name == "triplet") continue;  // random margins per row / no classifier
    INFO(name);
    ff::losses::HeadOptions o;
    o.head = name;
    o.scale = 16;
    o.margin = name == "cosface" ? 0.35 : 0.4;
    torch::manual_seed(4);
    at::Tensor x = torch::randn({10, 8}) * 3;
    at::Tensor y = torch::randint(0, 7, {10}, torch::kLong);
    ff::losses::PartialFC pfc(nullptr, 7, 8, ff::losses::make_margin_head(o), {}, 9);
    ff::losses::MarginClassifier full(7, 8, ff::losses::make_margin_head(o));
    {
      torch::NoGradGuard no_grad;
      full.weight.copy_(pfc.weight);
    }
    for (int step = 0; step < 2; ++step) {  // the second step sees stateful heads' updated buffers
      at::Tensor xa = x.clone().requires_grad_(true), xb = x.clone().requires_grad_(true);
      pfc.set_step(step);
      pfc.head().on_step(step);
      full.head().on_step(step);
      at::Tensor la = pfc.forward(xa, y), lb = full.forward(xb, y);
      la.backward();
      lb.backward();
      CHECK(la.item<double>() == Approx(lb.item<double>()).epsilon(1e-5));
      CHECK(max_diff(xa.grad(), xb.grad()) < 1e-5);
    }
  }
}

TEST_CASE("classifier shards of 2 ranks load into a world of one row for row, and gaps are refused", "[dist][losses]") {
  TempDir dir("pfc_shards");
  ff::losses::HeadOptions o;
  o.head = "cosface";
  // Shards as ranks 0 and 1 of 2 write them for 23 classes: [0, 12) and [12, 23), rows numbered
  // so every copied row is recognisable.
  auto write_shard = [&](int64_t begin, int64_t end, double bump) {
    torch::serialize::OutputArchive a, head;
    a.write("class_begin", torch::tensor(begin));
    a.write("class_end", torch::tensor(end));
    a.write("num_classes", torch::tensor(int64_t{23}));
    a.write("sub_centers", torch::tensor(int64_t{1}));
    at::Tensor rows = torch::arange(begin, end, torch::kFloat).unsqueeze(1).repeat({1, 8});
    a.write("weight", rows);
    a.write("weight_momentum", rows * bump);
    ff::losses::make_margin_head(o)->save(head);
    a.write("head", head);
    fs::path path = dir / ("shard" + std::to_string(begin) + ".pt");
    a.save_to(path.string());
    torch::serialize::InputArchive in;
    in.load_from(path.string());
    return in;
  };
  std::vector<torch::serialize::InputArchive> shards;
  shards.push_back(write_shard(0, 12, 0.5));
  shards.push_back(write_shard(12, 23, 0.5));
  ff::losses::PartialFC one(nullptr, 23, 8, ff::losses::make_margin_head(o), {}, 5);
  one.load_shards(shards);
  at::Tensor expected = torch::arange(23, torch::kFloat).unsqueeze(1).repeat({1, 8});
  CHECK(one.weight.equal(expected));
  CHECK(one.weight_momentum.equal(expected * 0.5));

  std::vector<torch::serialize::InputArchive> gap;
  gap.push_back(write_shard(0, 12, 1));
  ff::losses::PartialFC other(nullptr, 23, 8, ff::losses::make_margin_head(o), {}, 5);
  CHECK_THROWS_WITH(other.load_shards(gap), Catch::Contains("classifier shards cover 12 of this rank's 23 classes"));
  ff::losses::PartialFC wrong(nullptr, 24, 8, ff::losses::make_margin_head(o), {}, 5);
  std::vector<torch::serialize::InputArchive> again;
  again.push_back(write_shard(0, 12, 1));
  CHECK_THROWS_WITH(wrong.load_shards(again), Catch::Contains("holds 23 classes x 1 sub-centres, this run has 24 x 1"));
}

TEST_CASE("gradient accumulation: two half batches with halved losses update the centres as one batch", "[dist][losses]") {
  ff::losses::HeadOptions o;
  o.head = "cosface";
  o.scale = 16;
  o.margin = 0.35;
  torch::manual_seed(6);
  at::Tensor x = torch::randn({16, 8});
  at::Tensor y = torch::randint(0, 30, {16}, torch::kLong);
  ff::losses::PartialFC whole(nullptr, 30, 8, ff::losses::make_margin_head(o), {}, 3);
  ff::losses::PartialFC halves(nullptr, 30, 8, ff::losses::make_margin_head(o), {}, 3);
  at::Tensor xa = x.clone().requires_grad_(true), xb = x.clone().requires_grad_(true);
  whole.forward(xa, y).backward();
  whole.update(0.1, 0.9, 5e-4);
  for (int64_t half : {0, 1}) (halves.forward(xb.narrow(0, half * 8, 8), y.narrow(0, half * 8, 8)) / 2).backward();
  halves.update(0.1, 0.9, 5e-4);
  // Float32 sums in another order: equal to 1e-5 of each tensor's largest value.
  auto relative = [](const at::Tensor& a, const at::Tensor& b) { return max_diff(a, b) / b.abs().max().item<double>(); };
  CHECK(relative(halves.weight, whole.weight) < 1e-5);
  CHECK(relative(halves.weight_momentum, whole.weight_momentum) < 1e-5);
  CHECK(relative(xb.grad(), xa.grad()) < 1e-5);

  // Sampled: the two micro-batches draw different negatives; the step moves the union of their
  // classes and nothing else.
  ff::losses::PartialFCOptions sampled;
  sampled.sample_rate = 0.2;  // 6 of 30
  ff::losses::PartialFC fc(nullptr, 30, 8, ff::losses::make_margin_head(o), sampled, 3);
  at::Tensor before = fc.weight.clone(), momentum_before = fc.weight_momentum.clone();
  fc.set_step(0);
  std::set<int64_t> touched;
  for (int64_t half : {0, 1}) {
    (fc.forward(x.narrow(0, half * 8, 8), y.narrow(0, half * 8, 8)) / 2).backward();
    const at::Tensor& s = fc.last_sampled();
    touched.insert(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + s.numel());
  }
  fc.update(0.1, 0.9, 5e-4);
  for (int64_t c = 0; c < 30; ++c) {
    CHECK(fc.weight[c].equal(before[c]) == (touched.count(c) == 0));
    if (!touched.count(c)) CHECK(fc.weight_momentum[c].equal(momentum_before[c]));
  }
}

TEST_CASE("AdamW on the centres: every row as torch's AdamW, sampled rows with their own step counts", "[dist][losses]") {
  ff::losses::HeadOptions o;
  o.head = "arcface";
  o.scale = 16;
  ff::losses::CentreStep adamw;
  adamw.rule = ff::losses::CentreStep::Rule::adamw;
  adamw.lr = 0.01;
  adamw.weight_decay = 0.05;
  adamw.beta1 = 0.8;
  adamw.beta2 = 0.95;
  adamw.eps = 1e-6;
  torch::manual_seed(11);
  at::Tensor x = torch::randn({12, 8});
  at::Tensor y = torch::randint(0, 20, {12}, torch::kLong);

  // Sample rate 1: every row takes every step, so the centres follow LibTorch's own AdamW given the
  // same gradients.
  ff::losses::PartialFC fc(nullptr, 20, 8, ff::losses::make_margin_head(o), {}, 5);
  at::Tensor reference = fc.weight.clone().requires_grad_(true);
  torch::optim::AdamW torch_adamw({reference}, torch::optim::AdamWOptions(adamw.lr)
                                                   .betas({adamw.beta1, adamw.beta2})
                                                   .eps(adamw.eps)
                                                   .weight_decay(adamw.weight_decay));
  for (int step = 0; step < 3; ++step) {
    fc.set_step(step);
    fc.forward(x + 0.1 * step, y).backward();
    auto grads = fc.pending_gradients();
    REQUIRE(grads.size() == 1);
    reference.mutable_grad() = grads[0].clone();
    torch_adamw.step();
    fc.update(adamw);
    CHECK(max_diff(fc.weight, reference.detach()) < 1e-6);
  }
  CHECK(fc.weight_steps.equal(torch::full({20}, 3.0, torch::kDouble)));

  // Sampled: a centre's first step is w (1 - lr decay) - lr g / (|g| + eps), however many steps
  // the run has taken (both bias corrections cancel for t = 1); unsampled centres and moments stay.
  ff::losses::PartialFCOptions sampled;
  sampled.sample_rate = 0.25;
  ff::losses::PartialFC sparse(nullptr, 20, 8, ff::losses::make_margin_head(o), sampled, 5);
  std::set<int64_t> seen;
  int64_t sampled_total = 0;
  for (int step = 0; step < 4; ++step) {
    at::Tensor before = sparse.weight.clone();
    at::Tensor first_before = sparse.weight_momentum.clone();
    sparse.set_step(step);
    sparse.forward(x, y).backward();
    const at::Tensor g = sparse.pending_gradients()[0];  // [sampled rows, D], rows = last_sampled()
    const at::Tensor rows = sparse.last_sampled();
    sampled_total += rows.numel();
    sparse.update(adamw);
    std::set<int64_t> now(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel());
    for (int64_t c = 0; c < 20; ++c) {
      if (!now.count(c)) {
        CHECK(sparse.weight[c].equal(before[c]));
        CHECK(sparse.weight_momentum[c].equal(first_before[c]));
        continue;
      }
      const int64_t i = std::lower_bound(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel(), c) -
                        rows.data_ptr<int64_t>();
      if (seen.count(c)) continue;  // only first steps have the closed form
      at::Tensor expected = before[c] * (1 - adamw.lr * adamw.weight_decay) - adamw.lr * g[i] / (g[i].abs() + adamw.eps);
      CHECK(max_diff(sparse.weight[c], expected) < 1e-6);
      CHECK(sparse.weight_steps[c].item<double>() == 1.0);
    }
    seen.insert(now.begin(), now.end());
  }
  // Step counts are per row: the number of steps that sampled it.
  CHECK(sparse.weight_steps.max().item<double>() <= 4.0);
  CHECK(sparse.weight_steps.sum().item<double>() == static_cast<double>(sampled_total));
  CHECK(sampled_total < 4 * 20);

  // The moments travel with the shard: a reload continues the same AdamW state.
  torch::serialize::OutputArchive out;
  sparse.save_shard(out);
  std::stringstream bytes;
  out.save_to(bytes);
  std::vector<torch::serialize::InputArchive> in(1);
  in[0].load_from(bytes);
  ff::losses::PartialFC reloaded(nullptr, 20, 8, ff::losses::make_margin_head(o), sampled, 5);
  reloaded.load_shards(in);
  CHECK(reloaded.weight_second.equal(sparse.weight_second));
  CHECK(reloaded.weight_steps.equal(sparse.weight_steps));
}
