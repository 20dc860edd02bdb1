// The training objective: margin classifier, triplet loss, or a weighted sum of both.
#include "src/train/objective.h"

#include "src/util/error.h"

namespace ff::train {

Objective::Objective(const losses::HeadOptions& o, int64_t num_classes, int64_t embedding_size,
                     std::shared_ptr<dist::World> world, uint64_t seed)
    : options_(o) {
  const bool triplet_only = o.head == "triplet";
  if (!triplet_only) {
    classifier_ = register_module("classifier", std::make_shared<losses::PartialFC>(
                                                    world, num_classes, embedding_size, losses::make_margin_head(o),
                                                    o.partial_fc, seed));
    margin_weight_ = o.weights.margin;
  }
  if (triplet_only || o.weights.triplet > 0) {
    triplet_ = register_module(
        "triplet", std::make_shared<losses::TripletLoss>(
                       losses::TripletOptions().mining(o.triplet.mining).margin(o.triplet.margin)));
    triplet_weight_ = triplet_only && o.weights.triplet == 0 ? 1.0 : o.weights.triplet;
  }
  if (margin_weight_ == 0 && triplet_weight_ == 0)
    fail("loss.weights: every loss term has weight 0 (loss.weights.margin and loss.weights.triplet)");
}

Objective::Objective(const losses::HeadOptions& o, const std::vector<Branch>& branches, int64_t embedding_size,
                     std::shared_ptr<dist::World> world, uint64_t seed)
    : options_(o), branches_(branches) {
  if (o.head == "triplet" || o.weights.triplet > 0)
    fail("a triplet loss needs one label space: set data.label_space: shared (per_source gives each source its "
         "own classifier)");
  if (o.weights.margin == 0) fail("loss.weights.margin is 0: the per-source classifiers would not train");
  margin_weight_ = o.weights.margin;
  for (size_t k = 0; k < branches.size(); ++k)
    branch_classifiers_.push_back(register_module(
        "classifier_" + std::to_string(k),
        std::make_shared<losses::PartialFC>(world, branches[k].num_classes, embedding_size, losses::make_margin_head(o),
                                            o.partial_fc, seed + 1000003 * (k + 1))));
}

std::vector<std::shared_ptr<losses::PartialFC>> Objective::classifiers() const {
  std::vector<std::shared_ptr<losses::PartialFC>> out;
  if (classifier_) out.push_back(classifier_);
  out.insert(out.end(), branch_classifiers_.begin(), branch_classifiers_.end());
  return out;
}

at::Tensor Objective::forward(const at::Tensor& embeddings, const at::Tensor& labels, const at::Tensor& origins) {
  values_.clear();
  at::Tensor loss;
  auto add = [&loss](const at::Tensor& term) { loss = loss.defined() ? loss + term : term; };
  if (!branch_classifiers_.empty()) {
    if (!origins.defined()) fail("per-source classifiers need each image's source (Batch::origins)");
    for (size_t k = 0; k < branch_classifiers_.size(); ++k) {
      // Every rank runs every branch (their collectives must match); rows of other sources are
      // marked -1 and not scored.
      at::Tensor mine = origins == static_cast<int64_t>(k);
      at::Tensor branch_loss =
          branch_classifiers_[k]->forward(embeddings, at::where(mine, labels, at::full_like(labels, -1)));
      values_["loss_" + branches_[k].name] = branch_loss.item<double>();
      add(branch_loss * (branches_[k].weight * margin_weight_));
    }
    return loss;
  }
  if (classifier_ && margin_weight_ > 0) {
    at::Tensor margin_loss = classifier_->forward(embeddings, labels);
    if (triplet_) values_["margin_loss"] = margin_loss.item<double>();
    add(margin_loss * margin_weight_);
  }
  if (triplet_) {
    at::Tensor triplet_loss = triplet_->forward(embeddings.to(at::kFloat), labels);
    const auto& stats = triplet_->last_stats();
    values_["triplet_loss"] = triplet_loss.item<double>();
    values_["triplet_active"] = stats.active_fraction;
    values_["triplet_d_ap"] = stats.mean_positive;
    values_["triplet_d_an"] = stats.mean_negative;
    add(triplet_loss * triplet_weight_);
  }
  return loss;
}

void Objective::on_step(int64_t step) {
  for (auto& c : classifiers()) {
    c->head().on_step(step);
    c->set_step(step);
  }
}

void Objective::on_epoch(int64_t epoch) {
  if (options_.subcenter.drop_epoch > 0 && epoch >= options_.subcenter.drop_epoch)
    for (auto& c : classifiers()) c->drop_non_dominant_subcenters();
}

void Objective::update_classifiers(const losses::CentreStep& step) {
  for (auto& c : classifiers()) c->update(step);
}

void Objective::save_shards(torch::serialize::OutputArchive& archive) const {
  auto all = classifiers();
  for (size_t k = 0; k < all.size(); ++k) {
    torch::serialize::OutputArchive part;
    all[k]->save_shard(part);
    archive.write("classifier_" + std::to_string(k), part);
  }
}

void Objective::load_shards(std::vector<torch::serialize::InputArchive>& shards) {
  auto all = classifiers();
  for (size_t k = 0; k < all.size(); ++k) {
    std::vector<torch::serialize::InputArchive> parts(shards.size());
    for (size_t r = 0; r < shards.size(); ++r) shards[r].read("classifier_" + std::to_string(k), parts[r]);
    all[k]->load_shards(parts);
  }
}

}  // namespace ff::train
