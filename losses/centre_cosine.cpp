// The centre-cosine product and its backward.
#include "losses/centre_cosine.h"

#include <torch/autograd.h>

namespace ff::losses {

namespace {

struct CentreCosine : torch::autograd::Function<CentreCosine> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x_hat, const at::Tensor& centres) {
    at::Tensor inv_norms = centres.norm(2, 1).clamp_min(1e-12).reciprocal();
    at::Tensor cosine = x_hat.matmul(centres.t()).mul_(inv_norms);
    ctx->save_for_backward({x_hat, centres, inv_norms, cosine});
    return cosine;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x_hat = saved[0], &centres = saved[1], &inv_norms = saved[2], &cosine = saved[3];
    at::Tensor g = grads[0].mul(inv_norms);  // g_ij / |w_j|
    at::Tensor grad_x, grad_w;
    if (ctx->needs_input_grad(0)) grad_x = g.matmul(centres);
    if (ctx->needs_input_grad(1)) {
      at::Tensor radial = (g * cosine).sum(0).mul_(inv_norms).neg_().unsqueeze(1);  // −Σ_i g_ij cos_ij / |w_j|²
      grad_w = g.t().matmul(x_hat).addcmul_(centres, radial);
    }
    return {grad_x, grad_w};
  }
};

}  // namespace

at::Tensor centre_cosine(const at::Tensor& x_hat, const at::Tensor& centres) { return CentreCosine::apply(x_hat, centres); }

}  // namespace ff::losses
