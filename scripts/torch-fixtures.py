#!/usr/bin/env python3
"""PyTorch as webgrad's oracle: writes test/fixtures/torch/<group>.json.

    apt install python3-torch && python3 scripts/torch-fixtures.py

Debian's python3-torch (1.13) is enough; nothing else is downloaded. The run
is deterministic (fixed seeds, one thread), so regenerating gives the same
bytes. test/torch-fixtures.test.ts reads the fixtures and runs every case on
every backend npm test has; CI needs no torch.

A case says which webgrad call to make (a descriptor the TypeScript side
interprets), its inputs, the outputs PyTorch gives and the gradients of
L = Σ_k (out_k · w_k).sum() for fixed random w_k with respect to every float
input (and, for modules, every parameter). Floats are written exactly: base64
of little-endian float32 bytes ({"shape", "dtype", "b64"}); int32 values as a
JSON list ({"shape", "dtype": "int32", "data"}).

Descriptor arguments: {"$t": i} is input i, {"$tl": [i, j]} a list of inputs,
anything else is passed as it is (numbers, lists, option objects).
An input may carry "view": {"permute": [...]} or {"transpose": [a, b]}: the
stored data is the contiguous base tensor (the leaf), and both PyTorch and
webgrad are handed the permuted view of it; gradients are the leaf's.

Groups: ops, reductions, shape, nn (functional, losses, layers), optim,
schedules, special (every element-wise op, reduction, softmax and loss at
±0, ±inf, NaN, denormals, huge and tiny values). Cases for what PyTorch has and webgrad lacks are generated too,
under the camelCase names webgrad should give them; the test skips them until
the name exists (issue 15).

Last, the other direction: scripts/webgrad-state-dicts.mjs saves a few webgrad
modules as safetensors; they are loaded here into the matching torch modules
with strict=True and their outputs compared. A mismatch fails this script.
"""
import base64
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "torch")


# ---------------------------------------------------------------- encoding

def enc(t):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32, torch.bool):
        return {"shape": list(t.shape), "dtype": "int32", "data": [int(v) for v in t.reshape(-1).tolist()]}
    a = t.to(torch.float32).contiguous().numpy().astype("<f4")
    return {"shape": list(t.shape), "dtype": "float32", "b64": base64.b64encode(a.tobytes()).decode()}


def flat(o):
    """Tensors of a (nested) result, in order; None dropped."""
    if o is None:
        return []
    if isinstance(o, torch.Tensor):
        return [o]
    out = []
    for x in o:
        out += flat(x)
    return out


_seed = [1000]


def gen(shape, kind="randn", lo=-1.0, hi=1.0, seed=None):
    if seed is None:
        _seed[0] += 1
        seed = _seed[0]
    g = torch.Generator().manual_seed(seed)
    if kind == "randn":
        return torch.randn(shape, generator=g)
    if kind == "rand":
        return lo + (hi - lo) * torch.rand(shape, generator=g)
    if kind == "pos":
        return 0.2 + 1.8 * torch.rand(shape, generator=g)
    if kind == "ties":  # few distinct values: ties everywhere
        return torch.randint(-2, 3, shape, generator=g).to(torch.float32) * 0.5
    if kind == "int":
        return torch.randint(int(lo), int(hi), shape, generator=g)
    if kind == "mask":
        return torch.randint(0, 2, shape, generator=g)
    raise ValueError(kind)


class In:
    """A case input: float (differentiated unless grad=False) or int32."""

    def __init__(self, shape, kind="randn", lo=-1.0, hi=1.0, view=None, grad=True, value=None):
        self.base = value if value is not None else gen(shape, kind, lo, hi)
        self.int = self.base.dtype in (torch.int64, torch.int32, torch.bool)
        self.grad = grad and not self.int
        self.view = view

    def leaf(self):
        if self.int:
            return self.base.clone().long()
        return self.base.clone().requires_grad_(self.grad)

    def viewed(self, leaf):
        if not self.view:
            return leaf
        if "permute" in self.view:
            return leaf.permute(*self.view["permute"])
        return leaf.transpose(*self.view["transpose"])

    def desc(self):
        d = enc(self.base)
        if self.view:
            d["view"] = self.view
        if self.grad:
            d["grad"] = True
        return d


GROUPS = {}


def add_case(group, c):
    GROUPS.setdefault(group, [])
    names = {x["name"] for x in GROUPS[group]}
    assert c["name"] not in names, c["name"]
    GROUPS[group].append(c)


def weights_for(outs):
    ws = []
    for o in outs:
        if o.dtype.is_floating_point:
            ws.append(gen(tuple(o.shape)))
        else:
            ws.append(None)
    return ws


def loss_of(outs, ws):
    total = None
    for o, w in zip(outs, ws):
        if w is None or not o.requires_grad:
            continue
        term = (o * w).sum()
        total = term if total is None else total + term
    return total


def fn_case(group, name, call, torch_fn, inputs, tol=None, note=None, grads=True):
    """call: {"fn": "add", "args": [...]} (a wg.* path) or {"method": "sum", "args": [...]} (on args[0])."""
    leaves = [i.leaf() for i in inputs]
    xs = [i.viewed(l) for i, l in zip(inputs, leaves)]
    res = torch_fn(*xs)
    outs = flat(res)
    ws = weights_for(outs)
    c = {"name": name, "kind": "fn", **call, "inputs": [i.desc() for i in inputs],
         "outputs": [enc(o) for o in outs], "w": [enc(w) if w is not None else None for w in ws]}
    L = loss_of(outs, ws) if grads else None
    if L is not None:
        L.backward()
        c["grads"] = [enc(l.grad) if (i.grad and l.grad is not None) else None for i, l in zip(inputs, leaves)]
    if tol:
        c["tol"] = tol
    if note:
        c["note"] = note
    add_case(group, c)


T = lambda i: {"$t": i}  # noqa: E731
TL = lambda *i: {"$tl": list(i)}  # noqa: E731


# ---------------------------------------------------------------- ops

def ops_cases():
    G = "ops"
    unary = {
        "neg": (torch.neg, "randn"), "exp": (torch.exp, "randn"), "log": (torch.log, "pos"), "sqrt": (torch.sqrt, "pos"),
        "rsqrt": (torch.rsqrt, "pos"), "abs": (torch.abs, "randn"), "square": (torch.square, "randn"),
        "reciprocal": (torch.reciprocal, "pos"), "relu": (torch.relu, "randn"), "sigmoid": (torch.sigmoid, "randn"),
        "tanh": (torch.tanh, "randn"), "gelu": (F.gelu, "randn"), "silu": (F.silu, "randn"),
        "hardswish": (F.hardswish, "randn"), "sin": (torch.sin, "randn"), "cos": (torch.cos, "randn"), "sign": (torch.sign, "randn"),
        # PyTorch has these, webgrad does not yet (issue 15)
        "floor": (torch.floor, "randn"), "ceil": (torch.ceil, "randn"), "round": (torch.round, "randn"),
    }
    for op, (f, kind) in unary.items():
        fn_case(G, f"{op} [7,17]", {"fn": op, "args": [T(0)]}, f, [In((7, 17), kind)])
        fn_case(G, f"{op} 0-d", {"fn": op, "args": [T(0)]}, f, [In((), kind)])
        fn_case(G, f"{op} [5,3] transposed view", {"fn": op, "args": [T(0)]}, f, [In((5, 3), kind, view={"transpose": [0, 1]})])
    fn_case(G, "gelu tanh [65]", {"fn": "gelu", "args": [T(0), "tanh"]}, lambda x: F.gelu(x, approximate="tanh"), [In((65,))])
    fn_case(G, "gelu [3,5,7] permuted view", {"fn": "gelu", "args": [T(0)]}, F.gelu, [In((7, 3, 5), view={"permute": [1, 2, 0]})])
    fn_case(G, "leakyRelu slope 0.1 [5,7]", {"fn": "nn.functional.leakyRelu", "args": [T(0), 0.1]}, lambda x: F.leaky_relu(x, 0.1), [In((5, 7))])

    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "maximum": torch.maximum, "minimum": torch.minimum}
    shapes = [((7, 17), (7, 17)), ((5, 1, 7), (3, 1)), ((1,), (33,)), ((), (3, 5)), ((17, 1), (1, 65))]
    for op, f in binary.items():
        for sa, sb in shapes:
            kb = "pos" if op == "div" else "randn"
            fn_case(G, f"{op} {list(sa)} {list(sb)}", {"fn": op, "args": [T(0), T(1)]}, f, [In(sa), In(sb, kb)])
        fn_case(G, f"{op} views [5,3]ᵀ [3,5]", {"fn": op, "args": [T(0), T(1)]}, f,
                [In((5, 3), view={"transpose": [0, 1]}), In((3, 5), "pos" if op == "div" else "randn")])
        fn_case(G, f"{op} tensor, scalar 2.5", {"fn": op, "args": [T(0), 2.5]}, lambda x, f=f: f(x, torch.tensor(2.5)), [In((3, 7))])
        fn_case(G, f"{op} scalar 1.5, tensor", {"fn": op, "args": [1.5, T(0)]}, lambda x, f=f: f(torch.tensor(1.5), x),
                [In((7,), "pos" if op == "div" else "randn")])
    for op in ("maximum", "minimum"):
        # equal elements: PyTorch splits the gradient half and half
        fn_case(G, f"{op} ties [5,7]", {"fn": op, "args": [T(0), T(1)]}, binary[op], [In((5, 7), "ties"), In((5, 7), "ties")])
    fn_case(G, "pow tensor^3", {"fn": "pow", "args": [T(0), 3]}, lambda x: torch.pow(x, 3), [In((5, 7))])
    fn_case(G, "pow tensor^0.5", {"fn": "pow", "args": [T(0), 0.5]}, lambda x: torch.pow(x, 0.5), [In((17,), "pos")])
    fn_case(G, "pow tensor^tensor broadcast", {"fn": "pow", "args": [T(0), T(1)]}, torch.pow, [In((3, 5), "pos"), In((5,), "rand", -2, 2)])
    fn_case(G, "pow 2^tensor", {"fn": "pow", "args": [2, T(0)]}, lambda x: torch.pow(2, x), [In((7,))])
    for op, f in {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge}.items():
        fn_case(G, f"{op} ties [5,7] [7]", {"fn": op, "args": [T(0), T(1)]}, f, [In((5, 7), "ties"), In((7,), "ties")])
        fn_case(G, f"{op} tensor, scalar 0", {"fn": op, "args": [T(0), 0]}, lambda x, f=f: f(x, 0), [In((3, 5), "ties")])
    fn_case(G, "where [5,7]", {"fn": "where", "args": [T(0), T(1), T(2)]}, lambda c, a, b: torch.where(c.bool(), a, b),
            [In((5, 7), "mask"), In((5, 7)), In((5, 7))])
    fn_case(G, "where broadcast [5,1] [1,7] []", {"fn": "where", "args": [T(0), T(1), T(2)]}, lambda c, a, b: torch.where(c.bool(), a, b),
            [In((5, 1), "mask"), In((1, 7)), In(())])
    fn_case(G, "clamp [7,17] -0.5..0.7", {"fn": "clamp", "args": [T(0), -0.5, 0.7]}, lambda x: torch.clamp(x, -0.5, 0.7), [In((7, 17))])
    fn_case(G, "clamp 0-d", {"fn": "clamp", "args": [T(0), -0.5, 0.7]}, lambda x: torch.clamp(x, -0.5, 0.7), [In(())])
    # creation
    fn_case(G, "full [3,5] 2.5", {"fn": "full", "args": [[3, 5], 2.5]}, lambda: torch.full((3, 5), 2.5), [])
    fn_case(G, "zeros [7]", {"fn": "zeros", "args": [[7]]}, lambda: torch.zeros(7), [])
    fn_case(G, "ones [1,3]", {"fn": "ones", "args": [[1, 3]]}, lambda: torch.ones(1, 3), [])
    fn_case(G, "zerosLike [3,5]", {"fn": "zerosLike", "args": [T(0)]}, torch.zeros_like, [In((3, 5), grad=False)])
    fn_case(G, "onesLike [3,5]", {"fn": "onesLike", "args": [T(0)]}, torch.ones_like, [In((3, 5), grad=False)])
    fn_case(G, "arange 7", {"fn": "arange", "args": [7]}, lambda: torch.arange(7), [])
    fn_case(G, "arange 1..17 step 3", {"fn": "arange", "args": [1, 17, 3]}, lambda: torch.arange(1, 17, 3), [])
    fn_case(G, "arange 0..1 step 0.25", {"fn": "arange", "args": [0, 1, 0.25]}, lambda: torch.arange(0, 1, 0.25), [])
    fn_case(G, "eye 5", {"fn": "eye", "args": [5]}, lambda: torch.eye(5), [])
    # linear algebra
    mm = [((33, 17), (17, 65)), ((1, 7), (7, 1)), ((7,), (7, 5)), ((5, 7), (7,)), ((17,), (17,)),
          ((3, 5, 7), (7, 17)), ((3, 5, 7), (3, 7, 5)), ((5, 7), (3, 7, 5)),
          ((3, 1, 5, 7), (1, 5, 7, 3)), ((2, 3, 5, 7), (7, 1))]
    for sa, sb in mm:
        fn_case(G, f"matmul {list(sa)} {list(sb)}", {"fn": "matmul", "args": [T(0), T(1)]}, torch.matmul, [In(sa), In(sb)])
    fn_case(G, "matmul views [17,33]ᵀ [65,17]ᵀ", {"fn": "matmul", "args": [T(0), T(1)]}, torch.matmul,
            [In((17, 33), view={"transpose": [0, 1]}), In((65, 17), view={"transpose": [0, 1]})])
    fn_case(G, "linear [5,7] w[3,7] b[3]", {"fn": "linear", "args": [T(0), T(1), T(2)]}, F.linear, [In((5, 7)), In((3, 7)), In((3,))])
    fn_case(G, "linear [2,3,17] no bias", {"fn": "linear", "args": [T(0), T(1)]}, F.linear, [In((2, 3, 17)), In((5, 17))])
    fn_case(G, "linear [7] w[5,7] b[5]", {"fn": "linear", "args": [T(0), T(1), T(2)]}, F.linear, [In((7,)), In((5, 7)), In((5,))])
    fn_case(G, "einsum ij,jk->ik", {"fn": "einsum", "args": ["ij,jk->ik", T(0), T(1)]}, lambda a, b: torch.einsum("ij,jk->ik", a, b), [In((3, 5)), In((5, 7))])
    fn_case(G, "einsum bij,bjk->bik", {"fn": "einsum", "args": ["bij,bjk->bik", T(0), T(1)]}, lambda a, b: torch.einsum("bij,bjk->bik", a, b), [In((2, 3, 5)), In((2, 5, 7))])
    fn_case(G, "einsum ii->i (diagonal)", {"fn": "einsum", "args": ["ii->i", T(0)]}, lambda a: torch.einsum("ii->i", a), [In((5, 5))])
    fn_case(G, "cumsum dim 1 [3,17]", {"fn": "cumsum", "args": [T(0), 1]}, lambda x: torch.cumsum(x, 1), [In((3, 17))])
    fn_case(G, "cumsum dim 0 [5,3]", {"fn": "cumsum", "args": [T(0), 0]}, lambda x: torch.cumsum(x, 0), [In((5, 3))])
    fn_case(G, "tril [5,7]", {"fn": "tril", "args": [T(0)]}, torch.tril, [In((5, 7))])
    fn_case(G, "tril k=-1 [2,5,5]", {"fn": "tril", "args": [T(0), -1]}, lambda x: torch.tril(x, -1), [In((2, 5, 5))])
    fn_case(G, "triu [5,7]", {"fn": "triu", "args": [T(0)]}, torch.triu, [In((5, 7))])
    fn_case(G, "triu k=1 [7,5]", {"fn": "triu", "args": [T(0), 1]}, lambda x: torch.triu(x, 1), [In((7, 5))])
    fn_case(G, "maskedFill [5,7] mask[7]", {"fn": "maskedFill", "args": [T(0), T(1), -3.5]},
            lambda x, m: x.masked_fill(m.bool(), -3.5), [In((5, 7)), In((7,), "mask")])


