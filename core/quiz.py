"""Predict, then reveal: questions about the result a page is showing, answered by that result.

Every question is generated from a lesson's summary (the JSON the page shows, ``LessonResult.summary``)
and the parameters that produced it; its answer is read from that summary, never written by hand, so
the question is right for the student's own photo, model and settings. A student answers before the
figures are shown; the page then reveals them and :meth:`Question.feedback` says whether the guess
was right and why, with the numbers of the result.

``QUESTIONS`` maps a lesson to its generators, each ``(summary, params, rng) -> Question | None``
(None: that question does not apply to this result, e.g. a conflict question with no conflicts);
:func:`ask` tries them in turn, starting at ``seed`` so "another question" moves on. A lesson with no
entry has no questions (the page says so). Nothing here imports a front end.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Summary = Mapping[str, Any]
Generator = Callable[[Summary, Mapping[str, Any], random.Random], "Question | None"]


@dataclass(frozen=True)
class Question:
    """One multiple-choice question about a result; ``answer`` indexes ``choices``, ``value`` is the
    quantity behind it as the summary holds it (tests compare the two)."""

    lesson: str
    kind: str
    prompt: str
    prompt_zh: str
    choices: tuple[str, ...]
    answer: int
    why: str
    value: Any

    @property
    def right_choice(self) -> str:
        return self.choices[self.answer]

    def is_right(self, choice: str | None) -> bool:
        return choice == self.right_choice

    def feedback(self, choice: str | None) -> tuple[bool, str]:
        """``(right, Markdown)`` for a student's choice (None: they asked to see the answer)."""
        if choice is None:
            return (
                False,
                f"The answer is **{self.right_choice}** · 答案：**{self.right_choice}**。 {self.why}",
            )
        if self.is_right(choice):
            return True, f"**Right!** · **答对了！** {self.why}"
        return False, (
            f"**Not quite** · **不对**: you said {choice}; the answer is **{self.right_choice}**. {self.why}"
        )


def ask(
    lesson: str, summary: Summary | None, params: Mapping[str, Any] | None = None, seed: int = 0
) -> Question | None:
    """A question about ``summary`` (the lesson's result), or None when the lesson has none for it."""
    generators = QUESTIONS.get(lesson, ())
    if not summary or not generators:
        return None
    params = params or {}
    n = len(generators)
    for i in range(n):
        generate = generators[(seed + i) % n]
        question = generate(summary, params, random.Random(f"{lesson}/{seed}/{i}"))
        if question is not None:
            return question
    return None


def has_questions(lesson: str) -> bool:
    return bool(QUESTIONS.get(lesson))


# ---------------------------------------------------------------------------------------- helpers


