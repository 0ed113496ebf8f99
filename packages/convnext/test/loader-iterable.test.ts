/** The DataLoader is iterable: each loop is the next epoch, yielding [images, labels]. */
import { describe, expect, it } from 'vitest';
import { DataLoader } from '../src/data/loader.js';
import { ShapesDataset } from '../src/data/shapes.js';

describe('DataLoader iteration', () => {
  it('for await yields [x, y] for every batch of an epoch, the next loop the next epoch', async () => {
    const ds = new ShapesDataset({ length: 10, size: 8, seed: 1 });
    const loader = new DataLoader(ds, { batchSize: 4, seed: 2, dropLast: false });
    const seen: number[][] = [];
    for await (const [x, y] of loader) {
      expect(x.shape.slice(1)).toEqual([3, 8, 8]);
      expect(y.dtype).toBe('int32');
      expect(x.shape[0]).toBe(y.shape[0]);
      seen.push(Array.from(y.dataSync()));
      x.dispose();
      y.dispose();
    }
    expect(seen.map((l) => l.length)).toEqual([4, 4, 2]);
    const epoch0 = loader.batch(0, 1);
    expect(Array.from(epoch0.labels.dataSync())).toEqual(seen[1]);
    expect(loader.nextEpoch).toBe(1);
    // A plain for...of works too and reads epoch 1 (reshuffled).
    const second: number[][] = [];
    for (const [x, y] of loader) {
      second.push(Array.from(y.dataSync()));
      x.dispose();
      y.dispose();
    }
    const epoch1 = loader.batch(1, 0);
    expect(second[0]).toEqual(Array.from(epoch1.labels.dataSync()));
    expect(loader.nextEpoch).toBe(2);
    expect([...loader.epoch(0)].map(([, y]) => Array.from(y.dataSync()))).toEqual(seen);
  });
});