# ---------------------------------------------------------------- reductions

def reduction_cases():
    G = "reductions"
    for op in ("sum", "mean"):
        f = getattr(torch, op)
        fn_case(G, f"{op} all [7,17]", {"fn": op, "args": [T(0)]}, f, [In((7, 17))])
        fn_case(G, f"{op} all 0-d", {"fn": op, "args": [T(0)]}, f, [In(())])
        fn_case(G, f"{op} dim 1 [5,7,3]", {"fn": op, "args": [T(0), 1]}, lambda x, f=f: f(x, 1), [In((5, 7, 3))])
        fn_case(G, f"{op} dim -1 keepdim [5,65]", {"fn": op, "args": [T(0), -1, True]}, lambda x, f=f: f(x, -1, keepdim=True), [In((5, 65))])
        fn_case(G, f"{op} dims [0,2] [3,5,7]", {"fn": op, "args": [T(0), [0, 2]]}, lambda x, f=f: f(x, (0, 2)), [In((3, 5, 7))])
        fn_case(G, f"{op} dims [0,2] keepdim [3,5,7]", {"fn": op, "args": [T(0), [0, 2], True]}, lambda x, f=f: f(x, (0, 2), keepdim=True), [In((3, 5, 7))])
        fn_case(G, f"{op} dim 0 of a permuted view", {"fn": op, "args": [T(0), 0]}, lambda x, f=f: f(x, 0), [In((5, 7, 3), view={"permute": [2, 0, 1]})])
        fn_case(G, f"{op} [1033] (long row)", {"fn": op, "args": [T(0)]}, f, [In((1033,))], tol={"rtol": 1e-4, "atol": 1e-4})
    for op in ("max", "min"):
        f = getattr(torch, op)
        fn_case(G, f"{op} all [7,17]", {"fn": op, "args": [T(0)]}, f, [In((7, 17))])
        fn_case(G, f"{op} dim 1 [5,7,3]", {"fn": op, "args": [T(0), 1]}, lambda x, f=f: f(x, 1).values, [In((5, 7, 3))])
        fn_case(G, f"{op} dim 0 keepdim [17,5]", {"fn": op, "args": [T(0), 0, True]}, lambda x, f=f: f(x, 0, keepdim=True).values, [In((17, 5))])
        fn_case(G, f"{op} dim -1 transposed view", {"fn": op, "args": [T(0), -1]}, lambda x, f=f: f(x, -1).values, [In((7, 5), view={"transpose": [0, 1]})])
        # ties: torch's full reduction spreads the gradient evenly over the tied maxima;
        # the per-dim form sends it to the index it returns
        fn_case(G, f"{op} all ties [5,7]", {"fn": op, "args": [T(0)]}, f, [In((5, 7), "ties")])
        fn_case(G, f"{op} dim 1 ties [5,7]", {"fn": op, "args": [T(0), 1]}, lambda x, f=f: f(x, 1).values, [In((5, 7), "ties")])
    for op in ("argmax", "argmin"):
        f = getattr(torch, op)
        fn_case(G, f"{op} dim 1 [5,17]", {"fn": op, "args": [T(0), 1]}, lambda x, f=f: f(x, 1), [In((5, 17), grad=False)])
        fn_case(G, f"{op} dim 0 keepdim [7,3]", {"fn": op, "args": [T(0), 0, True]}, lambda x, f=f: f(x, 0, keepdim=True), [In((7, 3), grad=False)])
        fn_case(G, f"{op} dim -1 [3,5,7]", {"fn": op, "args": [T(0), -1]}, lambda x, f=f: f(x, -1), [In((3, 5, 7), grad=False)])
    fn_case(G, "softmax dim -1 [7,17]", {"fn": "softmax", "args": [T(0), -1]}, lambda x: F.softmax(x, -1), [In((7, 17))])
    fn_case(G, "softmax dim 1 [3,5,7]", {"fn": "softmax", "args": [T(0), 1]}, lambda x: F.softmax(x, 1), [In((3, 5, 7))])
    fn_case(G, "softmax dim 0 [65]", {"fn": "softmax", "args": [T(0), 0]}, lambda x: F.softmax(x, 0), [In((65,))])
    fn_case(G, "softmax transposed view", {"fn": "softmax", "args": [T(0), -1]}, lambda x: F.softmax(x, -1), [In((5, 3), view={"transpose": [0, 1]})])
    fn_case(G, "logSoftmax dim -1 [7,17]", {"fn": "logSoftmax", "args": [T(0), -1]}, lambda x: F.log_softmax(x, -1), [In((7, 17))])
    fn_case(G, "logSoftmax dim 0 [5,3]", {"fn": "logSoftmax", "args": [T(0), 0]}, lambda x: F.log_softmax(x, 0), [In((5, 3))])
    fn_case(G, "logSoftmax dim 1 [2,33,3]", {"fn": "logSoftmax", "args": [T(0), 1]}, lambda x: F.log_softmax(x, 1), [In((2, 33, 3))])
    # missing in webgrad (issue 15)
    fn_case(G, "logsumexp dim 1 [5,7]", {"fn": "logsumexp", "args": [T(0), 1]}, lambda x: torch.logsumexp(x, 1), [In((5, 7))])
    fn_case(G, "logsumexp dim -1 keepdim [3,17]", {"fn": "logsumexp", "args": [T(0), -1, True]}, lambda x: torch.logsumexp(x, -1, keepdim=True), [In((3, 17))])
    fn_case(G, "std dim 1 [5,7]", {"fn": "std", "args": [T(0), 1]}, lambda x: torch.std(x, 1), [In((5, 7))])
    fn_case(G, "std all [3,17]", {"fn": "std", "args": [T(0)]}, torch.std, [In((3, 17))])
    fn_case(G, "var dim 0 keepdim [7,5]", {"fn": "var", "args": [T(0), 0, {"keepdim": True}]}, lambda x: torch.var(x, 0, keepdim=True), [In((7, 5))])
    fn_case(G, "var all [33]", {"fn": "var", "args": [T(0)]}, torch.var, [In((33,))])
    fn_case(G, "topk k=3 dim -1 [5,17]", {"fn": "topk", "args": [T(0), 3, -1]}, lambda x: torch.topk(x, 3, -1), [In((5, 17))])
    fn_case(G, "sort dim -1 [5,7]", {"fn": "sort", "args": [T(0), -1]}, lambda x: torch.sort(x, -1), [In((5, 7))])
    fn_case(G, "sort dim 0 descending [7,3]", {"fn": "sort", "args": [T(0), 0, True]}, lambda x: torch.sort(x, 0, descending=True), [In((7, 3))])
    fn_case(G, "argsort dim -1 [5,7]", {"fn": "argsort", "args": [T(0), -1]}, lambda x: torch.argsort(x, -1), [In((5, 7), grad=False)])


# ---------------------------------------------------------------- shape

