// Partial FC: sharded, sampled margin classifier with a distributed softmax cross-entropy.
#include "losses/partial_fc.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/normalization.h>

#include "losses/centre_cosine.h"
#include "losses/classifier.h"
#include "src/dist/data_parallel.h"
#include "src/dist/world.h"
#include "src/util/error.h"
#include "src/util/splitmix.h"

namespace ff::losses {

namespace F = torch::nn::functional;

ClassRange class_range(int64_t num_classes, int world, int rank) {
  const int64_t base = num_classes / world, extra = num_classes % world;
  ClassRange r;
  r.begin = base * rank + std::min<int64_t>(rank, extra);
  r.end = r.begin + base + (rank < extra ? 1 : 0);
  return r;
}

namespace {

// arcface_torch initialises centres with N(0, 0.01). Rows are drawn in blocks of classes, block b
// from a generator keyed by (seed, b), and each rank keeps the rows of its range: the centres are
// the same whatever the world size, so runs on different rank counts start alike.
at::Tensor initial_centres(uint64_t seed, ClassRange range, int sub_centers, int64_t dim) {
  constexpr int64_t kBlock = 4096;
  at::Tensor out = at::empty({range.size() * sub_centers, dim});
  for (int64_t b = range.begin / kBlock; b * kBlock < range.end; ++b) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(splitmix64(seed ^ splitmix64(0xfc000000ULL + static_cast<uint64_t>(b))));
    at::Tensor block = at::randn({kBlock * sub_centers, dim}, generator, at::TensorOptions()) * 0.01;
    const int64_t lo = std::max(range.begin, b * kBlock), hi = std::min(range.end, (b + 1) * kBlock);
    out.narrow(0, (lo - range.begin) * sub_centers, (hi - lo) * sub_centers)
        .copy_(block.narrow(0, (lo - b * kBlock) * sub_centers, (hi - lo) * sub_centers));
  }
  return out;
}

}  // namespace

PartialFC::PartialFC(std::shared_ptr<dist::World> world, int64_t num_classes, int64_t embedding_size,
                     std::shared_ptr<MarginHead> head, PartialFCOptions options, uint64_t seed)
    : world_(world ? std::move(world) : std::make_shared<dist::World>()),
      num_classes_(num_classes),
      sub_centers_(head->sub_centers()),
      head_(std::move(head)),
      options_(options),
      seed_(seed) {
  if (num_classes < 2) fail("the classifier needs at least 2 classes, got {}", num_classes);
  if (num_classes < world_->size())
    fail("Partial FC: {} classes cannot be split over {} ranks (each rank needs at least one)", num_classes,
         world_->size());
  if (!(options.sample_rate > 0 && options.sample_rate <= 1))
    fail("loss.partial_fc.sample_rate must be in (0, 1], got {}", options.sample_rate);
  range_ = class_range(num_classes, world_->size(), world_->rank());
  const int64_t rows = range_.size() * sub_centers_;
  weight = register_buffer("weight", initial_centres(seed, range_, sub_centers_, embedding_size));
  weight_momentum = register_buffer("weight_momentum", at::zeros_like(weight));
  if (!head_->normalized()) {
    bias = register_buffer("bias", at::zeros({range_.size()}));
    bias_momentum = register_buffer("bias_momentum", at::zeros_like(bias));
  }
  if (sub_centers_ > 1) {
    wins_ = register_buffer("subcenter_wins", at::zeros({range_.size(), sub_centers_}, at::kLong));
    allowed_ = register_buffer("subcenter_allowed", at::ones({range_.size(), sub_centers_}, at::kBool));
  }
  register_module("head", head_);
}

int64_t PartialFC::sample_count() const {
  return std::max<int64_t>(1, static_cast<int64_t>(options_.sample_rate * static_cast<double>(range_.size())));
}

at::Tensor PartialFC::centre_rows(const at::Tensor& classes) const {
  if (!classes.defined() || sub_centers_ == 1) return classes;
  return (classes.unsqueeze(1) * sub_centers_ + at::arange(sub_centers_, classes.options())).reshape({-1});
}

void PartialFC::set_step(int64_t step) {
  step_ = step;
  draws_ = 0;
}

