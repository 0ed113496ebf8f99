"""Known answers from PyTorch (float64) for the norm / loss / attention ops of issue 8.

Writes packages/core/test/fixtures/normloss.json, read by test/normloss-pytorch.test.ts.
Each case: inputs (flat data + shape), params, outputs (`out` plus any tensors updated in
place), a cotangent for `out`, and the gradients of sum(out * cotangent) for the inputs
that require grad. NaN and infinities are written as the strings "nan", "inf", "-inf".
Run: /usr/bin/python3 packages/core/scripts/gen_normloss_fixtures.py
"""
import json, math, os
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(8)
cases = []


def enc(t):
    t = t.detach()
    flat = [("nan" if math.isnan(v) else "inf" if v == math.inf else "-inf" if v == -math.inf else float(f"{v:.12g}")) for v in t.reshape(-1).tolist()]
    dt = 'int32' if t.dtype in (torch.int64, torch.int32) else ('bool' if t.dtype == torch.bool else 'float64')
    if dt == 'bool':
        flat = [1 if v else 0 for v in flat]
    return {"shape": list(t.shape), "dtype": dt, "data": flat}


def rn(*shape):
    return torch.randn(*shape, generator=g)


def case(name, fn, inputs, grad_keys, params=None, extra=None):
    ins = {k: (v.clone().requires_grad_(True) if k in grad_keys else v.clone()) for k, v in inputs.items()}
    saved = {k: v.clone() for k, v in inputs.items()}
    out = fn(**ins)
    cot = rn(*out.shape) if out.dim() > 0 else torch.tensor(1.3)
    grads = {}
    if grad_keys:
        gs = torch.autograd.grad((out * cot).sum(), [ins[k] for k in grad_keys], allow_unused=True)
        grads = {k: enc(gr if gr is not None else torch.zeros_like(ins[k])) for k, gr in zip(grad_keys, gs)}
    outputs = {"out": enc(out)}
    for k in (extra or []):
        outputs[k] = enc(ins[k])  # updated in place
    cases.append({"name": name, "params": params or {}, "inputs": {k: enc(v) for k, v in saved.items()},
                  "outputs": outputs, "cotangent": enc(cot), "grads": grads})


def ints(*shape, high, low=0):
    return torch.randint(low, high, shape, generator=g)


# ---- losses ----
x = rn(2, 3, 2); t = torch.tensor([[0, 2], [-100, 1]]); w = torch.rand(3, generator=g) + 0.5
for red in ['mean', 'sum', 'none']:
    case(f'crossEntropy weight ignore Nd {red}', lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction=red), {'x': x, 't': t, 'w': w}, ['x'], {'reduction': red})
    case(f'crossEntropy weight smoothing {red}', lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=0.2), {'x': x, 't': t, 'w': w}, ['x'], {'reduction': red, 'labelSmoothing': 0.2})
x2 = rn(4, 5); t2 = torch.tensor([3, 1, 7, 0])
case('crossEntropy ignoreIndex 7 smoothing', lambda x, t: F.cross_entropy(x, t, ignore_index=7, label_smoothing=0.1), {'x': x2, 't': t2}, ['x'], {'ignoreIndex': 7, 'labelSmoothing': 0.1})
tall = torch.tensor([-100, -100, -100, -100])
for red in ['mean', 'sum', 'none']:
    case(f'crossEntropy all ignored {red}', lambda x, t: F.cross_entropy(x, t, reduction=red), {'x': x2, 't': tall}, ['x'], {'reduction': red})
case('crossEntropy all ignored weight smoothing', lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.3), {'x': x2, 't': tall, 'w': torch.rand(5, generator=g)}, ['x'], {})
p = torch.softmax(rn(4, 5), 1)
case('crossEntropy probs weight smoothing', lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1), {'x': x2, 't': p, 'w': torch.rand(5, generator=g)}, ['x', 't'], {'labelSmoothing': 0.1})
case('crossEntropy 1-D input', lambda x, t: F.cross_entropy(x, t), {'x': rn(5), 't': torch.tensor(2)}, ['x'])
for red in ['mean', 'sum', 'none']:
    case(f'nllLoss weight ignore Nd {red}', lambda x, t, w: F.nll_loss(x, t, weight=w, reduction=red, ignore_index=2), {'x': rn(3, 4, 2, 2), 't': ints(3, 2, 2, high=4), 'w': torch.rand(4, generator=g)}, ['x'], {'reduction': red, 'ignoreIndex': 2})
case('nllLoss all ignored', lambda x, t: F.nll_loss(x, t), {'x': rn(3, 4), 't': torch.tensor([-100, -100, -100])}, ['x'])