def shape_cases():
    G = "shape"
    fn_case(G, "reshape [3,5,7]→[15,7]", {"fn": "reshape", "args": [T(0), [15, 7]]}, lambda x: x.reshape(15, 7), [In((3, 5, 7))])
    fn_case(G, "reshape -1 [5,7]→[-1]", {"fn": "reshape", "args": [T(0), [-1]]}, lambda x: x.reshape(-1), [In((5, 7))])
    fn_case(G, "reshape a transposed view", {"fn": "reshape", "args": [T(0), [3, 5]]}, lambda x: x.reshape(3, 5), [In((5, 3), view={"transpose": [0, 1]})])
    fn_case(G, "reshape 0-d→[1,1]", {"fn": "reshape", "args": [T(0), [1, 1]]}, lambda x: x.reshape(1, 1), [In(())])
    fn_case(G, "flatten [3,5,7]", {"fn": "flatten", "args": [T(0)]}, torch.flatten, [In((3, 5, 7))])
    fn_case(G, "flatten 1..2 [2,3,5,7]", {"fn": "flatten", "args": [T(0), 1, 2]}, lambda x: torch.flatten(x, 1, 2), [In((2, 3, 5, 7))])
    fn_case(G, "unsqueeze 1 [5,7]", {"fn": "unsqueeze", "args": [T(0), 1]}, lambda x: x.unsqueeze(1), [In((5, 7))])
    fn_case(G, "unsqueeze -1 [5,7]", {"fn": "unsqueeze", "args": [T(0), -1]}, lambda x: x.unsqueeze(-1), [In((5, 7))])
    fn_case(G, "unsqueeze 0-d", {"fn": "unsqueeze", "args": [T(0), 0]}, lambda x: x.unsqueeze(0), [In(())])
    fn_case(G, "squeeze all [1,5,1,7]", {"fn": "squeeze", "args": [T(0)]}, torch.squeeze, [In((1, 5, 1, 7))])
    fn_case(G, "squeeze 2 [1,5,1,7]", {"fn": "squeeze", "args": [T(0), 2]}, lambda x: x.squeeze(2), [In((1, 5, 1, 7))])
    fn_case(G, "permute [3,5,7]→[2,0,1]", {"fn": "permute", "args": [T(0), [2, 0, 1]]}, lambda x: x.permute(2, 0, 1), [In((3, 5, 7))])
    fn_case(G, "permute [2,3,5,7]→[0,2,1,3]", {"fn": "permute", "args": [T(0), [0, 2, 1, 3]]}, lambda x: x.permute(0, 2, 1, 3), [In((2, 3, 5, 7))])
    fn_case(G, "transpose [5,17]", {"fn": "transpose", "args": [T(0), 0, 1]}, lambda x: x.transpose(0, 1), [In((5, 17))])
    fn_case(G, "transpose 0,2 [3,5,7]", {"fn": "transpose", "args": [T(0), 0, 2]}, lambda x: x.transpose(0, 2), [In((3, 5, 7))])
    fn_case(G, "slice dim 1 2..5 [3,7]", {"fn": "slice", "args": [T(0), 1, 2, 5]}, lambda x: x[:, 2:5], [In((3, 7))])
    fn_case(G, "slice dim 0 from 3 [17,3]", {"fn": "slice", "args": [T(0), 0, 3]}, lambda x: x[3:], [In((17, 3))])
    fn_case(G, "slice dim -1 of a permuted view", {"fn": "slice", "args": [T(0), -1, 1, 4]}, lambda x: x[..., 1:4], [In((5, 3, 7), view={"permute": [1, 2, 0]})])
    fn_case(G, "cat dim 0 [3,5] [1,5] [7,5]", {"fn": "cat", "args": [TL(0, 1, 2), 0]}, lambda a, b, c: torch.cat([a, b, c], 0), [In((3, 5)), In((1, 5)), In((7, 5))])
    fn_case(G, "cat dim 1 [3,5] [3,1]", {"fn": "cat", "args": [TL(0, 1), 1]}, lambda a, b: torch.cat([a, b], 1), [In((3, 5)), In((3, 1))])
    fn_case(G, "cat dim -1 with a view", {"fn": "cat", "args": [TL(0, 1), -1]}, lambda a, b: torch.cat([a, b], -1), [In((5, 3), view={"transpose": [0, 1]}), In((3, 7))])
    fn_case(G, "stack dim 0 3×[5,7]", {"fn": "stack", "args": [TL(0, 1, 2), 0]}, lambda a, b, c: torch.stack([a, b, c], 0), [In((5, 7)), In((5, 7)), In((5, 7))])
    fn_case(G, "stack dim 1 2×[3]", {"fn": "stack", "args": [TL(0, 1), 1]}, lambda a, b: torch.stack([a, b], 1), [In((3,)), In((3,))])
    fn_case(G, "stack dim -1 2×0-d", {"fn": "stack", "args": [TL(0, 1), 0]}, lambda a, b: torch.stack([a, b], 0), [In(()), In(())])
    fn_case(G, "expand [5,1]→[5,7]", {"fn": "expand", "args": [T(0), [5, 7]]}, lambda x: x.expand(5, 7), [In((5, 1))])
    fn_case(G, "expand [3]→[2,5,3]", {"fn": "expand", "args": [T(0), [2, 5, 3]]}, lambda x: x.expand(2, 5, 3), [In((3,))])
    fn_case(G, "clone [5,7]", {"fn": "clone", "args": [T(0)]}, torch.clone, [In((5, 7))])
    # missing in webgrad (issue 15)
    fn_case(G, "gather dim 1 [3,5]", {"fn": "gather", "args": [T(0), 1, T(1)]}, lambda x, i: torch.gather(x, 1, i), [In((3, 5)), In((3, 7), "int", 0, 5)])
    fn_case(G, "gather dim 0 [5,3]", {"fn": "gather", "args": [T(0), 0, T(1)]}, lambda x, i: torch.gather(x, 0, i), [In((5, 3)), In((2, 3), "int", 0, 5)])
    fn_case(G, "scatter dim 1 [3,5]", {"fn": "scatter", "args": [T(0), 1, T(1), T(2)]}, lambda x, i, s: torch.scatter(x, 1, i, s),
            [In((3, 5)), In((3, 2), value=torch.tensor([[0, 3], [1, 4], [2, 0]])), In((3, 2))])
    fn_case(G, "indexSelect dim 0 [7,3]", {"fn": "indexSelect", "args": [T(0), 0, T(1)]}, lambda x, i: torch.index_select(x, 0, i), [In((7, 3)), In((5,), value=torch.tensor([6, 0, 3, 3, 1]))])
    fn_case(G, "indexSelect dim 1 [3,7]", {"fn": "indexSelect", "args": [T(0), 1, T(1)]}, lambda x, i: torch.index_select(x, 1, i), [In((3, 7)), In((2,), value=torch.tensor([5, 2]))])
    fn_case(G, "split size 2 dim 1 [3,7]", {"fn": "split", "args": [T(0), 2, 1]}, lambda x: torch.split(x, 2, 1), [In((3, 7))])
    fn_case(G, "split sizes [1,4] dim 0 [5,3]", {"fn": "split", "args": [T(0), [1, 4], 0]}, lambda x: torch.split(x, [1, 4], 0), [In((5, 3))])
    fn_case(G, "chunk 3 dim 0 [7,3]", {"fn": "chunk", "args": [T(0), 3, 0]}, lambda x: torch.chunk(x, 3, 0), [In((7, 3))])
    fn_case(G, "repeat [2,1,3] of [5,7]", {"fn": "repeat", "args": [T(0), [2, 1, 3]]}, lambda x: x.repeat(2, 1, 3), [In((5, 7))])
    fn_case(G, "tile [2,3] of [3,5]", {"fn": "tile", "args": [T(0), [2, 3]]}, lambda x: torch.tile(x, (2, 3)), [In((3, 5))])
    fn_case(G, "pad [1,2] [3,5]", {"fn": "nn.functional.pad", "args": [T(0), [1, 2]]}, lambda x: F.pad(x, (1, 2)), [In((3, 5))])
    fn_case(G, "pad [1,0,2,1] value 0.5 [2,3,5]", {"fn": "nn.functional.pad", "args": [T(0), [1, 0, 2, 1], {"value": 0.5}]},
            lambda x: F.pad(x, (1, 0, 2, 1), value=0.5), [In((2, 3, 5))])
    fn_case(G, "oneHot 5 classes", {"fn": "nn.functional.oneHot", "args": [T(0), 5]}, lambda i: F.one_hot(i, 5), [In((7,), "int", 0, 5)])


# ---------------------------------------------------------------- nn functional and losses

