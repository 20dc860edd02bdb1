// Evaluation-protocol trees rendered from held-out synthetic identities: an RFW-style tree (per-race
// pairs and landmarks) and an IJB-C-style tree (insightface meta files, templates, media, 1:1 and
// 1:N lists), both of loose (unaligned) crops, so the RFW and IJB code paths run without downloads.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "datasets/pair_lists.h"
#include "datasets/synthetic.h"

namespace ff::datasets {

// How a 112x112 render (the aligned face) becomes a loose crop: it is warped into a square canvas
// by a similarity transform q = s R(a) (p - (56, 56)) + (canvas/2 + dx, canvas/2 + dy) with s, a,
// dx, dy uniform in the ranges below. Outside the warped render the canvas continues the render's
// edge colours, defocused, faded in over a few pixels, so no hard square edge marks where the face
// was pasted (and no mirrored copy of the head appears, as a reflected border would give). The
// stored landmarks are the five ArcFace template points mapped through the same transform, so
// aligning a crop with its landmarks (align_face) gives back the render, up to interpolation and
// JPEG loss. The whole render must fit in the canvas for any draw (validated), so the aligned crop
// never samples outside the stored image.
struct SyntheticLooseOptions {
  int canvas = 152;                   // side of the stored square image, pixels
  double max_rotation_degrees = 6.0;  // in-plane rotation in [-max, max]
  double min_scale = 0.9;             // face size relative to the 112 render, in [min_scale, max_scale]
  double max_scale = 1.1;
  double max_shift = 6.0;             // pixels per axis, in [-max, max]
  int jpeg_quality = 95;              // 1..100
};

// RFW race folder names in synthetic group order: race r is synthetic group r (groups 4.. unused).
// The names are labels only: the synthetic groups differ in skin tone and shape priors (group 0 the
// lightest tone, group 3 the darkest at groups = 4), not in any real population's features.
inline constexpr const auto& kSyntheticRfwRaces = kRfwRaces;  // datasets/pair_lists.h

// OUT/rfw/ (the `dir` passed to write_synthetic_rfw):
//   test/data/<Race>/<id>/<id>_<NNNN>.jpg   loose crops, NNNN = 0001..images_per_identity
//   test/txts/<Race>/<Race>_pairs.txt       LFW-style lines without a header, tab separated:
//                                           genuine `id n1 n2`, impostor `id1 n1 id2 n2`; n as a plain
//                                           integer equal to the file's NNNN (as LFW and RFW write it)
//   test/txts/<Race>/<Race>_lmk.txt         per image, tab separated: `test/data/<Race>/<id>/<file>`
//                                           (relative to `dir`), the identity's integer label, then
//                                           x1 y1 ... x5 y5 in the stored image's pixels (RFW's own file
//                                           puts the label there too; landmark readers skip it)
//   test/txts/<Race>/<Race>_people.txt      `id<TAB>image count`, one line per identity; its line
//                                           index (0-based) is the label
//   test/txts/<Race>/<Race>_images.txt      `<file><TAB>label`, one line per image
//   synthetic_rfw.json                      options and counts; written last, so it marks a whole tree
// Identity folder names are "s" + the synthetic identity index, zero-padded to 7 digits; image NNNN
// of identity h is render_synthetic(options, h, NNNN - 1) made loose.
// Pairs per race: 10 contiguous folds of pairs/10, each first half genuine then half impostor;
// impostors pair two identities of the race; no unordered pair repeats.
struct SyntheticRfwOptions {
  int identities_per_race = 50;
  int images_per_identity = 4;  // 2..9999
  int pairs = 200;              // per race; a positive multiple of 20
  SyntheticLooseOptions loose;
};

// Throws ff::Error naming the option (rfw.*), the expected range and the value.
void validate_synthetic_rfw_options(const SyntheticOptions& options, const SyntheticRfwOptions& rfw);

// OUT/ijb/ (the `dir` passed to write_synthetic_ijb), insightface's IJB-C layout (prefix "ijbc"):
//   loose_crop/<n>.jpg                      loose crops, n = 1..images
//   meta/ijbc_face_tid_mid.txt              `<n>.jpg template_id media_id`, n ascending
//   meta/ijbc_name_5pts_score.txt           `<n>.jpg x1 y1 ... x5 y5 score`, the same image order
//   meta/ijbc_template_pair_label.txt       `tid1 tid2 label` (1 genuine, 0 impostor), in random order
//   meta/ijbc_1N_gallery_G1.csv, meta/ijbc_1N_gallery_G2.csv, meta/ijbc_1N_probe_mixed.csv
//                                           header `TEMPLATE_ID,SUBJECT_ID,FILENAME`, one row per image
//                                           of the template, FILENAME = `<n>.jpg` as in loose_crop/
//   synthetic_ijb_sources.txt               `<n>.jpg identity render_index degraded(0|1)`: which render
//                                           each crop shows (for checks; not an IJB file)
//   synthetic_ijb.json                      options and counts; written last, so it marks a whole tree
// Subjects: SUBJECT_ID = the synthetic identity index. Each subject has templates_per_subject
// templates; every image belongs to exactly one template. A template holds min_media..max_media
// media: a still (one image) with probability still_share, else a video of min_frames..max_frames
// frames that share one media id and one render (each frame its own loose transform, as consecutive
// frames of one shot). Template ids are a shuffled 1..templates, media ids a shuffled
// templates+1..templates+media, so neither id space hides behind the other or behind file order.
// Scores: a crop is degraded (downscaled, blurred, noisy, low JPEG quality) with probability
// degraded_share and then scores in [0.01, 0.62], lower for worse damage; others score in [0.9, 1).
// 1:N: the last unenrolled_subjects subjects are in neither gallery; the others alternate between
// G1 (even position) and G2 (odd), each enrolled by its first template; all remaining templates are
// probes (probe_mixed), so a probe is mated in exactly one gallery or, unenrolled, in none.
// 1:1: genuine_pairs distinct template pairs of one subject, impostor_pairs distinct template pairs
// of two subjects, over all templates.
struct SyntheticIjbOptions {
  int subjects = 40;
  int unenrolled_subjects = 4;   // subjects in neither gallery (non-mated probes for both)
  int templates_per_subject = 3;
  int min_media = 2;             // media per template, uniform in [min_media, max_media]
  int max_media = 3;
  double still_share = 0.5;      // media that are one still image rather than video frames
  int min_frames = 2;            // frames per video, uniform in [min_frames, max_frames]
  int max_frames = 4;
  int genuine_pairs = 100;
  int impostor_pairs = 400;
  double degraded_share = 0.15;  // crops degraded and given a low detector score
  SyntheticLooseOptions loose;
};

// Throws ff::Error naming the option (ijb.*), the expected range and the value.
void validate_synthetic_ijb_options(const SyntheticOptions& options, const SyntheticIjbOptions& ijb);

// Held-out identities: both trees use identities after the training and verification.bin ones, so
// none is trained on or shared with verification.bin, given the same SyntheticOptions as the
// dataset. RFW takes identities from options.identities + options.pair_identities onward (race r:
// the first identities_per_race of group r there); IJB takes subjects from that first index plus
// kSyntheticIjbIdentityOffset, so the two trees never share an identity while RFW uses fewer than
// that many indices (validated). Renders go through render_synthetic with protocol_identities raised
// to cover these indices (pixels do not depend on that bound).
inline constexpr int kSyntheticIjbIdentityOffset = 1 << 20;

struct SyntheticRfwReport {
  int64_t images = 0;      // over all races
  int64_t pairs = 0;       // over all races
  int identities = 0;      // over all races
};

struct SyntheticIjbReport {
  int64_t images = 0;
  int templates = 0;
  int media = 0;
  int subjects = 0;
  int genuine_pairs = 0;
  int impostor_pairs = 0;
};

// Throws ff::Error when `dir` exists and is not empty: leftovers of an earlier tree would silently
// join the new one.
void check_synthetic_protocol_folder(const std::filesystem::path& dir);

// Write the trees described above into `dir` (created; refused when not empty). Deterministic per
// (options, rfw/ijb): the files do not depend on the thread count. `progress(done, total)` is called
// after each image, from the calling thread only.
using SyntheticProgress = std::function<void(int64_t done, int64_t total)>;
SyntheticRfwReport write_synthetic_rfw(const SyntheticOptions& options, const SyntheticRfwOptions& rfw,
                                       const std::filesystem::path& dir, const SyntheticProgress& progress = {});
SyntheticIjbReport write_synthetic_ijb(const SyntheticOptions& options, const SyntheticIjbOptions& ijb,
                                       const std::filesystem::path& dir, const SyntheticProgress& progress = {});

}  // namespace ff::datasets