at::Tensor PartialFC::forward(const at::Tensor& embeddings, const at::Tensor& labels) {
  if (embeddings.dim() != 2 || labels.dim() != 1 || labels.size(0) != embeddings.size(0))
    fail("Partial FC expects embeddings [b, D] and labels [b], got [{}] and [{}]", fmt::join(embeddings.sizes(), ", "),
         fmt::join(labels.sizes(), ", "));
  if (labels.numel() > 0) {
    const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    if (lo < -1 || hi >= num_classes_)
      fail("Partial FC: labels must lie in [0, {}) (or -1 for rows this classifier does not score), got {}..{}",
           num_classes_, lo, hi);
  }
  dist::World& world = *world_;
  const at::Tensor x = dist::all_gather_with_grad(world, embeddings.to(at::kFloat));
  const at::Tensor y = world.all_gather_cat(labels.to(at::kLong).contiguous());
  const at::Tensor counted = y >= 0;
  const at::Tensor owned = counted & (y >= range_.begin) & (y < range_.end);
  at::Tensor local_y = at::where(owned, y - range_.begin, at::full_like(y, -1));

  // Which of this rank's classes take part: all, or the positives plus random negatives.
  at::Tensor index;  // sorted local classes; undefined = all
  if (is_training() && options_.sample_rate < 1) {
    torch::NoGradGuard no_grad;
    at::Tensor positives = std::get<0>(at::_unique(local_y.masked_select(owned), /*sorted=*/true));
    const int64_t budget = sample_count();
    if (positives.numel() >= budget) {
      index = positives;
    } else {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(
          splitmix64(seed_ ^ splitmix64((static_cast<uint64_t>(step_) << 20) ^ static_cast<uint64_t>(draws_) ^
                                        (static_cast<uint64_t>(world.rank()) << 52))));
      at::Tensor score = at::rand({range_.size()}, generator, at::TensorOptions());
      // Drawn on the CPU whatever the device, so a GPU run samples the classes a CPU run does.
      score.index_fill_(0, positives.cpu(), 2.0);  // positives outrank every random score
      index = std::get<0>(std::get<1>(score.topk(budget)).sort()).to(y.device());
    }
    ++draws_;
    local_y = at::where(owned, at::searchsorted(index, local_y.clamp_min(0)), local_y);
  }
  sampled_ = index;

  const at::Tensor rows = centre_rows(index);
  // Leaves whose gradients update() reads; kept per forward until then (gradient accumulation).
  at::Tensor sub_weight = (rows.defined() ? weight.index_select(0, rows) : weight.detach()).requires_grad_(true);
  at::Tensor sub_bias;
  if (bias.defined()) sub_bias = (index.defined() ? bias.index_select(0, index) : bias.detach()).requires_grad_(true);
  if (is_training()) pending_.push_back({index, sub_weight, sub_bias});
  at::Tensor logits;
  if (!head_->normalized()) {
    logits = head_->forward(x.matmul(sub_weight.t()) + sub_bias, local_y);
  } else {
    at::Tensor xn = F::normalize(x, F::NormalizeFuncOptions().dim(1));
    at::Tensor cosine = centre_cosine(xn, sub_weight).clamp(-1.0, 1.0);
    if (sub_centers_ > 1) {
      const int64_t classes = cosine.size(1) / sub_centers_;
      at::Tensor per_centre = cosine.view({cosine.size(0), classes, sub_centers_});
      at::Tensor allowed = index.defined() ? allowed_.index_select(0, index) : allowed_;
      per_centre = per_centre.masked_fill(~allowed.unsqueeze(0), -2.0);
      if (is_training()) {
        torch::NoGradGuard no_grad;
        at::Tensor mine = owned.nonzero().squeeze(1);
        at::Tensor own = per_centre.index_select(0, mine)
                             .gather(1, local_y.index_select(0, mine).view({-1, 1, 1}).expand({-1, 1, sub_centers_}))
                             .squeeze(1);
        at::Tensor classes_won = y.index_select(0, mine) - range_.begin;
        wins_.index_put_({classes_won, own.argmax(1)}, at::ones_like(classes_won), /*accumulate=*/true);
      }
      cosine = per_centre.amax(2);
    }
    if (head_->uses_batch_targets()) {
      // Every counted row's target cosine, each supplied by the rank that owns its class.
      torch::NoGradGuard no_grad;
      at::Tensor targets = at::where(owned, cosine.gather(1, local_y.clamp_min(0).unsqueeze(1)).squeeze(1),
                                     at::zeros({cosine.size(0)}, cosine.options()));
      world.all_reduce(targets);
      head_->set_batch_targets(at::where(counted, targets, at::full_like(targets, NAN)));
    }
    at::Tensor norms = head_->needs_norms() ? x.norm(2, 1) : at::Tensor();
    logits = head_->forward(cosine, local_y, norms);
  }

  // Distributed softmax cross-entropy over the columns of all ranks. The row maximum and the sum
  // of exponentials are all-reduced as constants; `sum_total` adds the other ranks' sums to this
  // rank's differentiable part, so d(log sum)/d(logit) = softmax on the local columns, and the
  // target term (-1 at the target) comes from the owning rank only.
  at::Tensor row_max;
  {
    torch::NoGradGuard no_grad;
    row_max = logits.size(1) > 0 ? std::get<0>(logits.max(1)) : at::full({logits.size(0)}, -1e30, logits.options());
    world.all_reduce(row_max, dist::ReduceOp::max);
  }
  at::Tensor shifted = logits - row_max.unsqueeze(1);
  at::Tensor sum_local = shifted.exp().sum(1);
  at::Tensor sum_all = sum_local.detach().clone();
  world.all_reduce(sum_all);
  at::Tensor sum_total = sum_local + (sum_all - sum_local.detach());
  at::Tensor target = at::where(owned, shifted.gather(1, local_y.clamp_min(0).unsqueeze(1)).squeeze(1),
                                at::zeros({shifted.size(0)}, shifted.options()));
  at::Tensor target_all = target.detach().clone();
  world.all_reduce(target_all);
  at::Tensor weights = counted.to(at::kFloat);
  const double n = std::max(1.0, weights.sum().item<double>());
  at::Tensor graph = ((sum_total.log() - target) * weights).sum() / n;
  at::Tensor value = ((sum_all.log() - target_all) * weights).sum() / n;
  if (at::Tensor extra = head_->regularizer(); extra.defined()) {
    // Every rank computes the same regulariser over the gathered batch: each contributes 1/W of
    // its gradient so the sum over ranks counts it once.
    graph = graph + extra / static_cast<double>(world.size());
    value = value + extra.detach();
  }
  return graph + (value - graph.detach());
}