def nn_cases():
    G = "nn"
    fn_case(G, "conv2d [2,3,7,9] w[5,3,3,3] b", {"fn": "conv2d", "args": [T(0), T(1), T(2)]}, F.conv2d, [In((2, 3, 7, 9)), In((5, 3, 3, 3)), In((5,))])
    fn_case(G, "conv2d stride 2 padding 1", {"fn": "conv2d", "args": [T(0), T(1), T(2), {"stride": 2, "padding": 1}]},
            lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [In((1, 3, 9, 7)), In((5, 3, 3, 3)), In((5,))])
    fn_case(G, "conv2d dilation 2, [2,1] stride, no bias", {"fn": "conv2d", "args": [T(0), T(1), None, {"stride": [2, 1], "dilation": 2}]},
            lambda x, w: F.conv2d(x, w, None, stride=(2, 1), dilation=2), [In((2, 2, 9, 9)), In((3, 2, 3, 3))])
    fn_case(G, "conv2d 1×5 kernel, padding [0,2]", {"fn": "conv2d", "args": [T(0), T(1), T(2), {"padding": [0, 2]}]},
            lambda x, w, b: F.conv2d(x, w, b, padding=(0, 2)), [In((1, 1, 5, 7)), In((3, 1, 1, 5)), In((3,))])
    fn_case(G, "conv2d input as a permuted view", {"fn": "conv2d", "args": [T(0), T(1), T(2)]}, F.conv2d,
            [In((2, 5, 7, 3), view={"permute": [0, 3, 1, 2]}), In((4, 3, 3, 3)), In((4,))])
    fn_case(G, "conv2d groups 2", {"fn": "conv2d", "args": [T(0), T(1), T(2), {"groups": 2}]}, lambda x, w, b: F.conv2d(x, w, b, groups=2),
            [In((1, 4, 5, 7)), In((6, 2, 3, 3)), In((6,))])
    fn_case(G, "maxPool2d 2 [2,3,7,9]", {"fn": "maxPool2d", "args": [T(0), 2]}, lambda x: F.max_pool2d(x, 2), [In((2, 3, 7, 9))])
    fn_case(G, "maxPool2d 3 stride 2 padding 1", {"fn": "maxPool2d", "args": [T(0), 3, {"stride": 2, "padding": 1}]},
            lambda x: F.max_pool2d(x, 3, 2, 1), [In((1, 2, 9, 7))])
    fn_case(G, "maxPool2d [2,3] stride [1,2]", {"fn": "maxPool2d", "args": [T(0), [2, 3], {"stride": [1, 2]}]},
            lambda x: F.max_pool2d(x, (2, 3), (1, 2)), [In((1, 1, 5, 7))])
    fn_case(G, "maxPool2d ceilMode", {"fn": "maxPool2d", "args": [T(0), 2, {"ceilMode": True}]}, lambda x: F.max_pool2d(x, 2, ceil_mode=True), [In((1, 2, 5, 7))])
    fn_case(G, "avgPool2d 2 [2,3,7,9]", {"fn": "avgPool2d", "args": [T(0), 2]}, lambda x: F.avg_pool2d(x, 2), [In((2, 3, 7, 9))])
    fn_case(G, "avgPool2d 3 stride 2 padding 1", {"fn": "avgPool2d", "args": [T(0), 3, {"stride": 2, "padding": 1}]},
            lambda x: F.avg_pool2d(x, 3, 2, 1), [In((1, 2, 9, 7))])
    fn_case(G, "avgPool2d padding 1 countIncludePad false", {"fn": "avgPool2d", "args": [T(0), 3, {"stride": 2, "padding": 1, "countIncludePad": False}]},
            lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [In((1, 2, 9, 7))])
    fn_case(G, "avgPool2d ceilMode", {"fn": "avgPool2d", "args": [T(0), 2, {"ceilMode": True}]}, lambda x: F.avg_pool2d(x, 2, ceil_mode=True), [In((1, 2, 5, 7))])
    fn_case(G, "layerNorm [5,17] affine", {"fn": "layerNorm", "args": [T(0), [17], T(1), T(2)]}, lambda x, w, b: F.layer_norm(x, (17,), w, b),
            [In((5, 17)), In((17,)), In((17,))])
    fn_case(G, "layerNorm [2,3,5,7] over [5,7]", {"fn": "layerNorm", "args": [T(0), [5, 7], T(1), T(2)]}, lambda x, w, b: F.layer_norm(x, (5, 7), w, b),
            [In((2, 3, 5, 7)), In((5, 7)), In((5, 7))])
    fn_case(G, "layerNorm no affine eps 1e-3", {"fn": "layerNorm", "args": [T(0), [33], None, None, 1e-3]}, lambda x: F.layer_norm(x, (33,), eps=1e-3),
            [In((3, 33))])
    fn_case(G, "embedding [3,5] of [7,4]", {"fn": "embedding", "args": [T(0), T(1)]}, F.embedding, [In((3, 5), "int", 0, 7), In((7, 4))])
    fn_case(G, "embedding repeated indices", {"fn": "embedding", "args": [T(0), T(1)]}, F.embedding, [In((6,), value=torch.tensor([1, 1, 0, 4, 1, 0])), In((5, 3))])
    for causal in (False, True):
        fn_case(G, f"scaledDotProductAttention [2,3,5,7]{' causal' if causal else ''}",
                {"fn": "scaledDotProductAttention", "args": [T(0), T(1), T(2), {"causal": causal}]},
                lambda q, k, v, c=causal: F.scaled_dot_product_attention(q, k, v, is_causal=c) if hasattr(F, "scaled_dot_product_attention")
                else _sdpa(q, k, v, c), [In((2, 3, 5, 7)), In((2, 3, 5, 7)), In((2, 3, 5, 7))])
    fn_case(G, "scaledDotProductAttention Sq 3 Sk 5 causal (bottom-right), scale 0.3",
            {"fn": "scaledDotProductAttention", "args": [T(0), T(1), T(2), {"causal": True, "scale": 0.3}]},
            lambda q, k, v: _sdpa(q, k, v, True, 0.3), [In((1, 2, 3, 4)), In((1, 2, 5, 4)), In((1, 2, 5, 4))],
            note="causal with Sq < Sk aligned bottom-right (webgrad's documented choice, a KV cache's)")
    fn_case(G, "dropout p=0", {"fn": "dropout", "args": [T(0), 0]}, lambda x: F.dropout(x, 0.0), [In((5, 7))])
    fn_case(G, "dropout not training", {"fn": "dropout", "args": [T(0), 0.5, False]}, lambda x: F.dropout(x, 0.5, training=False), [In((5, 7))])

    # losses
    NF = "nn.functional."
    for red in ("mean", "sum", "none"):
        fn_case(G, f"crossEntropy {red} [7,5]", {"fn": NF + "crossEntropy", "args": [T(0), T(1), {"reduction": red}]},
                lambda x, y, r=red: F.cross_entropy(x, y, reduction=r), [In((7, 5)), In((7,), "int", 0, 5)])
        fn_case(G, f"nllLoss {red} [7,5]", {"fn": NF + "nllLoss", "args": [T(0), T(1), {"reduction": red}]},
                lambda x, y, r=red: F.nll_loss(x, y, reduction=r), [In((7, 5)), In((7,), "int", 0, 5)])
        fn_case(G, f"mseLoss {red} [5,7]", {"fn": NF + "mseLoss", "args": [T(0), T(1), {"reduction": red}]},
                lambda x, y, r=red: F.mse_loss(x, y, reduction=r), [In((5, 7)), In((5, 7))])
        fn_case(G, f"binaryCrossEntropy {red} [17]", {"fn": NF + "binaryCrossEntropy", "args": [T(0), T(1), {"reduction": red}]},
                lambda x, y, r=red: F.binary_cross_entropy(x, y, reduction=r), [In((17,), "rand", 0.02, 0.98), In((17,), "rand", 0, 1)])
        fn_case(G, f"binaryCrossEntropyWithLogits {red} [3,5]", {"fn": NF + "binaryCrossEntropyWithLogits", "args": [T(0), T(1), {"reduction": red}]},
                lambda x, y, r=red: F.binary_cross_entropy_with_logits(x, y, reduction=r), [In((3, 5)), In((3, 5), "rand", 0, 1)])
    fn_case(G, "crossEntropy [1,65]", {"fn": NF + "crossEntropy", "args": [T(0), T(1)]}, F.cross_entropy, [In((1, 65)), In((1,), "int", 0, 65)])
    fn_case(G, "crossEntropy logits as a transposed view", {"fn": NF + "crossEntropy", "args": [T(0), T(1)]}, F.cross_entropy,
            [In((5, 7), view={"transpose": [0, 1]}), In((7,), "int", 0, 5)])
    fn_case(G, "mseLoss 0-d", {"fn": NF + "mseLoss", "args": [T(0), T(1)]}, F.mse_loss, [In(()), In(())])
    fn_case(G, "binaryCrossEntropy saturated (log clamp at -100)", {"fn": NF + "binaryCrossEntropy", "args": [T(0), T(1)]}, F.binary_cross_entropy,
            [In((4,), value=torch.tensor([0.0, 1.0, 1e-30, 0.5]), grad=False), In((4,), value=torch.tensor([1.0, 0.0, 1.0, 0.25]))])
    # options PyTorch has and webgrad lacks (issue 15)
    fn_case(G, "crossEntropy ignoreIndex", {"fn": NF + "crossEntropy", "args": [T(0), T(1), {"ignoreIndex": 2}]},
            lambda x, y: F.cross_entropy(x, y, ignore_index=2), [In((7, 5)), In((7,), value=torch.tensor([2, 0, 1, 2, 4, 3, 2]))])
    fn_case(G, "crossEntropy labelSmoothing 0.1", {"fn": NF + "crossEntropy", "args": [T(0), T(1), {"labelSmoothing": 0.1}]},
            lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1), [In((7, 5)), In((7,), "int", 0, 5)])
    fn_case(G, "crossEntropy weight", {"fn": NF + "crossEntropy", "args": [T(0), T(1), {"weight": T(2)}]},
            lambda x, y, w: F.cross_entropy(x, y, weight=w), [In((7, 5)), In((7,), "int", 0, 5), In((5,), "pos", grad=False)])
    fn_case(G, "crossEntropy probability targets", {"fn": NF + "crossEntropy", "args": [T(0), T(1)]},
            lambda x, p: F.cross_entropy(x, p), [In((7, 5)), In((7, 5), value=F.softmax(gen((7, 5)), -1), grad=False)])
    fn_case(G, "crossEntropy N-D logits [3,5,7]", {"fn": NF + "crossEntropy", "args": [T(0), T(1)]},
            F.cross_entropy, [In((3, 5, 7)), In((3, 7), "int", 0, 5)])
    fn_case(G, "binaryCrossEntropyWithLogits posWeight", {"fn": NF + "binaryCrossEntropyWithLogits", "args": [T(0), T(1), {"posWeight": T(2)}]},
            lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw), [In((3, 5)), In((3, 5), "rand", 0, 1), In((5,), "pos", grad=False)])


def _sdpa(q, k, v, causal, scale=None):
    s = scale if scale is not None else 1 / math.sqrt(q.shape[-1])
    a = q @ k.transpose(-2, -1) * s
    if causal:
        sq, sk = a.shape[-2], a.shape[-1]
        m = torch.ones(sq, sk, dtype=torch.bool).tril(sk - sq)
        a = a.masked_fill(~m, float("-inf"))
    return torch.softmax(a, -1) @ v


# ---------------------------------------------------------------- layers

def module_case(name, wg_module, ctor, build, inputs, call_args=None, train=False, tol=None, note=None, call_opts=None, seed=7, prep=None):
    """A torch module built with a seed; webgrad builds `wg_module(...ctor)`, loads its
    state dict strictly, runs forward(inputs...) and must match outputs, input and
    parameter gradients (and, after a training forward, the buffers)."""
    torch.manual_seed(seed)
    m = build()
    if prep:
        prep(m)
    m.train(train)
    sd = {k: enc(v) for k, v in m.state_dict().items()}
    leaves = [i.leaf() for i in inputs]
    xs = [i.viewed(l) for i, l in zip(inputs, leaves)]
    args = call_args if call_args is not None else [T(i) for i in range(len(inputs))]
    def tres(a):  # torch's positional args: tensors resolved, webgrad's option objects left out (call_opts has torch's)
        if isinstance(a, dict) and "$t" in a:
            return xs[a["$t"]]
        if isinstance(a, list):
            return tuple(tres(x) for x in a)
        return a
    targs = [tres(a) for a in args if not (isinstance(a, dict) and "$t" not in a)]
    res = m(*targs, **(call_opts or {}))
    outs = flat(res)
    ws = weights_for(outs)
    L = loss_of(outs, ws)
    c = {"name": name, "kind": "module", "module": wg_module, "ctor": ctor, "train": train, "state": sd,
         "args": args, "inputs": [i.desc() for i in inputs], "outputs": [enc(o) for o in outs],
         "w": [enc(w) if w is not None else None for w in ws]}
    if L is not None:
        L.backward()
        c["grads"] = [enc(l.grad) if (i.grad and l.grad is not None) else None for i, l in zip(inputs, leaves)]
        c["paramGrads"] = {k: enc(p.grad) for k, p in m.named_parameters() if p.grad is not None}
    if train:
        c["stateAfter"] = {k: enc(v) for k, v in m.state_dict().items()}
    if tol:
        c["tol"] = tol
    if note:
        c["note"] = note
    add_case("layers", c)


def randomize_bn(m):
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)


