"""RepMLP: conv → FC, BN fusion and the block's conversion, checked against F.conv2d / BatchNorm
and against an explicit block-Toeplitz formula; the notes' parameter arithmetic; the trained locality
models; the lesson and its /repmlp endpoint."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core import repmlp
from core.repmlp import RepMLPBlock, conv_to_fc, fuse_bn

# (O, C, k, h, w, groups): square and non-square maps, kernels larger than the map, groups, O ≠ C
CONV_CASES = [
    (4, 4, 3, 5, 5, 1),
    (3, 2, 5, 4, 7, 1),
    (6, 4, 3, 6, 3, 2),
    (8, 8, 7, 3, 5, 4),
    (4, 6, 1, 2, 9, 2),
    (2, 3, 9, 4, 4, 1),
    (6, 6, 5, 5, 4, 6),
]


def _randomise_bn(module: nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=gen))
                m.running_var.copy_(0.2 + 2 * torch.rand(n, generator=gen))
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(torch.randn(n, generator=gen))


@pytest.mark.parametrize(("o", "c", "k", "h", "w", "g"), CONV_CASES)
def test_conv_to_fc_equals_conv2d_float64(o, c, k, h, w, g):
    gen = torch.Generator().manual_seed(o * 100 + k)
    weight = torch.randn(o, c // g, k, k, generator=gen, dtype=torch.float64)
    bias = torch.randn(o, generator=gen, dtype=torch.float64)
    W, b = conv_to_fc(weight, bias, h, w, groups=g)
    assert W.shape == (o * h * w, c * h * w) and b.shape == (o * h * w,)
    x = torch.randn(5, c, h, w, generator=gen, dtype=torch.float64)
    ref = F.conv2d(x, weight, bias, padding=k // 2, groups=g).reshape(5, -1).numpy()
    ours = x.reshape(5, -1).numpy() @ W.T + b
    assert np.abs(ours - ref).max() <= 1e-8 * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize(("o", "c", "k", "h", "w", "g"), CONV_CASES)
def test_conv_to_fc_equals_conv2d_float32_and_numpy_input(o, c, k, h, w, g):
    rng = np.random.default_rng(k + h)
    weight = rng.standard_normal((o, c // g, k, k)).astype(np.float32)
    W, b = conv_to_fc(weight, None, h, w, groups=g)
    assert W.dtype == np.float32 and not b.any()
    x = rng.standard_normal((c, h, w)).astype(np.float32)
    ref = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight), padding=k // 2, groups=g)
    ref = ref.numpy().ravel()
    assert np.abs(W @ x.ravel() - ref).max() <= 1e-5 * np.abs(ref).max()


def test_conv_to_fc_is_block_toeplitz_entry_by_entry():
    """W[(o,y,x), (c,y',x')] = K[o, c, y'−y+p, x'−x+p] inside the kernel, 0 outside (zero padding)."""
    o, c, k, h, w = 2, 3, 3, 4, 5
    p = k // 2
    weight = np.arange(1, o * c * k * k + 1, dtype=np.float64).reshape(o, c, k, k)
    W, _ = conv_to_fc(weight, None, h, w)
    expected = np.zeros_like(W)
    for oo, y, x, cc, yy, xx in itertools.product(range(o), range(h), range(w), range(c), range(h), range(w)):
        dy, dx = yy - y + p, xx - x + p
        if 0 <= dy < k and 0 <= dx < k:
            expected[oo * h * w + y * w + x, cc * h * w + yy * w + xx] = weight[oo, cc, dy, dx]
    np.testing.assert_array_equal(W, expected)
    # each (o, c) block is itself h×h blocks of banded w×w Toeplitz matrices
    block = W[:h * w, :h * w]
    assert np.all(block[:w, :w] == block[w:2 * w, w:2 * w])


def test_grouped_conv_to_fc_is_block_diagonal():
    weight = torch.randn(4, 1, 3, 3, dtype=torch.float64)
    W, _ = conv_to_fc(weight, None, 3, 3, groups=4)
    for gi, gj in itertools.product(range(4), range(4)):
        blk = W[gi * 9:(gi + 1) * 9, gj * 9:(gj + 1) * 9]
        assert (np.abs(blk).sum() > 0) == (gi == gj)


@pytest.mark.parametrize(("o", "c", "k", "h", "w", "g"), CONV_CASES)
def test_fast_conversion_equals_identity_convolution(o, c, k, h, w, g):
    weight = torch.randn(o, c // g, k, k, dtype=torch.float64)
    slow, _ = repmlp._grouped_fc_kernel(weight, None, h, w, g)
    fast, _ = repmlp._grouped_fc_kernel_fast(weight, None, h, w, g)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12)


def test_conv_to_fc_rejects_even_kernels():
    with pytest.raises(ValueError, match="odd"):
        conv_to_fc(np.zeros((2, 2, 2, 2)), None, 4, 4)


@pytest.mark.parametrize("with_bias", [False, True])
def test_fuse_bn_matches_batchnorm(with_bias):
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=with_bias).double()
    bn = nn.BatchNorm2d(5).double()
    _randomise_bn(bn, 3)
    bn.eval()
    Wf, bf = fuse_bn(conv.weight, conv.bias, bn)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    ref = bn(conv(x))
    ours = F.conv2d(x, torch.from_numpy(Wf), torch.from_numpy(bf), padding=1)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)
    # the documented formula, from a mapping of the statistics
    stats = {"gamma": bn.weight.detach().numpy(), "beta": bn.bias.detach().numpy(),
             "mean": bn.running_mean.numpy(), "var": bn.running_var.numpy(), "eps": bn.eps}
    sigma = np.sqrt(stats["var"] + stats["eps"])
    W2, b2 = fuse_bn(conv.weight.detach().numpy(), None, stats)
    scale = (stats["gamma"] / sigma)[:, None, None, None]
    np.testing.assert_allclose(W2, conv.weight.detach().numpy() * scale)
    np.testing.assert_allclose(b2, stats["beta"] - stats["mean"] * stats["gamma"] / sigma)


BLOCK_CASES = [
    dict(channels=4, h=3, w=3, kernels=(1, 3), groups=1, H=6, W=6),
    dict(channels=8, h=4, w=6, kernels=(1, 3, 5, 7), groups=2, H=8, W=12),
    dict(channels=8, h=5, w=3, kernels=(3, 5), groups=4, H=10, W=9),
    dict(channels=6, h=4, w=4, kernels=(1, 3, 5), groups=3),  # any H, W: per-partition global FCs
    dict(channels=4, h=5, w=5, kernels=(1, 3, 5, 7), groups=1, H=5, W=5),  # one partition: no global
    dict(channels=4, h=3, w=4, kernels=(), groups=2, H=6, W=8),  # FC only
]


@pytest.mark.parametrize("cfg", BLOCK_CASES)
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-8), (torch.float32, 1e-5)])
def test_locality_injection_preserves_outputs(cfg, dtype, tol):
    torch.manual_seed(0)
    block = RepMLPBlock(**cfg).to(dtype)
    _randomise_bn(block, 1)
    block.eval()
    H = cfg.get("H") or 2 * cfg["h"]
    W = cfg.get("W") or 3 * cfg["w"]
    x = torch.randn(3, cfg["channels"], H, W, dtype=dtype)
    with torch.no_grad():
        before = block(x)
        block.locality_injection()
        after = block(x)
    assert block.deploy
    assert not any(isinstance(m, (nn.modules.batchnorm._BatchNorm)) for m in block.modules())
    assert len(block.local) == 0
    err = (before - after).abs().max() / before.abs().max()
    assert err <= tol, f"relative error {err:.2e}"
    assert float(before.abs().max()) > 0.1  # the check compares real signals


def test_conv_branches_are_local_to_each_partition():
    """With the FC zeroed and identity BNs, the block is a conv zero-padded at every partition edge."""
    block = RepMLPBlock(2, 4, 5, kernels=(3,), groups=1, H=8, W=10).double().eval()
    block.has_global = False
    with torch.no_grad():
        block.partition_fc.weight.zero_()
    x = torch.randn(1, 2, 8, 10, dtype=torch.float64)
    kernel = block.local["conv3"].conv.weight
    bn_scale = 1 / np.sqrt(1 + 1e-5)
    expected = torch.zeros_like(x)
    for py, px in itertools.product(range(2), range(2)):
        part = x[:, :, py * 4:(py + 1) * 4, px * 5:(px + 1) * 5]
        rows, cols = slice(py * 4, (py + 1) * 4), slice(px * 5, (px + 1) * 5)
        expected[:, :, rows, cols] = F.conv2d(part, kernel, padding=1) * bn_scale
    with torch.no_grad():
        torch.testing.assert_close(block(x), expected)
        # not the same as one conv over the whole map: partitions do not see each other
        whole = F.conv2d(x, kernel, padding=1) * bn_scale
        assert (block(x) - whole).abs().max() > 1e-3


def test_global_perceptron_adds_one_vector_per_partition():
    block = RepMLPBlock(3, 2, 2, kernels=(), H=4, W=4).double().eval()
    _randomise_bn(block, 2)
    x = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        v = block._global(x)  # (1, C, 2, 2): one value per channel and partition
        assert v.shape == (1, 3, 2, 2)
        # changing one partition's mean changes the vector of every partition (the FCs mix them)
        x2 = x.clone()
        x2[:, :, :2, :2] += 1.0
        assert ((block._global(x2) - v).abs()[0, :, 1, 1] > 1e-6).any()


def test_block_rejects_bad_shapes():
    with pytest.raises(ValueError, match="divisible"):
        RepMLPBlock(6, 3, 3, groups=4)
    block = RepMLPBlock(2, 3, 3)
    with pytest.raises(ValueError, match="multiple"):
        block(torch.randn(1, 2, 7, 6))


def test_notes_parameter_counts_and_savings():
    assert repmlp.fc_parameter_count(3, 112, 112, 32, 56, 56) == 3_776_446_464
    assert repmlp.fc_parameter_count(32, 56, 56, 64, 28, 28) == 5_035_261_952
    assert repmlp.fc_parameter_count(3, 112, 112, 32, 56, 56, parts=2) == 236_027_904
    calc = repmlp.parameter_calculator(3, 112, 32, 56, parts=2, groups=1)
    assert calc["saving_partition"] == 16.0
    calc = repmlp.parameter_calculator(32, 56, 64, 28, parts=2, groups=8)
    assert calc["partitioned_grouped_fc"] == 5_035_261_952 // 16 // 8
    with pytest.raises(ValueError):
        repmlp.parameter_calculator(3, 112, 32, 56, parts=3)


def test_locality_box_and_mass():
    assert repmlp.locality_box((6, 6), 7) == (3, 9, 3, 9)
    assert repmlp.locality_box((0, 9), 7) == (0, 3, 6, 9)
    uniform = np.ones((10, 10))
    assert repmlp.mass_inside(uniform, (3, 9, 3, 9)) == pytest.approx(0.49)


def test_locality_share_oracles():
    block = RepMLPBlock(4, 10, 10, kernels=(7,), groups=2, H=10, W=10).eval()
    with torch.no_grad():
        block.partition_fc.weight.fill_(1.0)  # even spread over every input pixel
        block.local["conv7"].conv.weight.zero_()
    share, chance = repmlp.locality_share(block, 7)
    assert share == pytest.approx(chance) and chance == pytest.approx(0.3364)  # (Σ clipped widths)² / 100²
    with torch.no_grad():
        block.partition_fc.weight.zero_()
        block.local["conv7"].conv.weight.normal_()
    assert repmlp.locality_share(block, 7)[0] == pytest.approx(1.0)  # a 7×7 conv never leaves its window
    assert repmlp.locality_share(block, 3)[0] < 0.9


def test_smoke_training_writes_loadable_checkpoints(tmp_path):
    from safetensors.torch import load_file

    from core.train import get_trainer

    report = get_trainer("repmlp-locality")("repmlp-locality", steps=2, out=tmp_path, seed=0, smoke=True)
    for name in repmlp.LOCALITY_MODELS.values():
        state = load_file(str(tmp_path / f"{name}.safetensors"))
        net = repmlp.locality_net(kernels=repmlp.LOCALITY_KERNELS if name.endswith("rep") else ())
        net.load_state_dict(state)
    card = report.card.read_text(encoding="utf-8")
    assert "repmlp-locality-rep.safetensors" in card and "python -m core.train repmlp-locality" in card
    assert report.metrics["rep_max_abs_logit_change_after_merge"] < 1e-4


@pytest.fixture(scope="module")
def trained():
    from core.zoo import WEIGHTS_DIR

    missing = [n for n in repmlp.LOCALITY_MODELS.values() if not (WEIGHTS_DIR / f"{n}.safetensors").is_file()]
    assert not missing, f"the trained locality checkpoints ship with LensLab; missing: {missing}"
    return repmlp.trained_locality("embedded")


def test_trained_rep_fc_concentrates_weight_in_the_box(trained):
    box = repmlp.locality_box((6, 6), 7)
    plain = repmlp.mass_inside(repmlp._weight_map(trained["fc_weight"], (6, 6)), box)
    rep = repmlp.mass_inside(repmlp._weight_map(trained["rep_weight"], (6, 6)), box)
    assert 0.0 < plain < 1.0 and 0.0 < rep < 1.0  # one channel pair is noisy; the averages below are not
    mean_plain = repmlp.mass_inside(repmlp._mean_weight_map(trained["fc_weight"], (6, 6)), box)
    mean_rep = repmlp.mass_inside(repmlp._mean_weight_map(trained["rep_weight"], (6, 6)), box)
    assert mean_rep > mean_plain + 0.15
    shares = trained["shares"]  # over all 6400 outputs: the merged FC is local, the plain one is not
    assert shares["rep"] > shares["chance"] + 0.15 and shares["rep"] > shares["fc"] + 0.15
    # _weight_map reads the same entries as locality_map on the training-time block
    np.testing.assert_allclose(repmlp.locality_map(trained["rep"].model.block),
                               repmlp._weight_map(trained["rep_weight"], (6, 6)), rtol=1e-4, atol=1e-6)


def test_trained_rep_block_converts_exactly_on_shapesworld(trained):
    from core.data.shapesworld import ShapesWorld

    world = ShapesWorld(size=repmlp.LOCALITY_SIZE, seed=7, style="heldout")
    x, y = world.batch(range(48))
    net = trained["rep"].model
    with torch.no_grad():
        feats = net.features(x)
        a = net.block(feats)
        b = trained["deployed_block"](feats)
        assert ((a - b).abs().max() / a.abs().max()) < 1e-5
        # and the trained classifier is far above chance (1/8) on held-out scenes
        assert (net(x).argmax(1) == y).float().mean() > 0.4


def test_run_on_a_photo(cat):
    result = repmlp.run(cat, channels=4, partition_h=4, partition_w=5, parts=2, kernels="1,3,5,7", groups=2,
                        seed=3, weights="random")
    s = result.to_json()
    assert list(result.images) == ["input_map", "output_train", "output_deploy", "difference", "fc_merged",
                                   "locality_fc", "locality_rep", "locality_fc_mean", "locality_rep_mean",
                                   "trained_check"]
    assert all(im.dtype == np.uint8 and im.ndim == 3 for im in result.image_list())
    demo = s["demo_block"]
    assert demo["input"] == [4, 8, 10] and demo["fc_matrix_shape"] == [80, 80]
    assert demo["relative_diff_float32"] <= 1e-5 and demo["max_abs_diff_float64"] <= 1e-8
    assert demo["params_deploy"] < demo["params_train"]
    assert s["parameters"] == {k: v for k, v in zip(s["parameters"], (3_776_446_464, 5_035_261_952,
                                                                    236_027_904), strict=True)}
    steps = {row["step"]: row["value"] for row in s["bn_fusion"]}
    assert steps["t = γ / σ"] == pytest.approx(steps["γ (BN weight)"] / steps["σ = √(var + eps)"])
    assert steps["max |BN(conv(x)) − conv′(x)| on a random input"] < 1e-5
    fig = result.figures["fc_structure"]
    assert [t.name for t in fig.data][-1] == "merged = sum" and len(fig.data) == 6
    merged = np.asarray(fig.data[-1].z)
    np.testing.assert_allclose(merged, sum(np.asarray(t.z) for t in fig.data[:-1]), atol=1e-5)


def test_run_rejects_bad_parameters(cat):
    with pytest.raises(ValueError, match="divide"):
        repmlp.run(cat, channels=3, groups=2, weights="random")
    with pytest.raises(ValueError, match="one of"):
        repmlp.run(cat, kernels="2,4", weights="random")


def test_endpoint_answers_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(cat_path)), api_name="/repmlp")
    *images, summary, download = out
    assert len(images) == 10
    assert summary["demo_block"]["relative_diff_float32"] <= 1e-5
    assert summary["parameters"]["layer 1: 3×112×112 → 32×56×56, one FC"] == 3_776_446_464
    assert str(download).endswith(".png")
