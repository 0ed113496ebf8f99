/** The torchvision ResNets: parameter counts, names, a strict state-dict round trip, shapes and errors. */
import { describe, expect, it } from 'vitest';
import { randn, tidy } from '@tsgrad/core';
import { ResNet, resnet, resnet18, resnet50 } from '@tsgrad/convnext';

describe('ResNet as torchvision builds it', () => {
  // torchvision.models.<name>().parameters() counts (num_classes=1000).
  it.each([
    ['resnet18', 11_689_512],
    ['resnet34', 21_797_672],
    ['resnet50', 25_557_032],
    ['resnet101', 44_549_160],
  ] as const)('%s has %i parameters', (name, n) => {
    const m = resnet(name);
    try {
      expect(m.numParameters()).toBe(n);
    } finally {
      m.dispose();
    }
  }, 120_000);

  it('resnet18 uses BasicBlocks with torchvision names and a projection only where the shape changes', () => {
    const m = resnet18({ numClasses: 7 });
    try {
      const keys = Object.keys(m.stateDict());
      expect(keys.slice(0, 6)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']);
      expect(keys).toContain('layer1.1.bn2.running_var');
      expect(keys).toContain('layer2.0.downsample.0.weight');
      expect(keys.some((k) => k.startsWith('layer1.0.downsample'))).toBe(false);
      expect(keys.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
      expect(m.fc.weight.shape).toEqual([7, 512]);
    } finally {
      m.dispose();
    }
  });

  it('runs any input size, its state dict loads strictly into a fresh model and gives the same eval logits', async () => {
    const a = resnet50({ numClasses: 4 });
    const b = resnet50({ numClasses: 4 });
    try {
      b.loadStateDict(a.stateDict(), { strict: true });
      a.eval();
      b.eval();
      await tidy(async () => {
        const x = randn([1, 3, 40, 33]);
        const ya = await a.forward(x).data();
        const yb = await b.forward(x).data();
        expect(Array.from(ya)).toEqual(Array.from(yb));
        expect(a.features(x).map((f) => f.shape)).toEqual([
          [1, 256, 10, 9],
          [1, 512, 5, 5],
          [1, 1024, 3, 3],
          [1, 2048, 2, 2],
        ]);
      });
    } finally {
      a.dispose();
      b.dispose();
    }
  }, 120_000);

  it('rejects bad options and inputs by name', () => {
    expect(() => new ResNet({ layers: [1, 2, 3] })).toThrow(/layers needs 4 positive integers/);
    expect(() => new ResNet({ block: 'basic', groups: 32 })).toThrow(/BasicBlock only supports groups=1/);
    expect(() => new ResNet({ numClasses: 0 })).toThrow(/numClasses must be a positive integer/);
    // @ts-expect-error: not a variant
    expect(() => resnet('resnet7')).toThrow(/unknown variant 'resnet7'/);
    const m = resnet18({ numClasses: 2 });
    try {
      expect(() => m.forward(randn([1, 1, 32, 32]))).toThrow(/expected a 4-D NCHW input \[N, 3, H, W\]/);
    } finally {
      m.dispose();
    }
  });
});