def layer_cases():
    module_case("Linear 7→5", "nn.Linear", [7, 5], lambda: nn.Linear(7, 5), [In((3, 7))])
    module_case("Linear 17→1 no bias, [2,3,17]", "nn.Linear", [17, 1, {"bias": False}], lambda: nn.Linear(17, 1, bias=False), [In((2, 3, 17))])
    module_case("Linear on 1-d input", "nn.Linear", [5, 3], lambda: nn.Linear(5, 3), [In((5,))])
    module_case("Conv2d 3→5 k3", "nn.Conv2d", [3, 5, 3], lambda: nn.Conv2d(3, 5, 3), [In((2, 3, 7, 9))])
    module_case("Conv2d 2→3 k[3,1] stride 2 padding 1 dilation 2 no bias", "nn.Conv2d", [2, 3, [3, 1], 2, 1, {"dilation": 2, "bias": False}],
                lambda: nn.Conv2d(2, 3, (3, 1), 2, 1, dilation=2, bias=False), [In((1, 2, 9, 7))])
    module_case("MaxPool2d 3 stride 2 padding 1", "nn.MaxPool2d", [3, 2, 1], lambda: nn.MaxPool2d(3, 2, 1), [In((1, 2, 7, 9))])
    module_case("AvgPool2d 2", "nn.AvgPool2d", [2], lambda: nn.AvgPool2d(2), [In((2, 1, 5, 7))])
    for n in ("ReLU", "Sigmoid", "Tanh", "GELU", "Flatten"):
        module_case(n, f"nn.{n}", [], lambda n=n: getattr(nn, n)(), [In((3, 5, 7))])
    module_case("GELU tanh", "nn.GELU", ["tanh"], lambda: nn.GELU("tanh"), [In((3, 5))])
    module_case("Dropout eval", "nn.Dropout", [0.5], lambda: nn.Dropout(0.5), [In((3, 5))])
    module_case("Sequential Linear-ReLU-Linear", "nn.Sequential", [{"$m": "nn.Linear", "ctor": [7, 5]}, {"$m": "nn.ReLU", "ctor": []}, {"$m": "nn.Linear", "ctor": [5, 3]}],
                lambda: nn.Sequential(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 3)), [In((5, 7))])
    module_case("LayerNorm 17", "nn.LayerNorm", [17], lambda: nn.LayerNorm(17), [In((3, 17))],
                prep=lambda m: (m.weight.data.uniform_(0.5, 1.5), m.bias.data.uniform_(-0.5, 0.5)))
    module_case("LayerNorm [5,7] no affine", "nn.LayerNorm", [[5, 7], 1e-5, {"elementwiseAffine": False}],
                lambda: nn.LayerNorm((5, 7), elementwise_affine=False), [In((2, 5, 7))])
    module_case("Embedding 7×5", "nn.Embedding", [7, 5], lambda: nn.Embedding(7, 5), [In((3, 4), "int", 0, 7)])
    module_case("Embedding paddingIdx 0", "nn.Embedding", [7, 5, {"paddingIdx": 0}], lambda: nn.Embedding(7, 5, padding_idx=0),
                [In((3, 4), value=torch.tensor([[0, 1, 2, 0], [3, 0, 6, 5], [1, 1, 0, 4]]))])
    module_case("BatchNorm2d 3 eval", "nn.BatchNorm2d", [3], lambda: nn.BatchNorm2d(3), [In((2, 3, 5, 7))], prep=randomize_bn)
    module_case("BatchNorm2d 3 train (batch stats, running-stat update)", "nn.BatchNorm2d", [3], lambda: nn.BatchNorm2d(3), [In((2, 3, 5, 7))],
                train=True, prep=randomize_bn)
    module_case("BatchNorm2d momentum 0.3 eps 1e-3 train", "nn.BatchNorm2d", [5, {"momentum": 0.3, "eps": 1e-3}],
                lambda: nn.BatchNorm2d(5, eps=1e-3, momentum=0.3), [In((3, 5, 3, 3))], train=True, prep=randomize_bn)
    module_case("LSTM 5→7", "nn.LSTM", [5, 7], lambda: nn.LSTM(5, 7), [In((3, 2, 5))], tol={"rtol": 1e-4, "atol": 3e-5})
    module_case("LSTM 3→5 two layers batchFirst with state", "nn.LSTM", [3, 5, {"numLayers": 2, "batchFirst": True}],
                lambda: nn.LSTM(3, 5, num_layers=2, batch_first=True), [In((2, 4, 3)), In((2, 2, 5)), In((2, 2, 5))],
                call_args=[T(0), [T(1), T(2)]], tol={"rtol": 1e-4, "atol": 3e-5})
    module_case("GRU 5→7", "nn.GRU", [5, 7], lambda: nn.GRU(5, 7), [In((3, 2, 5))], tol={"rtol": 1e-4, "atol": 3e-5})
    module_case("GRU 3→5 two layers batchFirst no bias, h0", "nn.GRU", [3, 5, {"numLayers": 2, "batchFirst": True, "bias": False}],
                lambda: nn.GRU(3, 5, num_layers=2, batch_first=True, bias=False), [In((2, 4, 3)), In((2, 2, 5))], tol={"rtol": 1e-4, "atol": 3e-5})
    # bidirectional and projSize (issue 15): h_n/c_n are [numLayers·2, B, ·], index layer·2 + direction.
    # Their inputs draw from a seed range of their own, so every other case keeps its data.
    saved_seed, _seed[0] = _seed[0], 50000
    rtol = {"rtol": 1e-4, "atol": 3e-5}
    module_case("LSTM 3→4 bidirectional", "nn.LSTM", [3, 4, {"bidirectional": True}],
                lambda: nn.LSTM(3, 4, bidirectional=True), [In((5, 2, 3))], tol=rtol)
    module_case("LSTM 3→4 two layers bidirectional with state", "nn.LSTM", [3, 4, {"numLayers": 2, "bidirectional": True}],
                lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True), [In((4, 2, 3)), In((4, 2, 4)), In((4, 2, 4))],
                call_args=[T(0), [T(1), T(2)]], tol=rtol)
    module_case("LSTM 3→4 two layers bidirectional batchFirst", "nn.LSTM", [3, 4, {"numLayers": 2, "bidirectional": True, "batchFirst": True}],
                lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), [In((2, 5, 3))], tol=rtol)
    module_case("LSTM 3→4 bidirectional unbatched with state", "nn.LSTM", [3, 4, {"bidirectional": True}],
                lambda: nn.LSTM(3, 4, bidirectional=True), [In((4, 3)), In((2, 4)), In((2, 4))], call_args=[T(0), [T(1), T(2)]], tol=rtol)
    module_case("LSTM 3→5 projSize 2", "nn.LSTM", [3, 5, {"projSize": 2}],
                lambda: nn.LSTM(3, 5, proj_size=2), [In((4, 2, 3))], tol=rtol)
    module_case("LSTM 3→5 projSize 2 two layers bidirectional batchFirst with state", "nn.LSTM",
                [3, 5, {"projSize": 2, "numLayers": 2, "bidirectional": True, "batchFirst": True}],
                lambda: nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=2),
                [In((2, 4, 3)), In((4, 2, 2)), In((4, 2, 5))], call_args=[T(0), [T(1), T(2)]], tol=rtol)
    module_case("GRU 3→4 bidirectional", "nn.GRU", [3, 4, {"bidirectional": True}],
                lambda: nn.GRU(3, 4, bidirectional=True), [In((5, 2, 3))], tol=rtol)
    module_case("GRU 3→4 two layers bidirectional batchFirst, h0", "nn.GRU", [3, 4, {"numLayers": 2, "bidirectional": True, "batchFirst": True}],
                lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), [In((2, 4, 3)), In((4, 2, 4))], tol=rtol)
    module_case("GRU 3→4 two layers bidirectional no bias", "nn.GRU", [3, 4, {"numLayers": 2, "bidirectional": True, "bias": False}],
                lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, bias=False), [In((3, 2, 3))], tol=rtol)
    _seed[0] = saved_seed
    # MultiheadAttention: PyTorch's default is need_weights=True (webgrad's is false): asked explicitly here
    module_case("MultiheadAttention 8 heads 2 self-attention batchFirst", "nn.MultiheadAttention", [8, 2, {"batchFirst": True, "dropout": 0}],
                lambda: nn.MultiheadAttention(8, 2, batch_first=True), [In((2, 5, 8))], call_args=[T(0), T(0), T(0), {"needWeights": False}],
                call_opts={"need_weights": False})
    module_case("MultiheadAttention needWeights (averaged weights and their gradient)", "nn.MultiheadAttention", [8, 2, {"batchFirst": True, "dropout": 0}],
                lambda: nn.MultiheadAttention(8, 2, batch_first=True), [In((2, 3, 8)), In((2, 5, 8)), In((2, 5, 8))],
                call_args=[T(0), T(1), T(2), {"needWeights": True}], call_opts={"need_weights": True})
    module_case("MultiheadAttention seq-first, causal mask", "nn.MultiheadAttention", [6, 3, {"dropout": 0}],
                lambda: nn.MultiheadAttention(6, 3), [In((4, 2, 6))], call_args=[T(0), T(0), T(0), {"isCausal": True, "needWeights": False}],
                call_opts={"need_weights": False, "attn_mask": torch.ones(4, 4, dtype=torch.bool).triu(1)})
    module_case("TransformerEncoderLayer d8 h2 ff16 batchFirst", "nn.TransformerEncoderLayer", [8, 2, {"dimFeedforward": 16, "dropout": 0, "batchFirst": True}],
                lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), [In((2, 5, 8))], tol={"rtol": 1e-4, "atol": 3e-5})
    module_case("TransformerEncoderLayer normFirst gelu", "nn.TransformerEncoderLayer", [8, 2, {"dimFeedforward": 16, "dropout": 0, "batchFirst": True, "normFirst": True, "activation": "gelu"}],
                lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation="gelu", batch_first=True, norm_first=True), [In((2, 3, 8))], tol={"rtol": 1e-4, "atol": 3e-5})
    module_case("TransformerDecoderLayer d8 h2 ff16 batchFirst", "nn.TransformerDecoderLayer", [8, 2, {"dimFeedforward": 16, "dropout": 0, "batchFirst": True}],
                lambda: nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True), [In((2, 3, 8)), In((2, 5, 8))], tol={"rtol": 1e-4, "atol": 3e-5})
    # missing in webgrad (issue 15)
    module_case("LeakyReLU 0.2", "nn.LeakyReLU", [0.2], lambda: nn.LeakyReLU(0.2), [In((3, 5))])
    module_case("Conv1d 3→5 k3 stride 2 padding 1", "nn.Conv1d", [3, 5, 3, 2, 1], lambda: nn.Conv1d(3, 5, 3, 2, 1), [In((2, 3, 17))])
    module_case("ConvTranspose2d 3→2 k3 stride 2", "nn.ConvTranspose2d", [3, 2, 3, 2], lambda: nn.ConvTranspose2d(3, 2, 3, 2), [In((1, 3, 5, 7))])
    module_case("BatchNorm1d 5 train", "nn.BatchNorm1d", [5], lambda: nn.BatchNorm1d(5), [In((7, 5))], train=True, prep=randomize_bn)
    module_case("GroupNorm 2 groups 6 channels", "nn.GroupNorm", [2, 6], lambda: nn.GroupNorm(2, 6), [In((2, 6, 3, 5))],
                prep=lambda m: (m.weight.data.uniform_(0.5, 1.5), m.bias.data.uniform_(-0.5, 0.5)))
    module_case("Upsample nearest ×2", "nn.Upsample", [{"scaleFactor": 2, "mode": "nearest"}], lambda: nn.Upsample(scale_factor=2, mode="nearest"), [In((1, 2, 3, 5))])
    # RMSNorm: not in torch 1.13, no fixture


# ---------------------------------------------------------------- optimizers and schedules

def optim_case(name, wg_optim, opts, build, shapes, steps=4, missing_keys=()):
    params0 = [gen(s) for s in shapes]
    grads = [[gen(s) for s in shapes] for _ in range(steps)]
    ps = [p.clone().requires_grad_(True) for p in params0]
    opt = build(ps)
    after = []
    for k in range(steps):
        for p, g in zip(ps, grads[k]):
            p.grad = g.clone()
        opt.step()
        after.append([enc(p) for p in ps])
    st = {}
    for i, s in opt.state_dict()["state"].items():
        for key, v in s.items():
            if key == "step" or not torch.is_tensor(v) or not v.dtype.is_floating_point:
                continue
            st[f"state.{i}.{key}"] = enc(v)
    add_case("optim", {"name": name, "kind": "optim", "optim": wg_optim, "opts": opts, "params": [enc(p) for p in params0],
                       "grads": [[enc(g) for g in gs] for gs in grads], "paramsAfter": after, "state": st})


