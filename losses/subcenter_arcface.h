// Sub-center ArcFace (Deng et al., ECCV 2020): implements MarginHead.
// The classifier holds K centres per class and hands this head, per class column, the largest
// cosine over that class's centres (max pooling, MarginClassifier); the head then applies the
// ArcFace target. From `loss.subcenter.drop_epoch` on, the classifier keeps only each class's
// dominant centre (the one that won most of the class's samples so far), so noisy samples that had
// gathered around the other centres stop counting for the class.
#pragma once
#include "losses/arcface.h"

namespace ff::losses {

class SubCenterArcFace : public ArcFace {
 public:
  SubCenterArcFace(const ArcFaceOptions& options, int k) : ArcFace(options), k_(k) {}
  int sub_centers() const override { return k_; }

 private:
  int k_;
};

}  // namespace ff::losses
