#!/usr/bin/python3
"""Independent PyTorch reference models of insightface arcface_torch's backbones.

FaceForge's C++ backbones are checked against these models: the module trees
below reproduce insightface's state_dict key names and shapes exactly, so a
state dict written here (or by insightface) loads into the C++ models and the
embeddings can be compared number for number. The code is written from the
architecture description, not copied from insightface.

Backbones (input [B, 3, 112, 112], output [B, 512] embeddings, not L2-normalised):
    r18 r34 r50 r100 r200   IResNet
    mbf mbf_large           MobileFaceNet
    vit_t vit_s vit_b       ViT, patch 9, 144 tokens, no class token

Command line (run with a Python that has torch; the C++ tests call it through
a subprocess, so this interface is kept stable):

    reference_backbones.py params NAME
        Print the parameter count (trainable and frozen, buffers excluded).
    reference_backbones.py keys NAME
        Print every state_dict key in order, one per line, followed by a space
        and its shape as AxBxC ("-" for a 0-dim tensor).
    reference_backbones.py save-random NAME SEED OUT.pt
        Build NAME after torch.manual_seed(SEED), give every BatchNorm
        (weight, bias, running_mean, running_var), LayerNorm (weight, bias)
        and PReLU weight seeded random values, save the state_dict. Running
        statistics are measured on a seeded random batch of 8 images, then
        perturbed, so that embeddings stay finite and input-dependent
        (running_var stays positive; IResNet's frozen features.weight stays 1).
    reference_backbones.py embed NAME STATE_DICT.pt INPUT.pt OUT.pt [--weights-only]
        Load STATE_DICT.pt strictly, switch to eval mode, embed the tensor in
        INPUT.pt ([B, 3, 112, 112], or a dict holding it as "images") and save
        {"embeddings": float32 [B, 512]}.
        --weights-only loads the state dict with torch.load(weights_only=True).
    reference_backbones.py resave IN.pt OUT.pt NAME [--weights-only]
        Print "loaded: <type> of <N> entries" for what torch.load returned, load
        it strictly into NAME and save model.state_dict() (an OrderedDict) to OUT.pt.
    reference_backbones.py summary NAME [NAME ...]
        Print "NAME PARAMETERS MACS" per name (params and flops in one process).
    reference_backbones.py flops NAME
        Print the multiply-accumulate count of one 112x112 image: Conv2d and
        Linear layers counted by forward hooks, plus the two attention matmuls
        of every ViT block.

As a module: build(NAME) returns the model, NAMES lists the backbones.
"""

import argparse
import os
import sys
from typing import Callable, Dict, List, Sequence

import torch
from torch import nn

EMBEDDING = 512
IMAGE_SIZE = 112


# --------------------------------------------------------------------------- IResNet