def optim_cases():
    shapes = [(5, 7), (3,), ()]
    O = torch.optim
    optim_case("SGD lr 0.1", "optim.SGD", {"lr": 0.1}, lambda p: O.SGD(p, lr=0.1), shapes)
    optim_case("SGD momentum 0.9", "optim.SGD", {"lr": 0.05, "momentum": 0.9}, lambda p: O.SGD(p, lr=0.05, momentum=0.9), shapes, steps=5)
    optim_case("SGD momentum 0.9 dampening 0.3 weightDecay 0.01", "optim.SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weightDecay": 0.01},
               lambda p: O.SGD(p, lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01), shapes)
    optim_case("SGD nesterov momentum 0.8 weightDecay 0.1", "optim.SGD", {"lr": 0.03, "momentum": 0.8, "nesterov": True, "weightDecay": 0.1},
               lambda p: O.SGD(p, lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.1), shapes, steps=5)
    optim_case("Adam defaults", "optim.Adam", {}, lambda p: O.Adam(p), shapes)
    optim_case("Adam lr 0.01 betas [0.8,0.99] eps 1e-6 weightDecay 0.1", "optim.Adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weightDecay": 0.1},
               lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), shapes, steps=5)
    optim_case("AdamW defaults", "optim.AdamW", {}, lambda p: O.AdamW(p), shapes)
    optim_case("AdamW lr 0.01 weightDecay 0.3", "optim.AdamW", {"lr": 0.01, "weightDecay": 0.3}, lambda p: O.AdamW(p, lr=0.01, weight_decay=0.3), shapes, steps=5)
    # missing in webgrad (issue 15)
    optim_case("Adam amsgrad", "optim.Adam", {"lr": 0.01, "amsgrad": True}, lambda p: O.Adam(p, lr=0.01, amsgrad=True), shapes)
    optim_case("RMSprop lr 0.01", "optim.RMSprop", {"lr": 0.01}, lambda p: O.RMSprop(p, lr=0.01), shapes)
    optim_case("RMSprop momentum 0.9 centered weightDecay 0.01", "optim.RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weightDecay": 0.01},
               lambda p: O.RMSprop(p, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01), shapes)
    optim_case("Adagrad lr 0.1", "optim.Adagrad", {"lr": 0.1}, lambda p: O.Adagrad(p, lr=0.1), shapes)


def sched_case(name, fn, args, base, build, steps, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    s = build(opt)
    lrs = []
    for k in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if metrics is not None:
            s.step(metrics[k])
        else:
            s.step()
    c = {"name": name, "kind": "sched", "fn": fn, "args": args, "base": base, "lrs": lrs}
    if metrics is not None:
        c["metrics"] = metrics
    add_case("schedules", c)


def sched_cases():
    S = torch.optim.lr_scheduler
    sched_case("step every 3 gamma 0.5 (StepLR)", "LearningRateSchedule.step", [3, 0.5], 0.1, lambda o: S.StepLR(o, 3, 0.5), 10)
    sched_case("step every 1 default gamma (StepLR)", "LearningRateSchedule.step", [1], 1.0, lambda o: S.StepLR(o, 1), 5)
    sched_case("cosine 10 (CosineAnnealingLR)", "LearningRateSchedule.cosine", [10], 0.1, lambda o: S.CosineAnnealingLR(o, 10), 11)
    sched_case("cosine 7 minLr 0.01 (CosineAnnealingLR eta_min)", "LearningRateSchedule.cosine", [7, {"minLr": 0.01}], 0.1,
               lambda o: S.CosineAnnealingLR(o, 7, eta_min=0.01), 8)
    sched_case("warmup 5 (LinearLR 1/5→1 over 4)", "LearningRateSchedule.warmup", [5], 0.3,
               lambda o: S.LinearLR(o, start_factor=1 / 5, end_factor=1.0, total_iters=4), 9)
    # missing in webgrad (issue 15)
    sched_case("oneCycle 20 maxLr 0.1 (OneCycleLR)", "LearningRateSchedule.oneCycle", [20, {"maxLr": 0.1}], 0.1,
               lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20), 20)
    sched_case("reduceOnPlateau factor 0.5 patience 1 (ReduceLROnPlateau)", "optim.ReduceLROnPlateau", [{"factor": 0.5, "patience": 1}], 0.1,
               lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1), 10, metrics=[1.0, 0.9, 0.95, 0.97, 0.96, 0.8, 0.85, 0.9, 0.91, 0.7])


# ---------------------------------------------------------------- special values

INF, NAN = float("inf"), float("nan")
# ±0, ±inf, NaN, denormals, huge, tiny, halves, exp's overflow/underflow edges, ±100
SPECIAL = [0.0, -0.0, INF, -INF, NAN, 3e38, -3e38, 1e-30, -1e-30, 0.5, -0.5, 1.5, -2.5,
           100.0, -100.0, 88.8, -88.8, -104.0, 1e4, -1e4, 1e-20, -7.0]
# denormals (and the smallest normal) on their own: a GPU may flush them to ±0 (WGSL allows it)
DENORMAL = [1e-40, -1e-40, 1e-45, -1e-45, 1.17549435e-38, -1.17549435e-38, 5e-39, -5e-39]


def sv(values, grad=True):
    return In((len(values),), value=torch.tensor(values, dtype=torch.float32), grad=grad)


