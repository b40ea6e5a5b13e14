"""The run as a PyTorch training script: ``torch.nn.Sequential``, the lab's initial weights,
split, standardization, shuffle order and Dropout masks (drawn with NumPy as the lab draws
them), its loss and optimizer (``torch.optim``), on CUDA when there is one.

Where it differs from the lab, by design and only in the last bits: PyTorch's own kernels
(sigmoid, softmax, matrix products), autograd through the output activation instead of the
lab's fused dL/dZ = (A − Y)/m, momentum in PyTorch's form (v ← μv + g; w ← w − αv, the lab's
v times −1/α), and Adam with ε added to √v̂ (the lab folds the bias correction into
α·√(1 − β₂ᵗ)/(1 − β₁ᵗ) and ε·√(1 − β₂ᵗ): the same formula). Binary cross-entropy is
``torch.nn.functional.binary_cross_entropy``, whose log is floored at −100 instead of the
lab's clipping of the probabilities to [1e−7, 1 − 1e−7] in float32: the two differ only on
outputs that saturate. Under ``torchrun`` every process trains the same model and the first
prints (a starting point for DistributedDataParallel).
"""

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

from .numpy_program import batch_loop, clip_eps, edit_lines, parameter_edit_code, setting_change_lines, settings_lines, split_code
from .numpy_script import script_header
from .source import ExportSource, data_file_for, write_data_file, write_text

TORCH_ACTIVATIONS = {"linear": None, "sigmoid": "torch.nn.Sigmoid()", "tanh": "torch.nn.Tanh()", "relu": "torch.nn.ReLU()",
                     "softmax": "torch.nn.Softmax(dim=1)"}
LOSS_CODE = {
    "binary_crossentropy": "torch.nn.functional.binary_cross_entropy(A, Y, reduction=\"sum\") / len(A)",
    "categorical_crossentropy": "torch.nn.functional.nll_loss(torch.log(A.clamp_min(CLIP)), Y.argmax(dim=1))",
    "mse": "torch.nn.functional.mse_loss(A, Y)",
}
OPTIMIZER_CODE = {
    "sgd": "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)",
    "momentum": "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, nesterov=NESTEROV)",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE, alpha=RHO, eps=EPSILON)",
    "adam": "torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPSILON)",
}
METRIC_CODE = {
    "binary": "float(((A > 0.5) == (Y > 0.5)).double().mean())",
    "classes": "float((A.argmax(dim=1) == Y.argmax(dim=1)).double().mean())",
}
R2_CODE = '''\
    ss_res = ((Y - A) ** 2).sum(dim=0)
    ss_tot = ((Y - Y.mean(dim=0)) ** 2).sum(dim=0)
    ss_tot = torch.where(ss_tot > 0, ss_tot, torch.ones_like(ss_tot))
    return float((1.0 - ss_res / ss_tot).mean())'''


def _model_lines(source: ExportSource) -> list[str]:
    """The torch.nn.Sequential, layer by layer in the lab's order."""
    lines = ["model = torch.nn.Sequential("]
    steps = source.dense_steps()
    for previous, step in zip([None, *steps], steps, strict=False):
        if previous is not None:
            lines.append(f"    torch.nn.Linear({previous.units}, {step.units}),   # layer {step.number}: "
                         f"W{step.number} ({step.units}, {previous.units})")
            if step.activation == "leaky_relu":
                lines.append(f"    torch.nn.LeakyReLU({step.slope!r}),")
            elif TORCH_ACTIVATIONS[step.activation]:
                lines.append(f"    {TORCH_ACTIVATIONS[step.activation]},")
        lines += [f"    LabDropout({rate!r}, seed={seed}),   # the lab's masks" for rate, seed in step.dropouts]
    lines.append(").to(device=device, dtype=DTYPE)")
    return lines