def _number_choices(answer: int, candidates: Iterable[int], n: int = 4) -> tuple[tuple[str, ...], int]:
    """``n`` distinct whole-number choices (ascending) holding ``answer``; the distractors are the
    plausible mistakes in ``candidates`` first, then neighbours of the answer."""
    answer = int(answer)
    picked = [answer]
    for c in candidates:
        c = int(c)
        if c >= 0 and c not in picked and len(picked) < n:
            picked.append(c)
    step = max(1, abs(answer) // 2)
    k = 1
    while len(picked) < n:
        for c in (answer + k * step, answer - k * step):
            if c >= 0 and c not in picked and len(picked) < n:
                picked.append(c)
        k += 1
    ordered = sorted(picked)
    return tuple(f"{c:,}" for c in ordered), ordered.index(answer)


def _shuffled(
    rng: random.Random, right: str, wrong: Sequence[str], n: int = 4
) -> tuple[tuple[str, ...], int]:
    """``right`` among up to ``n − 1`` of ``wrong`` (distinct), in a seeded order."""
    others = [w for w in dict.fromkeys(wrong) if w != right]
    rng.shuffle(others)
    choices = [right, *others[: n - 1]]
    rng.shuffle(choices)
    return tuple(choices), choices.index(right)


def _patch(rc: Sequence[int]) -> str:
    return f"row {int(rc[0]) + 1}, column {int(rc[1]) + 1}"


# ----------------------------------------------------------------------------------------- Swin


def _swin_masked(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    from core import swin

    b = summary.get("block")
    if not b or "masked_counts" not in b:
        return None
    counts = np.asarray(b["masked_counts"], np.int64)
    rows, cols = counts.shape
    m, s = int(b["window"]), int(b["shift"])
    flat = counts.ravel()
    masked = [i for i in range(flat.size) if flat[i] > 0]
    pool = masked if masked and rng.random() < 0.75 else list(range(flat.size))
    k = rng.choice(pool)
    answer = int(flat[k])
    hp, wp = (int(v) for v in b.get("padded", (rows * m, cols * m)))
    ids = swin.region_ids(hp, wp, m, s)
    r, c = divmod(k, cols)
    _, sizes = np.unique(ids[r * m : (r + 1) * m, c * m : (c + 1) * m], return_counts=True)
    t = s or m // 2  # the counts a shifted block would give, as distractors when this one does not shift
    edge = 2 * m * m * t * (m - t)
    corner = m**4 - ((m - t) ** 4 + 2 * (t * (m - t)) ** 2 + t**4)
    choices, index = _number_choices(answer, [0, edge, corner, m**4, m**4 // 2])
    shifted = f"shifted by s = {s}" if s else "not shifted (an odd block)"
    parts = " + ".join(f"{int(n)}²" for n in sizes)
    why = (
        f"Window {k} holds {len(sizes)} region{'s' if len(sizes) > 1 else ''} of the rolled map "
        f"({', '.join(str(int(n)) for n in sizes)} tokens). A query only attends to keys of its own "
        f"region, so {m**4:,} − ({parts}) = {answer:,} of the {m * m}×{m * m} entries get −100."
    )
    return Question(
        "swin",
        "masked_count",
        f"Stage {b['stage']}, block {b['block']}: {b['height']}×{b['width']} tokens in {m}×{m} windows, "
        f"{shifted}. Windows are numbered row by row from 0. How many entries of **window {k}**'s "
        f"{m * m}×{m * m} attention mask are masked (−100)?",
        f"第 {b['stage']} 阶段第 {b['block']} 块：{b['height']}×{b['width']} 个 token，{m}×{m} 窗口，"
        f"{'循环移位 s = ' + str(s) if s else '不移位'}。窗口按行从 0 编号。**窗口 {k}** 的 "
        f"{m * m}×{m * m} 注意力掩码中有多少项被屏蔽（−100）？",
        choices,
        index,
        why,
        answer,
    )


# ------------------------------------------------------------------------------------ attention


def _attention_rollout(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    roll, model = summary.get("rollout"), summary.get("model")
    if not roll or not model or "peak_patch" not in roll:
        return None
    gh, gw = (int(v) for v in model["grid"])
    peak = tuple(int(v) for v in roll["peak_patch"])
    far = max(2, min(gh, gw) // 4)
    others = [(r, c) for r in range(gh) for c in range(gw) if max(abs(r - peak[0]), abs(c - peak[1])) >= far]
    if len(others) < 3:
        return None
    choices, index = _shuffled(rng, _patch(peak), [_patch(p) for p in rng.sample(others, 3)])
    why = (
        f"The rollout map (the CLS row of the product of all {model['layers']} layers' attention, "
        f"fusion {roll['fusion']}, discard {float(roll['discard_ratio']):.2f}) peaks at {_patch(peak)}."
    )
    return Question(
        "attention",
        "rollout_peak",
        f"Attention rollout multiplies the attention of all {model['layers']} layers (with the residual) and "
        f"reads the CLS token's row. On the {gh}×{gw} patch grid (row 1 at the top, column 1 at the left), "
        "which of these patches does the **CLS token attend to most**?",
        f"注意力 rollout 把全部 {model['layers']} 层的注意力（含残差）相乘，读取 CLS token 那一行。在 "
        f"{gh}×{gw} 的 patch 网格上（第 1 行在最上，第 1 列在最左），CLS token **最关注**下面哪个 patch？",
        choices,
        index,
        why,
        list(peak),
    )


def _attention_swin_keys(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    sw = summary.get("swin")
    if not sw or "masked_keys" not in sw:
        return None
    m, s, answer = int(sw["window"]), int(sw["shift"]), int(sw["masked_keys"])
    t = s or m // 2
    choices, index = _number_choices(answer, [0, t * m, (m - t) * m, t * t, m * m - t * t, m * m])
    ty, tx = (int(v) for v in sw["token"])
    why = (
        f"{answer} of the window's {m * m} keys lie in another region of the rolled map; with the mask they "
        f"receive {float(sw['weight_on_masked_keys_with_mask']):.1e} of the weight, without it "
        f"{100 * float(sw['weight_on_masked_keys_without_mask']):.0f} %."
    )
    shifted = f"shift s = {s}" if s else "no shift"
    return Question(
        "attention",
        "swin_masked_keys",
        f"Swin stage {sw['stage']}, block {sw['block']} ({shifted}, {m}×{m} windows): the token at row"
        f" {ty + 1}, "
        f"column {tx + 1} of the {sw['grid'][0]}×{sw['grid'][1]} map attends inside its window. How many of "
        f"the window's {m * m} keys are **masked** for it?",
        f"Swin 第 {sw['stage']} 阶段第 {sw['block']} 块（{'移位 s = ' + str(s) if s else '不移位'}，{m}×{m} "
        "窗口）："
        f"第 {ty + 1} 行第 {tx + 1} 列的 token 在窗口内做注意力。窗口的 {m * m} 个 key 中有多少个对它**被屏"
        "蔽**？",
        choices,
        index,
        why,
        answer,
    )


# ------------------------------------------------------------------------------------ PointRend


def _pointrend_points(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    steps = summary.get("steps") or []
    if not steps:
        return None
    k = 3 if len(steps) >= 3 else len(steps)
    step = steps[k - 1]
    n = int(summary["num_points"])
    answer = int(step["points"])
    cells = int(step["cells"])
    ch, cw = (int(v) for v in summary["coarse_size"])
    choices, index = _number_choices(answer, [cells, n, cells // 4, n // 2, 2 * n])
    why = (
        f"Step {k} works on a {step['height']}×{step['width']} map = {cells:,} cells and re-predicts "
        f"min(H·W, N) = min({cells:,}, {n:,}) = {answer:,} of them "
        f"({100 * float(step['fraction']):.1f} % of the cells); the rest keep the bilinear upsampling."
    )
    return Question(
        "pointrend",
        "step_points",
        f"The coarse prediction is {ch}×{cw}; each subdivision step doubles the resolution and re-predicts "
        f"the N = {n:,} most uncertain cells (all of them if there are fewer). How many points will "
        f"**step {k}** re-predict?",
        f"粗预测为 {ch}×{cw}；每个细分步把分辨率翻倍，并重新预测最不确定的 N = {n:,} 个格子（不足 N 个时全部"
        "）。"
        f"**第 {k} 步**会重新预测多少个点？",
        choices,
        index,
        why,
        answer,
    )


# --------------------------------------------------------------------------------------- SimOTA


def _gt_name(summary: Summary, g: int) -> str:
    gts = summary.get("gt") or []
    label = gts[g]["label"] if g < len(gts) else ""
    return f"GT {g + 1}" + (f" ({label})" if label else "")


def _simota_conflict(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    sim = summary.get("simota")
    if not sim or not sim.get("conflicts"):
        return None
    c = rng.choice(sim["conflicts"])
    takers = [int(g) for g in c["taken_by_gt"]]
    winner = int(c["winner_gt"])
    names = [_gt_name(summary, g) for g in takers]
    choices = tuple(names)
    costs = ", ".join(
        f"{_gt_name(summary, g)} {float(v):.2f}" for g, v in zip(takers, c["costs"], strict=False)
    )
    x, y = (float(v) for v in c["xy"])
    why = (
        f"An anchor learns one object only: it stays with the GT for which it is cheapest "
        f"(cost {costs}) — {_gt_name(summary, winner)}."
    )
    return Question(
        "simota",
        "conflict_winner",
        f"Anchor **#{c['anchor']}** (stride {c['stride']}, centre ({x:.0f}, {y:.0f}) px of the network input)"
        " "
        f"is among the k cheapest anchors of {' and '.join(names)}. Which GT keeps it?",
        f"锚点 **#{c['anchor']}**（步长 {c['stride']}，中心位于网络输入的 ({x:.0f}, {y:.0f}) 像素）同时是 "
        f"{'、'.join(names)} 代价最低的 k 个锚点之一。它最终归哪个 GT？",
        choices,
        takers.index(winner),
        why,
        winner,
    )


def _simota_anchor(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    sim = summary.get("simota")
    gts = summary.get("gt") or []
    if not sim or not sim.get("positives") or len(gts) < 1:
        return None
    p = rng.choice(sim["positives"])
    g = int(p["gt"])
    wrong = [_gt_name(summary, i) for i in range(len(gts)) if i != g] + ["background (no GT)"]
    choices, index = _shuffled(rng, _gt_name(summary, g), wrong, n=min(5, len(gts) + 1))
    x, y = (float(v) for v in p["xy"])
    k = sim["dynamic_k"][g]
    why = (
        f"{_gt_name(summary, g)}: the anchor's cost for it is {float(p['cost']):.2f} (IoU of its prediction "
        f"{float(p['iou']):.2f}), one of that GT's k = {k} cheapest, and no other GT claimed it more cheaply."
    )
    return Question(
        "simota",
        "anchor_gt",
        f"Anchor **#{p['anchor']}** (stride {p['stride']}, centre ({x:.0f}, {y:.0f}) px of the "
        f"{summary.get('input_size', '')}-px network input): which object does SimOTA assign it to?",
        f"锚点 **#{p['anchor']}**（步长 {p['stride']}，中心位于网络输入的 ({x:.0f}, {y:.0f}) 像素）："
        "SimOTA 把它分配给哪个目标？",
        choices,
        index,
        why,
        g,
    )


def _simota_notes_k(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    if summary.get("example") != "notes":
        return None
    g = rng.randrange(len(summary["dynamic_k"]))
    ious = [float(v) for v in summary["topk_ious"][g]]
    answer = int(summary["dynamic_k"][g])
    choices, index = _number_choices(answer, [len(ious), answer + 1, max(1, answer - 1), 1])
    why = (
        f"k = max(1, ⌊Σ top-10 IoU⌋) = max(1, ⌊{sum(ious):.3f}⌋) = {answer}: good predictions earn a "
        "GT more positives."
    )
    return Question(
        "simota",
        "notes_dynamic_k",
        f"In the notes' worked example, GT {g + 1}'s ten best IoUs are {', '.join(f'{v:g}' for v in ious)}. "
        "What is its **dynamic k**?",
        f"在笔记的例子里，GT {g + 1} 最好的十个 IoU 是 {', '.join(f'{v:g}' for v in ious)}。它的**动态 k** 是"
        "多少？",
        choices,
        index,
        why,
        answer,
    )


# --------------------------------------------------------------------------------------- RepMLP


def _repmlp_locality(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    loc = summary.get("locality")
    if not loc or "mass_in_box_plain_fc" not in loc:
        return None
    plain, rep = float(loc["mass_in_box_plain_fc"]), float(loc["mass_in_box_rep_fc"])
    options = (
        "the plain FC",
        "the FC trained with conv branches (merged)",
        "about the same (within 2 points)",
    )
    answer = 2 if abs(plain - rep) < 0.02 else (0 if plain > rep else 1)
    r, c = (int(v) for v in loc["pixel"])
    n = int(loc["cells_in_box"])
    side = int(round(n**0.5))
    why = (
        f"Share of |w| inside the {side}×{side} box: plain FC {100 * plain:.0f} %, merged FC {100 * rep:.0f}"
        " %; "
        f"spread evenly it would be {100 * float(loc['uniform_share']):.0f} %."
    )
    return Question(
        "repmlp",
        "locality",
        f"Two 10×10 FC layers were trained on ShapesWorld: one alone, one with conv branches that were "
        f"merged into it afterwards. For output pixel (row {r}, column {c}), which FC puts more of its weight"
        " "
        f"inside the {side}×{side} square around that pixel?",
        "两个 10×10 的全连接层在 ShapesWorld 上训练：一个单独训练，一个带卷积分支、训练后合并进去。对输出像"
        "素"
        f"（第 {r} 行，第 {c} 列），哪个全连接层把更多权重放在该像素周围 {side}×{side} 的方框内？",
        options,
        answer,
        why,
        [plain, rep],
    )


def _repmlp_params(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    demo = summary.get("demo_block")
    if not demo or "params_deploy" not in demo:
        return None
    train, deploy = int(demo["params_train"]), int(demo["params_deploy"])
    fc = int(np.prod(demo.get("fc_matrix_shape") or [0]))
    choices, index = _number_choices(deploy, [train, fc, 2 * deploy - train])
    why = (
        f"Merging folds every conv branch and BatchNorm into the FC's weights and bias: {train:,} → "
        f"{deploy:,} parameters, with the same outputs (largest difference "
        f"{float(demo['max_abs_diff_float32']):.1e} in float32)."
    )
    return Question(
        "repmlp",
        "deploy_params",
        f"The training-time demo block (FC + conv branches {demo['kernels']}, each with a BatchNorm) has "
        f"{train:,} parameters. After merging everything into one FC, how many does the **deployed** block"
        " have?",
        f"训练时的演示块（全连接 + 卷积分支 {demo['kernels']}，各带 BatchNorm）有 {train:,} 个参数。全部合并"
        "成一个"
        "全连接层后，**部署**的块有多少个参数？",
        choices,
        index,
        why,
        deploy,
    )


# ------------------------------------------------------------------------------------ diffusion


def _diffusion_start(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    if summary.get("mode") != "sdedit" or summary.get("start_t") is None:
        return None
    t0, s = int(summary["start_t"]), float(summary["strength"])
    choices, index = _number_choices(t0, [999, round(1000 * (1 - s)), round(500 * s), 0])
    why = (
        f"SDEdit skips the first (1 − strength) of the sampler's {summary['num_inference_steps']} steps: it "
        f"noises the photo to t = {t0} (ᾱ = {float(summary['start_alpha_bar']):.3f}) and denoises from there;"
        " "
        "strength 1 would start from pure noise at t ≈ 999."
    )
    return Question(
        "diffusion",
        "sdedit_start",
        f"SDEdit noises your photo part of the way and denoises from there. With strength {s:g} and "
        f"{summary['num_inference_steps']} {str(summary['sampler']).upper()} steps (T = 1000 training steps),"
        " at "
        "which **timestep t** does denoising start?",
        f"SDEdit 先把照片加噪到一半左右，再从那里去噪。强度 {s:g}、{summary['num_inference_steps']} 步 "
        f"{str(summary['sampler']).upper()}（训练时 T = 1000），去噪从哪个**时间步 t** 开始？",
        choices,
        index,
        why,
        t0,
    )


# -------------------------------------------------------------------------------------- compare


def _compare_macs(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    models = [m for m in summary.get("models") or [] if m.get("gmacs") is not None]
    if len(models) < 2:
        return None
    values = [float(m["gmacs"]) for m in models]
    best = int(np.argmax(values))
    if sorted(values)[-2] == values[best]:
        return None
    names = tuple(str(m.get("title") or m["name"]) for m in models)
    why = (
        "Multiply-adds per image: "
        + ", ".join(f"{n} {v:.2f} G" for n, v in zip(names, values, strict=True))
        + "."
    )
    return Question(
        "compare",
        "most_macs",
        "Which of these models needs the **most multiply-adds** to classify one image?",
        "下面哪个模型分类一张图需要的**乘加运算最多**？",
        names,
        best,
        why,
        names[best],
    )


# ------------------------------------------------------------------------------------------ RoI


def _roi_fpn(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    fpn = summary.get("fpn")
    if not fpn or "level" not in fpn:
        return None
    lo, hi = int(fpn["k_min"]), int(fpn["k_max"])
    level = int(fpn["level"])
    choices = tuple(f"P{k}" for k in range(lo, hi + 1))
    why = (
        f"k = ⌊4 + log₂(√(wh)/224)⌋ = ⌊4 + log₂({float(fpn['sqrt_wh']):.0f}/224)⌋ ="
        f" ⌊{float(fpn['raw']):.2f}⌋, "
        f"kept in [{lo}, {hi}]: level P{level}. Larger boxes read coarser levels."
    )
    return Question(
        "roi",
        "fpn_level",
        f"An FPN detector reads each box's features from one pyramid level P{lo}…P{hi}. This box is "
        f"√(wh) = {float(fpn['sqrt_wh']):.0f} px in the network input (the canonical box is 224 px on P4). "
        "Which **level** does it go to?",
        f"FPN 检测器从 P{lo}…P{hi} 中的一个金字塔层读取每个框的特征。这个框在网络输入中 √(wh) = "
        f"{float(fpn['sqrt_wh']):.0f} 像素（224 像素的框对应 P4）。它被分到哪一**层**？",
        choices,
        level - lo,
        why,
        level,
    )


# ------------------------------------------------------------------------------ receptive fields


def _receptive_widest(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    rows = summary.get("models") or []
    trained = [row[0] for row in rows if row]
    if len(trained) < 2:
        return None
    sides = [int(m["erf_side90"]) for m in trained]
    best = int(np.argmax(sides))
    if sorted(sides)[-2] == sides[best]:
        return None
    names = tuple(str(m["model"]) for m in trained)
    why = (
        "Side of the square holding 90 % of the effective receptive field: "
        + ", ".join(f"{n} {v} px" for n, v in zip(names, sides, strict=True))
        + "."
    )
    stage = trained[0]["stage"]
    return Question(
        "receptive",
        "widest_erf",
        f"At stage {stage}, which network's unit at the clicked point actually **uses the widest region** of "
        "the input (the square holding 90 % of its effective receptive field)?",
        f"在第 {stage} 阶段，哪个网络在点击位置的单元实际**用到的输入区域最大**（包含其有效感受野 90 % 的方框"
        "）？",
        names,
        best,
        why,
        names[best],
    )


def _receptive_reach(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    convs = [row[0] for row in summary.get("models") or [] if row and row[0]["reach"]["kind"] == "conv"
             and row[0]["reach"]["size"] is not None]
    if not convs:
        return None
    m = rng.choice(convs)
    size, erf90 = int(m["reach"]["size"]), int(m["erf_side90"])
    choices, index = _number_choices(size, [erf90, 2 * size - 1, (size + 1) // 2, int(m["input_size"])])
    why = (f"Each layer widens the field by (k − 1)·jump, and the jump grows with every stride: at stage "
           f"{m['stage']} the theoretical field is {size} px. The unit actually uses much less: 90 % of its "
           f"effective receptive field lies in {erf90} px.")
    return Question(
        "receptive", "theoretical_rf",
        f"{m['model']} at stage {m['stage']} (stride {float(m['stride']):g}): how many input pixels wide is"
        " the "
        "**theoretical** receptive field of one unit?",
        f"{m['model']} 第 {m['stage']} 阶段（步长 {float(m['stride']):g}）：一个单元的**理论**感受野有多少个"
        "输入像素宽？",
        choices, index, why, size)


# ---------------------------------------------------------------------------------------- RepVGG


def _repvgg_centre(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    kernel, block = summary.get("kernel"), summary.get("block")
    if not kernel or not block or not kernel.get("rows"):
        return None

    def centre(m: Sequence[Sequence[float]]) -> float:
        return float(m[len(m) // 2][len(m[0]) // 2])

    pieces = [(str(r["branch"]), centre(r["folded"]), centre(r["raw"])) for r in kernel["rows"]]
    answer = centre(kernel["merged"])
    wrong = [f"{pieces[0][1]:.4f}", f"{sum(raw for _, _, raw in pieces):.4f}",
             f"{sum(f for b, f, _ in pieces if b != 'identity'):.4f}", f"{-answer:.4f}"]
    choices, index = _shuffled(rng, f"{answer:.4f}", wrong)
    if len(choices) < 2:
        return None
    listed = ", ".join(f"{b} {f:.4f}" for b, f, _ in pieces)
    listed_zh = "，".join(f"{b} {f:.4f}" for b, f, _ in pieces)
    why = (f"Merging adds the folded kernels: {' + '.join(f'{f:.4f}' for _, f, _ in pieces)} = {answer:.4f} "
           "(the 1×1 kernel sits at the 3×3 centre, the identity is a centred 1 scaled by its BN).")
    return Question(
        "repvgg", "merged_centre",
        f"Block {block['index']} ({block['name']}) adds the branches {', '.join(b for b, _, _ in pieces)},"
        " each "
        f"with its BatchNorm. With the BNs folded in, the centre taps for output channel {summary['channel']}"
        " ← "
        f"input channel {summary['in_channel']} are {listed}. What is the centre tap of the **one merged "
        "3×3 kernel**?",
        f"第 {block['index']} 块（{block['name']}）把各带 BatchNorm 的分支相加。把 BN 折叠进去后，输出通道 "
        f"{summary['channel']} ← 输入通道 {summary['in_channel']} 的中心权重为：{listed_zh}。"
        "**合并后的 3×3 卷积核**的中心权重是多少？",
        choices, index, why, answer)


# ------------------------------------------------------------------------------------ MLP family


def _mlp_axial_field(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    asm = summary.get("asmlp")
    if not asm or "union_cells" not in asm:
        return None
    s, d = int(asm["shift_size"]), int(asm["dilation"])
    answer = int(asm["union_cells"])
    wrong = [str(v) for v in (s, 2 * s, s * s, 2 * s + 1, 4 * s - 3, answer + 2, max(1, answer - 2))]
    choices, index = _shuffled(rng, str(answer), wrong)
    if len(choices) < 2:
        return None
    why = (f"Each channel reads one cell: its group's shift of −{s // 2}…+{s // 2} steps of {d} along the "
           "width in one branch and along the height in the other; the channel FC then mixes all channels, "
           f"so the output sees the union — a cross of {answer} cells here (fewer only where the cross "
           "leaves the map).")
    return Question(
        "mlp", "axial_field",
        f"AS-MLP with shift size {s} and dilation {d} shifts groups of channels along the width in one "
        "branch and along the height in the other, then mixes the channels. After **one** such token "
        "mixer, how many input cells can the clicked output position see?",
        f"AS-MLP 的平移大小为 {s}、膨胀为 {d}：一条支路沿宽度、另一条沿高度平移各组通道，然后混合通道。"
        "经过**一个**这样的 token 混合器后，所点的输出位置能看到多少个输入格子？",
        choices, index, why, answer)


# ---------------------------------------------------------------------------------- detection losses


def _losses_easy_share(summary: Summary, params: Mapping[str, Any], rng: random.Random) -> Question | None:
    focal = summary.get("focal")
    if not focal or "total" not in focal:
        return None
    bce = float(focal["total"]["BCE"]["easy negatives"])
    fl = float(focal["total"]["FL"]["easy negatives"])
    a, g, t = focal["alpha"], focal["gamma"], focal["easy_threshold"]
    right = f"{fl:.0%}"
    wrong = [f"{v:.0%}" for v in (bce, min(1.0, bce * 1.5), bce / 2, 0.5, 1 - bce, fl * 10, 0.9)]
    choices, index = _shuffled(rng, right, wrong)
    if len(choices) < 2:
        return None
    why = (f"Each easy negative keeps (1 − α)(1 − p_t)^γ of its cross-entropy — at p = 0.01, α = {a:g} and "
           f"γ = {g:g} that is {(1 - a) * 0.01 ** g:.1e} — so thousands of them that carried {bce:.0%} of "
           f"BCE's total carry {fl:.0%} of "
           "the focal loss's: the total goes back to the positives and the hard negatives.")
    return Question(
        "losses", "easy_share",
        f"On this photo the easy negatives (p < {t:g}) carry **{bce:.0%}** of the BCE total over all "
        f"anchors. What share of the **focal loss** total (α {a:g}, γ {g:g}) do they carry?",
        f"在这张照片上，简单负样本（p < {t:g}）承担所有锚点 BCE 总和的 **{bce:.0%}**。它们承担 **focal loss**"
        f"（α {a:g}，γ {g:g}）总和的多少？",
        choices, index, why, fl)


QUESTIONS: dict[str, tuple[Generator, ...]] = {
    "swin": (_swin_masked,),
    "attention": (_attention_rollout, _attention_swin_keys),
    "pointrend": (_pointrend_points,),
    "simota": (_simota_conflict, _simota_anchor, _simota_notes_k),
    "repmlp": (_repmlp_locality, _repmlp_params),
    "diffusion": (_diffusion_start,),
    "compare": (_compare_macs,),
    "roi": (_roi_fpn,),
    "receptive": (_receptive_widest, _receptive_reach),
    "repvgg": (_repvgg_centre,),
    "losses": (_losses_easy_share,),
    "mlp": (_mlp_axial_field,),
}