namespace {

// One micro-batch's gradient of some rows (rows undefined: every row); `values`, when defined, is
// a copy of those rows as they are now (the forward's gathered leaf), which spares gathering them
// again.
struct RowGrad {
  at::Tensor rows, grad, values;
};

// The gradients of a step's micro-batches summed per row: the union of their rows, or every row
// when one of them used all.
RowGrad sum_by_row(const std::vector<RowGrad>& parts, const at::Tensor& full) {
  if (parts.size() == 1) return parts[0];
  bool every_row = false;
  for (const auto& p : parts) every_row = every_row || !p.rows.defined();
  if (every_row) {
    at::Tensor g = at::zeros_like(full);
    for (const auto& p : parts) p.rows.defined() ? g.index_add_(0, p.rows, p.grad) : g.add_(p.grad);
    return {at::Tensor(), g, at::Tensor()};
  }
  std::vector<at::Tensor> rows, grads;
  for (const auto& p : parts) {
    rows.push_back(p.rows);
    grads.push_back(p.grad);
  }
  auto [unique, inverse] = at::_unique(at::cat(rows), /*sorted=*/true, /*return_inverse=*/true);
  std::vector<int64_t> sizes = full.sizes().vec();
  sizes[0] = unique.size(0);
  return {unique, at::zeros(sizes, full.options()).index_add_(0, inverse, at::cat(grads)), at::Tensor()};
}

}  // namespace