def conv3x3(inplanes: int, planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(inplanes: int, planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False)


class IBasicBlock(nn.Module):
    """Pre-activation style block: BN, conv, BN, PReLU, strided conv, BN."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module = None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.conv1 = conv3x3(inplanes, planes)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
        self.prelu = nn.PReLU(planes)
        # The stride sits on the second conv, unlike torchvision's ResNet.
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
        # Assigned last so the key order matches insightface; None registers no module.
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(x)
        out = self.conv1(out)
        out = self.bn2(out)
        out = self.prelu(out)
        out = self.conv2(out)
        out = self.bn3(out)
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity


class IResNet(nn.Module):
    def __init__(self, layers: Sequence[int], dropout: float = 0.0, num_features: int = EMBEDDING):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        self.layer1 = self._make_layer(64, layers[0], stride=2)
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.dropout = nn.Dropout(p=dropout)
        # Four stride-2 stages take 112x112 down to 7x7.
        self.fc = nn.Linear(512 * 7 * 7, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        # A frozen unit scale: the embedding's scale is left to the margin head.
        self.features.weight.requires_grad = False

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes, stride),
                nn.BatchNorm2d(planes, eps=1e-5),
            )
        layers = [IBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [IBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.bn2(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        x = self.fc(x)
        return self.features(x)


# --------------------------------------------------------------------------- MobileFaceNet


class ConvBlock(nn.Module):
    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_c),
            nn.PReLU(out_c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LinearBlock(nn.Module):
    """ConvBlock without the activation (the linear bottleneck projection)."""

    def __init__(self, in_c: int, out_c: int, kernel=(1, 1), stride=(1, 1), padding=(0, 0), groups: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_c, out_c, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(out_c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DepthWise(nn.Module):
    """Inverted bottleneck: 1x1 expand to `groups` channels, depthwise 3x3, 1x1 project."""

    def __init__(self, in_c: int, out_c: int, residual: bool = False, kernel=(3, 3), stride=(2, 2),
                 padding=(1, 1), groups: int = 1):
        super().__init__()
        self.residual = residual
        self.layers = nn.Sequential(
            ConvBlock(in_c, groups, kernel=(1, 1), stride=(1, 1), padding=(0, 0)),
            ConvBlock(groups, groups, kernel=kernel, stride=stride, padding=padding, groups=groups),
            LinearBlock(groups, out_c, kernel=(1, 1), stride=(1, 1), padding=(0, 0)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.residual else out


class Residual(nn.Module):
    def __init__(self, c: int, num_block: int, groups: int, kernel=(3, 3), stride=(1, 1), padding=(1, 1)):
        super().__init__()
        self.layers = nn.Sequential(*[
            DepthWise(c, c, residual=True, kernel=kernel, stride=stride, padding=padding, groups=groups)
            for _ in range(num_block)
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class GDC(nn.Module):
    """Global depthwise 7x7 convolution in place of global average pooling."""

    def __init__(self, embedding_size: int):
        super().__init__()
        self.layers = nn.Sequential(
            LinearBlock(512, 512, kernel=(7, 7), stride=(1, 1), padding=(0, 0), groups=512),
            nn.Flatten(),
            nn.Linear(512, embedding_size, bias=False),
            nn.BatchNorm1d(embedding_size),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class MobileFaceNet(nn.Module):
    def __init__(self, blocks: Sequence[int], scale: int, num_features: int = EMBEDDING):
        super().__init__()
        s = scale
        self.layers = nn.ModuleList()
        self.layers.append(ConvBlock(3, 64 * s, kernel=(3, 3), stride=(2, 2), padding=(1, 1)))
        if blocks[0] == 1:
            self.layers.append(
                ConvBlock(64 * s, 64 * s, kernel=(3, 3), stride=(1, 1), padding=(1, 1), groups=64))
        else:
            self.layers.append(Residual(64 * s, num_block=blocks[0], groups=128))
        self.layers.extend([
            DepthWise(64 * s, 64 * s, residual=False, stride=(2, 2), groups=128),
            Residual(64 * s, num_block=blocks[1], groups=128),
            DepthWise(64 * s, 128 * s, residual=False, stride=(2, 2), groups=256),
            Residual(128 * s, num_block=blocks[2], groups=256),
            DepthWise(128 * s, 128 * s, residual=False, stride=(2, 2), groups=512),
            Residual(128 * s, num_block=blocks[3], groups=256),
        ])
        self.conv_sep = ConvBlock(128 * s, 512, kernel=(1, 1), stride=(1, 1), padding=(0, 0))
        self.features = GDC(num_features)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        x = self.conv_sep(x)
        return self.features(x)


# --------------------------------------------------------------------------- ViT


class PatchEmbed(nn.Module):
    def __init__(self, img_size: int, patch_size: int, in_channels: int, dim: int):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [B, dim, 12, 12] -> [B, 144, dim], tokens in row-major patch order.
        return self.proj(x).flatten(2).transpose(1, 2)


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample while training."""

    def __init__(self, rate: float):
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.ReLU6()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, drop: float = 0.0,
                 attn_drop: float = 0.0, drop_path: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class VisionTransformer(nn.Module):
    def __init__(self, dim: int, depth: int, num_heads: int = 8, mlp_ratio: float = 4.0,
                 patch_size: int = 9, img_size: int = IMAGE_SIZE, num_features: int = EMBEDDING,
                 drop_rate: float = 0.0, attn_drop_rate: float = 0.0, drop_path_rate: float = 0.1,
                 mask_ratio: float = 0.1):
        super().__init__()
        self.embed_dim = dim
        self.mask_ratio = mask_ratio
        self.patch_embed = PatchEmbed(img_size, patch_size, 3, dim)
        self.num_patches = self.patch_embed.num_patches
        self.pos_embed = nn.Parameter(torch.zeros(1, self.num_patches, dim))
        self.pos_drop = nn.Dropout(p=drop_rate)
        # Stochastic depth grows linearly with depth; block 0 gets rate 0 (Identity).
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList([
            Block(dim, num_heads, mlp_ratio, drop=drop_rate, attn_drop=attn_drop_rate, drop_path=rates[i])
            for i in range(depth)
        ])
        self.norm = nn.LayerNorm(dim)
        self.feature = nn.Sequential(
            nn.Linear(dim * self.num_patches, dim, bias=False),
            nn.BatchNorm1d(dim, eps=2e-5),
            nn.Linear(dim, num_features, bias=False),
            nn.BatchNorm1d(num_features, eps=2e-5),
        )
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))

        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def random_masking(self, x: torch.Tensor):
        """Keep a random subset of tokens per sample; ids_restore undoes the shuffle."""
        b, n, d = x.shape
        len_keep = int(n * (1 - self.mask_ratio))
        noise = torch.rand(b, n, device=x.device)
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, d))
        return kept, ids_restore

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        x = self.patch_embed(x)
        x = self.pos_drop(x + self.pos_embed)
        masking = self.training and self.mask_ratio > 0
        if masking:
            x, ids_restore = self.random_masking(x)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        if masking:
            # Dropped positions are filled with the learned mask token, then every
            # token goes back to its original position.
            missing = ids_restore.shape[1] - x.shape[1]
            x = torch.cat([x, self.mask_token.expand(b, missing, -1)], dim=1)
            x = torch.gather(x, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        return x.reshape(b, self.num_patches * self.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature(self.forward_features(x))


# --------------------------------------------------------------------------- registry


BUILDERS: Dict[str, Callable[[], nn.Module]] = {
    "r18": lambda: IResNet([2, 2, 2, 2]),
    "r34": lambda: IResNet([3, 4, 6, 3]),
    "r50": lambda: IResNet([3, 4, 14, 3]),
    "r100": lambda: IResNet([3, 13, 30, 3]),
    "r200": lambda: IResNet([6, 26, 60, 6]),
    "mbf": lambda: MobileFaceNet((1, 4, 6, 2), scale=2),
    "mbf_large": lambda: MobileFaceNet((2, 8, 12, 4), scale=4),
    "vit_t": lambda: VisionTransformer(dim=256, depth=12),
    "vit_s": lambda: VisionTransformer(dim=512, depth=12),
    "vit_b": lambda: VisionTransformer(dim=512, depth=24),
}
NAMES: List[str] = list(BUILDERS)


def build(name: str) -> nn.Module:
    if name not in BUILDERS:
        raise ValueError(f"unknown backbone '{name}' (known: {', '.join(NAMES)})")
    return BUILDERS[name]()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randomize_normalization(model: nn.Module, calibration_batch: int = 8) -> None:
    """Give normalisation and PReLU tensors seeded random values from the global RNG.

    A freshly built model has every BatchNorm as an identity-like map (weight 1,
    bias 0, mean 0, var 1), which would let a C++ port that ignores them pass.
    Purely random running statistics are no good either: with insightface's
    normal(0, 0.1) conv init the IResNets then overflow (r18 reaches 1e9, r200
    NaN) and MobileFaceNet's embedding stops depending on the input. So the
    affine parameters are drawn at random, the running statistics are measured
    on a seeded random batch (so every layer sees roughly unit-scale inputs) and
    then perturbed at random, which keeps them non-trivial and running_var > 0.
    """
    frozen = {id(p) for p in model.parameters() if not p.requires_grad}
    batchnorms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                if id(m.weight) not in frozen:
                    m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
            elif isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
            elif isinstance(m, nn.PReLU):
                m.weight.uniform_(0.0, 0.5)

        # Only BatchNorm runs in training mode: dropout, stochastic depth and ViT
        # token masking stay off, so the statistics are those of the eval graph.
        model.eval()
        momenta = []
        for m in batchnorms:
            momenta.append(m.momentum)
            m.reset_running_stats()
            m.momentum = None  # cumulative average: one batch sets the statistics exactly
            m.train()
        model(torch.randn(calibration_batch, 3, IMAGE_SIZE, IMAGE_SIZE))
        for m, momentum in zip(batchnorms, momenta):
            m.momentum = momentum
            m.eval()
            std = m.running_var.sqrt()
            m.running_mean.add_(torch.randn_like(std) * 0.1 * std)
            m.running_var.mul_(torch.empty_like(std).uniform_(0.8, 1.25))
            # A near-constant channel in the small calibration batch would make eval
            # divide by almost zero; bound the variance below relative to its layer.
            m.running_var.clamp_(min=1e-2 * float(m.running_var.mean()) + 1e-6)


def count_macs(model: nn.Module, batch: int = 1) -> int:
    """Multiply-accumulates of one forward pass at 112x112, divided by the batch."""
    total = 0

    def conv_hook(m: nn.Conv2d, inputs, out):
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, inputs, out):
        nonlocal total
        total += out.numel() * m.in_features

    def attention_hook(m: Attention, inputs, out):
        nonlocal total
        b, n, c = inputs[0].shape
        # q @ k^T and attn @ v: each heads * N * N * head_dim per sample.
        total += 2 * b * m.num_heads * n * n * (c // m.num_heads)

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, Attention):
            handles.append(m.register_forward_hook(attention_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(batch, 3, IMAGE_SIZE, IMAGE_SIZE))
    for h in handles:
        h.remove()
    return total // batch


# --------------------------------------------------------------------------- command line


def _load_state_dict(path: str, weights_only: bool):
    if weights_only:
        return torch.load(path, map_location="cpu", weights_only=True)
    return torch.load(path, map_location="cpu")


def _shape(t: torch.Tensor) -> str:
    return "x".join(str(d) for d in t.shape) if t.dim() > 0 else "-"


def cmd_params(args) -> None:
    print(count_parameters(build(args.name)))


def cmd_keys(args) -> None:
    for key, value in build(args.name).state_dict().items():
        print(f"{key} {_shape(value)}")


def cmd_save_random(args) -> None:
    torch.manual_seed(args.seed)
    model = build(args.name)
    randomize_normalization(model)
    torch.save(model.state_dict(), args.out)


def cmd_embed(args) -> None:
    model = build(args.name)
    model.load_state_dict(_load_state_dict(args.state_dict, args.weights_only), strict=True)
    model.eval()
    images = torch.load(args.input, map_location="cpu")
    if isinstance(images, dict):  # FaceForge writes tensors as {name: tensor} weight files
        images = images["images"]
    images = images.float()
    if images.dim() != 4 or tuple(images.shape[1:]) != (3, IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"input must be [B, 3, {IMAGE_SIZE}, {IMAGE_SIZE}], got {list(images.shape)}")
    with torch.no_grad():
        embeddings = model(images)
    torch.save({"embeddings": embeddings.float().contiguous()}, args.out)


def cmd_resave(args) -> None:
    model = build(args.name)
    loaded = _load_state_dict(args.input, args.weights_only)
    print(f"loaded: {type(loaded).__module__}.{type(loaded).__qualname__} of {len(loaded)} entries")
    model.load_state_dict(loaded, strict=True)
    torch.save(model.state_dict(), args.out)


def cmd_flops(args) -> None:
    print(count_macs(build(args.name)))


def cmd_summary(args) -> None:
    for name in args.names:
        model = build(name)
        print(f"{name} {count_parameters(model)} {count_macs(model)}", flush=True)
        del model


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description="Reference insightface backbones (see module docstring).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("params", help="print the parameter count")
    p.add_argument("name", choices=NAMES)
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("keys", help="print state_dict keys and shapes")
    p.add_argument("name", choices=NAMES)
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("save-random", help="save a seeded random state dict")
    p.add_argument("name", choices=NAMES)
    p.add_argument("seed", type=int)
    p.add_argument("out")
    p.set_defaults(func=cmd_save_random)

    p = sub.add_parser("embed", help="embed a saved image tensor with a saved state dict")
    p.add_argument("name", choices=NAMES)
    p.add_argument("state_dict")
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("--weights-only", action="store_true")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("resave", help="load a state dict strictly and save model.state_dict()")
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("name", choices=NAMES)
    p.add_argument("--weights-only", action="store_true")
    p.set_defaults(func=cmd_resave)

    p = sub.add_parser("flops", help="print multiply-accumulates for one 112x112 image")
    p.add_argument("name", choices=NAMES)
    p.set_defaults(func=cmd_flops)

    p = sub.add_parser("summary", help="print NAME PARAMETERS MACS for each name")
    p.add_argument("names", nargs="+", choices=NAMES)
    p.set_defaults(func=cmd_summary)

    args = parser.parse_args(argv)
    try:
        args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader such as `head` closed the pipe early; that is not an error here.
        sys.stdout = open(os.devnull, "w")
    return 0


if __name__ == "__main__":
    sys.exit(main())