def torch_script_text(source: ExportSource, data_file: str, name: str) -> str:
    """The whole script, loading ``data_file`` from its own folder."""
    steps = source.dense_steps()
    config = source.config
    dropout = any(s.dropouts for s in steps)
    kind = "r2" if source.metric == "r2" else "binary" if steps[-1].units == 1 else "classes"
    header = script_header(source, "Train the lab's network with PyTorch: the same weights, batches and settings.",
                           name, data_file)
    parts = [header, dedent(f"""\
        import json
        import math
        import os
        import time
        from pathlib import Path

        import numpy as np
        import torch

        DTYPE = torch.{source.dtype}       # the precision of every tensor of the training, as in the lab
        NP_DTYPE = np.{source.dtype}
        """) + "\n".join(settings_lines(source))]
    if source.loss == "categorical_crossentropy":
        parts[-1] += f"\nCLIP = {clip_eps(source)!r}   # the smallest probability the log sees"
    parts.append(dedent("""\
        # torchrun starts one process per GPU and numbers them: each trains the same model, the first prints.
        RANK, LOCAL_RANK = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{LOCAL_RANK}" if torch.cuda.is_available() else "cpu")

        # ----- the data, split, standardized and shuffled as the lab does (with NumPy) -----"""))
    parts[-1] += "\n" + split_code(source, f"Path(__file__).with_name({data_file!r})") + dedent("""
        X_train = torch.from_numpy(X_all[train_rows].astype(NP_DTYPE)).to(device)   # (m, n[0]): one row per sample
        Y_train = torch.from_numpy(Y_all[train_rows].astype(NP_DTYPE)).to(device)   # (m, n[L])
        X_val = torch.from_numpy(X_all[val_rows].astype(NP_DTYPE)).to(device)
        Y_val = torch.from_numpy(Y_all[val_rows].astype(NP_DTYPE)).to(device)
        m = len(train_rows)
        shuffle_generator = np.random.default_rng([SEED, 1])""")
    if dropout:
        parts.append(dedent('''\
            class LabDropout(torch.nn.Module):
                """Inverted dropout with the lab's masks: drawn with NumPy from a generator seeded as the lab
                seeds this layer, so that the run is the lab's. torch.nn.Dropout(rate) draws its own."""

                def __init__(self, rate, seed):
                    super().__init__()
                    self.rate, self.generator = rate, np.random.default_rng(seed)

                def forward(self, x):
                    if not self.training:
                        return x
                    keep = self.generator.random(tuple(x.shape), dtype=NP_DTYPE) >= self.rate
                    mask = torch.from_numpy(keep.astype(NP_DTYPE) * (1 / (1 - self.rate))).to(x.device)
                    return x * mask'''))
    parts.append("# ----- the network, from the lab's initial weights (epoch 0) -----\n" + "\n".join(_model_lines(source)) + dedent(f"""
        linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
        with torch.no_grad():
            for l, linear in enumerate(linears, start=1):
                linear.weight.copy_(torch.from_numpy(data[f"W{{l}}"]))   # W[l] (n[l], n[l-1]), as torch stores it
                linear.bias.copy_(torch.from_numpy(data[f"b{{l}}"]))
        optimizer = {OPTIMIZER_CODE[config.optimizer]}"""))
    metric_body = R2_CODE if kind == "r2" else f"    return {METRIC_CODE[kind]}"
    parts.append(dedent(f'''\
        def loss_of(A, Y):
            """The lab's loss of outputs A for targets Y (m, n[L]): a mean over the samples."""
            return {LOSS_CODE[source.loss]}


        def metric_of(A, Y):
            """The lab's metric ({"R²" if kind == "r2" else "accuracy"}) of outputs A for targets Y."""
        ''') + metric_body)
    if source.parameter_edits:
        parts.append(parameter_edit_code(source, "torch"))
    parts.append(_training_code(source))
    return "\n\n\n".join(part.rstrip() for part in parts) + "\n"


