/**
 * @tsgrad/convnext/node: the Node-only part of @tsgrad/convnext — the `tsgrad-convnext`
 * command line, the file-based training engine (runs, checkpoints, metrics, plots),
 * evaluation of a run, the dataset file readers (MNIST/Fashion-MNIST IDX, CIFAR binaries,
 * datasets by name), `.pth` files from disk and the progress bar. The model, checkpoint
 * parsing from bytes, the data pipeline and everything else are in `@tsgrad/convnext`, which
 * runs in browsers.
 *
 * @packageDocumentation
 */
// Datasets from files.
export { Cifar10Dataset, Cifar100Dataset } from './data/cifar.js';
export { MnistDataset, FASHION_MNIST_DEBIAN_DIR, defaultIdxDirs, findIdxFiles, type MnistOptions, type IdxDatasetKind, type IdxFiles } from './data/mnist.js';
export { readIdx, nodeGunzip } from './data/idx-node.js';
export { openDataset, openDatasets } from './data/open-node.js';
// Checkpoint files.
export { loadPthFile } from './checkpoint/pth-node.js';
// Training: the engine and its checkpoints.
export { train, chooseBackend, resumeConfig, runFiles, runModel, plotRun, trainAugment, NonFiniteLossError, type TrainHooks, type TrainResult, type RunFiles, type MetricsLine } from './train/engine.js';
export { stepProfiler, traceFile, type StepProfiler } from './train/profile-steps-node.js';
export { saveCheckpoint, loadCheckpoint, type TrainProgress, type EpochEval, type LoadedCheckpoint } from './train/checkpoint.js';
// Evaluation of a run, the progress bar and the command line.
export { evaluateRun, resolveRun, scoreLogits, type EvalOptions, type EvalResult, type EvalFiles, type RunLocation, type LogitScores, type ClassAccuracy } from './eval.js';
export { ProgressBar, type ProgressStream } from './train/progress.js';
export { main, parseTrainArgs, parseEvalArgs, parseInfoArgs, type TrainArgs, type EvalArgs, type InfoArgs } from './cli.js';
// Predict from files (weights, runs, JPEG/PNG images) and the predict/export commands' parsers.
export {
  loadWeightsFile,
  loadWeightsForPredict,
  loadRunForPredict,
  listImages,
  predictImages,
  predictMetadata,
  type PredictModel,
  type WeightsFile,
  type WeightsPredictOptions,
  type ImagePrediction,
  type PredictImagesOptions,
} from './predict/predict-node.js';
// JPEG/PNG decoding (jpeg-js, pngjs) and image folders, datasets by name including folders, worker-thread batch loading.
export { IMAGE_EXTENSIONS, decodeImageFile, decodeImageBytes, scanImageFolder, openImageFolder, type OpenImageFolderOptions, type ImageFolderLayout } from './data/node/image-folder-node.js';
export { openDatasetsNode, openDatasetNode, type NodeDatasetSpec } from './data/node/open-datasets-node.js';
export { WorkerPoolProducer } from './data/node/worker-loader-node.js';
export { parsePredictArgs, parseExportArgs, type PredictArgs, type ExportArgs } from './cli.js';
// The roadmap ablation (trains every step, writes run folders and a summary).
export { roadmapAblation, runRoadmapAblationCommand, scaledRoadmapConfig, formatAblationTable, ablationSvg, type AblationOptions, type AblationRow } from './roadmap-ablation-node.js';
