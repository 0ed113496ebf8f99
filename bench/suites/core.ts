/**
 * The core suite: the `js` reference backend beside `@tensorflow/tfjs-backend-cpu`, both
 * plain JavaScript on one thread. The reference backend favours clarity and float64
 * accumulation over speed; the fast CPU path is the wasm backend.
 */
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import * as T from '@tsgrad/core';
import type { Case, Suite } from './types.js';

// tfjs's CommonJS bundle: its ESM build uses directory imports that Node rejects, and the
// union package registers every gradient (needed for the training-step case).
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as typeof TF;

export async function coreSuite(): Promise<Suite> {
  await tf.setBackend('cpu');
  await T.setBackend('js');
  const g = new T.Generator(0);
  const ours = (shape: number[]) => T.keep(T.randn(shape, { generator: g }));
  const theirs = (t: T.Tensor) => tf.keep(tf.tensor(t.dataSync() as Float32Array, t.shape as number[]));
  const cases: Case[] = [];
  const add = (name: string, o: () => unknown, a: () => unknown) =>
    cases.push({ name, oursLabel: 'tsgrad js', anchorLabel: 'tfjs-cpu', ours: () => T.tidy(o), anchor: () => tf.tidy(a as () => TF.Tensor) });

  const a = ours([256, 256]);
  const b = ours([256, 256]);
  const ta = theirs(a);
  const tb = theirs(b);
  add('matmul 256x256x256', () => T.matmul(a, b).dataSync(), () => tf.matMul(ta, tb).dataSync());

  // NCHW for us, NHWC for tfjs (its native layout).
  const x = ours([8, 16, 32, 32]);
  const w = ours([16, 16, 3, 3]);
  const tx = tf.keep(tf.transpose(theirs(x), [0, 2, 3, 1]));
  const tw = tf.keep(tf.transpose(theirs(w), [2, 3, 1, 0]));
  add('conv2d 3x3 16->16, 8x32x32, pad 1', () => T.conv2d(x, w, null, { padding: 1 }).dataSync(), () => tf.conv2d(tx as TF.Tensor4D, tw as TF.Tensor4D, 1, 'same').dataSync());

  const dw = ours([16, 1, 7, 7]);
  const tdw = tf.keep(tf.transpose(theirs(dw), [2, 3, 0, 1]));
  add('depthwise 7x7, 16 ch, 8x32x32', () => T.conv2d(x, dw, null, { padding: 3, groups: 16 }).dataSync(), () => tf.depthwiseConv2d(tx as TF.Tensor4D, tdw as TF.Tensor4D, 1, 'same').dataSync());

  const v = ours([1 << 18]);
  const tv = theirs(v);
  add('elementwise exp(x)*x+1, 256K', () => T.add(T.mul(T.exp(v), v), 1).dataSync(), () => tf.add(tf.mul(tf.exp(tv), tv), 1).dataSync());
  add('sum over 256K', () => T.sum(v).dataSync(), () => tf.sum(tv).dataSync());
  add('softmax 64x1000', () => T.softmax(v.slice(0, 0, 64000).reshape(64, 1000), -1).dataSync(), () => tf.softmax(tf.reshape(tf.slice(tv, 0, 64000), [64, 1000])).dataSync());

  // One training step (forward, backward) of a small MLP, batch 64.
  const xb = ours([64, 256]);
  const yb = T.keep(T.randint(0, 10, [64], { generator: g }));
  const w1 = ours([256, 128]).requiresGrad_();
  const w2 = ours([128, 10]).requiresGrad_();
  const txb = theirs(xb);
  const tyb = tf.keep(tf.oneHot(tf.tensor1d(Array.from(yb.dataSync()), 'int32'), 10));
  const tw1 = tf.variable(theirs(w1));
  const tw2 = tf.variable(theirs(w2));
  add(
    'MLP 256-128-10 train step, batch 64',
    () => {
      T.crossEntropy(T.matmul(T.relu(T.matmul(xb, w1)), w2), yb).backward();
      const s = T.add(T.sum(w1.grad!), T.sum(w2.grad!)).item();
      w1.zeroGrad();
      w2.zeroGrad();
      return s;
    },
    () => {
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tyb, tf.matMul(tf.relu(tf.matMul(txb, tw1)), tw2)) as TF.Scalar);
      return tf.add(tf.sum(grads[tw1.name]!), tf.sum(grads[tw2.name]!)).dataSync();
    },
  );

  return {
    cases,
    note: 'The js backend is the reference oracle (exact, float64 accumulation, any strides); speed is the job of the wasm and webgpu backends.',
    dispose: () => tf.disposeVariables(),
  };
}