def special_cases():
    """Every element-wise op, reduction, softmax and loss at ±0, ±inf, NaN, denormals, huge and tiny values.
    Vectors of 17+ elements reach both the wasm kernels' SIMD body and their scalar tail."""
    G = "special"
    NF = "nn.functional."
    unary = {
        "neg": torch.neg, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "abs": torch.abs,
        "square": torch.square, "reciprocal": torch.reciprocal, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "gelu": F.gelu, "silu": F.silu, "hardswish": F.hardswish, "sin": torch.sin, "cos": torch.cos, "sign": torch.sign,
        "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "trunc": torch.trunc,
    }
    for op, f in unary.items():
        # sin/cos of ±3e38 have a case of their own (huge arguments), below
        fn_case(G, f"{op} special values", {"fn": op, "args": [T(0)]}, f, [sv([v for v in SPECIAL if abs(v) != 3e38] if op in ("sin", "cos") else SPECIAL)])
        fn_case(G, f"{op} denormals", {"fn": op, "args": [T(0)]}, f, [sv(DENORMAL)])
    fn_case(G, "gelu tanh special values", {"fn": "gelu", "args": [T(0), "tanh"]}, lambda x: F.gelu(x, approximate="tanh"), [sv(SPECIAL)])
    fn_case(G, "leakyRelu special values", {"fn": NF + "leakyRelu", "args": [T(0), 0.1]}, lambda x: F.leaky_relu(x, 0.1), [sv(SPECIAL)])
    # halves (round: half to even) and values past 2^23, where every float is an integer
    rnd = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.49999997, 0.49999997, 4194304.5, -4194304.5, 8388609.0, -8388609.0,
           1e30, -1e30, 3e38, -0.0, NAN, INF, -INF]
    for op in ("floor", "ceil", "round", "trunc", "sign", "abs"):
        fn_case(G, f"{op} halves and large values", {"fn": op, "args": [T(0)]}, getattr(torch, op), [sv(rnd)])
    # sin and cos far from 0, where the range reduction needs more than float32's bits of π
    for op in ("sin", "cos"):
        fn_case(G, f"{op} huge arguments", {"fn": op, "args": [T(0)]}, getattr(torch, op),
                [sv([3e38, -3e38, 1e30, 1e20, -1e10, 123456.7, 1e6, 8193.0, 65536.0, 1.5e7, 3.1e8, -2.0, 0.5])])
    # exp at its edges: overflow to inf, underflow through the denormals to 0
    fn_case(G, "exp overflow/underflow", {"fn": "exp", "args": [T(0)]}, torch.exp,
            [sv([88.7, 88.72, 88.73, 89.0, 1e4, -87.3, -88.0, -100.0, -103.0, -103.98, -104.0, -1e4, INF, -INF, NAN, 0.0, -0.0])])
    # log, sqrt, rsqrt, reciprocal of negatives, zeros and denormals
    neg = [-1.0, -0.0, 0.0, 1.17549435e-38, 1e-30, 3e38, INF, -INF, NAN, 1.0, 2.0, 0.25, 1e-20, 7.0]
    for op in ("log", "sqrt", "rsqrt", "reciprocal"):
        fn_case(G, f"{op} negative, zero, denormal", {"fn": op, "args": [T(0)]}, getattr(torch, op), [sv(neg)])
    for op, f in (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("silu", F.silu), ("gelu", F.gelu)):
        fn_case(G, f"{op} at ±100, ±1e4, ±inf", {"fn": op, "args": [T(0)]}, f,
                [sv([100.0, -100.0, 1e4, -1e4, 20.0, -20.0, 10.0, -10.0, INF, -INF, NAN, 0.0, -0.0, 1e-30])])

    # binary ops: inf - inf, 0 · inf, 0 / 0, x / ±0, NaN on either side
    a = [INF, INF, -INF, 0.0, 0.0, -0.0, 1.0, -1.0, 0.0, NAN, 1.0, 3e38, -3e38, 1e-30, 2.0, NAN, INF, -0.0]
    b = [INF, -INF, -INF, INF, 0.0, 0.0, 0.0, 0.0, -0.0, 1.0, NAN, 3e38, 3e38, 1e-30, -0.0, NAN, 0.0, -0.0]
    for op in ("add", "sub", "mul", "div", "maximum", "minimum"):
        fn_case(G, f"{op} special pairs", {"fn": op, "args": [T(0), T(1)]}, getattr(torch, op), [sv(a), sv(b)])
    fn_case(G, "maximum NaN, scalar", {"fn": "maximum", "args": [T(0), 0.5]}, lambda x: torch.maximum(x, torch.tensor(0.5)), [sv(SPECIAL)])
    fn_case(G, "minimum NaN, scalar", {"fn": "minimum", "args": [T(0), 0.5]}, lambda x: torch.minimum(x, torch.tensor(0.5)), [sv(SPECIAL)])
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        fn_case(G, f"{op} special pairs", {"fn": op, "args": [T(0), T(1)]}, getattr(torch, op), [sv(a, False), sv(b, False)])
    fn_case(G, "clamp with NaN", {"fn": "clamp", "args": [T(0), -1.0, 1.0]}, lambda x: torch.clamp(x, -1.0, 1.0), [sv(SPECIAL)])
    fn_case(G, "clamp min only with NaN", {"fn": "clamp", "args": [T(0), 0.0]}, lambda x: torch.clamp(x, 0.0), [sv(SPECIAL)])
    fn_case(G, "where with NaN and inf", {"fn": "where", "args": [T(0), T(1), T(2)]}, lambda c, x, y: torch.where(c.bool(), x, y),
            [In((6,), value=torch.tensor([1, 0, 1, 0, 1, 0])), sv([NAN, NAN, INF, INF, -0.0, 1.0]), sv([1.0, 2.0, NAN, -INF, 3.0, NAN])])

    # pow: 0^0, 0^negative, negative^fraction ((-8)^(1/3) is NaN), inf and NaN bases and exponents
    base = [0.0, 0.0, 0.0, -0.0, -8.0, -8.0, -8.0, 2.0, INF, INF, -INF, NAN, NAN, 1.0, 1.0, 0.5, 2.0, 1e-30, 3e38, -2.0]
    expo = [0.0, -1.0, 2.0, 3.0, 1.0 / 3.0, 2.0, 3.0, INF, 0.0, -1.0, 3.0, 0.0, 1.0, NAN, INF, -INF, 200.0, 2.0, 2.0, -1.0]
    fn_case(G, "pow tensor^tensor special pairs", {"fn": "pow", "args": [T(0), T(1)]}, torch.pow, [sv(base), sv(expo)])
    pb = [0.0, -0.0, -8.0, -1.0, -0.5, 1e-30, INF, -INF, NAN, 2.0, 3e38]
    for e in (0, 2, 3, -1, 0.5, -0.5, 1.0 / 3.0, -2):
        fn_case(G, f"pow tensor^{e:.4g} special bases", {"fn": "pow", "args": [T(0), e]}, lambda x, e=e: torch.pow(x, e), [sv(pb)])
    fn_case(G, "pow 2^tensor special exponents", {"fn": "pow", "args": [2, T(0)]}, lambda x: torch.pow(2, x),
            [sv([0.0, -0.0, 128.0, 127.5, -149.0, -150.0, -200.0, INF, -INF, NAN])])
    fn_case(G, "pow 0^tensor", {"fn": "pow", "args": [0, T(0)]}, lambda x: torch.pow(0, x), [sv([0.0, 1.0, -1.0, 2.5, INF, -INF, NAN])])

    # reductions: inf - inf, NaN, overflow
    rows = [[INF, 1.0, 2.0, 3.0], [-INF, 1.0, 2.0, 3.0], [INF, -INF, 0.0, 1.0], [NAN, 1.0, 2.0, 3.0],
            [3e38, 3e38, 1.0, 2.0], [-INF, -INF, -INF, -INF], [1e-30, -1e-30, 0.0, -0.0]]
    for op in ("sum", "mean", "max", "min"):
        fn_case(G, f"{op} dim 1 rows with inf, NaN, overflow", {"fn": op, "args": [T(0), 1]},
                lambda x, op=op: getattr(torch, op)(x, 1) if op in ("sum", "mean") else getattr(torch, op)(x, 1).values,
                [In((7, 4), value=torch.tensor(rows))])
    for op in ("max", "min", "sum"):
        fn_case(G, f"{op} all with NaN", {"fn": op, "args": [T(0)]}, getattr(torch, op), [sv([1.0, NAN, INF, -INF, 2.0])])
    for op in ("argmax", "argmin"):
        fn_case(G, f"{op} dim 1 with NaN and inf", {"fn": op, "args": [T(0), 1]}, lambda x, op=op: getattr(torch, op)(x, 1),
                [In((4, 4), value=torch.tensor([[1.0, NAN, INF, 2.0], [INF, 1.0, INF, -INF], [-INF, -INF, 0.0, -INF], [0.0, NAN, NAN, 1.0]]), grad=False)])
    for op in ("var", "std"):
        fn_case(G, f"{op} dim 1 rows with inf, NaN", {"fn": op, "args": [T(0), 1]}, lambda x, op=op: getattr(torch, op)(x, 1),
                [In((4, 4), value=torch.tensor([[INF, 1.0, 2.0, 3.0], [NAN, 1.0, 2.0, 3.0], [1e20, -1e20, 1e20, -1e20], [5.0, 5.0, 5.0, 5.0]]))])

    # softmax family: ±inf in a row, a row of -inf (fully masked), huge rows
    srows = [[0.0, -INF, 1.0, 2.0], [-INF, -INF, -INF, 0.0], [1e30, 0.0, -1e30, 5.0], [3e38, -3e38, 0.0, 1.0],
             [-INF, -INF, -INF, -INF], [INF, 0.0, 1.0, 2.0], [NAN, 0.0, 1.0, 2.0], [1e4, 1e4, -1e4, 0.0]]
    for op, f in (("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)):
        fn_case(G, f"{op} rows with ±inf, NaN, huge values", {"fn": op, "args": [T(0), -1]}, lambda x, f=f: f(x, -1),
                [In((8, 4), value=torch.tensor(srows))])
    fn_case(G, "logsumexp rows with ±inf, NaN, huge values", {"fn": "logsumexp", "args": [T(0), -1]}, lambda x: torch.logsumexp(x, -1),
            [In((8, 4), value=torch.tensor(srows))])

    # losses at saturation
    fn_case(G, "crossEntropy saturated logits", {"fn": NF + "crossEntropy", "args": [T(0), T(1), {"reduction": "none"}]},
            lambda x, y: F.cross_entropy(x, y, reduction="none"),
            [In((5, 3), value=torch.tensor([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0], [100.0, 100.0, 100.0], [-INF, 0.0, 1.0], [3e38, 0.0, 1.0]])),
             In((5,), value=torch.tensor([0, 2, 1, 1, 0]))])
    fn_case(G, "crossEntropy target logit -inf", {"fn": NF + "crossEntropy", "args": [T(0), T(1), {"reduction": "none"}]},
            lambda x, y: F.cross_entropy(x, y, reduction="none"),
            [In((2, 3), value=torch.tensor([[-INF, 0.0, 1.0], [0.0, -INF, 1.0]]), grad=False), In((2,), value=torch.tensor([0, 2]))], grads=False)
    bce_p = [0.0, 1.0, 1e-30, 1.2e-38, 1e-20, 0.0, 1.0, 0.99999994, 0.5, 1e-30]
    bce_y = [1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.25, 0.0]
    fn_case(G, "binaryCrossEntropy p = 0, 1, denormal, tiny", {"fn": NF + "binaryCrossEntropy", "args": [T(0), T(1), {"reduction": "none"}]},
            lambda x, y: F.binary_cross_entropy(x, y, reduction="none"), [sv(bce_p, grad=False), sv(bce_y)])
    fn_case(G, "binaryCrossEntropy p = 0, 1, denormal, tiny (mean)", {"fn": NF + "binaryCrossEntropy", "args": [T(0), T(1)]},
            F.binary_cross_entropy, [sv(bce_p, grad=False), sv(bce_y)])
    # denormal p: log(p) below −100, clamped in the loss, not in PyTorch's target gradient −logit(p)
    fn_case(G, "binaryCrossEntropy denormal p", {"fn": NF + "binaryCrossEntropy", "args": [T(0), T(1), {"reduction": "none"}]},
            lambda x, y: F.binary_cross_entropy(x, y, reduction="none"), [sv([1e-44, 1e-45, 1e-40, 5e-39], grad=False), sv([1.0, 0.5, 0.0, 1.0])])
    fn_case(G, "binaryCrossEntropyWithLogits at ±100, ±1e4", {"fn": NF + "binaryCrossEntropyWithLogits", "args": [T(0), T(1), {"reduction": "none"}]},
            lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
            [sv([100.0, -100.0, 1e4, -1e4, 100.0, -100.0, 0.0, 20.0, -20.0]), sv([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5, 0.3, 0.7])])
    fn_case(G, "mseLoss with inf and NaN", {"fn": NF + "mseLoss", "args": [T(0), T(1), {"reduction": "none"}]},
            lambda x, y: F.mse_loss(x, y, reduction="none"), [sv([INF, 1.0, NAN, 3e38, 1e-40]), sv([INF, INF, 0.0, -3e38, 0.0])])


# ---------------------------------------------------------------- webgrad → torch state dicts

def read_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8:8 + n].decode("utf-8"))
    data = b[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        dt = {"F32": np.float32, "I32": np.int32, "I64": np.int64}[v["dtype"]]
        a = np.frombuffer(data[lo:hi], dtype=np.dtype(dt).newbyteorder("<")).reshape(v["shape"]).copy()
        out[k] = torch.from_numpy(a)
    return out


def check_webgrad_state_dicts():
    """scripts/webgrad-state-dicts.mjs saves webgrad modules (and an input and webgrad's
    output for each); each loads into its torch twin with strict=True and must give
    the same output."""
    d = os.path.join(ROOT, "test-artifacts", "webgrad-state-dicts")
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(["node", os.path.join(ROOT, "scripts", "webgrad-state-dicts.mjs"), d], cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"scripts/webgrad-state-dicts.mjs failed ({r.returncode})")
    twins = {
        "linear": lambda: nn.Linear(7, 5),
        "conv2d": lambda: nn.Conv2d(3, 4, 3, 1, 1),
        "layernorm": lambda: nn.LayerNorm(9),
        "embedding": lambda: nn.Embedding(11, 6),
        "batchnorm2d": lambda: nn.BatchNorm2d(3),
        "lstm": lambda: nn.LSTM(4, 6, num_layers=2, batch_first=True),
        "gru": lambda: nn.GRU(4, 5),
        "lstm-bidirectional": lambda: nn.LSTM(4, 6, num_layers=2, bidirectional=True),
        "lstm-bidirectional-proj": lambda: nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3, batch_first=True),
        "gru-bidirectional": lambda: nn.GRU(4, 5, bidirectional=True, batch_first=True),
        "mha": lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        "encoder-layer": lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True),
        "decoder-layer": lambda: nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True),
        "sequential": lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 3 * 3, 3)),
    }
    bad = []
    for name, build in twins.items():
        f = os.path.join(d, f"{name}.safetensors")
        t = read_safetensors(f)
        sd = {k[len("model."):]: v for k, v in t.items() if k.startswith("model.")}
        ins = [t[k] for k in sorted(k for k in t if k.startswith("input."))]
        want = t["output"]
        m = build().eval()
        sd = {k: (v.long() if m.state_dict()[k].dtype == torch.int64 else v) if k in m.state_dict() else v for k, v in sd.items()}
        m.load_state_dict(sd, strict=True)  # raises on any missing or unexpected name, or a shape mismatch
        with torch.no_grad():
            if name == "embedding":
                y = m(ins[0].long())
            elif name == "mha":
                y = m(ins[0], ins[0], ins[0], need_weights=False)[0]
            elif name == "decoder-layer":
                y = m(ins[0], ins[1])
            else:
                y = m(*ins)
            y = flat(y)[0]
        err = (y - want).abs().max().item()
        ok = torch.allclose(y, want, rtol=1e-4, atol=1e-5)
        print(f"  webgrad → torch {name}: strict load ok, {len(sd)} tensors, max |Δ| {err:.2e}{'' if ok else '  MISMATCH'}")
        if not ok:
            bad.append(name)
    if bad:
        sys.exit(f"webgrad state dicts whose torch output differs: {', '.join(bad)}")


# ---------------------------------------------------------------- Llama-family LLM folders (issue 17)
#
# Tiny random Hugging Face folders (config.json, model.safetensors,
# generation_config.json) under test/fixtures/llm/<name>/ with a plain-PyTorch
# reference of transformers' LlamaForCausalLM / Qwen2ForCausalLM /
# MistralForCausalLM forward (no transformers package): RMSNorm, rotate-half
# RoPE with the rope_scaling inv_freq variants of modeling_rope_utils.py,
# repeat_kv GQA, SwiGLU, the causal mask with a sliding window. reference.json
# holds the logits of a fixed [2, 7] id batch and a greedy continuation of a
# prompt computed by re-running the whole sequence each step (no cache, so the
# test checks webgrad's cache too). Weights stored as BF16 / F16 are rounded
# first and the reference computed from the rounded values.

LLM_OUT = os.path.join(ROOT, "test", "fixtures", "llm")


