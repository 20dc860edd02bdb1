// Anchor translation unit: the target that owns the shared precompiled header (third_party/torch_pch.h).
