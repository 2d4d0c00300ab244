"""PointRend: the API contract with detectron2's semantics, checked against small independent oracles,
the subdivision schedules of the paper, the trained model against bilinear upsampling, a smoke training
run, the lesson and its HTTP endpoint."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from core import pointrend as pr

# --------------------------------------------------------------------------------------------- #
# oracles (numpy, written from the paper / detectron2 docs, sharing no code with core.pointrend)


def bilinear_zero_pad(fmap: np.ndarray, x: float, y: float) -> np.ndarray:
    """(C, H, W) map at normalised (x, y) in [0, 1]; pixel centres at (i + 0.5) / size; outside = 0."""
    c, h, w = fmap.shape
    px, py = x * w - 0.5, y * h - 0.5
    x0, y0 = int(np.floor(px)), int(np.floor(py))
    out = np.zeros(c)
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                out += wy * wx * fmap[:, yy, xx]
    return out


def margin_uncertainty(logits: np.ndarray) -> np.ndarray:
    """(C, ...) → (...): −(best − second best) per location, on the values given."""
    s = np.sort(logits, axis=0)
    return -(s[-1] - s[-2])


# --------------------------------------------------------------------------------------------- #
# uncertainty


def test_uncertainty_is_negative_top2_margin_of_logits_per_pixel():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 4, 3)).astype(np.float32) * 3
    u = pr.uncertainty(logits)
    assert u.shape == (2, 1, 4, 3)
    for b in range(2):
        np.testing.assert_allclose(u[b, 0], margin_uncertainty(logits[b]), rtol=1e-6)
    # torch in, numpy out, same values
    np.testing.assert_allclose(pr.uncertainty(torch.from_numpy(logits)), u)


def test_uncertainty_uses_logits_not_probabilities():
    # two pixels with the same logit margin 1 but different probability margins
    logits = np.array([[[[5.0, 1.0]], [[4.0, 0.0]], [[-9.0, 0.0]]]], dtype=np.float32)  # (1, 3, 1, 2)
    u = pr.uncertainty(logits)[0, 0, 0]
    np.testing.assert_allclose(u, [-1.0, -1.0])
    probs = torch.softmax(torch.from_numpy(logits), 1).numpy()[0]
    assert abs(margin_uncertainty(probs)[0, 0] - margin_uncertainty(probs)[0, 1]) > 0.05


def test_uncertainty_single_channel_is_negative_abs():
    logits = np.array([[[[-3.0, -0.5, 0.0, 2.0]]]], dtype=np.float32)
    np.testing.assert_allclose(pr.uncertainty(logits)[0, 0, 0], [-3.0, -0.5, 0.0, -2.0])


# --------------------------------------------------------------------------------------------- #
# points on the grid (inference)


def test_points_on_grid_matches_oracle():
    rng = np.random.default_rng(1)
    unc = rng.permutation(2 * 5 * 7).reshape(2, 1, 5, 7).astype(np.float32)  # distinct values
    idx, coords = pr.points_on_grid(unc, 10)
    assert idx.shape == (2, 10) and idx.dtype == np.int64 and coords.shape == (2, 10, 2)
    for b in range(2):
        flat = unc[b, 0].reshape(-1)
        expect = np.argsort(-flat)[:10]
        np.testing.assert_array_equal(idx[b], expect)
        rows, cols = np.divmod(expect, 7)
        np.testing.assert_allclose(coords[b, :, 0], (cols + 0.5) / 7, rtol=1e-6)
        np.testing.assert_allclose(coords[b, :, 1], (rows + 0.5) / 5, rtol=1e-6)


def test_points_on_grid_takes_every_cell_when_n_exceeds_cells():
    unc = np.random.default_rng(2).normal(size=(1, 1, 3, 4)).astype(np.float32)
    idx, coords = pr.points_on_grid(unc, 1000)
    assert idx.shape == (1, 12)
    assert sorted(idx[0].tolist()) == list(range(12))
    assert coords.min() > 0 and coords.max() < 1


def test_point_sample_reads_cell_values_at_cell_centres_and_interpolates_between():
    fmap = torch.arange(12.0).view(1, 1, 3, 4)  # the value of a cell is its flat index
    idx, coords = pr.points_on_grid_t(-fmap, 12)
    vals = pr.point_sample(fmap, coords)[0, 0]
    np.testing.assert_allclose(vals.numpy(), idx[0].float().numpy(), atol=1e-5)
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 1, size=(1, 20, 2)).astype(np.float32)
    fm = rng.normal(size=(2, 3, 4)).astype(np.float32)
    got = pr.point_sample(torch.from_numpy(fm)[None], torch.from_numpy(pts))[0].numpy()
    for j, (x, y) in enumerate(pts[0]):
        np.testing.assert_allclose(got[:, j], bilinear_zero_pad(fm, x, y), atol=1e-5)


# --------------------------------------------------------------------------------------------- #
# points with randomness (training)


@pytest.mark.parametrize("k, beta, n", [(3, 0.75, 40), (2.5, 0.5, 17), (1, 1.0, 8), (4, 0.0, 9)])
def test_points_with_randomness_matches_oracle(k, beta, n):
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(2, 4, 5, 6)).astype(np.float32) * 2
    got = pr.points_with_randomness(logits, n, k, beta, generator=torch.Generator().manual_seed(7))
    assert got.shape == (2, n, 2)
    # oracle: the same random draws, in the documented order
    g = torch.Generator().manual_seed(7)
    pool = torch.rand(2, int(n * k), 2, generator=g).numpy()
    n_imp = int(beta * n)
    fresh = torch.rand(2, n - n_imp, 2, generator=g).numpy()
    for b in range(2):
        unc = np.array([margin_uncertainty(bilinear_zero_pad(logits[b], x, y)[:, None])[0]
                        for x, y in pool[b]])
        order = np.argsort(-unc, kind="stable")[:n_imp]
        np.testing.assert_allclose(got[b, :n_imp], pool[b, order], rtol=1e-6)
        np.testing.assert_allclose(got[b, n_imp:], fresh[b], rtol=1e-6)


def test_interpolate_then_rank_finds_the_boundary_between_confident_cells():
    # two cells, each confident (margin 4) in a different class: their cell uncertainties are equal and
    # low, but the interpolated logits at the boundary x = 0.5 tie exactly (uncertainty 0)
    logits = torch.tensor([[[[2.0, -2.0]], [[-2.0, 2.0]]]])
    sample = pr.sample_training_points_t(logits, 100, 5, 0.2, torch.Generator().manual_seed(0))
    pool_dist = (sample.pool[0, :, 0] - 0.5).abs().mean()
    chosen_dist = (sample.importance[0, :, 0] - 0.5).abs().mean()
    assert chosen_dist < 0.35 * pool_dist
    # ranking the cell uncertainties first and interpolating them would see a flat map: no preference
    cell_unc = pr.uncertainty_t(logits)
    assert torch.equal(cell_unc[..., 0], cell_unc[..., 1])


def test_points_with_randomness_rejects_bad_ratios():
    logits = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="k"):
        pr.points_with_randomness(logits, 10, oversample_ratio=0.5)
    with pytest.raises(ValueError, match="β"):
        pr.points_with_randomness(logits, 10, importance_ratio=1.5)


# --------------------------------------------------------------------------------------------- #
# subdivision schedule


def test_schedule_mask_rcnn_7_to_224_with_784_points():
    assert pr.subdivision_schedule((7, 7), (224, 224), 784) == [
        (14, 14, 196), (28, 28, 784), (56, 56, 784), (112, 112, 784), (224, 224, 784)]


def test_schedule_semantic_48_to_768_with_8096_points():
    steps = pr.subdivision_schedule((48, 48), (768, 768), 8096)
    assert steps == [(96, 96, 8096), (192, 192, 8096), (384, 384, 8096), (768, 768, 8096)]
    assert 8096 != (1024 // 16) * (2048 // 16) == 8192  # the notes' erratum


def test_schedule_non_power_of_two_ends_with_a_resize_step():
    assert pr.subdivision_schedule((48, 48), (700, 700), 8096) == [
        (96, 96, 8096), (192, 192, 8096), (384, 384, 8096), (700, 700, 8096)]
    assert pr.subdivision_schedule((6, 8), (96, 100), 10**6)[-1][:2] == (96, 100)
    assert pr.subdivision_schedule((16, 16), (16, 16), 100) == []
    with pytest.raises(ValueError):
        pr.subdivision_schedule((16, 16), (8, 8), 100)


# --------------------------------------------------------------------------------------------- #
# point head and subdivision inference


def test_point_head_architecture_and_coarse_reconcatenation():
    head = pr.PointHead(fine_channels=5, num_classes=3, fc_dim=256, num_fc=3)
    assert [(c.in_channels, c.out_channels) for c in head.fcs] == [(8, 256), (259, 256), (259, 256)]
    assert (head.predictor.in_channels, head.predictor.out_channels) == (259, 3)
    torch.manual_seed(0)
    for p in head.parameters():
        p.data.normal_(0, 0.1)
    fine, coarse = torch.randn(2, 5, 11), torch.randn(2, 3, 11)
    # oracle: the MLP as matrix products, point by point
    x = torch.cat([fine, coarse], 1).permute(0, 2, 1)
    c = coarse.permute(0, 2, 1)
    for layer in head.fcs:
        x = torch.cat([torch.relu(x @ layer.weight[:, :, 0].T + layer.bias), c], -1)
    expect = (x @ head.predictor.weight[:, :, 0].T + head.predictor.bias).permute(0, 2, 1)
    torch.testing.assert_close(head(fine, coarse), expect, rtol=1e-5, atol=1e-5)


def _oracle_subdivision(coarse, fine, head, out_hw, n):
    logits = coarse
    h, w = coarse.shape[-2:]
    while (h, w) != tuple(out_hw):
        h, w = min(2 * h, out_hw[0]), min(2 * w, out_hw[1])
        logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
        unc = margin_uncertainty(logits[0].numpy())
        chosen = np.argsort(-unc.reshape(-1), kind="stable")[: min(n, h * w)]
        rows, cols = np.divmod(chosen, w)
        pts = torch.tensor(np.stack([(cols + 0.5) / w, (rows + 0.5) / h], 1)[None], dtype=torch.float32)
        grid = pts.unsqueeze(2) * 2 - 1
        f = F.grid_sample(fine, grid, align_corners=False)[..., 0]
        c = F.grid_sample(coarse, grid, align_corners=False)[..., 0]
        new = head(f, c)[0]
        flat = logits[0].reshape(coarse.shape[1], -1).clone()
        flat[:, torch.from_numpy(chosen)] = new
        logits = flat.view(1, -1, h, w)
    return logits


def test_subdivision_inference_matches_oracle():
    torch.manual_seed(1)
    head = pr.PointHead(6, 4, fc_dim=32).eval()
    for p in head.parameters():
        p.data.normal_(0, 0.3)
    coarse, fine = torch.randn(1, 4, 5, 6) * 3, torch.randn(1, 6, 20, 24)
    with torch.no_grad():
        got, steps = pr.subdivision_inference(coarse, fine, head, (40, 45), 150, record=True)
        expect = _oracle_subdivision(coarse, fine, head, (40, 45), 150)
    assert [(s.height, s.width, s.num_points) for s in steps] == [(10, 12, 120), (20, 24, 150), (40, 45, 150)]
    torch.testing.assert_close(got, expect, rtol=1e-5, atol=1e-5)
    # cells that were not chosen keep the bilinear value of the previous map
    last = steps[-1]
    untouched = torch.ones(40 * 45, dtype=torch.bool)
    untouched[last.indices[0]] = False
    after, before = last.after.reshape(4, -1), last.before.reshape(4, -1)
    torch.testing.assert_close(after[:, untouched], before[:, untouched])


def test_subdivision_with_every_cell_equals_dense_point_head():
    torch.manual_seed(2)
    head = pr.PointHead(3, 2, fc_dim=16).eval()
    coarse, fine = torch.randn(1, 2, 4, 4), torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        got, _ = pr.subdivision_inference(coarse, fine, head, (16, 16), 10**6)
        ys, xs = torch.meshgrid((torch.arange(16) + 0.5) / 16, (torch.arange(16) + 0.5) / 16, indexing="ij")
        pts = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)[None]
        dense = head(pr.point_sample(fine, pts), pr.point_sample(coarse, pts)).view(1, 2, 16, 16)
    torch.testing.assert_close(got, dense, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------------- #
# metrics


def test_mean_iou_and_boundary_iou_match_oracles():
    rng = np.random.default_rng(5)
    gt = np.zeros((40, 50), np.int64)
    gt[5:25, 8:30] = 1
    gt[20:38, 30:47] = 2
    pred = gt.copy()
    pred[5:25, 8:12] = 0
    pred[rng.uniform(size=gt.shape) < 0.03] = 2
    conf = np.bincount(3 * gt.reshape(-1) + pred.reshape(-1), minlength=9).reshape(3, 3)
    ious = np.diag(conf) / (conf.sum(0) + conf.sum(1) - np.diag(conf))
    assert pr.mean_iou(pred, gt, 3) == pytest.approx(ious.mean())

    d = pr.boundary_width(40, 50)
    assert d == round(0.02 * np.hypot(40, 50))

    def band(mask):  # chessboard distance to the nearest pixel outside the mask (image edge = outside)
        dist = ndimage.distance_transform_cdt(np.pad(mask, 1), metric="chessboard")[1:-1, 1:-1]
        return mask & (dist <= d)

    expect = []
    for c in range(3):
        bp, bg = band(pred == c), band(gt == c)
        expect.append((bp & bg).sum() / (bp | bg).sum())
    assert pr.boundary_iou(pred, gt, 3) == pytest.approx(np.mean(expect))
    assert pr.boundary_iou(gt, gt, 3) == 1.0 and pr.mean_iou(gt, gt, 3) == 1.0


# --------------------------------------------------------------------------------------------- #
# the trained model, the trainer, the lesson, the endpoint


@pytest.fixture(scope="module")
def net():
    from core.zoo import load_model

    loaded = load_model("pointrend-shapes", "embedded")
    assert loaded.source == "embedded"
    return loaded.model


def test_refined_beats_bilinear_on_fixed_heldout_scenes(net):
    from core.train.pointrend import heldout_scene

    acc = {"bilinear": [np.zeros(9), np.zeros(9), np.zeros(9), np.zeros(9)],
           "refined": [np.zeros(9), np.zeros(9), np.zeros(9), np.zeros(9)]}
    with torch.inference_mode():
        for i in range(12):
            s = heldout_scene(i, 256)
            x = net.preprocess(s.image)
            fine, coarse = net.features(x)
            refined, _ = pr.subdivision_inference(coarse, fine, net.point_head, (256, 256), 2048)
            preds = {"bilinear": F.interpolate(coarse, size=(256, 256), mode="bilinear",
                                               align_corners=False)[0].argmax(0).numpy(),
                     "refined": refined[0].argmax(0).numpy()}
            for name, p in preds.items():
                for slot, v in enumerate((*pr.iou_counts(p, s.semantic, 9),
                                          *pr.boundary_iou_counts(p, s.semantic, 9))):
                    acc[name][slot] += v
    score = {name: (np.mean(a[0][a[1] > 0] / a[1][a[1] > 0]), np.mean(a[2][a[3] > 0] / a[3][a[3] > 0]))
             for name, a in acc.items()}
    assert score["refined"][0] > score["bilinear"][0] + 0.005, score
    assert score["refined"][1] > score["bilinear"][1] + 0.02, score


def test_smoke_training_writes_loadable_weights_and_card(tmp_path):
    from safetensors.torch import load_file

    from core.nets.pointrend_net import pointrend_shapes
    from core.train.pointrend import train
    from core.zoo import get_entry

    report = train("pointrend-shapes", steps=2, out=tmp_path, seed=0, smoke=True)
    assert report.weights.is_file() and report.card.is_file()
    fresh = pointrend_shapes(**get_entry("pointrend-shapes").kwargs)
    fresh.load_state_dict(load_file(str(report.weights)), strict=True)
    card = report.card.read_text()
    assert "heldout_refined_boundary_iou" in card and "python -m core.train pointrend-shapes" in card


def test_params_match_run_signature_and_validate():
    names = [p.name for p in pr.PARAMS]
    assert len(set(names)) == len(names)
    assert list(inspect.signature(pr.run).parameters) == ["image", "params"]
    for p in pr.PARAMS:
        assert p.check(p.default) == p.default
    with pytest.raises(ValueError, match="N"):
        pr.run(np.zeros((32, 32, 3), np.uint8), num_points=3)
    with pytest.raises(ValueError, match="unknown"):
        pr.run(np.zeros((32, 32, 3), np.uint8), bogus=1)


def test_run_on_a_photo_and_on_a_scene(cat, net):
    from core.train.pointrend import heldout_scene

    result = pr.run(cat)
    assert list(result.images) == ["coarse", "uncertainty", "sampling", "step", "compare"]
    assert all(v.dtype == np.uint8 and v.ndim == 3 for v in result.images.values())
    s = result.to_json()
    assert s["weights"] == "embedded" and max(s["working_size"]) == 256
    assert [st["points"] for st in s["steps"]] == [min(2048, st["cells"]) for st in s["steps"]]
    assert s["training_sampling"] == {"k": 3.0, "beta": 0.75, "N": 256, "pool": 768, "importance": 192,
                                      "coverage": 64}
    assert "ious" not in s

    image = pr.scene_image(5, 256)
    scene = pr.run(image, scene=5, num_points=1024, step=2).to_json()
    assert scene["coarse_size"] == [16, 16] and scene["shown_step"] == 2
    assert [(st["height"], st["points"]) for st in scene["steps"]] == [(32, 1024), (64, 1024), (128, 1024),
                                                                       (256, 1024)]
    assert set(scene["ious"]) == {"coarse", "bilinear", "refined"}
    inf = pr.infer(image, size=256, num_points=1024, scene=5)
    truth = heldout_scene(5, 256).semantic
    assert scene["ious"]["refined"]["miou"] == pytest.approx(pr.mean_iou(inf.refined, truth, 9))
    assert scene["ious"]["bilinear"]["boundary_iou"] == pytest.approx(pr.boundary_iou(inf.bilinear, truth, 9))
    # ground truth is only used when the image really is that scene
    assert "ious" not in pr.run(image, scene=6).to_json()
    view, caption = pr.step_view(image, 1, scene=5, num_points=1024)
    assert view.dtype == np.uint8 and "32×32" in caption


def test_endpoint_answers_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(cat_path)), api_name="/pointrend")
    *images, summary = out[:6]
    assert len(images) == 5 and all(isinstance(p, str) for p in images)
    summary = out[5]
    last = summary["steps"][-1]
    assert [last["height"], last["width"]] == summary["padded_size"] == [176, 256]
    assert summary["num_points"] == 2048
