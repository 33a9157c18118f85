#!/usr/bin/env python3
"""Train the bundled example models on real sklearn datasets and export them to ONNX.

Run with Debian's interpreter (python3-torch, python3-sklearn):
    /usr/bin/python3 artifacts/models/generate.py

Writes, for each model, artifacts/models/<name>/:
  model.onnx        the float model exported with torch.onnx.export (batch 1, static shapes)
  calibration.json  {"inputs": [...]} samples from the training split, for quantization
  test.json         {"inputs": [...], "labels": [...]} held-out samples
  input.json        one held-out sample, inputs.jsonl: eight, for `zkml prove`
  meta.json         dataset, architecture and the float model's test accuracy
Nothing at test or demo time runs Python: the outputs are committed.

    /usr/bin/python3 artifacts/models/generate.py digits_cnn8 ...   # (re)write only these models
Every model is still trained in the same order, so the random state each one sees is unchanged.

The *_int8 models (issue 19) are the trained float models quantized by PyTorch's FX post-training
static quantization (fbgemm: per-channel int8 weights, uint8 activations) and exported as QDQ ONNX:
QuantizeLinear/DequantizeLinear around Conv, Gemm and ReLU with the model's own scales. They are
made from a copy of the float model after it is exported, so nothing else changes.
"""
import copy
import json
import os
import sys

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 7
ONLY = set(sys.argv[1:])


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train(model, x, y, epochs, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
    return model


def accuracy(model, x, y):
    with torch.no_grad():
        pred = model(torch.tensor(x, dtype=torch.float32)).argmax(dim=1).numpy()
    return float((pred == y).mean())


def metric(model, x, y, task):
    with torch.no_grad():
        out = model(torch.tensor(x, dtype=torch.float32)).numpy()
    if task == "classification":
        return float((out.argmax(axis=1) == y).mean())
    if task == "binary":
        return float(((out[:, 0] > 0.5) == y).mean())
    return float(np.abs(out[:, 0] - y).mean())  # regression: mean absolute error


def train_loss(model, x, y, epochs, lr, loss_fn, target):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = target(y)
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
    model.eval()
    return model


class DigitsTransformer(torch.nn.Module):
    """Image rows as 8 tokens of 8 features: Linear embedding + learned positions, one
    TransformerEncoderLayer (d_model 16, 2 heads, ff 32, ReLU), mean over tokens, Linear 10."""

    def __init__(self, batch_first=True, norm_first=False):
        super().__init__()
        self.batch_first = batch_first
        self.embed = torch.nn.Linear(8, 16)
        self.pos = torch.nn.Parameter(torch.randn(8, 16) * 0.1)
        self.enc = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        h = self.embed(x) + self.pos
        if not self.batch_first:
            h = h.transpose(0, 1)
        h = self.enc(h)
        if not self.batch_first:
            h = h.transpose(0, 1)
        return self.fc(h.mean(dim=1))


class DigitsCnn(torch.nn.Module):
    """Conv-BatchNorm-ReLU-MaxPool-Conv-ReLU-Flatten-Gemm on 8x8 digits."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.fc = torch.nn.Linear(72, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv1(x))))
        x = torch.relu(self.conv2(x))
        return self.fc(x.view(x.size(0), -1))  # Shape -> Gather -> Unsqueeze -> Concat -> Reshape


class DigitsCnnFlatten(DigitsCnn):
    """DigitsCnn with torch.flatten for view: quantized tensors are not contiguous, so view fails on them."""

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv1(x))))
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class DigitsAvgCnn(torch.nn.Module):
    """Conv-ReLU-AvgPool-Conv-ReLU-GlobalAvgPool-Gemm on 8x8 digits."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.pool = torch.nn.AvgPool2d(2)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.gap = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.gap(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class DigitsResCnn(torch.nn.Module):
    """Conv-ReLU-Conv + skip-ReLU-GlobalAvgPool-Linear on 8x8 digits: a residual block (Add) and an average."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.pool = torch.nn.AvgPool2d(2)
        self.gap = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = self.pool(torch.relu(self.conv2(x) + x))
        return self.fc(torch.flatten(self.gap(x), 1))


class Cnn8(torch.nn.Module):
    """Conv3x3x{channels}-ReLU-MaxPool2-Flatten-Dense10 on 8x8 digits (the circomlib-ml comparison CNN)."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, channels, 3)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(channels * 9, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))


class ConvScaling(torch.nn.Module):
    """Conv3x3x{channels}-ReLU-Flatten-Dense10 on 8x8 digits: cost grows linearly with channels."""

    def __init__(self, channels):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, channels, 3)
        self.fc = torch.nn.Linear(channels * 36, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


class Standardized(torch.nn.Module):
    """(x - mean) / std inside the graph, then a model: what a user exports when the scaler is part of the model."""

    def __init__(self, mean, std, model):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.model = model

    def forward(self, x):
        return self.model((x - self.mean) / self.std)


class ResidualMlp(torch.nn.Module):
    """64-32 LeakyReLU, a residual block 32-32 LeakyReLU + skip, then 32-10."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 32)
        self.fc2 = torch.nn.Linear(32, 32)
        self.out = torch.nn.Linear(32, 10)
        self.act = torch.nn.LeakyReLU(0.1)

    def forward(self, x):
        h = self.act(self.fc1(x))
        h = h + self.act(self.fc2(h))
        return self.out(h)


class LeNet5(torch.nn.Module):
    """LeNet-5 on 28x28: Conv5x5x6 (pad 2)-ReLU-MaxPool2-Conv5x5x16-ReLU-MaxPool2-Dense120-ReLU-Dense84-ReLU-Dense10."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc1 = torch.nn.Linear(400, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc3(torch.relu(self.fc2(x)))


class CifarCnn(torch.nn.Module):
    """CIFAR-shaped CNN on 3x32x32: three Conv3x3 (pad 1)-BatchNorm-ReLU-MaxPool2 blocks (16, 32, 64 channels), Dense10."""

    def __init__(self):
        super().__init__()
        blocks = []
        for c_in, c_out in ((3, 16), (16, 32), (32, 64)):
            blocks += [torch.nn.Conv2d(c_in, c_out, 3, padding=1), torch.nn.BatchNorm2d(c_out), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        self.features = torch.nn.Sequential(*blocks)
        self.fc = torch.nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def rounded(rows, digits=6):
    # Samples are stored flat (row-major), the form `zkml prove` takes for any input shape.
    return [[round(float(v), digits) for v in np.asarray(row).reshape(-1)] for row in rows]


def export(name, model, sizes, x_train, x_test, y_test, dataset, n_calibration, n_test,
           input_shape=None, architecture=None, task="classification", opset=13):
    if ONLY and name not in ONLY:
        return
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    model.eval()
    torch.onnx.export(
        model,
        torch.zeros(*(input_shape or (1, sizes[0]))),
        os.path.join(out, "model.onnx"),
        input_names=["input"],
        output_names=["logits"],
        opset_version=opset,
        do_constant_folding=True,
    )
    with open(os.path.join(out, "calibration.json"), "w") as f:
        json.dump({"inputs": rounded(x_train[:n_calibration])}, f)
    with open(os.path.join(out, "test.json"), "w") as f:
        labels = [int(v) for v in y_test[:n_test]] if task != "regression" else [round(float(v), 4) for v in y_test[:n_test]]
        json.dump({"inputs": rounded(x_test[:n_test]), "labels": labels}, f)
    # Example inputs for the CLI: one proof, and a small batch in JSON lines.
    with open(os.path.join(out, "input.json"), "w") as f:
        json.dump({"input": rounded(x_test[:1])[0]}, f)
    with open(os.path.join(out, "inputs.jsonl"), "w") as f:
        for row in rounded(x_test[:8]):
            f.write(json.dumps({"input": row}) + "\n")
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(
            {
                "name": name,
                "dataset": dataset,
                "architecture": architecture or "MLP " + "-".join(str(s) for s in sizes) + " (ReLU)",
                "task": task,
                "float_test_metric": metric(model, x_test, y_test, task),
                "test_samples": min(n_test, len(x_test)),
            },
            f,
            indent=2,
        )
    print(name, task, "float test metric", metric(model, x_test, y_test, task))


def quantized_int8(model, calibration, example_shape, fuse_linear_relu=True):
    """PyTorch FX post-training static quantization (fbgemm) of a copy of a trained float model.

    PyTorch 1.13 cannot export its fused quantized::linear_relu to ONNX: without fuse_linear_relu the
    Linear+ReLU fusion patterns are left out, so Linear and ReLU stay separate quantized ops.
    """
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.backend_config import BackendConfig, get_fbgemm_backend_config
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    backend = get_fbgemm_backend_config()
    if not fuse_linear_relu:
        relus = (torch.nn.ReLU, torch.nn.functional.relu)
        linears = (torch.nn.Linear, torch.nn.functional.linear)
        keep = [c for c in backend.configs.values()
                if not (isinstance(c.pattern, tuple) and any(t in relus for t in c.pattern) and any(t in linears for t in c.pattern))]
        backend = BackendConfig("fbgemm_without_linear_relu").set_backend_pattern_configs(keep)
    m = copy.deepcopy(model).eval()
    prepared = prepare_fx(m, get_default_qconfig_mapping("fbgemm"), (torch.zeros(*example_shape),), backend_config=backend)
    with torch.no_grad():
        prepared(torch.tensor(np.asarray(calibration), dtype=torch.float32).reshape(-1, *example_shape[1:]))
    return convert_fx(prepared, backend_config=backend)


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)

    iris = load_iris()
    x_tr, x_te, y_tr, y_te = train_test_split(
        iris.data, iris.target, test_size=0.4, random_state=SEED, stratify=iris.target
    )
    sizes = [4, 16, 3]
    model = train(mlp(sizes), x_tr, y_tr, epochs=600, lr=0.02)
    export("iris_mlp", model, sizes, x_tr, x_te, y_te, "sklearn iris", 64, 60)

    digits = load_digits()
    x = digits.data / 16.0  # pixel intensities 0..16 scaled to [0, 1]
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, digits.target, test_size=0.3, random_state=SEED, stratify=digits.target
    )
    sizes = [64, 32, 16, 10]
    model = train(mlp(sizes), x_tr, y_tr, epochs=400, lr=0.01)
    export("digits_mlp", model, sizes, x_tr, x_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 128, 200)

    # Convolutional and other models on the same digits split (issue 3).
    images_tr, images_te = x_tr.reshape(-1, 1, 8, 8), x_te.reshape(-1, 1, 8, 8)
    ce = torch.nn.CrossEntropyLoss()
    as_long = lambda y: torch.tensor(y)  # noqa: E731
    torch.manual_seed(SEED)
    model = train_loss(DigitsCnn(), images_tr, y_tr, 300, 0.01, ce, as_long)
    export("digits_cnn", model, None, images_tr, images_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 64, 200,
           input_shape=(1, 1, 8, 8), architecture="CNN Conv3x3x4-BatchNorm-ReLU-MaxPool2-Conv3x3x8-ReLU-Flatten-Gemm10")
    if not ONLY or "digits_cnn_int8" in ONLY:
        flat = DigitsCnnFlatten()
        flat.load_state_dict(model.state_dict())
        export("digits_cnn_int8", quantized_int8(flat, images_tr[:256], (1, 1, 8, 8)), None, images_tr, images_te, y_te,
               "sklearn digits (8x8, scaled by 1/16)", 64, 200, input_shape=(1, 1, 8, 8),
               architecture="digits_cnn quantized by PyTorch FX (fbgemm, per-channel int8 weights, uint8 activations), QDQ ONNX")
    torch.manual_seed(SEED)
    model = train_loss(DigitsAvgCnn(), images_tr, y_tr, 400, 0.01, ce, as_long)
    export("digits_avgpool_cnn", model, None, images_tr, images_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 64, 200,
           input_shape=(1, 1, 8, 8), architecture="CNN Conv3x3x4-ReLU-AvgPool2-Conv3x3x8-ReLU-GlobalAvgPool-Gemm10")
    torch.manual_seed(SEED)
    model = train_loss(ResidualMlp(), x_tr, y_tr, 400, 0.01, ce, as_long)
    export("digits_residual_mlp", model, [64, 32, 32, 10], x_tr, x_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 128, 200,
           architecture="residual MLP 64-32-(32+skip)-10 (LeakyReLU 0.1)")
    torch.manual_seed(SEED)
    tanh_mlp = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
    model = train_loss(tanh_mlp, x_tr, y_tr, 400, 0.01, ce, as_long)
    export("digits_tanh_mlp", model, [64, 32, 10], x_tr, x_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 128, 200,
           architecture="MLP 64-32-10 (Tanh)")

    # Issue 4: the architectures of the circomlib-ml and EZKL comparisons, and a scaling series.
    torch.manual_seed(SEED)
    model = train_loss(Cnn8(), images_tr, y_tr, 300, 0.01, ce, as_long)
    export("digits_cnn8", model, None, images_tr, images_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 64, 200,
           input_shape=(1, 1, 8, 8), architecture="CNN Conv3x3x4-ReLU-MaxPool2-Flatten-Dense10")
    # 784-64-10 at MNIST's input size: the 8x8 digits upsampled (bilinear) to 28x28.
    up = lambda a: torch.nn.functional.interpolate(  # noqa: E731
        torch.tensor(a.reshape(-1, 1, 8, 8), dtype=torch.float32), size=(28, 28), mode="bilinear", align_corners=False
    ).reshape(len(a), -1).numpy()
    x28_tr, x28_te = up(x_tr), up(x_te)
    torch.manual_seed(SEED)
    sizes = [784, 64, 10]
    model = train(mlp(sizes), x28_tr, y_tr, epochs=200, lr=0.005)
    export("digits28_mlp", model, sizes, x28_tr, x28_te, y_te, "sklearn digits upsampled to 28x28 (bilinear, scaled by 1/16)", 64, 200)
    # 32-64-64-10 on the 32 leading principal components of the pixels (fit on the training split).
    from sklearn.decomposition import PCA
    pca = PCA(32, random_state=SEED).fit(x_tr)
    xp_tr, xp_te = pca.transform(x_tr), pca.transform(x_te)
    torch.manual_seed(SEED)
    sizes = [32, 64, 64, 10]
    model = train(mlp(sizes), xp_tr, y_tr, epochs=300, lr=0.01)
    export("digits_pca_mlp", model, sizes, xp_tr, xp_te, y_te,
           "sklearn digits: the 32 leading PCA components of the /16-scaled pixels (PCA fit on the training split, applied outside the model)", 128, 200)
    # 256 and 1700 channels extend the series to 2^18 and 2^20 (past 10^6) constraints (issue 15's scaling curve).
    for channels in (2, 8, 32, 64, 256, 1700):
        if ONLY and f"scaling_conv{channels}" not in ONLY:
            continue
        torch.manual_seed(SEED)
        model = train_loss(ConvScaling(channels), images_tr, y_tr, 200, 0.01, ce, as_long)
        export(f"scaling_conv{channels}", model, None, images_tr, images_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 64, 100,
               input_shape=(1, 1, 8, 8), architecture=f"CNN Conv3x3x{channels}-ReLU-Flatten-Dense10 (scaling series)")

    # Logistic regression on breast_cancer: features standardized with the training mean and std.
    bc = load_breast_cancer()
    x_tr, x_te, y_tr, y_te = train_test_split(bc.data, bc.target, test_size=0.3, random_state=SEED, stratify=bc.target)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    torch.manual_seed(SEED)
    logreg = torch.nn.Sequential(torch.nn.Linear(30, 1), torch.nn.Sigmoid())
    model = train_loss(logreg, x_tr, y_tr, 500, 0.02, torch.nn.BCELoss(), lambda y: torch.tensor(y, dtype=torch.float32)[:, None])
    export("breast_cancer_logreg", model, [30, 1], x_tr, x_te, y_te, "sklearn breast_cancer (standardized with the training mean/std)",
           128, 150, architecture="logistic regression 30-1 (Sigmoid)", task="binary")

    # Linear regression on diabetes (sklearn ships these features already centred and scaled).
    db = load_diabetes()
    x_tr, x_te, y_tr, y_te = train_test_split(db.data, db.target, test_size=0.3, random_state=SEED)
    torch.manual_seed(SEED)
    linreg = torch.nn.Linear(10, 1)
    model = train_loss(linreg, x_tr, y_tr, 3000, 0.5, torch.nn.MSELoss(), lambda y: torch.tensor(y, dtype=torch.float32)[:, None])
    export("diabetes_linreg", model, [10, 1], x_tr, x_te, y_te, "sklearn diabetes", 128, 100,
           architecture="linear regression 10-1", task="regression")

    # Issue 14: a wine classifier whose standardization is inside the graph, so it takes the raw
    # features (0.13 .. 1680 in one tensor). Trained last: the models above see the same random state.
    wine = load_wine()
    x_tr, x_te, y_tr, y_te = train_test_split(wine.data, wine.target, test_size=0.3, random_state=SEED, stratify=wine.target)
    torch.manual_seed(SEED)
    sizes = [13, 16, 3]
    model = Standardized(x_tr.mean(axis=0), x_tr.std(axis=0), mlp(sizes))
    model = train(model, x_tr, y_tr, epochs=500, lr=0.02)
    export("wine_mlp", model, sizes, x_tr, x_te, y_te, "sklearn wine (raw features; standardization inside the graph)", 124, 54,
           architecture="Standardize-MLP 13-16-3 (ReLU), raw-scale inputs")
    if not ONLY or "wine_mlp" in ONLY:
        # The per-feature range of the raw features over the training split, as `--input-range` takes it.
        with open(os.path.join(HERE, "wine_mlp", "input_range.json"), "w") as f:
            json.dump({"min": [round(float(v), 6) for v in x_tr.min(axis=0)], "max": [round(float(v), 6) for v in x_tr.max(axis=0)]}, f)

    # Issue 15: real-size CNNs on the digits split, upsampled (bilinear) to MNIST's 28x28 and to
    # CIFAR's 3x32x32 (the gray image in all three channels). Trained last, as above.
    x = digits.data / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target, test_size=0.3, random_state=SEED, stratify=digits.target)
    def upsample(a, side, channels):
        t = torch.nn.functional.interpolate(torch.tensor(a.reshape(-1, 1, 8, 8), dtype=torch.float32), size=(side, side), mode="bilinear", align_corners=False)
        return t.repeat(1, channels, 1, 1).numpy()
    real_size = [
        ("lenet5", LeNet5, 28, 1, 150, "sklearn digits upsampled to 28x28 (bilinear, scaled by 1/16)",
         "LeNet-5: Conv5x5x6 (pad 2)-ReLU-MaxPool2-Conv5x5x16-ReLU-MaxPool2-Dense120-ReLU-Dense84-ReLU-Dense10"),
        ("cifar_cnn", CifarCnn, 32, 3, 60, "sklearn digits upsampled to 3x32x32 (bilinear, gray in all channels, scaled by 1/16)",
         "CNN 3x[Conv3x3 (pad 1)-BatchNorm-ReLU-MaxPool2] with 16-32-64 channels, Dense10"),
    ]
    for name, cls, side, channels, epochs, dataset, architecture in real_size:
        int8 = name == "lenet5" and (not ONLY or "lenet5_int8" in ONLY)
        if ONLY and name not in ONLY and not int8:
            continue
        torch.manual_seed(SEED)
        i_tr, i_te = upsample(x_tr, side, channels), upsample(x_te, side, channels)
        model = train_loss(cls(), i_tr, y_tr, epochs, 0.005, ce, as_long)
        export(name, model, None, i_tr, i_te, y_te, dataset, 32, 100, input_shape=(1, channels, side, side), architecture=architecture)
        if int8:
            export("lenet5_int8", quantized_int8(model, i_tr[:256], (1, channels, side, side), fuse_linear_relu=False), None, i_tr, i_te, y_te,
                   dataset, 32, 100, input_shape=(1, channels, side, side),
                   architecture="LeNet-5 quantized by PyTorch FX (fbgemm, per-channel int8 weights, uint8 activations; Linear and ReLU unfused), QDQ ONNX")

    # Issue 16: a GELU MLP and a small transformer on the digits split, trained last as above.
    x = digits.data / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target, test_size=0.3, random_state=SEED, stratify=digits.target)
    torch.manual_seed(SEED)
    gelu_mlp = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.GELU(), torch.nn.Linear(32, 10))
    model = train_loss(gelu_mlp, x_tr, y_tr, 400, 0.01, ce, as_long)
    export("digits_gelu_mlp", model, [64, 32, 10], x_tr, x_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 128, 200,
           architecture="MLP 64-32-10 (GELU, exact erf form)")
    torch.manual_seed(SEED)
    tokens_tr, tokens_te = x_tr.reshape(-1, 8, 8), x_te.reshape(-1, 8, 8)
    model = train_loss(DigitsTransformer(), tokens_tr, y_tr, 300, 0.01, ce, as_long)
    export("digits_transformer", model, None, tokens_tr, tokens_te, y_te, "sklearn digits (8x8 rows as 8 tokens of 8 features, scaled by 1/16)", 64, 200,
           input_shape=(1, 8, 8), opset=17,
           architecture="Transformer: Linear 8-16 + learned positions, TransformerEncoderLayer (d_model 16, 2 heads, ff 32, ReLU, post-norm), mean over tokens, Linear 10")
    # PyTorch's exports of attention and LayerNorm in every layout and opset the importer follows
    # (untrained: the import tests compare them with onnxruntime, not with labels).
    if not ONLY or "exports" in ONLY:
        out = os.path.join(HERE, "exports")
        os.makedirs(out, exist_ok=True)
        for batch_first in (True, False):
            for norm_first in (False, True):
                for opset in (13, 14, 17):
                    torch.manual_seed(SEED)
                    m = DigitsTransformer(batch_first, norm_first).eval()
                    torch.onnx.export(m, torch.zeros(1, 8, 8), os.path.join(out, f"transformer_bf{int(batch_first)}_nf{int(norm_first)}_opset{opset}.onnx"),
                                      input_names=["input"], output_names=["logits"], opset_version=opset)
        torch.manual_seed(SEED)
        mha = torch.nn.MultiheadAttention(16, 2, batch_first=True).eval()

        class SelfAttention(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.mha = mha

            def forward(self, x):
                return self.mha(x, x, x, need_weights=False)[0]
        torch.onnx.export(SelfAttention(), torch.zeros(1, 8, 16), os.path.join(out, "multihead_attention_opset14.onnx"),
                          input_names=["input"], output_names=["out"], opset_version=14)
        for opset in (13, 17):
            torch.onnx.export(torch.nn.LayerNorm(16).eval(), torch.zeros(1, 8, 16), os.path.join(out, f"layer_norm_opset{opset}.onnx"),
                              input_names=["input"], output_names=["out"], opset_version=opset)
        for approximate in ("none", "tanh"):
            torch.onnx.export(torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU(approximate=approximate)).eval(), torch.zeros(1, 8),
                              os.path.join(out, f"gelu_{approximate}.onnx"), input_names=["input"], output_names=["out"], opset_version=13)

    # A residual int8 CNN (Add of a skip connection, an average pool and a global one): onnxruntime
    # fuses its QDQ form to QLinearConv, QLinearAdd, QLinearAveragePool, QLinearGlobalAveragePool
    # and QGemm. The float model is exported too, for the constraint comparison.
    if not ONLY or ONLY & {"digits_res_cnn", "digits_res_cnn_int8"}:
        torch.manual_seed(SEED)
        model = train_loss(DigitsResCnn(), images_tr, y_tr, 300, 0.01, ce, as_long)
        export("digits_res_cnn", model, None, images_tr, images_te, y_te, "sklearn digits (8x8, scaled by 1/16)", 64, 200,
               input_shape=(1, 1, 8, 8), architecture="residual CNN Conv3x3x8-ReLU-Conv3x3x8+skip-ReLU-AvgPool2-GlobalAvgPool-Gemm10")
        export("digits_res_cnn_int8", quantized_int8(model, images_tr[:256], (1, 1, 8, 8)), None, images_tr, images_te, y_te,
               "sklearn digits (8x8, scaled by 1/16)", 64, 200, input_shape=(1, 1, 8, 8),
               architecture="digits_res_cnn quantized by PyTorch FX (fbgemm, per-channel int8 weights, uint8 activations), QDQ ONNX")


if __name__ == "__main__":
    main()
