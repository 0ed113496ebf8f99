/** ConvNeXt after the move to self-registering modules: PyTorch keys, and a replaceable head. */
import { describe, expect, it } from 'vitest';
import { randn } from '@tsgrad/core';
import { Linear } from '@tsgrad/nn';
import { Block, ConvNeXt } from '../src/model.js';

describe('ConvNeXt registration', () => {
  it('keeps the official key order, and a new head replaces the old one in place', () => {
    const m = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 8, 8, 8], numClasses: 3, stemStride: 1 });
    const keys = Object.keys(m.stateDict());
    expect(keys.slice(0, 4)).toEqual(['downsample_layers.0.0.weight', 'downsample_layers.0.0.bias', 'downsample_layers.0.1.weight', 'downsample_layers.0.1.bias']);
    expect(keys).toContain('stages.0.0.gamma');
    expect(keys.filter((k) => k.startsWith('stages.0.0.'))).toEqual([
      'stages.0.0.gamma',
      'stages.0.0.dwconv.weight',
      'stages.0.0.dwconv.bias',
      'stages.0.0.norm.weight',
      'stages.0.0.norm.bias',
      'stages.0.0.pwconv1.weight',
      'stages.0.0.pwconv1.bias',
      'stages.0.0.pwconv2.weight',
      'stages.0.0.pwconv2.bias',
    ]);
    expect(keys.slice(-4)).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
    const old = m.head;
    m.head = new Linear(8, 5);
    old.dispose();
    expect(Object.keys(m.stateDict())).toEqual(keys);
    expect(m.stateDict()['head.weight']!.shape).toEqual([5, 8]);
    expect(m.forward(randn([2, 3, 8, 8])).shape).toEqual([2, 5]);
    expect([...new Block(4).namedChildren()].map(([n]) => n)).toEqual(['dwconv', 'norm', 'pwconv1', 'act', 'pwconv2', 'drop_path']);
    m.dispose();
  });
});
