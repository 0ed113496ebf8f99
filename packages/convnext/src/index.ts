/**
 * @tsgrad/convnext: ConvNeXt in every variant (atto to xlarge) with the official parameter
 * names and initialisation, backbone features, ConvNeXt's optimizer parameter groups,
 * checkpoint import (`.pth` via our own zip reader and restricted unpickler, timm key names),
 * datasets and augmentation. This entry runs in browsers; the Node-only parts (the
 * `tsgrad-convnext` CLI, the file-based training engine, evaluation, dataset file readers,
 * `.pth` and checkpoint files) are in `@tsgrad/convnext/node`.
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
  overlapPadding,
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
// Data: the built-in shapes dataset, IDX parsing, class names, dataset statistics, augmentation and the loader (file readers: ./node.ts).
export { type Example, type ImageDataset } from './data/dataset.js';
export { ShapesDataset, SHAPE_CLASSES, type ShapesOptions } from './data/shapes.js';
export { CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES, MNIST_CLASSES, FASHION_MNIST_CLASSES } from './data/classes.js';
export { parseIdx, decodeIdx, encodeIdx, isGzip, type IdxArray, type ParseIdxOptions } from './data/idx.js';
export { IdxImageDataset, type IdxImageDatasetOptions } from './data/idx-dataset.js';
export { DATASET_NAMES, DATASET_STATS, datasetImageSize, datasetNormalization, type DatasetName, type DatasetSpec, type DatasetSplits, type Normalization } from './data/datasets.js';
export { augmentImage, mixBatch, type ImageAugment, type MixAugment } from './data/augment.js';
export { DataLoader, type LoaderOptions, type LoadedBatch } from './data/loader.js';
// Training: its config and the charts (the engine, checkpoint files and the CLI: ./node.ts).
export { defaultTrainConfig, checkConfig, type TrainConfig } from './train/config.js';
export { chartsSvg, smooth, type Chart, type Series } from './train/plot.js';
export { confusionSvg } from './train/confusion.js';
// FLOPs and the info report.
export { convnextCost, convnextFlops, type ConvNeXtCostOptions, type ConvNeXtCost, type LayerCost } from './flops.js';
export { formatModelInfo, formatFlops, type ModelInfoOptions } from './info.js';
// Export (safetensors with official/timm names, ONNX opset 17) and predict's browser-safe parts (the Node file/CLI side is in predict/predict-node.ts).
export { exportConvNeXtSafetensors, convnextExportStateDict, type SafetensorsExportOptions } from './export/safetensors-export.js';
export { exportConvNeXtOnnx, ONNX_OPSET, type OnnxExportOptions } from './export/onnx/convnext-onnx.js';
export { encodeOnnxModel, ONNX_FLOAT, ONNX_INT64, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo, type OnnxAttribute } from './export/onnx/proto.js';
export { ProtoWriter } from './export/onnx/protobuf.js';
// predict's input: timm's eval transform on data/'s PIL-exact resize and crop (resizeByteImage, resizeShorterSide, centerCropByteImage below), normalised; top-k.
export { evalTransform, topK, type EvalTransformOptions, type Prediction } from './predict/preprocess.js';
export { inferConvNeXtArch, convnextFromStateDict, type InferredArch } from './predict/from-state-dict.js';
export { IMAGENET_CLASSES } from './imagenet-classes.js';
// The paper's augmentation on 8-bit images (PIL-exact resize, RandomResizedCrop, timm RandAugment, RandomErasing), image folders (decoder passed in; Node's is under data/node) and prefetching.
export { type ByteImage, Rng, roundHalfEven, checkByteImage, emptyByteImage, floatToByteImage, byteToFloatImage, cropByteImage, flipByteImage } from './data/byte-image.js';
export { resizeByteImage, resizeShorterSide, type ResizeFilter } from './data/resize.js';
export { randomResizedCrop, randomResizedCropParams, centerCrop as centerCropByteImage, evalResizeCrop, type ResizedCropOptions, type CropBox } from './data/crop.js';
export { parseRandAugment, randAugment, randAugmentOp, levelToArg, applyOp, autoContrast, equalize, posterize, solarize, grey, smooth as smoothFilter, blend, affine, rotate, RAND_TRANSFORMS, RAND_INCREASING_TRANSFORMS, type RandAugmentConfig, type RandAugmentOpName } from './data/randaugment.js';
export { randomErase, type EraseMode, type RandomErasingOptions } from './data/random-erasing.js';
export { augmentExample, exampleGenerator, type ExampleNormalization } from './data/augment.js';
export { isByteImageDataset, type ByteImageDataset } from './data/byte-dataset.js';
export { ImageFolderDataset, type ImageFolderEntry, type ImageFolderOptions } from './data/image-folder.js';
export { hostBatchToTensors, type HostBatch } from './data/loader.js';
export { Prefetcher, InlineProducer, type BatchProducer } from './data/prefetch.js';
export { resolveAugmentDefaults, PAPER_RANDAUGMENT } from './train/config.js';
// torchvision's ResNets (the roadmap's starting point).
export { ResNet, BasicBlock, Bottleneck, RESNET_VARIANTS, resnet, resnet18, resnet34, resnet50, resnet101, type ResNetVariant, type ResNetOptions, type ResNetVariantOptions } from './resnet.js';
// The paper's roadmap, ResNet-50 to ConvNeXt-T: one configurable network, every step by name, and Table 10 recomputed.
export { ROADMAP_STEPS, ROADMAP_CONFIGS, RoadmapBlock, RoadmapResNet, roadmap, roadmapConfig, roadmapNetwork, roadmapStageWidths, checkRoadmapConfig, type RoadmapStep, type RoadmapConfig, type RoadmapBuildOptions, type RoadmapOptions } from './roadmap.js';
export { ROADMAP_PAPER, roadmapCost, roadmapTable, formatRoadmapTable, type PaperFigures, type RoadmapCost, type RoadmapCostOptions, type RoadmapRow } from './roadmap-flops.js';
