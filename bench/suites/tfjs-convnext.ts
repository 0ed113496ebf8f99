/**
 * ConvNeXt-T forward written with tfjs ops (NHWC, random weights of the official shapes),
 * for timing tfjs-wasm beside our forward: tfjs has no ConvNeXt of its own. Shared by the
 * wasm and targets suites.
 */
import type * as TF from '@tensorflow/tfjs';

/**
 * Builds the weights on tfjs's current backend and returns one forward of a [1, 3, 224, 224]
 * NCHW input (transposed to NHWC once here), reading the logits back.
 */
export function tfjsConvNeXtTiny(tf: typeof TF, input: Float32Array): () => void {
  const r = (shape: number[], std = 0.02) => tf.keep(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), std));
  const ln = (x: TF.Tensor, w: TF.Tensor, b: TF.Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-6))), w), b);
  };
  const dims = [96, 192, 384, 768];
  const depths = [3, 3, 9, 3];
  const stem = { w: r([4, 4, 3, 96]), b: r([96]), lw: tf.keep(tf.ones([96])), lb: r([96]) };
  const downs = [0, 1, 2].map((i) => ({ lw: tf.keep(tf.ones([dims[i]!])), lb: r([dims[i]!]), w: r([2, 2, dims[i]!, dims[i + 1]!]), b: r([dims[i + 1]!]) }));
  const blocks = dims.map((c, i) =>
    Array.from({ length: depths[i]! }, () => ({ dw: r([7, 7, c, 1]), db: r([c]), lw: tf.keep(tf.ones([c])), lb: r([c]), w1: r([c, 4 * c]), b1: r([4 * c]), w2: r([4 * c, c]), b2: r([c]), g: tf.keep(tf.fill([c], 1e-6)) })),
  );
  const head = { lw: tf.keep(tf.ones([768])), lb: r([768]), w: r([768, 1000]), b: r([1000]) };
  const tx = tf.keep(tf.transpose(tf.tensor(input, [1, 3, 224, 224]), [0, 2, 3, 1]));
  return () =>
    tf.tidy(() => {
      let h = ln(tf.add(tf.conv2d(tx as TF.Tensor4D, stem.w as TF.Tensor4D, 4, 'valid'), stem.b), stem.lw, stem.lb);
      for (let i = 0; i < 4; i++) {
        if (i > 0) {
          const d = downs[i - 1]!;
          h = tf.add(tf.conv2d(ln(h, d.lw, d.lb) as TF.Tensor4D, d.w as TF.Tensor4D, 2, 'valid'), d.b);
        }
        for (const p of blocks[i]!) {
          const c = dims[i]!;
          const [n, hh, ww] = h.shape as number[];
          let y = tf.add(tf.depthwiseConv2d(h as TF.Tensor4D, p.dw as TF.Tensor4D, 1, 'same'), p.db);
          y = tf.reshape(ln(y, p.lw, p.lb), [-1, c]);
          y = tf.add(tf.matMul(y, p.w1), p.b1);
          y = tf.mul(tf.mul(y, 0.5), tf.add(tf.erf(tf.mul(y, Math.SQRT1_2)), 1));
          y = tf.mul(tf.add(tf.matMul(y, p.w2), p.b2), p.g);
          h = tf.add(h, tf.reshape(y, [n!, hh!, ww!, c]));
        }
      }
      const pooled = ln(tf.mean(h, [1, 2]), head.lw, head.lb);
      tf.add(tf.matMul(pooled, head.w), head.b).dataSync();
    });
}
