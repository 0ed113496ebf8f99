/** Modules register what is assigned to their properties: class fields, constructor assignments, arrays, Parameter, Buffer. */
import { describe, expect, it } from 'vitest';
import { memory, ones, randn, tensor, tidy, zeros, type Tensor } from '@tsgrad/core';
import { BatchNorm2d, Buffer, Linear, Module, ModuleList, Parameter, ReLU, SGD, Sequential, mseLoss } from '@tsgrad/nn';

const names = (m: Module): string[] => [...m.namedParameters()].map(([n]) => n);

class FieldMlp extends Module {
  fc1 = new Linear(4, 8);
  act = new ReLU();
  fc2 = new Linear(8, 2);
  override forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

class CtorMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly scale: Tensor;
  readonly stats: Tensor;
  constructor() {
    super();
    this.fc1 = new Linear(4, 8);
    this.fc2 = new Linear(8, 2);
    this.scale = Parameter(ones([2]));
    this.stats = Buffer(zeros([2]));
  }
  override forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu()).mul(this.scale);
  }
}

describe('automatic registration', () => {
  it('finds class-field layers (they were silently 0 parameters before)', () => {
    const m = new FieldMlp();
    expect(names(m)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.numParameters()).toBe(4 * 8 + 8 + 8 * 2 + 2);
    expect([...m.namedChildren()].map(([n]) => n)).toEqual(['fc1', 'act', 'fc2']);
    expect(Object.keys(m.stateDict())).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    m.dispose();
  });

  it('finds constructor-assigned layers, Parameter() and Buffer(), own tensors before children', () => {
    const m = new CtorMlp();
    expect(names(m)).toEqual(['scale', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect([...m.namedBuffers()].map(([n]) => n)).toEqual(['stats']);
    expect(Object.keys(m.stateDict())).toEqual(['scale', 'stats', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.scale.requiresGrad).toBe(true);
    expect(m.stats.requiresGrad).toBe(false);
    m.dispose();
  });

  it('registers arrays of modules with numeric keys, live (push adds a child)', () => {
    class Tower extends Module {
      stem = new Linear(3, 4);
      blocks: Linear[] = [new Linear(4, 4), new Linear(4, 4, { bias: false })];
      head = new ModuleList([new Linear(4, 1)]);
    }
    const t = new Tower();
    expect(names(t)).toEqual(['stem.weight', 'stem.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'head.0.weight', 'head.0.bias']);
    expect([...t.namedModules()].map(([n]) => n)).toEqual(['', 'stem', 'blocks', 'blocks.0', 'blocks.1', 'head', 'head.0']);
    expect(Array.isArray(t.blocks)).toBe(true); // the property stays the user's array
    t.blocks.push(new Linear(4, 2));
    expect(names(t)).toContain('blocks.2.weight');
    t.blocks.pop();
    t.blocks.pop();
    expect(names(t).filter((n) => n.startsWith('blocks'))).toEqual(['blocks.0.weight', 'blocks.0.bias']);
    expect(t.toString()).toContain('(blocks): ModuleList(');
    t.dispose();
  });

  it('walks nested modules at every depth', () => {
    class Inner extends Module {
      lin = new Linear(2, 2);
    }
    class Middle extends Module {
      inner = new Inner();
      list = [new Inner()];
    }
    class Outer extends Module {
      mid = new Middle();
      seq = new Sequential(new Inner(), new ReLU());
    }
    const o = new Outer();
    expect(names(o)).toEqual([
      'mid.inner.lin.weight',
      'mid.inner.lin.bias',
      'mid.list.0.lin.weight',
      'mid.list.0.lin.bias',
      'seq.0.lin.weight',
      'seq.0.lin.bias',
    ]);
    o.eval();
    expect([...o.modules()].every((m) => !m.training)).toBe(true);
    o.dispose();
  });

  it('trains and saves an unregistered head in a mixed model', () => {
    class Mixed extends Module {
      declare readonly body: Linear;
      readonly head: Linear;
      constructor() {
        super();
        this.registerModule('body', new Linear(3, 4));
        this.head = new Linear(4, 1); // plain assignment: registered too
      }
      override forward(x: Tensor): Tensor {
        return this.head.forward(this.body.forward(x).relu());
      }
    }
    const m = new Mixed();
    // `head` is a declared field, so its property exists (undefined) before the constructor
    // body registers `body`: property creation order puts it first.
    expect(Object.keys(m.stateDict())).toEqual(['head.weight', 'head.bias', 'body.weight', 'body.bias']);
    const before = m.head.weight.toArray();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const x = randn([5, 3]);
    const y = randn([5, 1]);
    const loss = mseLoss(m.forward(x), y);
    loss.backward();
    opt.step();
    expect(m.head.weight.toArray()).not.toEqual(before);
    m.dispose();
  });

  it('orders by property creation, mixing registered and assigned names', () => {
    class Order extends Module {
      constructor() {
        super();
        (this as Record<string, unknown>).c = new Linear(1, 1);
        this.registerModule('a', new Linear(1, 1));
        (this as Record<string, unknown>).b = new Linear(1, 1);
        this.registerParameter('p2', ones([1]));
        (this as Record<string, unknown>).p1 = Parameter(ones([1]));
      }
    }
    const m = new Order();
    expect([...m.namedChildren()].map(([n]) => n)).toEqual(['c', 'a', 'b']);
    expect(names(m)).toEqual(['p2', 'p1', 'c.weight', 'c.bias', 'a.weight', 'a.bias', 'b.weight', 'b.bias']);
    m.dispose();
  });

  it('lists a name once when it is both assigned and registered', () => {
    class Both extends Module {
      fc = new Linear(2, 2);
      constructor() {
        super();
        this.registerModule('fc', this.fc);
      }
    }
    const m = new Both();
    expect(names(m)).toEqual(['fc.weight', 'fc.bias']);
    expect([...m.namedChildren()].length).toBe(1);
    // The same module under two names: one set of parameters, both state-dict keys (as PyTorch).
    (m as unknown as Record<string, unknown>).alias = m.fc;
    expect(names(m)).toEqual(['fc.weight', 'fc.bias']);
    expect(Object.keys(m.stateDict())).toEqual(['fc.weight', 'fc.bias', 'alias.weight', 'alias.bias']);
    m.dispose();
  });

  it('re-assignment replaces a child in place; assignment may change the kind; delete removes', () => {
    const m = new FieldMlp();
    expect([...m.namedChildren()].map(([n]) => n)).toEqual(['fc1', 'act', 'fc2']);
    const old = m.fc1;
    m.fc1 = new Linear(4, 8, { bias: false });
    expect([...m.namedChildren()].map(([n]) => n)).toEqual(['fc1', 'act', 'fc2']);
    expect(names(m)).toEqual(['fc1.weight', 'fc2.weight', 'fc2.bias']);
    old.dispose();
    const r = m as unknown as Record<string, unknown>;
    r.act = Parameter(ones([3])); // a module slot now holds a parameter
    expect(names(m)).toEqual(['act', 'fc1.weight', 'fc2.weight', 'fc2.bias']);
    expect(() => {
      r.fc2 = zeros([1]); // a plain tensor cannot replace a submodule
    }).toThrow(/cannot assign a tensor to 'fc2', a submodule/);
    delete r.fc2;
    expect(names(m)).toEqual(['act', 'fc1.weight']);
    m.dispose();
  });

  it('takes a float leaf with requiresGrad as a parameter, ignores plain tensors, stays after freezing', () => {
    class T extends Module {
      w = randn([2]).requiresGrad_();
      constant = tensor([1, 2]);
    }
    const m = new T();
    expect(names(m)).toEqual(['w']);
    expect(Object.keys(m.stateDict())).toEqual(['w']);
    m.requiresGrad_(false);
    expect(names(m)).toEqual(['w']); // still a parameter once frozen
    m.dispose();
    m.constant.dispose();
  });

  it('explains a parameter disposed by tidy before it was found, and a mixed array', () => {
    class Lost extends Module {
      w = randn([2]).requiresGrad_();
    }
    const m = tidy(() => new Lost());
    expect(() => m.parameters()).toThrow(/'w' was disposed before the module found it/);
    class Kept extends Module {
      w = Parameter(randn([2]));
    }
    const k = tidy(() => new Kept());
    expect(k.parameters()[0]!.isDisposed).toBe(false);
    k.dispose();
    class Bad extends Module {
      parts: unknown[] = [new Linear(1, 1), 3];
    }
    expect(() => new Bad().parameters()).toThrow(/'parts' is an array mixing modules/);
  });

  it('moves and disposes what it found', () => {
    const before = memory().tensors;
    const m = new CtorMlp();
    m.to('js');
    m.train(false);
    expect(m.fc1.training).toBe(false);
    m.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('keeps PyTorch buffer names on BatchNorm found through a field', () => {
    class Net extends Module {
      bn = new BatchNorm2d(2);
    }
    const n = new Net();
    expect(Object.keys(n.stateDict())).toEqual(['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    n.dispose();
  });
});

describe('automatic registration: cycles', () => {
  it('a child holding its parent is a clear error in stateDict, and prints without recursing', () => {
    class Child extends Module {
      lin = new Linear(1, 1);
      parent: Module | null = null;
    }
    class Parent extends Module {
      child = new Child();
    }
    const p = new Parent();
    p.child.parent = p;
    expect(() => p.stateDict()).toThrow(/the module tree has a cycle at 'child.parent'/);
    expect(p.toString()).toContain('(parent): Parent() <cycle>');
    expect(p.parameters().length).toBe(2); // parameters dedupe modules, so a cycle is harmless there
    p.child.parent = null;
    expect(Object.keys(p.stateDict())).toEqual(['child.lin.weight', 'child.lin.bias']);
    p.dispose();
  });
});