def rope_inv_freq(cfg, seq_len):
    """(inv_freq [D/2] float32, attention_scaling) as transformers' ROPE_INIT_FUNCTIONS compute them."""
    dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    base = cfg.get("rope_theta", 10000.0)
    max_pos = cfg.get("max_position_embeddings", 2048)
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    expo = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim

    def default(b):
        return 1.0 / (b ** expo)
    if kind == "default":
        return default(base), 1.0
    if kind == "linear":
        return default(base) / rs["factor"], 1.0
    if kind == "dynamic":
        f = rs["factor"]
        s = seq_len if seq_len > max_pos else max_pos
        return default(base * ((f * s / max_pos) - (f - 1)) ** (dim / (dim - 2))), 1.0
    if kind == "llama3":
        inv = default(base)
        f, lo_f, hi_f, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        lo_w, hi_w = old / lo_f, old / hi_f
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > lo_w, inv / f, inv)
        smooth = (old / wavelen - lo_f) / (hi_f - lo_f)
        smoothed = (1 - smooth) * inv_l / f + smooth * inv_l
        medium = ~(wavelen < hi_w) * ~(wavelen > lo_w)
        return torch.where(medium, smoothed, inv_l), 1.0
    if kind == "yarn":
        f = rs["factor"]
        if "original_max_position_embeddings" in rs:
            orig = rs["original_max_position_embeddings"]
            f = max_pos / orig
        else:
            orig = max_pos

        def mscale(scale, m=1):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0
        att = rs.get("attention_factor")
        if att is None:
            att = mscale(f, rs["mscale"]) / mscale(f, rs["mscale_all_dim"]) if rs.get("mscale") and rs.get("mscale_all_dim") else mscale(f)
        fast, slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))
        lo, hi = corr(fast), corr(slow)
        if rs.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - lo) / (hi - lo), 0, 1)
        pos = base ** (torch.arange(0, dim, 2).float() / dim)
        extra = 1 - ramp
        return (1.0 / (f * pos)) * (1 - extra) + (1.0 / pos) * extra, float(att)
    raise ValueError(kind)


def llm_window(cfg, i):
    w = cfg.get("sliding_window")
    if w is None:
        return None
    if cfg["model_type"] == "mistral":
        return w
    if cfg["model_type"] == "qwen2":
        return w if cfg.get("use_sliding_window") and i >= cfg.get("max_window_layers", 28) else None
    return None


def llm_forward(cfg, sd, ids):
    """Logits [B, S, V] of transformers' *ForCausalLM for ids [B, S] at positions 0..S-1."""
    B, S = ids.shape
    H, Hkv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    D = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg.get("rms_norm_eps", 1e-6)

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def lin(x, name):
        return F.linear(x, sd[name + ".weight"], sd.get(name + ".bias"))

    def rotate_half(x):
        return torch.cat((-x[..., D // 2:], x[..., :D // 2]), dim=-1)

    def repeat_kv(x):
        return x[:, :, None].expand(B, Hkv, H // Hkv, S, D).reshape(B, H, S, D)

    inv_freq, att = rope_inv_freq(cfg, S)
    freqs = torch.arange(S, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos() * att, emb.sin() * att
    x = sd["model.embed_tokens.weight"][ids]
    i_, j_ = torch.arange(S)[:, None], torch.arange(S)[None, :]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms(x, sd[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").view(B, S, H, D).transpose(1, 2)
        k = lin(h, p + "self_attn.k_proj").view(B, S, Hkv, D).transpose(1, 2)
        v = lin(h, p + "self_attn.v_proj").view(B, S, Hkv, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k), repeat_kv(v)
        allowed = j_ <= i_
        w = llm_window(cfg, layer)
        if w is not None:
            allowed = allowed & (i_ - j_ < w)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(D)
        scores = scores.masked_fill(~allowed, float("-inf"))
        o = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, S, H * D)
        x = x + lin(o, p + "self_attn.o_proj")
        h = rms(x, sd[p + "post_attention_layernorm.weight"])
        x = x + lin(F.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, sd["model.norm.weight"])
    head = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
    return F.linear(x, head)


def llm_state_dict(cfg, seed):
    """Random weights under transformers' names, in its order."""
    g = torch.Generator().manual_seed(seed)
    C, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads", H)
    D = cfg.get("head_dim") or C // H
    qwen = cfg["model_type"] == "qwen2"
    qkv_bias = qwen or cfg.get("attention_bias", False)
    o_bias = (not qwen) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)

    def r(*shape, std=1.0):
        return torch.randn(shape, generator=g) * std
    sd = {"model.embed_tokens.weight": r(V, C)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for n, o, b in (("q", H * D, qkv_bias), ("k", Hkv * D, qkv_bias), ("v", Hkv * D, qkv_bias)):
            sd[p + f"self_attn.{n}_proj.weight"] = r(o, C, std=C ** -0.5)
            if b:
                sd[p + f"self_attn.{n}_proj.bias"] = r(o, std=0.1)
        sd[p + "self_attn.o_proj.weight"] = r(C, H * D, std=(H * D) ** -0.5)
        if o_bias:
            sd[p + "self_attn.o_proj.bias"] = r(C, std=0.1)
        for n, o, i_ in (("gate", I, C), ("up", I, C), ("down", C, I)):
            sd[p + f"mlp.{n}_proj.weight"] = r(o, i_, std=i_ ** -0.5)
            if mlp_bias:
                sd[p + f"mlp.{n}_proj.bias"] = r(o, std=0.1)
        sd[p + "input_layernorm.weight"] = 1 + r(C, std=0.1)
        sd[p + "post_attention_layernorm.weight"] = 1 + r(C, std=0.1)
    sd["model.norm.weight"] = 1 + r(C, std=0.1)
    if not cfg.get("tie_word_embeddings", False):
        sd["lm_head.weight"] = r(V, C, std=C ** -0.5)
    return sd


def write_safetensors(path, sd, dtype):
    """safetensors with every tensor as dtype ("F32", "F16" or "BF16"), name order kept."""
    header, chunks, off = {}, [], 0
    for k, t in sd.items():
        a = t.detach().to(torch.float32).contiguous().numpy()
        if dtype == "F32":
            b = a.astype("<f4").tobytes()
        elif dtype == "F16":
            b = a.astype("<f2").tobytes()
        else:  # BF16: the values are bf16-rounded already; their top 16 bits
            b = (a.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
        header[k] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


def round_to(sd, dtype):
    if dtype == "F32":
        return sd
    t = torch.float16 if dtype == "F16" else torch.bfloat16
    return {k: v.to(t).to(torch.float32) for k, v in sd.items()}


LLM_FOLDERS = {
    # GQA 4/2, untied head, rope_scaling llama3, mlp biases, F32
    "tiny-llama": ({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128, "hidden_size": 32,
        "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64, "tie_word_embeddings": False,
        "attention_bias": False, "mlp_bias": True, "hidden_act": "silu", "initializer_range": 0.02,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
    }, "F32", {"bos_token_id": 1, "eos_token_id": 2, "do_sample": False}),
    # q/k/v biases, tied embeddings, rope_theta 1e6, GQA 6/2, BF16
    "tiny-qwen2": ({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 160, "hidden_size": 48,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 6, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "max_position_embeddings": 128, "tie_word_embeddings": True,
        "use_sliding_window": False, "sliding_window": 4096, "max_window_layers": 2, "hidden_act": "silu",
        "rope_scaling": None, "bos_token_id": 3, "eos_token_id": 4, "torch_dtype": "bfloat16",
    }, "BF16", {"bos_token_id": 3, "eos_token_id": [4, 5], "do_sample": False, "repetition_penalty": 1.0}),
    # sliding window 4 (< the 7-token batch and the generation), GQA 4/1, yarn RoPE, F16
    "tiny-mistral": ({
        "architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 100, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
        "head_dim": 8, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64,
        "sliding_window": 4, "tie_word_embeddings": False, "hidden_act": "silu",
        "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16},
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16",
    }, "F16", {"bos_token_id": 1, "eos_token_id": 2, "do_sample": True, "temperature": 0.7, "top_k": 20, "top_p": 0.9}),
}


def llm_fixtures():
    """Writes test/fixtures/llm/<name>/ and rope.json (inv_freq of every rope type)."""
    total = 0
    for n, (cfg, dtype, gen_cfg) in LLM_FOLDERS.items():
        d = os.path.join(LLM_OUT, n)
        os.makedirs(d, exist_ok=True)
        V = cfg["vocab_size"]
        # a seed whose greedy choices are clear (top-2 margin > 1e-3), so float32 rounding cannot flip a token
        for seed in range(100, 200):
            sd = round_to(llm_state_dict(cfg, seed), dtype)
            g = torch.Generator().manual_seed(seed)
            ids = torch.randint(0, V, (2, 7), generator=g)
            prompt = torch.randint(0, V, (1, 5), generator=g)
            with torch.no_grad():
                logits = llm_forward(cfg, sd, ids)
                seq, margin = prompt, float("inf")
                for _ in range(12):
                    last = llm_forward(cfg, sd, seq)[0, -1]
                    top = torch.topk(last, 2).values
                    margin = min(margin, float(top[0] - top[1]))
                    seq = torch.cat([seq, last.argmax().view(1, 1)], dim=1)
            if margin > 1e-3:
                break
        write_safetensors(os.path.join(d, "model.safetensors"), sd, dtype)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump(gen_cfg, f, indent=2)
            f.write("\n")
        ref = {"generator": "scripts/torch-fixtures.py", "torch": torch.__version__, "weights_dtype": dtype, "seed": seed,
               "ids": ids.tolist(), "logits": enc(logits), "prompt": prompt[0].tolist(),
               "greedy": seq[0, prompt.shape[1]:].tolist(), "greedy_margin": margin}
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, separators=(",", ":"))
            f.write("\n")
        size = sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d))
        total += size
        print(f"{os.path.relpath(d, ROOT)}: {dtype}, seed {seed}, greedy margin {margin:.2e}, {size / 1024:.0f} KiB")
    base = {"hidden_size": 64, "num_attention_heads": 4, "rope_theta": 10000.0, "max_position_embeddings": 32}
    ropes = [
        ("default", None, 8), ("linear", {"rope_type": "linear", "factor": 4.0}, 8),
        ("dynamic short", {"rope_type": "dynamic", "factor": 2.0}, 16), ("dynamic long", {"type": "dynamic", "factor": 2.0}, 80),
        ("llama3", {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}, 8),
        ("yarn", {"rope_type": "yarn", "factor": 4.0}, 8),
        ("yarn original", {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 8, "beta_fast": 16, "beta_slow": 2}, 8),
        ("yarn mscale", {"rope_type": "yarn", "factor": 4.0, "mscale": 0.707, "mscale_all_dim": 1.0}, 8),
        ("yarn attention_factor untruncated", {"rope_type": "yarn", "factor": 4.0, "attention_factor": 1.5, "truncate": False}, 8),
    ]
    cases = []
    for name, rs, seq_len in ropes:
        cfg = dict(base, rope_scaling=rs, rope_theta=500000.0 if name == "llama3" else 10000.0)
        inv, att = rope_inv_freq(cfg, seq_len)
        cases.append({"name": name, "config": cfg, "seq_len": seq_len, "inv_freq": inv.tolist(), "attention_scaling": att})
    p = os.path.join(LLM_OUT, "rope.json")
    with open(p, "w") as f:
        json.dump({"generator": "scripts/torch-fixtures.py", "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    total += os.path.getsize(p)
    print(f"test/fixtures/llm: {total / 1024:.0f} KiB")


def main():
    if "--llm-only" in sys.argv:
        llm_fixtures()
        return
    ops_cases()
    reduction_cases()
    shape_cases()
    nn_cases()
    layer_cases()
    optim_cases()
    sched_cases()
    special_cases()  # last: the weights' seeds of the groups before it stay as they were
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for g, cases in GROUPS.items():
        p = os.path.join(OUT, f"{g}.json")
        body = {"generator": "scripts/torch-fixtures.py", "torch": torch.__version__, "group": g, "cases": cases}
        with open(p, "w") as f:
            json.dump(body, f, separators=(",", ":"), ensure_ascii=False)
            f.write("\n")
        size = os.path.getsize(p)
        total += size
        print(f"{os.path.relpath(p, ROOT)}: {len(cases)} cases, {size / 1024:.0f} KiB")
    print(f"total {total / 1024:.0f} KiB")
    llm_fixtures()
    if "--no-state-dicts" not in sys.argv:
        check_webgrad_state_dicts()


if __name__ == "__main__":
    main()
