"""Train a small CNN on scikit-learn's 8x8 digits with NumPy and cconv, forward and backward.

    pip install "cconv[examples]"      # scikit-learn, for its bundled digits (no download)
    python examples/train_digits.py [--epochs 30] [--threads N] [--seed 0]

The network, the layers of a CNN course:

    input 1 x 8 x 8 (one gray feature map)
    conv 3x3, 1 -> 16 filters, padding 1, + bias, ReLU      16 x 8 x 8
    max pool 2x2                                             16 x 4 x 4
    conv 3x3, 16 -> 32 filters, padding 1, + bias, ReLU     32 x 4 x 4
    global average pool                                      32 x 1 x 1
    linear 32 -> 10, softmax cross-entropy

Every convolution, pooling and their gradients go through cconv: conv2d (with the bias and the
ReLU fused), max_pool2d (with indices), adaptive_avg_pool2d; then conv2d_input, conv2d_weight,
max_pool2d_backward and adaptive_avg_pool2d_backward on the way back.  The linear layer and the
loss are a few lines of NumPy.  Plain SGD with momentum, mini-batches of 32, float32.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import cconv


def init_params(rng, dtype=np.float32):
    """He initialisation (the weights' scale keeps each layer's outputs O(1) through ReLUs)."""
    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
    return {
        "w1": he((16, 1, 3, 3), 9), "b1": np.zeros(16, dtype),
        "w2": he((32, 16, 3, 3), 16 * 9), "b2": np.zeros(32, dtype),
        "w3": he((32, 10), 32), "b3": np.zeros(10, dtype),
    }


def forward(params, x, threads=None):
    """Logits of a batch x (N, 1, 8, 8), and what the backward pass needs."""
    h1 = cconv.conv2d(x, params["w1"], params["b1"], padding=1, activation="relu",
                      threads=threads)
    p1, idx1 = cconv.max_pool2d(h1, 2, return_indices=True, threads=threads)
    h2 = cconv.conv2d(p1, params["w2"], params["b2"], padding=1, activation="relu",
                      threads=threads)
    g2 = cconv.adaptive_avg_pool2d(h2, 1, threads=threads)          # (N, 32, 1, 1)
    features = g2.reshape(len(x), -1)
    logits = features @ params["w3"] + params["b3"]
    return logits, (x, h1, p1, idx1, h2, features)


def loss_and_grad(logits, labels):
    """Mean softmax cross-entropy of the batch and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(probs[np.arange(n), labels] + 1e-12).mean()
    grad = probs
    grad[np.arange(n), labels] -= 1
    return float(loss), grad / n


def backward(params, cache, grad_logits, threads=None):
    """Gradients of every parameter, given d(loss)/d(logits)."""
    x, h1, p1, idx1, h2, features = cache
    grads = {"w3": features.T @ grad_logits, "b3": grad_logits.sum(axis=0)}
    grad_features = grad_logits @ params["w3"].T
    grad_g2 = grad_features.reshape(len(x), -1, 1, 1).astype(h2.dtype)
    grad_h2 = cconv.adaptive_avg_pool2d_backward(grad_g2, h2.shape, threads=threads)
    grad_h2 *= h2 > 0                                               # back through the ReLU
    grads["w2"] = cconv.conv2d_weight(p1, params["w2"].shape, grad_h2, padding=1,
                                      threads=threads)
    grads["b2"] = grad_h2.sum(axis=(0, 2, 3))
    grad_p1 = cconv.conv2d_input(p1.shape, params["w2"], grad_h2, padding=1, threads=threads)
    grad_h1 = cconv.max_pool2d_backward(grad_p1, idx1, h1.shape, threads=threads)
    grad_h1 *= h1 > 0
    grads["w1"] = cconv.conv2d_weight(x, params["w1"].shape, grad_h1, padding=1,
                                      threads=threads)
    grads["b1"] = grad_h1.sum(axis=(0, 2, 3))
    return grads


def load_digits(seed):
    """(train x, train y, test x, test y): 1437 / 360 images scaled to [0, 1], (N, 1, 8, 8)."""
    from sklearn.datasets import load_digits as sklearn_digits

    data = sklearn_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None]
    y = data.target
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))
    return x[:split], y[:split], x[split:], y[split:]


def accuracy(params, x, y, threads=None):
    logits, _ = forward(params, x, threads)
    return float((logits.argmax(axis=1) == y).mean())


def train(epochs=30, batch=32, lr=0.2, momentum=0.9, seed=0, threads=None, log=print):
    """Trains from scratch; returns (params, test accuracy, seconds)."""
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = load_digits(seed)
    params = init_params(rng)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        total = 0.0
        for i in range(0, len(order), batch):
            chosen = order[i:i + batch]
            logits, cache = forward(params, x_train[chosen], threads)
            loss, grad_logits = loss_and_grad(logits, y_train[chosen])
            total += loss * len(chosen)
            for name, grad in backward(params, cache, grad_logits, threads).items():
                velocity[name] = momentum * velocity[name] - lr * grad.astype(np.float32)
                params[name] += velocity[name]
        log(f"epoch {epoch:2d}: train loss {total / len(x_train):.4f}, "
            f"test accuracy {accuracy(params, x_test, y_test, threads):.2%}, "
            f"{time.perf_counter() - start:.1f} s")
    return params, accuracy(params, x_test, y_test, threads), time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    _, acc, seconds = train(args.epochs, seed=args.seed, threads=args.threads)
    print(f"test accuracy {acc:.2%} after {args.epochs} epochs in {seconds:.1f} s")


if __name__ == "__main__":
    main()
