// Vision Transformer layers; names and registration order follow arcface_torch's vit.py.
#include "backbones/vit.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/linear.h>

#include "backbones/autocast.h"
#include "src/util/error.h"

namespace ff::backbones {

namespace nn = torch::nn;

namespace {

// Multi-head self-attention. The softmax(QKᵀ)V core always runs in float32, as arcface_torch does,
// because half-precision attention logits overflow for long token sequences.
class AttentionImpl : public nn::Module {
 public:
  AttentionImpl(int dim, int heads) : heads_(heads), scale_(1.0 / std::sqrt(double(dim / heads))) {
    qkv = register_module("qkv", nn::Linear(nn::LinearOptions(dim, dim * 3).bias(false)));
    attn_drop = register_module("attn_drop", nn::Dropout(0.0));
    proj = register_module("proj", nn::Linear(dim, dim));
    proj_drop = register_module("proj_drop", nn::Dropout(0.0));
  }
  at::Tensor forward(at::Tensor x) {
    const int64_t b = x.size(0), n = x.size(1), d = x.size(2);
    at::Tensor qkv_all = qkv(x).reshape({b, n, 3, heads_, d / heads_}).permute({2, 0, 3, 1, 4});
    at::Tensor out;
    {
      compat::AutocastGuard float32(x.device().type(), false, at::kFloat);
      at::Tensor q = qkv_all[0].to(at::kFloat), k = qkv_all[1].to(at::kFloat), v = qkv_all[2].to(at::kFloat);
      at::Tensor attn = attn_drop(at::softmax(at::matmul(q, k.transpose(-2, -1)) * scale_, -1));
      out = at::matmul(attn, v).transpose(1, 2).reshape({b, n, d});
    }
    return proj_drop(proj(out));
  }
  nn::Linear qkv{nullptr}, proj{nullptr};
  nn::Dropout attn_drop{nullptr}, proj_drop{nullptr};

 private:
  int64_t heads_;
  double scale_;
};
TORCH_MODULE(Attention);

class MlpImpl : public nn::Module {
 public:
  MlpImpl(int dim, int hidden) {
    fc1 = register_module("fc1", nn::Linear(dim, hidden));
    act = register_module("act", nn::ReLU6());
    fc2 = register_module("fc2", nn::Linear(hidden, dim));
    drop = register_module("drop", nn::Dropout(0.0));
  }
  at::Tensor forward(at::Tensor x) { return drop(fc2(drop(act(fc1(x))))); }
  nn::Linear fc1{nullptr}, fc2{nullptr};
  nn::ReLU6 act{nullptr};
  nn::Dropout drop{nullptr};
};
TORCH_MODULE(Mlp);

// Stochastic depth: while training, drops a sample's whole residual branch with probability p and
// rescales survivors by 1/(1-p).
at::Tensor drop_path(const at::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const double keep = 1.0 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  at::Tensor mask = at::empty(shape, x.options()).bernoulli_(keep);
  return x / keep * mask;
}

class BlockImpl : public nn::Module {
 public:
  BlockImpl(int dim, int heads, int mlp_ratio, double drop_path_rate) : drop_path_rate_(drop_path_rate) {
    norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({dim})));
    attn = register_module("attn", Attention(dim, heads));
    norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({dim})));
    mlp = register_module("mlp", Mlp(dim, dim * mlp_ratio));
  }
  at::Tensor forward(at::Tensor x) {
    x = x + drop_path(attn(norm1(x)), drop_path_rate_, is_training());
    return x + drop_path(mlp(norm2(x)), drop_path_rate_, is_training());
  }
  nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};

 private:
  double drop_path_rate_;
};
TORCH_MODULE(Block);

// Holds `proj` so the key is `patch_embed.proj.weight`.
class PatchEmbedImpl : public nn::Module {
 public:
  PatchEmbedImpl(int dim, int patch) {
    proj = register_module("proj", nn::Conv2d(nn::Conv2dOptions(3, dim, patch).stride(patch)));
  }
  nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

}  // namespace

