"""Small probes of trained classifiers: a ViT's attention maps and their rollout.

timm's ViT computes attention with fused ``scaled_dot_product_attention``, so the softmax matrix never
exists as a tensor. :func:`vit_attention_maps` recomputes it exactly from each block's own ``qkv``
projection (the block input captured by a forward pre-hook), which is what the unfused timm path does:
``softmax(q_norm(q) · k_norm(k)ᵀ · scale)``.

:func:`attention_rollout` follows Abnar & Zuidema (2020): average the heads, add the identity for the
residual stream, ``A' = (A + I) / 2`` renormalised per row, and multiply across layers
``R = A'_L · … · A'_1``; the CLS row of ``R`` (without the CLS column) says how much each patch token
flows into the classification token.
"""

from __future__ import annotations

import torch

__all__ = ["attention_rollout", "cls_rollout_map", "vit_attention_maps"]


@torch.inference_mode()
def vit_attention_maps(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run a timm ``VisionTransformer`` on ``x``; return logits and each block's ``(B, H, N, N)`` softmax."""
    captured: list[torch.Tensor] = []

    def grab(module, args, kwargs=None):
        captured.append(args[0])

    handles = [blk.attn.register_forward_pre_hook(grab) for blk in model.blocks]
    try:
        logits = model(x)
    finally:
        for h in handles:
            h.remove()
    maps = []
    for blk, inp in zip(model.blocks, captured, strict=True):
        attn = blk.attn
        b, n, _ = inp.shape
        qkv = attn.qkv(inp).reshape(b, n, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
        q, k = attn.q_norm(qkv[0]), attn.k_norm(qkv[1])
        maps.append(((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1))
    return logits, maps


def attention_rollout(maps: list[torch.Tensor]) -> torch.Tensor:
    """Abnar & Zuidema rollout of per-layer ``(B, H, N, N)`` attention: ``(B, N, N)``."""
    rollout = None
    for a in maps:
        a = a.mean(dim=1)
        eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
        a = (a + eye) / 2
        a = a / a.sum(dim=-1, keepdim=True)
        rollout = a if rollout is None else a @ rollout
    if rollout is None:
        raise ValueError("no attention maps given")
    return rollout


def cls_rollout_map(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The CLS row of the rollout over patch tokens, as a ``(B, gh, gw)`` grid that sums to < 1 per image."""
    _, maps = vit_attention_maps(model, x)
    rollout = attention_rollout(maps)
    prefix = getattr(model, "num_prefix_tokens", 1)
    gh, gw = model.patch_embed.grid_size
    return rollout[:, 0, prefix:].reshape(-1, gh, gw)