namespace {

// SGD with momentum on rows `rows` of w (undefined: all rows); g holds those rows' gradients.
void sgd_step(at::Tensor& w, at::Tensor& m, const RowGrad& rg, const CentreStep& c, bool sparse) {
  const at::Tensor& g = rg.grad;
  if (!rg.rows.defined()) {  // every row took part
    m.mul_(c.momentum).add_(g).add_(w, c.weight_decay);
    w.sub_(m, c.lr);
  } else if (sparse) {
    at::Tensor w_rows = rg.values.defined() ? rg.values : w.index_select(0, rg.rows);
    at::Tensor m_rows = m.index_select(0, rg.rows).mul_(c.momentum).add_(g).add_(w_rows, c.weight_decay);
    m.index_copy_(0, rg.rows, m_rows);
    w.index_copy_(0, rg.rows, w_rows.sub_(m_rows, c.lr));
  } else {
    m.mul_(c.momentum).add_(w, c.weight_decay).index_add_(0, rg.rows, g);
    w.sub_(m, c.lr);
  }
}

// AdamW in place on whole tensors: w, moments m and v, per-row step counts t (double, [rows]).
void adamw_rows(at::Tensor& w, at::Tensor& m, at::Tensor& v, at::Tensor& t, const at::Tensor& g, const CentreStep& c) {
  t.add_(1);
  w.mul_(1 - c.lr * c.weight_decay);
  m.mul_(c.beta1).add_(g, 1 - c.beta1);
  v.mul_(c.beta2).addcmul_(g, g, 1 - c.beta2);
  std::vector<int64_t> shape(static_cast<size_t>(w.dim()), 1);
  shape[0] = t.size(0);
  const at::Tensor correction1 = (1 - at::pow(c.beta1, t)).view(shape);
  const at::Tensor correction2 = (1 - at::pow(c.beta2, t)).sqrt().view(shape);
  const at::Tensor denominator = (v.sqrt() / correction2.to(v.scalar_type())).add_(c.eps);
  w.addcdiv_(m, denominator.mul_(correction1.to(v.scalar_type())), -c.lr);
}

void adamw_step(at::Tensor& w, at::Tensor& m, at::Tensor& v, at::Tensor& t, const RowGrad& rg, const CentreStep& c,
                bool sparse) {
  if (!v.defined()) {
    v = at::zeros_like(w);
    t = at::zeros({w.size(0)}, w.options().dtype(at::kDouble));
  }
  if (!rg.rows.defined()) return adamw_rows(w, m, v, t, rg.grad, c);
  if (!sparse) return adamw_rows(w, m, v, t, at::zeros_like(w).index_add_(0, rg.rows, rg.grad), c);
  at::Tensor w_rows = rg.values.defined() ? rg.values.clone() : w.index_select(0, rg.rows);
  at::Tensor m_rows = m.index_select(0, rg.rows), v_rows = v.index_select(0, rg.rows), t_rows = t.index_select(0, rg.rows);
  adamw_rows(w_rows, m_rows, v_rows, t_rows, rg.grad, c);
  w.index_copy_(0, rg.rows, w_rows);
  m.index_copy_(0, rg.rows, m_rows);
  v.index_copy_(0, rg.rows, v_rows);
  t.index_copy_(0, rg.rows, t_rows);
}

at::Tensor grad_of(const at::Tensor& leaf) { return leaf.grad().defined() ? leaf.grad() : at::zeros_like(leaf); }

}  // namespace

std::vector<at::Tensor> PartialFC::pending_gradients() const {
  std::vector<at::Tensor> out;
  for (const auto& p : pending_) {
    if (p.weight.grad().defined()) out.push_back(p.weight.grad());
    if (p.bias.defined() && p.bias.grad().defined()) out.push_back(p.bias.grad());
  }
  return out;
}

void PartialFC::update(const CentreStep& c) {
  torch::NoGradGuard no_grad;
  if (pending_.empty()) return;
  std::vector<RowGrad> weights, biases;
  for (const auto& p : pending_) {
    weights.push_back({centre_rows(p.classes), grad_of(p.weight), p.weight.detach()});
    if (p.bias.defined()) biases.push_back({p.classes, grad_of(p.bias), p.bias.detach()});
  }
  const bool sparse = options_.sparse_update;
  if (c.rule == CentreStep::Rule::adamw) {
    adamw_step(weight, weight_momentum, weight_second, weight_steps, sum_by_row(weights, weight), c, sparse);
    if (!biases.empty()) adamw_step(bias, bias_momentum, bias_second, bias_steps, sum_by_row(biases, bias), c, sparse);
  } else {
    sgd_step(weight, weight_momentum, sum_by_row(weights, weight), c, sparse);
    if (!biases.empty()) sgd_step(bias, bias_momentum, sum_by_row(biases, bias), c, sparse);
  }
  pending_.clear();
}

void PartialFC::drop_non_dominant_subcenters() {
  if (sub_centers_ > 1) keep_dominant_subcenters(wins_, allowed_);
}