def _training_code(source: ExportSource) -> str:
    """The training loop: mini-batches in the lab's order, the penalties on the weights, one JSON line an epoch."""
    config = source.config
    if config.shuffle:
        order = ("order = torch.from_numpy(shuffle_generator.permutation(m)).to(device)   # the lab's order\n"
                 "    X_epoch, Y_epoch = X_train[order], Y_train[order]")
    else:
        order = "X_epoch, Y_epoch = X_train, Y_train   # the same order every epoch (no shuffling)"
    gradients: list[str] = []
    if config.l1:
        gradients.append("w.grad += L1 * torch.sign(w)   # the L1 penalty's gradient (on the weights, not the biases)")
    if config.l2:
        gradients.append("w.grad += L2 * w               # the L2 penalty's gradient (on the weights, not the biases)")
    penalty = ("with torch.no_grad():\n            for w in (linear.weight for linear in linears):\n"
               + "\n".join(f"                {line}" for line in gradients)) if gradients else ""
    template = dedent("""\
        # ----- training: mini-batches, one JSON line per epoch as `python main.py train --json` prints -----
        for epoch in range(1, EPOCHS + 1):
            started = time.perf_counter()
            model.train()
            $order
            outputs = []   # the network's outputs during the epoch, for its training loss
            $loop
                X_batch, Y_batch = X_epoch[first:first + BATCH_SIZE], Y_epoch[first:first + BATCH_SIZE]
                optimizer.zero_grad()
                A = model(X_batch)
                loss_of(A, Y_batch).backward()
                $penalty
                optimizer.step()
                outputs.append(A.detach())
            model.eval()
            with torch.no_grad():
                A_train = torch.cat(outputs)
                train_loss, train_metric = float(loss_of(A_train, Y_epoch)), metric_of(A_train, Y_epoch)
                if len(X_val):
                    A_val = model(X_val)
                    val_loss, val_metric = float(loss_of(A_val, Y_val)), metric_of(A_val, Y_val)
                else:
                    val_loss = val_metric = None
            record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "train_$metric": train_metric,
                      "val_$metric": val_metric, "lr": LEARNING_RATE, "seconds": time.perf_counter() - started}
            record = {key: None if isinstance(value, float) and not math.isfinite(value) else value
                      for key, value in record.items()}
            if RANK == 0:
                print(json.dumps(record), flush=True)
            if record["train_loss"] is None:
                break
        """)
    template = template.replace("\n        $penalty", f"\n        {penalty}" if penalty else "")
    loop = [batch_loop(source, "range(0, m, BATCH_SIZE)"), *_setting_change_lines(source), *edit_lines(source, " " * 8)]
    template = template.replace("$loop", "\n".join(loop))
    if source.parameter_edits:
        template += "else:\n    set_by_hand(EPOCHS, 0)   # what the lab set by hand after the last epoch\n"
    return template.replace("$order", order).replace("$metric", source.metric)


def _setting_change_lines(source: ExportSource) -> list[str]:
    """The loop's lines that apply the run's live setting changes, to the constants and the optimizer."""
    lines = setting_change_lines(source, " " * 8)
    if not lines:
        return []
    changed = source.changed_constants()
    groups = ["lr=LEARNING_RATE"] if "LEARNING_RATE" in changed else []
    groups += ["momentum=MOMENTUM"] if "MOMENTUM" in changed else []
    groups += ["betas=(BETA1, BETA2)"] if {"BETA1", "BETA2"} & set(changed) else []
    groups += ["alpha=RHO"] if "RHO" in changed else []
    lines.append("        for group in optimizer.param_groups:   # the new values reach the optimizer")
    if source.config.optimizer == "momentum" and "LEARNING_RATE" in changed:
        lines += ["            for p in group[\"params\"]:   # PyTorch keeps momentum in gradient units (the lab in steps): rescale it",
                  "                buffer = optimizer.state[p].get(\"momentum_buffer\")",
                  "                if buffer is not None:",
                  "                    buffer *= group[\"lr\"] / LEARNING_RATE"]
    return [*lines, f"            group.update({', '.join(groups)})"]


def write_torch_script(source: ExportSource, path: str | os.PathLike) -> list[Path]:
    """Write the PyTorch script to ``path`` and its data file beside it; return both paths."""
    data = write_data_file(source, path)
    script = write_text(path, torch_script_text(source, data_file_for(path).name, Path(path).name))
    return [script, data]
