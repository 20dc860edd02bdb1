// Embedded synthetic identities: face-like 112x112 images drawn with OpenCV, the default data for
// the demo and tests (no downloads). An identity is a set of persistent parameters; every image of
// it varies pose, light, expression, blur, noise, occlusion and resolution. Deterministic per seed.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cv {
class Mat;
}

namespace ff::datasets {

struct SyntheticOptions {
  int identities = 1000;          // training identities (labels 0..identities-1)
  int images_per_identity = 20;
  int seed = 0;                   // the dataset seed: same seed, same pixels
  int groups = 4;                 // demographic groups with shifted parameter distributions (>= 4)
  int pair_identities = 300;      // held-out identities (never trained on) for verification pairs
  int pairs = 3000;               // held-out verification pairs (10 folds, half genuine)
  double variation = 1.0;         // scales within-identity variation (difficulty)
  // Further held-out identities after the pair identities, addressable by render_synthetic for
  // protocol trees (datasets/synthetic_protocols.h). They change no pixel and no written file:
  // write_synthetic_dataset ignores them, and an identity's pixels never depend on this bound.
  int protocol_identities = 0;
};

// Throws ff::Error naming the option, the expected range and the value given. Every function
// below validates its options this way.
void validate_synthetic_options(const SyntheticOptions& options);

// A persistent mark on the skin, placed in face coordinates so it moves with pose.
struct SyntheticMark {
  enum class Kind { mole, freckles, scar, birthmark };
  Kind kind = Kind::mole;
  float u = 0;         // across the face: -1 (image left cheek edge) .. 1 (right), of face_half_width
  float y = 0;         // canonical pixel row
  float size = 1;      // radius (mole, freckle spread, birthmark) or length (scar), pixels
  float angle = 0;     // radians (scar, birthmark)
  float strength = 1;  // 0..1: how far the mark's colour is from the skin
  uint64_t detail = 0; // seeds the freckle layout, fixed per identity
};

// The persistent parameters of one identity, derived from (options.seed, identity) only. Geometry
// is in pixels of the canonical 112x112 frame, whose average matches the ArcFace five-point
// template (eyes near rows 51.6, nose tip near 71.7, mouth near 92.3). Colours are BGR 0..255.
struct SyntheticIdentity {
  int identity = 0;
  int group = 0;
  // face outline: cheek half width, rows of the head top and the chin, superellipse powers
  // (larger = squarer) of the skull and the jaw, forehead width relative to the cheeks
  float face_half_width = 40, head_top = 0, chin = 110, skull_power = 2, jaw_power = 2;
  float forehead_width = 0.9, ear_size = 9;
  // eyes: row of the eye line, half the distance between eye centres, almond half width and
  // opening, tilt (outer corner up, radians), iris radius, lid crease height (0 = no crease)
  float eye_y = 51.6, eye_half_gap = 17.6, eye_width = 6.5, eye_height = 3.2, eye_tilt = 0;
  float iris_radius = 3, crease = 1;
  // brows: height above the eye line, thickness, inner start from the midline, length, arch, slant
  float brow_gap = 9, brow_thickness = 2, brow_inner = 4, brow_length = 16, brow_arch = 2;
  float brow_slant = 0;
  // nose: tip row below the eye line, half width of the wings, bridge width
  float nose_length = 20, nose_width = 8, nose_bridge = 3;
  // mouth: row below the nose tip, half width, lip thicknesses, resting curve (+ = corners up)
  float mouth_gap = 20, mouth_half_width = 14.6, upper_lip = 2.5, lower_lip = 3.5, mouth_curve = 0;
  // hair: style (0 short, 1 long, 2 bald, 3 fringe, 4 curly), hairline row, volume outside the
  // skull, part/slant of the hairline (-1..1), receding temples
  int hair_style = 0;
  float hairline = 22, hair_volume = 4, hair_part = 0, hair_recede = 0;
  // facial hair: 0 none, 1 moustache, 2 full beard, 3 short bristles, 4 goatee
  int facial_hair = 0;
  float age = 0;               // 0..1: wrinkles and grey hair
  float glasses_tendency = 0;  // chance per image of wearing glasses at variation 1
  int glasses_shape = 0;       // 0 round, 1 rectangular
  std::array<float, 3> skin{}, hair{}, iris{}, lips{};
  std::vector<SyntheticMark> marks;
};

// The parameters render_synthetic draws for an identity (training or held-out).
SyntheticIdentity synthetic_identity(const SyntheticOptions& options, int identity);

// Renders image `image_index` of training identity `identity` as 112x112 BGR (CV_8UC3).
// Held-out identities are addressed as identity >= options.identities: the pair identities
// [identities, identities + pair_identities), then the protocol identities up to
// identities + pair_identities + protocol_identities (exclusive).
void render_synthetic(const SyntheticOptions& options, int identity, int image_index, cv::Mat& out);

// Demographic group (0..groups-1) of an identity: groups take turns along the identity index, so
// every run of `groups` consecutive identities (training or held-out) covers all of them.
int synthetic_group(const SyntheticOptions& options, int identity);

// Writes DIR/images/<id>/<k>.jpg (ids zero-padded, JPEG quality 95), DIR/identities.csv (id,group,split),
// DIR/verification.bin (insightface .bin pairs over held-out identities) and DIR/synthetic.json
// (the options). Training identities get images 0..images_per_identity-1; the held-out pairs use
// image indices from images_per_identity up, each image used once. Pairs: 10 contiguous folds of
// pairs/10, each first half genuine then half impostor, impostors always within one group.
// Renders on 2 threads; the files do not depend on the thread count. synthetic.json is written last,
// so its presence marks a complete dataset. Refuses a DIR whose images/ folder is not empty.
// Returns the number of training images written.
int64_t write_synthetic_dataset(const SyntheticOptions& options, const std::filesystem::path& out_dir);

}  // namespace ff::datasets