void PartialFC::save_shard(torch::serialize::OutputArchive& archive) const {
  archive.write("class_begin", at::tensor(range_.begin));
  archive.write("class_end", at::tensor(range_.end));
  archive.write("num_classes", at::tensor(num_classes_));
  archive.write("sub_centers", at::tensor(int64_t{sub_centers_}));
  archive.write("weight", weight);
  archive.write("weight_momentum", weight_momentum);
  if (bias.defined()) {
    archive.write("bias", bias);
    archive.write("bias_momentum", bias_momentum);
  }
  if (weight_second.defined()) {
    archive.write("weight_second", weight_second);
    archive.write("weight_steps", weight_steps);
  }
  if (bias_second.defined()) {
    archive.write("bias_second", bias_second);
    archive.write("bias_steps", bias_steps);
  }
  if (wins_.defined()) {
    archive.write("subcenter_wins", wins_);
    archive.write("subcenter_allowed", allowed_);
  }
  torch::serialize::OutputArchive head_archive;
  head_->save(head_archive);
  archive.write("head", head_archive);
}

void PartialFC::load_shards(std::vector<torch::serialize::InputArchive>& shards) {
  torch::NoGradGuard no_grad;
  if (shards.empty()) fail("Partial FC: no classifier shards to load");
  auto read = [](torch::serialize::InputArchive& a, const char* key) {
    at::Tensor t;
    a.read(key, t);
    return t;
  };
  int64_t covered = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    auto& a = shards[s];
    const int64_t classes = read(a, "num_classes").item<int64_t>();
    const int64_t k = read(a, "sub_centers").item<int64_t>();
    if (classes != num_classes_ || k != sub_centers_)
      fail("classifier shard {} holds {} classes x {} sub-centres, this run has {} x {}", s, classes, k, num_classes_,
           sub_centers_);
    const int64_t begin = read(a, "class_begin").item<int64_t>(), end = read(a, "class_end").item<int64_t>();
    const int64_t lo = std::max(begin, range_.begin), hi = std::min(end, range_.end);
    if (s == 0) {
      torch::serialize::InputArchive head_archive;
      a.read("head", head_archive);
      head_->load(head_archive);
      head_->to(weight.device());  // loading adopts the shard's (CPU) tensors; the head stays with the centres
    }
    if (lo >= hi) continue;
    auto copy_rows = [&](const char* key, at::Tensor& into, int64_t per_class) {
      at::Tensor from = read(a, key);
      into.narrow(0, (lo - range_.begin) * per_class, (hi - lo) * per_class)
          .copy_(from.narrow(0, (lo - begin) * per_class, (hi - lo) * per_class));
    };
    copy_rows("weight", weight, sub_centers_);
    copy_rows("weight_momentum", weight_momentum, sub_centers_);
    if (bias.defined()) {
      copy_rows("bias", bias, 1);
      copy_rows("bias_momentum", bias_momentum, 1);
    }
    // AdamW moments: present when the run that wrote the shard used AdamW (an SGD checkpoint
    // continued with AdamW starts them at zero).
    auto copy_optional = [&](const char* key, at::Tensor& into, const at::Tensor& like, at::ScalarType type,
                             int64_t per_class) {
      at::Tensor from;
      if (!a.try_read(key, from)) return;
      if (!into.defined()) into = at::zeros(type == at::kDouble ? at::IntArrayRef{like.size(0)} : like.sizes(),
                                            like.options().dtype(type));
      into.narrow(0, (lo - range_.begin) * per_class, (hi - lo) * per_class)
          .copy_(from.narrow(0, (lo - begin) * per_class, (hi - lo) * per_class));
    };
    copy_optional("weight_second", weight_second, weight, weight.scalar_type(), sub_centers_);
    copy_optional("weight_steps", weight_steps, weight, at::kDouble, sub_centers_);
    if (bias.defined()) {
      copy_optional("bias_second", bias_second, bias, bias.scalar_type(), 1);
      copy_optional("bias_steps", bias_steps, bias, at::kDouble, 1);
    }
    if (wins_.defined()) {
      copy_rows("subcenter_wins", wins_, 1);
      copy_rows("subcenter_allowed", allowed_, 1);
    }
    covered += hi - lo;
  }
  if (covered != range_.size())
    fail("classifier shards cover {} of this rank's {} classes ({}..{}): a shard file is missing", covered,
         range_.size(), range_.begin, range_.end);
}

}  // namespace ff::losses
