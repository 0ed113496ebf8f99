/**
 * @tsgrad/nn: neural-network building blocks on @tsgrad/core, shaped like `torch.nn` and
 * `torch.optim`: {@link Module} with parameters, buffers, state dicts and train/eval mode,
 * registering the layers, `Parameter`s and `Buffer`s assigned to its properties; layers with
 * PyTorch's parameter names and default initialisation (linear, convolutions, norms,
 * embedding, attention, resampling, activations, dropout); initialisers; losses;
 * SGD, Adam and AdamW with parameter groups; learning-rate schedules; gradient clipping; an
 * EMA of model weights; safetensors reading and writing.
 *
 * @packageDocumentation
 */
export { Module, Sequential, ModuleList, Parameter, Buffer, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export {
  Linear,
  Conv2d,
  LayerNorm,
  LayerNorm2d,
  GroupNorm,
  GELU,
  ReLU,
  Identity,
  Flatten,
  Dropout,
  DropPath,
  dropPath,
  AvgPool2d,
  MaxPool2d,
  AdaptiveAvgPool2d,
  type LayerInitOptions,
  type LinearOptions,
  type Conv2dLayerOptions,
  type LayerNormOptions,
  type GroupNormOptions,
  type DropoutLayerOptions,
  type DropPathOptions,
  type PoolLayerOptions,
} from './layers.js';
export { BatchNorm1d, BatchNorm2d, InstanceNorm2d, type BatchNormOptions, type InstanceNormOptions } from './norm.js';
export { Conv1d, ConvTranspose2d, type Conv1dLayerOptions, type ConvTranspose2dLayerOptions } from './conv.js';
export { Upsample, type UpsampleMode, type UpsampleOptions } from './upsample.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { MultiheadAttention, type MultiheadAttentionOptions, type AttendOptions } from './attention.js';
export { SiLU, Softplus, LeakyReLU, ELU, Mish, Hardswish, Hardsigmoid, LogSigmoid, Tanh, Sigmoid } from './activations.js';
export { Dropout2d } from './dropout2d.js';
export * as init from './init.js';
export {
  calculateFanInAndFanOut,
  calculateGain,
  constant_,
  zeros_,
  ones_,
  uniform_,
  normal_,
  truncNormal_,
  kaimingUniform_,
  kaimingNormal_,
  xavierUniform_,
  xavierNormal_,
  type InitOptions,
  type TruncNormalOptions,
  type KaimingOptions,
  type FanMode,
  type Nonlinearity,
} from './init.js';
export { crossEntropy, mseLoss, CrossEntropyLoss, MSELoss, type Reduction, type MseLossOptions } from './losses.js';
export {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  type BaseGroup,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
  type OptimizerStateDict,
  type SGDGroup,
  type SGDOptions,
  type AdamGroup,
  type AdamOptions,
} from './optim.js';
export {
  cosineSchedule,
  stepSchedule,
  constantSchedule,
  scheduleValues,
  LRScheduler,
  type Schedule,
  type CosineScheduleOptions,
  type StepScheduleOptions,
  type LRSchedulerOptions,
} from './schedule.js';
export { clipGradNorm_, type ClipGradNormOptions } from './clip.js';
export { ModelEma, type ModelEmaOptions } from './ema.js';
export { parameterGroups, type ParameterGroupsOptions, type NamedParamGroup } from './groups.js';
// safetensors I/O (our own reader and writer; atomic saves).
export * from './io/safetensors.js';
