"""core.cam: Grad-CAM with the backward stopped at the target layer — maps equal to pytorch-grad-cam's,
the shared model untouched (no hooks, same output), thread-safe, and clear errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from core import cam, compare, zoo

TOL = 1e-5


def _reference(model, x, classes, layer, reshape=None, method="gradcam"):
    """pytorch-grad-cam on the same model, layer, classes and input (the oracle)."""
    from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    cls = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus}[method]
    ref = cls(model=model, target_layers=[layer], reshape_transform=reshape)
    ref.compute_input_gradient = True  # the zoo's models are frozen: the library needs a graph from the input
    try:
        with torch.enable_grad():
            return ref(input_tensor=x.clone(), targets=[ClassifierOutputTarget(c) for c in classes])
    finally:
        ref.activations_and_grads.release()


def _input(size: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _frozen_timm(arch: str) -> nn.Module:
    import timm

    model = timm.create_model(arch, pretrained=False).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@pytest.mark.parametrize("name", ["resnet50", "convnext-tiny", "resnet-shapes", "efficientnet-lite0",
                                  "swin-shapes", "vit-shapes"])
def test_maps_equal_pytorch_grad_cam(name):
    """Same model, layer, class and input: ours equals pytorch_grad_cam.GradCAM to ≤ 1e-5, for the top
    class and for a low-ranked one (CNN layers, Swin's channels-last stage, a ViT block's norm)."""
    if name == "efficientnet-lite0":  # timm's architecture directly: the zoo entry may be elsewhere
        model, size = _frozen_timm("tf_efficientnet_lite0"), 224
    else:
        loaded = zoo.load_model(name, "random" if name in ("resnet50", "convnext-tiny") else "auto")
        model, size = loaded.model, loaded.entry.input_size
    x = _input(size)
    spec = compare.cam_spec(model, size)
    with torch.inference_mode():
        order = model(x)[0].argsort(descending=True).tolist()
    for c in (order[0], order[len(order) // 2]):
        ours = cam.grad_cam(model, x, c, spec.layer, spec.reshape)
        theirs = _reference(model, x, [c], spec.layer, spec.reshape)
        assert ours.shape == theirs.shape == (1, size, size) and ours.dtype == np.float32
        assert float(theirs.max() - theirs.min()) > 0.5  # a real map, not two flat ones
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_gradcam_plus_plus_equals_the_librarys():
    loaded = zoo.load_model("resnet-shapes", "auto")
    x = _input(loaded.entry.input_size, seed=1)
    spec = compare.cam_spec(loaded.model, x.shape[-1])
    for c in (0, 5):
        ours = cam.grad_cam(loaded.model, x, c, spec.layer, method="gradcam++")
        theirs = _reference(loaded.model, x, [c], spec.layer, method="gradcam++")
        assert float(theirs.max() - theirs.min()) > 0.5
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_a_batch_gets_one_map_per_image_and_class():
    model = zoo.load_model("resnet-shapes", "auto").model
    x = torch.cat([_input(96, 2), _input(96, 3)])
    spec = compare.cam_spec(model, 96)
    both = cam.grad_cam(model, x, [1, 6], spec.layer)
    np.testing.assert_allclose(both, _reference(model, x, [1, 6], spec.layer), rtol=0, atol=TOL)
    np.testing.assert_allclose(both[1], cam.grad_cam(model, x[1:], 6, spec.layer)[0], rtol=0, atol=TOL)


def test_gradient_is_exact_and_only_the_head_records_a_graph():
    """∂y_c/∂A equals autograd through the whole network, and the activation carries no graph."""
    model = zoo.load_model("resnet-shapes", "auto").model
    x = _input(96, 4)
    got = cam.layer_gradient(model, x, 3, model.layer4)
    assert got.activation.grad_fn is None and not got.logits.requires_grad
    store = {}
    handle = model.layer4.register_forward_hook(lambda _m, _i, out: store.setdefault("a", out))
    try:
        with torch.enable_grad():
            logits = model(x.clone().requires_grad_(True))
            (full,) = torch.autograd.grad(logits[0, 3], store["a"])
    finally:
        handle.remove()
    torch.testing.assert_close(got.activation, store["a"].detach(), rtol=0, atol=0)
    torch.testing.assert_close(got.gradient, full, rtol=1e-6, atol=1e-7)
    assert got.gradient.abs().max() > 0


def _hook_counts(model: nn.Module) -> int:
    return sum(len(getattr(m, d)) for m in model.modules() for d in (
        "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
        "_state_dict_hooks", "_load_state_dict_pre_hooks"))


def test_the_shared_model_is_untouched_during_and_after():
    """No hook is put on any module of the shared model, not even during the call; afterwards it has the
    same children, parameters, flags and output, and the caller's grad mode is back."""
    model = zoo.load_model("resnet50", "random").model
    x = _input(224, 5)
    with torch.inference_mode():
        before_out = model(x)
    before_state = {k: v.clone() for k, v in model.state_dict().items()}
    children = dict(model._modules)
    flags = [(m.training, type(m)) for m in model.modules()]
    shared = set(map(id, model.modules()))
    seen_hooks, called = [], set()

    def watch(module, _inputs, _out):  # a global hook: sees every module call, ours included
        if id(module) in shared:
            called.add(id(module))
            seen_hooks.append(len(module._forward_hooks) + len(module._forward_pre_hooks))

    handle = nn.modules.module.register_module_forward_hook(watch)
    try:
        with torch.no_grad():
            compare.grad_cam(model, x, 7)
            assert not torch.is_grad_enabled()  # the cut's switch did not outlive the call
        heat = cam.grad_cam(model, x, 7, model.layer4)
        assert torch.is_grad_enabled()
    finally:
        handle.remove()
    assert len(called) > 100 and seen_hooks and max(seen_hooks) == 0
    assert _hook_counts(model) == 0 and dict(model._modules) == children
    assert [(m.training, type(m)) for m in model.modules()] == flags
    assert not any(p.requires_grad for p in model.parameters())
    after_state = model.state_dict()
    assert all(torch.equal(after_state[k], v) for k, v in before_state.items())
    with torch.inference_mode():
        assert torch.equal(model(x), before_out)
    # the map is Grad-CAM's (random weights: any class's map may be all 0 after the ReLU, so compare
    # with the library rather than asking for a positive value)
    np.testing.assert_allclose(heat, _reference(model, x, [7], model.layer4), rtol=0, atol=TOL)


