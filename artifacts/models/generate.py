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
"""
import json
import os

import numpy as np
import torch
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 7


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


def rounded(rows, digits=6):
    return [[round(float(v), digits) for v in row] for row in rows]


def export(name, model, sizes, x_train, x_test, y_test, dataset, n_calibration, n_test):
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    model.eval()
    torch.onnx.export(
        model,
        torch.zeros(1, sizes[0]),
        os.path.join(out, "model.onnx"),
        input_names=["input"],
        output_names=["logits"],
        opset_version=13,
        do_constant_folding=True,
    )
    with open(os.path.join(out, "calibration.json"), "w") as f:
        json.dump({"inputs": rounded(x_train[:n_calibration])}, f)
    with open(os.path.join(out, "test.json"), "w") as f:
        json.dump({"inputs": rounded(x_test[:n_test]), "labels": [int(v) for v in y_test[:n_test]]}, f)
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
                "architecture": "MLP " + "-".join(str(s) for s in sizes) + " (ReLU)",
                "float_test_accuracy": accuracy(model, x_test, y_test),
                "test_samples": min(n_test, len(x_test)),
            },
            f,
            indent=2,
        )
    print(name, "float test accuracy", accuracy(model, x_test, y_test))


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


if __name__ == "__main__":
    main()
