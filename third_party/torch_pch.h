// Precompiled header: stable third-party headers only (never FaceForge's own), shared by every torch target.
#pragma once
#include <torch/torch.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
