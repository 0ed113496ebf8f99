/** Module: registration, dotted names and order, state dicts and their errors, modes, moving, containers. */
import { describe, expect, it } from 'vitest';
import { getBackend, memory, ones, tensor, tidy, zeros, type Tensor } from '@tsgrad/core';
import { BatchNorm2d, Conv2d, DropPath, Dropout, LayerNorm, Linear, Module, ModuleList, ReLU, Sequential } from '@tsgrad/nn';

class Net extends Module {
  declare readonly scale: Tensor;
  declare readonly body: Sequential;
  declare readonly heads: ModuleList<Linear>;
  constructor() {
    super();
    this.registerParameter('scale', ones([4]));
    this.registerModule('body', new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU()));
    this.registerModule('heads', new ModuleList([new Linear(4, 2), new Linear(4, 3, { bias: false })]));
  }
  override forward(x: Tensor): Tensor {
    const f = this.body.forward(x).mean([2, 3]).mul(this.scale);
    return this.heads.at(0).forward(f);
  }
}

describe('Module', () => {
  it('names parameters with dots, own parameters first, in registration order', () => {
    const net = new Net();
    expect([...net.namedParameters()].map(([n, p]) => [n, p.shape])).toEqual([
      ['scale', [4]],
      ['body.0.weight', [4, 3, 3, 3]],
      ['body.0.bias', [4]],
      ['body.1.weight', [4]],
      ['body.1.bias', [4]],
      ['heads.0.weight', [2, 4]],
      ['heads.0.bias', [2]],
      ['heads.1.weight', [3, 4]],
    ]);
    expect([...net.namedBuffers()].map(([n]) => n)).toEqual(['body.1.running_mean', 'body.1.running_var', 'body.1.num_batches_tracked']);
    expect(Object.keys(net.stateDict())).toEqual([
      'scale',
      'body.0.weight',
      'body.0.bias',
      'body.1.weight',
      'body.1.bias',
      'body.1.running_mean',
      'body.1.running_var',
      'body.1.num_batches_tracked',
      'heads.0.weight',
      'heads.0.bias',
      'heads.1.weight',
    ]);
    expect(net.numParameters()).toBe(4 + 108 + 4 + 8 + 10 + 12);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect([...net.namedModules()].map(([n]) => n)).toEqual(['', 'body', 'body.0', 'body.1', 'body.2', 'heads', 'heads.0', 'heads.1']);
    net.dispose();
  });

  it('round-trips a state dict, keeping parameter identity', () => {
    const a = new Net();
    const b = new Net();
    const wBefore = b.body.at(0) as Conv2d;
    const weight = wBefore.weight;
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect((b.body.at(0) as Conv2d).weight).toBe(weight); // same object
    for (const [k, v] of Object.entries(a.stateDict())) expect(b.stateDict()[k]!.toArray()).toEqual(v.toArray());
    a.dispose();
    b.dispose();
  });

  it('names every missing, unexpected and misshaped key in one error, and loads nothing', () => {
    const net = new Net();
    const before = net.scale.toArray();
    const sd: Record<string, Tensor> = { ...net.stateDict() };
    delete sd['heads.1.weight'];
    delete sd['body.1.running_var'];
    sd['extra.weight'] = zeros([2]);
    sd['head.fc.weight'] = zeros([2]);
    sd['scale'] = zeros([5]);
    sd['body.0.weight'] = zeros([4, 3, 5, 5]);
    let msg = '';
    try {
      net.loadStateDict(sd);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('size mismatch for 2 key(s)');
    expect(msg).toContain('scale: checkpoint [5], model [4]');
    expect(msg).toContain('body.0.weight: checkpoint [4, 3, 5, 5], model [4, 3, 3, 3]');
    expect(msg).toContain('missing key(s) (2): body.1.running_var, heads.1.weight');
    expect(msg).toContain('unexpected key(s) (2): extra.weight, head.fc.weight');
    expect(net.scale.toArray()).toEqual(before);
    // Not strict: missing/unexpected are reported, shapes still must match.
    sd['scale'] = ones([4]).mul(2);
    sd['body.0.weight'] = zeros([4, 3, 3, 3]);
    const res = net.loadStateDict(sd, { strict: false });
    expect(res.missingKeys).toEqual(['body.1.running_var', 'heads.1.weight']);
    expect(res.unexpectedKeys).toEqual(['extra.weight', 'head.fc.weight']);
    expect(net.scale.toArray()).toEqual([2, 2, 2, 2]);
    net.dispose();
  });

  it('train/eval reach every descendant and change Dropout, DropPath and BatchNorm', () => {
    const seq = new Sequential(new Dropout(0.5), new DropPath(0.5), new BatchNorm2d(2));
    expect([...seq.modules()].every((m) => m.training)).toBe(true);
    seq.eval();
    expect([...seq.modules()].some((m) => m.training)).toBe(false);
    const x = tensor([[[[1, 2]], [[3, 4]]]]);
    // eval: dropout and drop path are identity; BN uses running stats (0 mean, 1 var).
    const y = seq.forward(x).toArray() as number[][][][];
    expect(y[0]![0]![0]![0]).toBeCloseTo(1 / Math.sqrt(1 + 1e-5), 6);
    seq.train();
    expect((seq.at(2) as BatchNorm2d).training).toBe(true);
    seq.dispose();
  });

  it('registered tensors survive tidy; assigning a registered name replaces the tensor', () => {
    const lin = tidy(() => new Linear(3, 2));
    expect(lin.weight.isDisposed).toBe(false);
    const w = zeros([2, 3]);
    (lin as unknown as { weight: Tensor }).weight = w;
    expect(lin.weight).toBe(w);
    expect(lin.stateDict().weight).toBe(w);
    expect(w.requiresGrad).toBe(true);
    expect(() => new Module().registerParameter('a.b', zeros([1]))).toThrow(/contain no '\.'/);
    expect(() => new Module().registerParameter('i', zeros([1], { dtype: 'int32' }))).toThrow(/float tensor/);
    lin.dispose();
  });

  it('moves to a backend (the same one is a no-op) and disposes everything', () => {
    const before = memory().tensors;
    const net = new Net();
    const w = net.scale;
    net.to(getBackend().name);
    expect(net.scale).toBe(w);
    net.to(getBackend());
    expect(() => net.to('nope')).toThrow(/not initialised/);
    net.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('prints a tree', () => {
    const s = new Sequential(new Linear(2, 3), new LayerNorm(3)).toString();
    expect(s).toBe('Sequential(\n  (0): Linear(inFeatures=2, outFeatures=3, bias=true)\n  (1): LayerNorm([3], eps=0.00001)\n)');
  });

  it('Sequential and ModuleList index and iterate', () => {
    const l = new ModuleList([new Linear(1, 1), new Linear(1, 2)]);
    expect(l.length).toBe(2);
    expect(l.at(-1).outFeatures).toBe(2);
    expect([...l].length).toBe(2);
    expect(() => l.at(5)).toThrow(/out of range/);
    expect(() => new Module().forward(zeros([1]))).toThrow(/not implemented/);
    l.dispose();
  });
});