def test_grad_mode_is_restored_when_the_forward_fails():
    model = zoo.load_model("resnet-shapes", "auto").model
    with torch.no_grad(), pytest.raises(RuntimeError):
        cam.grad_cam(model, torch.zeros(1, 5, 96, 96), 0, model.layer4)  # 5 channels: conv1 fails
    assert torch.is_grad_enabled()
    assert _hook_counts(model) == 0


def test_works_inside_inference_mode():
    """A caller inside inference_mode (an inference-tensor input) gets the same map."""
    model = zoo.load_model("resnet-shapes", "auto").model
    expected = cam.grad_cam(model, _input(96, 7), 2, model.layer4)
    with torch.inference_mode():
        x = _input(96, 7)
        np.testing.assert_array_equal(cam.grad_cam(model, x, 2, model.layer4), expected)
        assert torch.is_inference_mode_enabled()
    assert float(expected.max()) > 0


def test_threads_share_one_model_safely():
    """Grad-CAM of two classes and plain forwards at once on one shared model: each thread gets what it
    gets alone, and a thread in no_grad never sees autograd switched on by another thread's cut."""
    model = zoo.load_model("resnet-shapes", "auto").model
    x = _input(96, 6)
    expected = {c: cam.grad_cam(model, x, c, model.layer4) for c in (2, 4)}
    with torch.inference_mode():
        logits = model(x)
    errors: list[str] = []
    start = threading.Barrier(4)

    def heatmaps(c):
        start.wait()
        for _ in range(15):
            if not np.array_equal(cam.grad_cam(model, x, c, model.layer4), expected[c]):
                errors.append(f"class {c}: map differs")

    def forwards():
        start.wait()
        with torch.no_grad():
            for _ in range(40):
                out = model(x)
                if torch.is_grad_enabled() or out.requires_grad or not torch.equal(out, logits):
                    errors.append("plain forward changed")

    threads = [threading.Thread(target=heatmaps, args=(c,)) for c in (2, 4)]
    threads += [threading.Thread(target=forwards) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not np.array_equal(expected[2], expected[4])


def test_view_with_replaces_only_in_the_view():
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.ReLU(), nn.Conv2d(4, 2, 1)))
    inner = seq[1][1]
    swap = nn.Identity()
    view = cam.view_with(seq, {"1.1": swap})
    assert view[1][1] is swap and seq[1][1] is inner  # the original keeps its module
    assert view[0] is seq[0] and view[1][0] is seq[1][0]  # everything else is shared, not copied
    assert view[0].weight is seq[0].weight
    with pytest.raises(KeyError, match="no submodule '7'"):
        cam.view_with(seq, {"7": swap})


class _Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(self.conv(self.conv(x)).mean((2, 3)))


def test_clear_errors_for_layers_and_arguments():
    model = zoo.load_model("resnet-shapes", "auto").model
    x = _input(96)
    with pytest.raises(ValueError, match="not a submodule"):
        cam.grad_cam(model, x, 0, nn.Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match="whole model"):
        cam.grad_cam(model, x, 0, model)
    with pytest.raises(ValueError, match="method must be one of"):
        cam.grad_cam(model, x, 0, model.layer4, method="scorecam")
    with pytest.raises(ValueError, match="out of range: the model has 8 classes"):
        cam.grad_cam(model, x, 8, model.layer4)
    with pytest.raises(ValueError, match="2 classes for a batch of 1"):
        cam.grad_cam(model, x, [0, 1], model.layer4)
    with pytest.raises(ValueError, match="pass a reshape"):  # a (B, C) output is not a map
        cam.grad_cam(model, x, 0, model.global_pool)
    shared = nn.ReLU()
    with pytest.raises(ValueError, match="occurs 2 times"):
        cam.grad_cam(nn.Sequential(nn.Conv2d(3, 2, 1), shared, shared, nn.Flatten()), torch.zeros(1, 3, 1, 1),
                     0, shared)
    with pytest.raises(RuntimeError, match="ran 2 times"):
        twice = _Twice()
        cam.grad_cam(twice, torch.zeros(1, 3, 8, 8), 0, twice.conv)
