// MarginHead's shared mechanics: inter-class filtering and target-column replacement.
#include "losses/margin_head.h"

#include "src/util/error.h"

namespace ff::losses {

void check_head_input(const char* head, const at::Tensor& cosine, const at::Tensor& labels) {
  if (!(cosine.dim() == 2 && labels.dim() == 1 && labels.size(0) == cosine.size(0))) {
    fail("{} expects cosine [B, C] and labels [B], got [{}] and [{}]", head, fmt::join(cosine.sizes(), ", "),
         fmt::join(labels.sizes(), ", "));
  }
}

at::Tensor MarginHead::forward(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) {
  check_head_input(name().c_str(), cosine, labels);
  if (interclass_threshold_ <= 0) return logits(cosine, labels, norms);
  // insightface: cosines to other classes above the threshold are likely label noise or
  // duplicate identities; zeroing them (not the target) stops the loss from pushing them apart.
  at::Tensor dirty;
  {
    torch::NoGradGuard no_grad;
    dirty = cosine > interclass_threshold_;
    at::Tensor valid = (labels >= 0).unsqueeze(1);
    at::Tensor is_target = at::zeros_like(dirty).scatter(1, labels.clamp_min(0).unsqueeze(1), valid);
    dirty = dirty & ~is_target;
  }
  return logits(cosine.masked_fill(dirty, 0.0), labels, norms);
}

at::Tensor gather_target(const at::Tensor& cosine, const at::Tensor& labels) {
  return cosine.gather(1, labels.clamp_min(0).unsqueeze(1));
}

at::Tensor sine_of(const at::Tensor& cosine) {
  at::Tensor c = cosine.clamp(-1.0, 1.0);
  return (1.0 - c * c).clamp_min(1e-12).sqrt();
}

at::Tensor replace_target(const at::Tensor& cosine, const at::Tensor& labels,
                          const std::function<at::Tensor(const at::Tensor&)>& target, bool straight_through) {
  // Rows whose target is not in these columns gather column 0 and write it back unchanged, so one
  // gather/scatter pair serves every row and autograd sees the margin only where it applies.
  at::Tensor valid = (labels >= 0).unsqueeze(1);
  at::Tensor safe = labels.clamp_min(0).unsqueeze(1);
  at::Tensor cos_y = cosine.gather(1, safe);
  at::Tensor adjusted = target(cos_y);
  if (straight_through) adjusted = cos_y + (adjusted - cos_y).detach();
  return cosine.scatter(1, safe, at::where(valid, adjusted, cos_y));
}

}  // namespace ff::losses