pr = torch.sigmoid(rn(3, 4)); pr[0, 0] = 0.0; pr[0, 1] = 1.0
tb = torch.rand(3, 4, generator=g); tb[0, 0] = 0.3; tb[0, 1] = 0.6
for red in ['mean', 'sum', 'none']:
    # x holds exact 0 and 1 (the log clamp at -100); PyTorch's target gradient there is +-inf (unclamped logs), ours is the clamped one.
    case(f'binaryCrossEntropy weight {red}', lambda x, t, w: F.binary_cross_entropy(x, t, weight=w, reduction=red), {'x': pr, 't': tb, 'w': torch.rand(4, generator=g)}, ['x'], {'reduction': red})
case('binaryCrossEntropy target grad', lambda x, t: F.binary_cross_entropy(x, t), {'x': torch.sigmoid(rn(3, 4)), 't': tb}, ['x', 't'])
lg = rn(3, 4) * 4; lg[0, 0] = 40.0; lg[0, 1] = -40.0; lg[1, 0] = 0.0
for red in ['mean', 'sum', 'none']:
    case(f'binaryCrossEntropyWithLogits weight posWeight {red}', lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=red), {'x': lg, 't': tb, 'w': torch.rand(3, 1, generator=g), 'pw': torch.rand(4, generator=g) * 3}, ['x', 't'], {'reduction': red})
case('binaryCrossEntropyWithLogits plain', lambda x, t: F.binary_cross_entropy_with_logits(x, t), {'x': lg, 't': tb}, ['x', 't'])
a = rn(3, 4); b = rn(3, 4); b[0, 0] = a[0, 0] + 0.25
for red in ['mean', 'sum', 'none']:
    case(f'l1Loss {red}', lambda a, b: F.l1_loss(a, b, reduction=red), {'a': a, 'b': b}, ['a', 'b'], {'reduction': red})
    case(f'mseLoss {red}', lambda a, b: F.mse_loss(a, b, reduction=red), {'a': a, 'b': b}, ['a', 'b'], {'reduction': red})
    case(f'smoothL1Loss beta 0.5 {red}', lambda a, b: F.smooth_l1_loss(a, b, reduction=red, beta=0.5), {'a': a, 'b': b}, ['a', 'b'], {'reduction': red, 'beta': 0.5})
    case(f'huberLoss delta 0.7 {red}', lambda a, b: F.huber_loss(a, b, reduction=red, delta=0.7), {'a': a, 'b': b}, ['a', 'b'], {'reduction': red, 'delta': 0.7})
case('smoothL1Loss beta 0', lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), {'a': a, 'b': b}, ['a', 'b'], {'beta': 0})
lp = torch.log_softmax(rn(3, 4), 1); tp = torch.softmax(rn(3, 4), 1); tz = tp.clone(); tz[0, 0] = 0.0
for red in ['mean', 'sum', 'none', 'batchmean']:
    case(f'klDiv {red}', lambda x, t: F.kl_div(x, t, reduction=red), {'x': lp, 't': tp}, ['x', 't'], {'reduction': red})
    # A zero target: value 0 (xlogy); PyTorch's target gradient there is NaN, ours leaves the term out, so only x's.
    case(f'klDiv zero target {red}', lambda x, t: F.kl_div(x, t, reduction=red), {'x': lp, 't': tz}, ['x'], {'reduction': red})
    case(f'klDiv logTarget {red}', lambda x, t: F.kl_div(x, t, reduction=red, log_target=True), {'x': lp, 't': torch.log_softmax(rn(3, 4), 1)}, ['x', 't'], {'reduction': red, 'logTarget': True})
ce1 = rn(4, 3); ce2 = rn(4, 3)
for red in ['mean', 'sum', 'none']:
    case(f'cosineEmbeddingLoss margin 0.2 {red}', lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2, reduction=red), {'a': ce1, 'b': ce2, 'y': torch.tensor([1, -1, -1, 1])}, ['a', 'b'], {'reduction': red, 'margin': 0.2})
case('cosineEmbeddingLoss 1-D', lambda a, b, y: F.cosine_embedding_loss(a, b, y), {'a': rn(3), 'b': rn(3), 'y': torch.tensor(-1)}, ['a', 'b'])

# ---- normalizations and distances ----
xn = rn(2, 3, 4); xn[1, :, 0] = 0.0
for pp, d in [(2, 1), (1, -1), (3, 0), (math.inf, 2)]:
    case(f'normalize p {pp} dim {d}', lambda x: F.normalize(x, p=pp, dim=d), {'x': xn}, ['x'], {'p': 'inf' if pp == math.inf else pp, 'dim': d})