VisionTransformer::VisionTransformer(const VisionTransformerOptions& o) : options_(o) {
  if (o.dim_ % o.heads_ != 0) fail("vision transformer: dim {} is not divisible by {} heads", o.dim_, o.heads_);
  const int side = o.image_ / o.patch_;
  tokens_ = side * side;
  pos_embed_ = register_parameter("pos_embed", at::zeros({1, tokens_, o.dim_}));
  auto patch_embed = register_module("patch_embed", PatchEmbed(o.dim_, o.patch_));
  patch_proj_ = patch_embed->proj;
  register_module("pos_drop", nn::Dropout(0.0));
  blocks_ = register_module("blocks", nn::ModuleList());
  for (int i = 0; i < o.depth_; ++i) {
    double rate = o.depth_ > 1 ? o.drop_path_ * i / (o.depth_ - 1) : 0.0;
    blocks_->push_back(Block(o.dim_, o.heads_, o.mlp_ratio_, rate));
  }
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({o.dim_})));
  feature_ = register_module(
      "feature",
      nn::Sequential(nn::Linear(nn::LinearOptions(int64_t(o.dim_) * tokens_, o.dim_).bias(false)),
                     nn::BatchNorm1d(nn::BatchNorm1dOptions(o.dim_).eps(2e-5)),
                     nn::Linear(nn::LinearOptions(o.dim_, o.embedding_size_).bias(false)),
                     nn::BatchNorm1d(nn::BatchNorm1dOptions(o.embedding_size_).eps(2e-5))));
  mask_token_ = register_parameter("mask_token", at::zeros({1, 1, o.dim_}));

  // Initialisation as arcface_torch: N(0, 0.02) for the mask token, the position embedding and
  // linear weights (its truncation at +-2 is never reached at this std), zero biases, LayerNorm (1, 0).
  torch::NoGradGuard no_grad;
  mask_token_.normal_(0.0, 0.02);
  pos_embed_.normal_(0.0, 0.02);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<nn::Linear>()) {
      linear->weight.normal_(0.0, 0.02);
      if (linear->bias.defined()) linear->bias.zero_();
    }
  }
}

at::Tensor VisionTransformer::forward_stages(at::Tensor x, std::vector<StageShape>* stages) {
  const int64_t b = x.size(0), d = options_.dim_;
  const bool masking = is_training() && options_.mask_ratio_ > 0;
  at::Tensor restore;
  {
    auto autocast = body_autocast(options_.autocast_, x);
    x = patch_proj_(x).flatten(2).transpose(1, 2) + pos_embed_;
    record_stage(stages, "patch_embed", x);
    if (masking) {
      // Keep a random subset of tokens per sample; `restore` puts them back in place afterwards.
      const int64_t keep = int64_t(tokens_ * (1.0 - options_.mask_ratio_));
      at::Tensor shuffle = at::argsort(at::rand({b, tokens_}, x.options().dtype(at::kFloat)), int64_t{1}, false);
      restore = at::argsort(shuffle, int64_t{1}, false);
      at::Tensor kept = shuffle.narrow(1, 0, keep);
      x = at::gather(x, 1, kept.unsqueeze(-1).expand({b, keep, d}));
    }
    for (auto& block : *blocks_) x = block->as<Block>()->forward(x);
    record_stage(stages, "blocks", x);
  }
  x = norm_(x.to(at::kFloat));
  if (masking) {
    at::Tensor fill = mask_token_.expand({b, tokens_ - x.size(1), d});
    x = at::gather(at::cat({x, fill}, 1), 1, restore.unsqueeze(-1).expand({b, tokens_, d}));
  }
  x = x.reshape({b, tokens_ * d});
  record_stage(stages, "flatten", x);
  x = feature_->forward(x);
  record_stage(stages, "feature", x);
  return x;
}

}  // namespace ff::backbones
