"""PyTorch twins of the tmu-nn architectures, with the same parameter names, built from the
JSON architecture config that tmu model files carry (`{"arch": "resnet18", ...}`)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.downsample is None else self.downsample(x)
        return F.relu(y + s)


class ResNet18(nn.Module):
    """torchvision's resnet18 layout; stem "cifar" = 3x3 conv, no max-pool."""

    def __init__(self, cfg, input_shape, classes):
        super().__init__()
        w = cfg.get("width", 64)
        self.imagenet = cfg.get("stem", "cifar") == "imagenet"
        if self.imagenet:
            self.conv1 = nn.Conv2d(input_shape[0], w, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(input_shape[0], w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if self.imagenet else nn.Identity()
        c = w
        for i, m in enumerate([1, 2, 4, 8]):
            stride = 1 if i == 0 else 2
            layer = nn.Sequential(BasicBlock(c, w * m, stride), BasicBlock(w * m, w * m, 1))
            setattr(self, f"layer{i + 1}", layer)
            c = w * m
        self.fc = nn.Linear(8 * w, classes)

    def forward_features(self, x):
        y = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for i in range(4):
            y = getattr(self, f"layer{i + 1}")(y)
        f = y.mean(dim=(2, 3))
        return f, self.fc(f)


class ConvUnit(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride, bn):
        layers = [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, bias=not bn)]
        if bn:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.ReLU())
        super().__init__(*layers)


class AllCNN(nn.Module):
    def __init__(self, cfg, input_shape, classes):
        super().__init__()
        w1 = cfg.get("width", 96)
        w2 = 2 * w1
        bn = cfg.get("batch_norm", True)
        p = cfg.get("dropout", 0.0)
        self.features = nn.Sequential(
            ConvUnit(input_shape[0], w1, 3, 1, bn),
            ConvUnit(w1, w1, 3, 1, bn),
            ConvUnit(w1, w2, 3, 2, bn),
            nn.Dropout(p),
            ConvUnit(w2, w2, 3, 1, bn),
            ConvUnit(w2, w2, 3, 1, bn),
            ConvUnit(w2, w2, 3, 2, bn),
            nn.Dropout(p),
            ConvUnit(w2, w2, 3, 1, bn),
            ConvUnit(w2, w2, 1, 1, bn),
        )
        self.classifier = nn.Sequential(nn.Linear(w2, classes))

    def forward_features(self, x):
        f = self.features(x).mean(dim=(2, 3))
        return f, self.classifier(f)


class Attention(nn.Module):
    def __init__(self, dim, heads, p):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = self.drop((q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5).softmax(dim=-1))
        return self.drop(self.proj((attn @ v).transpose(1, 2).reshape(b, t, d)))


class Mlp(nn.Module):
    def __init__(self, dim, hidden, p):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(F.gelu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_dim, p):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, p)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_dim, p)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, c, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(c, dim, patch, patch)


class ViT(nn.Module):
    """timm's VisionTransformer layout: class token, learned position embedding, pre-norm."""

    def __init__(self, cfg, input_shape, classes):
        super().__init__()
        patch = cfg.get("patch", 4)
        dim = cfg.get("dim", 192)
        p = cfg.get("dropout", 0.0)
        tokens = (input_shape[1] // patch) * (input_shape[2] // patch) + 1
        self.patch_embed = PatchEmbed(input_shape[0], dim, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 1e-6)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.pos_drop = nn.Dropout(p)
        self.blocks = nn.Sequential(
            *[Block(dim, cfg.get("heads", 3), cfg.get("mlp_dim", 768), p) for _ in range(cfg.get("depth", 12))]
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward_features(self, x):
        y = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        y = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), y], dim=1) + self.pos_embed
        y = self.blocks(self.pos_drop(y))
        f = self.norm(y)[:, 0]
        return f, self.head(f)


class SmallCNN(nn.Module):
    def __init__(self, cfg, input_shape, classes):
        super().__init__()
        w = cfg.get("width", 32)
        self.features = nn.Sequential(
            nn.Conv2d(input_shape[0], w, 3, 1, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, 1, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, 1, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.ReLU(),
        )
        self.drop = nn.Dropout(cfg.get("dropout", 0.0))
        self.classifier = nn.Linear(4 * w, classes)

    def forward_features(self, x):
        f = self.features(x).mean(dim=(2, 3))
        return f, self.classifier(self.drop(f))


class MLP(nn.Module):
    def __init__(self, cfg, input_shape, classes):
        super().__init__()
        d = input_shape[0] * input_shape[1] * input_shape[2]
        self.hidden = nn.ModuleList()
        for h in cfg.get("hidden", [256, 128]):
            self.hidden.append(nn.Linear(d, h))
            d = h
        self.drop = nn.Dropout(cfg.get("dropout", 0.0))
        self.head = nn.Linear(d, classes)

    def forward_features(self, x):
        y = x.flatten(1)
        for layer in self.hidden:
            y = self.drop(F.relu(layer(y)))
        return y, self.head(y)


ARCHS = {"resnet18": ResNet18, "allcnn": AllCNN, "vit-tiny": ViT, "small-cnn": SmallCNN, "mlp": MLP}


def build(arch_config, input_shape, classes):
    """The PyTorch module for a tmu `tmu.arch_config` JSON object."""
    cfg = dict(arch_config)
    return ARCHS[cfg.pop("arch")](cfg, input_shape, classes)
