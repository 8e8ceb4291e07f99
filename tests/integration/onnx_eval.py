"""onnx_eval.py — an evaluator of ONNX graphs in numpy, written from the operators'
definitions in the ONNX operator docs, for the export tests: it runs the model that
onnx (Debian's python3-onnx, 1.12, which has no reference evaluator of its own) has
loaded and checked, with no code of ganctl's in the way.

The operators a ganctl generator uses, at opset 13: Gemm, Flatten, Conv, ConvTranspose
(2D, no groups or dilations), BatchNormalization (inference), Relu, LeakyRelu, Tanh,
Sigmoid, Reshape. Computed in float64 from the float32 initializers. Not a test itself
(tests/run.sh runs tests/integration/test_*.py only)."""

import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        else:
            raise ValueError("attribute %s of type %d" % (a.name, a.type))
    return out


def _conv(x, w, b, strides, pads):
    """Conv: y[n,o,i,j] = b[o] + sum_{c,p,q} x_pad[n,c,i*s+p,j*s+q] w[o,c,p,q]."""
    n, c, h, wd = x.shape
    oc, _, k, _ = w.shape
    s = strides[0]
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - k) // s + 1
    ow = (wd + pads[1] + pads[3] - k) // s + 1
    y = np.zeros((n, oc, oh, ow))
    for p in range(k):
        for q in range(k):
            patch = xp[:, :, p:p + s * oh:s, q:q + s * ow:s]  # n, c, oh, ow
            y += np.einsum("ncij,oc->noij", patch, w[:, :, p, q])
    if b is not None:
        y += b[None, :, None, None]
    return y


def _conv_transpose(x, w, b, strides, pads):
    """ConvTranspose: every input pixel (i, j) adds x[n,c,i,j] w[c,o,p,q] at output
    (i*s + p - pad_top, j*s + q - pad_left); output side (H - 1) s - pads + K."""
    n, c, h, wd = x.shape
    _, oc, k, _ = w.shape
    s = strides[0]
    full_h, full_w = (h - 1) * s + k, (wd - 1) * s + k
    y = np.zeros((n, oc, full_h, full_w))
    for p in range(k):
        for q in range(k):
            y[:, :, p:p + s * (h - 1) + 1:s, q:q + s * (wd - 1) + 1:s] += np.einsum(
                "ncij,co->noij", x, w[:, :, p, q])
    y = y[:, :, pads[0]:full_h - pads[2], pads[1]:full_w - pads[3]]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def run(model, feeds):
    """The graph's outputs for feeds {input name: array}, as {name: float64 array}."""
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if t.data_type == 1 else numpy_helper.to_array(t)
           for t in model.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    for node in model.graph.node:
        a = _attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * A @ B
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op in ("Conv", "ConvTranspose"):
            assert a.get("group", 1) == 1 and a.get("dilations", [1, 1]) == [1, 1]
            assert not a.get("output_padding") and not a.get("output_shape")
            st = a.get("strides", [1, 1])
            assert st[0] == st[1]
            fn = _conv if op == "Conv" else _conv_transpose
            y = fn(x[0], x[1], x[2] if len(x) > 2 else None, st, a.get("pads", [0, 0, 0, 0]))
        elif op == "BatchNormalization":
            X, scale, bias, mean, var = x
            shape = (1, -1) + (1,) * (X.ndim - 2)
            y = ((X - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + a.get("epsilon", 1e-5))
                 * scale.reshape(shape) + bias.reshape(shape))
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "LeakyRelu":
            y = np.where(x[0] >= 0, x[0], a.get("alpha", 0.01) * x[0])
        elif op == "Tanh":
            y = np.tanh(x[0])
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-x[0]))
        elif op == "Reshape":
            shape = [int(d) for d in x[1]]
            shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
            y = x[0].reshape(shape)
        else:
            raise ValueError("operator %s is not evaluated here" % op)
        env[node.output[0]] = y
    return {o.name: env[o.name] for o in model.graph.output}
