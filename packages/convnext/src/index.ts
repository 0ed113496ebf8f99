/**
 * @tsgrad/convnext: ConvNeXt in every variant (atto to xlarge) with the official parameter
 * names and initialisation, backbone features, ConvNeXt's optimizer parameter groups,
 * checkpoint import (`.pth` via our own zip reader and restricted unpickler, timm key names),
 * datasets and augmentation, and the training engine behind the `tsgrad-convnext` CLI.
 *
 * @packageDocumentation
 */
export {
  ConvNeXt,
  Block,
  CONVNEXT_VARIANTS,
  convnext,
  convnextAtto,
  convnextFemto,
  convnextPico,
  convnextNano,
  convnextTiny,
  convnextSmall,
  convnextBase,
  convnextLarge,
  convnextXlarge,
  convnextParameterCount,
  type ConvNeXtArch,
  type ConvNeXtVariant,
  type ConvNeXtOptions,
  type ConvNeXtVariantOptions,
  type BlockOptions,
  type ParameterCountOptions,
} from './model.js';
export { convnextLayerId, convnextParamGroups, type ConvNeXtParamGroupsOptions } from './optim.js';
// Checkpoints: .pth reading and official/timm key mapping.
export * from './checkpoint/index.js';
// Data: the built-in shapes dataset, MNIST/Fashion-MNIST (IDX), CIFAR-10/100, datasets by name, augmentation and the loader.
export { type Example, type ImageDataset } from './data/dataset.js';
export { ShapesDataset, SHAPE_CLASSES, type ShapesOptions } from './data/shapes.js';
export { Cifar10Dataset, Cifar100Dataset, CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES } from './data/cifar.js';
export { parseIdx, readIdx, encodeIdx, isGzip, type IdxArray, type ParseIdxOptions } from './data/idx.js';
export { MnistDataset, MNIST_CLASSES, FASHION_MNIST_CLASSES, FASHION_MNIST_DEBIAN_DIR, defaultIdxDirs, findIdxFiles, type MnistOptions, type IdxDatasetKind, type IdxFiles } from './data/mnist.js';
export { DATASET_NAMES, DATASET_STATS, datasetNormalization, openDataset, openDatasets, type DatasetName, type DatasetSpec, type DatasetSplits, type Normalization } from './data/datasets.js';
export { augmentImage, mixBatch, type ImageAugment, type MixAugment } from './data/augment.js';
export { DataLoader, type LoaderOptions, type LoadedBatch } from './data/loader.js';
// Training: the engine, its config and checkpoints, and the command line.
export { defaultTrainConfig, checkConfig, type TrainConfig } from './train/config.js';
export { train, chooseBackend, resumeConfig, runFiles, runModel, plotRun, NonFiniteLossError, type TrainHooks, type TrainResult, type RunFiles, type MetricsLine } from './train/engine.js';
export { saveCheckpoint, loadCheckpoint, type TrainProgress, type EpochEval, type LoadedCheckpoint } from './train/checkpoint.js';
export { chartsSvg, smooth, type Chart, type Series } from './train/plot.js';
export { confusionSvg } from './train/confusion.js';
// Evaluation, FLOPs and the info report.
export { evaluateRun, resolveRun, scoreLogits, type EvalOptions, type EvalResult, type EvalFiles, type RunLocation, type LogitScores, type ClassAccuracy } from './eval.js';
export { convnextCost, convnextFlops, type ConvNeXtCostOptions, type ConvNeXtCost, type LayerCost } from './flops.js';
export { formatModelInfo, formatFlops, type ModelInfoOptions } from './info.js';
export { ProgressBar, type ProgressStream } from './train/progress.js';
export { main, parseTrainArgs, parseEvalArgs, parseInfoArgs, type TrainArgs, type EvalArgs, type InfoArgs } from './cli.js';
// Export (safetensors with official/timm names, ONNX opset 17) and predict's browser-safe parts (the Node file/CLI side is in predict/predict-node.ts).
export { exportConvNeXtSafetensors, convnextExportStateDict, type SafetensorsExportOptions } from './export/safetensors-export.js';
export { exportConvNeXtOnnx, ONNX_OPSET, type OnnxExportOptions } from './export/onnx/convnext-onnx.js';
export { encodeOnnxModel, ONNX_FLOAT, ONNX_INT64, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, type OnnxAttribute } from './export/onnx/proto.js';
export { ProtoWriter } from './export/onnx/protobuf.js';
export { resizeBicubic, resizeShorter, centerCrop, evalTransform, topK, type RgbImage, type EvalTransformOptions, type Prediction } from './predict/preprocess.js';
export { inferConvNeXtArch, convnextFromStateDict, type InferredArch } from './predict/from-state-dict.js';
export { IMAGENET_CLASSES } from './imagenet-classes.js';
export { parsePredictArgs, parseExportArgs, type PredictArgs, type ExportArgs } from './cli.js';
