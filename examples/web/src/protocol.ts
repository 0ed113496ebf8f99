/**
 * The messages between the page and the training worker. Every message has a `type`; the
 * page sends {@link ToWorker}, the worker answers with {@link FromWorker}. Files travel as
 * `File` objects (structured clone), weights and pixels as transferred buffers.
 */

/** Which backend the worker should use: `auto` is WebGPU when the browser gives an adapter, else wasm. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

/** The models the app trains: the two smallest official variants, and a tiny one for quick checks. */
export type ModelChoice = 'atto' | 'femto' | 'micro';

/** Where the training images come from. */
export type DataSource =
  | { readonly kind: 'shapes'; readonly length: number; readonly size: number }
  /** An IDX image file and its label file, in either order (told apart by their dimensions), gzipped or not. */
  | { readonly kind: 'idx'; readonly files: readonly [File, File]; readonly classes: 'fashion-mnist' | 'mnist' }
  | { readonly kind: 'folder'; readonly files: readonly FolderFile[]; readonly size: number };

/** One picked image and its path inside the picked folder (`class/name.jpg`). */
export interface FolderFile {
  readonly file: File;
  readonly path: string;
}

/** What a training run uses. */
export interface TrainSettings {
  readonly model: ModelChoice;
  readonly data: DataSource;
  readonly batchSize: number;
  readonly epochs: number;
  /** Stop after this many steps (0: train all epochs). */
  readonly maxSteps: number;
  readonly lr: number;
  readonly seed: number;
}

/** An RGB picture, row-major, 3 bytes per pixel (what `evalTransform` reads). */
export interface Picture {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Which model classifies: the one trained (or reloaded) here, or official ImageNet weights. */
export type ClassifyTarget = 'trained' | 'imagenet';

/** Page → worker. */
export type ToWorker =
  | { readonly type: 'init'; readonly backend: BackendChoice; readonly threads: number }
  | { readonly type: 'train'; readonly settings: TrainSettings }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'stop' }
  | { readonly type: 'export-weights' }
  | { readonly type: 'load-weights'; readonly file: Blob }
  | { readonly type: 'load-imagenet'; readonly file: File }
  | { readonly type: 'classify'; readonly id: number; readonly target: ClassifyTarget; readonly picture: Picture };

/** The backend the worker runs on, as shown on the page. */
export interface BackendReport {
  /** `webgpu` or `wasm`. */
  readonly name: string;
  /** Threads the kernels run on (1 for WebGPU's host side). */
  readonly threads: number;
  /** Threads asked for (wasm). */
  readonly threadsRequested: number;
  /** Adapter (WebGPU) or SIMD paths (wasm), and why there is one thread when there is. */
  readonly detail: string;
  /** Why `auto` did not pick WebGPU ('' when it did or was not asked to). */
  readonly fallbackReason: string;
}

/** Memory the backend holds. */
export interface MemoryReport {
  readonly tensors: number;
  readonly bytes: number;
  readonly peakBytes: number;
}

/** One training step's figures. */
export interface StepReport {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly loss: number;
  /** Share of the batch classified right (before the step's update). */
  readonly accuracy: number;
  readonly imagesPerSec: number;
  /** Seconds left at the current speed. */
  readonly etaSec: number;
  readonly memory: MemoryReport;
}

/** A trained or loaded model, as shown on the page. */
export interface ModelReport {
  readonly description: string;
  readonly classes: readonly string[];
  readonly parameters: number;
}

/** A classification: the top five and every class's logit (the test compares the logits). */
export interface PredictionReport {
  readonly id: number;
  readonly target: ClassifyTarget;
  readonly top: readonly { readonly label: string; readonly probability: number }[];
  readonly logits: readonly number[];
}

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'ready'; readonly backend: BackendReport }
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'model'; readonly target: ClassifyTarget; readonly model: ModelReport }
  | { readonly type: 'step'; readonly report: StepReport }
  | { readonly type: 'state'; readonly state: 'training' | 'paused' | 'idle' }
  | { readonly type: 'weights'; readonly bytes: Uint8Array; readonly fileName: string }
  | { readonly type: 'prediction'; readonly report: PredictionReport }
  | { readonly type: 'error'; readonly message: string };