case('cosineSimilarity dim 1 broadcast', lambda a, b: F.cosine_similarity(a, b, dim=1), {'a': rn(2, 3, 4), 'b': rn(1, 3, 4)}, ['a', 'b'])
case('pairwiseDistance p 2', lambda a, b: F.pairwise_distance(a, b), {'a': rn(3, 4), 'b': rn(3, 4)}, ['a', 'b'])
case('pairwiseDistance p 1 keepdim', lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True), {'a': rn(3, 4), 'b': rn(3, 4)}, ['a', 'b'], {'p': 1, 'keepdim': True})
xb = rn(4, 3, 2, 2)
case('batchNorm training', lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=1e-3), {'x': xb, 'rm': rn(3), 'rv': torch.rand(3, generator=g) + 0.5, 'w': rn(3), 'b': rn(3)}, ['x', 'w', 'b'], {'training': True, 'momentum': 0.3, 'eps': 1e-3}, extra=['rm', 'rv'])
case('batchNorm eval', lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=False), {'x': xb, 'rm': rn(3), 'rv': torch.rand(3, generator=g) + 0.5, 'w': rn(3), 'b': rn(3)}, ['x', 'w', 'b'], {'training': False}, extra=['rm', 'rv'])
case('batchNorm 2-D training no stats', lambda x: F.batch_norm(x, None, None, training=True), {'x': rn(5, 3)}, ['x'], {'training': True})
case('groupNorm', lambda x, w, b: F.group_norm(x, 2, w, b, eps=1e-4), {'x': rn(2, 4, 3, 2), 'w': rn(4), 'b': rn(4)}, ['x', 'w', 'b'], {'numGroups': 2, 'eps': 1e-4})
case('instanceNorm running stats', lambda x, rm, rv, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=True, momentum=0.2), {'x': rn(2, 3, 5), 'rm': rn(3), 'rv': torch.rand(3, generator=g) + 0.5, 'w': rn(3), 'b': rn(3)}, ['x', 'w', 'b'], {'useInputStats': True, 'momentum': 0.2}, extra=['rm', 'rv'])
case('instanceNorm running stats used', lambda x, rm, rv: F.instance_norm(x, rm, rv, use_input_stats=False), {'x': rn(2, 3, 2, 2), 'rm': rn(3), 'rv': torch.rand(3, generator=g) + 0.5}, ['x'], {'useInputStats': False}, extra=['rm', 'rv'])

# ---- embedding ----
we = rn(6, 3)
case('embedding paddingIdx', lambda i, w: F.embedding(i, w, padding_idx=2), {'i': torch.tensor([[0, 2, 5], [2, 2, 1]]), 'w': we}, ['w'], {'paddingIdx': 2})
case('embedding maxNorm', lambda i, w: F.embedding(i, w, max_norm=1.0), {'i': torch.tensor([1, 3, 3, 4]), 'w': we * 2}, ['w'], {'maxNorm': 1.0}, extra=['w'])

# ---- attention (torch 1.13 has no public SDPA: the math definition, as torch >= 2.0 documents it) ----
def sdpa(q, k, v, mask=None, causal=False, scale=None):
    L, S = q.shape[-2], k.shape[-2]
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal:
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), -math.inf)
    elif mask is not None:
        s = s.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v
q = rn(2, 2, 3, 4); k = rn(2, 1, 5, 4); v = rn(2, 1, 5, 3)
case('sdpa plain broadcast heads', lambda q, k, v: sdpa(q, k, v), {'q': q, 'k': k, 'v': v}, ['q', 'k', 'v'])
case('sdpa causal L<S', lambda q, k, v: sdpa(q, k, v, causal=True), {'q': q, 'k': k, 'v': v}, ['q', 'k', 'v'], {'isCausal': True})
case('sdpa causal L>S scale', lambda q, k, v: sdpa(q, k, v, causal=True, scale=0.3), {'q': rn(5, 4), 'k': rn(3, 4), 'v': rn(3, 2)}, ['q', 'k', 'v'], {'isCausal': True, 'scale': 0.3})
bm = torch.rand(3, 5, generator=g) > 0.4; bm[:, 0] = True
case('sdpa bool mask', lambda q, k, v, m: sdpa(q, k, v, mask=m), {'q': q, 'k': k, 'v': v, 'm': bm}, ['q', 'k', 'v'])
case('sdpa float mask', lambda q, k, v, m: sdpa(q, k, v, mask=m), {'q': q, 'k': k, 'v': v, 'm': rn(3, 5)}, ['q', 'k', 'v', 'm'])

out = {"generator": "packages/core/scripts/gen_normloss_fixtures.py", "torchVersion": torch.__version__, "cases": cases}
path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'normloss.json')
with open(path, 'w') as f:
    json.dump(out, f, separators=(',', ':'))
print(len(cases), 'cases ->', os.path.normpath(path), os.path.getsize(path), 'bytes')
