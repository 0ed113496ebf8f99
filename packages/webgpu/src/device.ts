/// <reference types="@webgpu/types" preserve="true" />
/**
 * Finding a WebGPU device: `navigator.gpu` in browsers (and Deno), the `webgpu` npm
 * package (Dawn) in Node. The adapter's limits that matter for compute are requested, so
 * that big tensors and 256-thread workgroups work where the hardware allows.
 */

/** How to find the device. */
export interface DeviceOptions {
  /** A GPU object to use instead of `navigator.gpu` / the `webgpu` package. */
  readonly gpu?: GPU;
  /** An already created device (the backend then does not own it). */
  readonly device?: GPUDevice;
  /** Passed to `requestAdapter`. */
  readonly powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter. */
  readonly forceFallbackAdapter?: boolean;
  /** Dawn toggles for the `webgpu` package in Node, e.g. `['backend=vulkan']`. */
  readonly dawnFlags?: readonly string[];
}

/** A device and what was learned while getting it. */
export interface AcquiredDevice {
  /** The device, created with the adapter's compute limits. */
  readonly device: GPUDevice;
  /** Adapter description: vendor, architecture, device, description (whatever it reports). */
  readonly adapterName: string;
  /** Whether the adapter said it is a software fallback (e.g. SwiftShader). */
  readonly isFallback: boolean;
  /** The GPU object, kept referenced: dawn.node crashes if it is collected while in use. */
  readonly gpu: GPU | null;
}

/** Limits requested at the adapter's value (when it offers more than the default). */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

// dawn.node's GPU objects must stay referenced for the life of the process.
const keepAlive: GPU[] = [];

interface DawnModule {
  create(flags: string[]): GPU;
}

/** Node's `process`, read off globalThis so that browser bundles hold no reference to a `process` global. */
function nodeProcess(): { versions: { node?: string }; env: Record<string, string | undefined> } | null {
  const proc = (globalThis as { process?: { versions?: { node?: string }; env?: Record<string, string | undefined> } }).process;
  return typeof proc?.versions?.node === 'string' ? { versions: proc.versions, env: proc.env ?? {} } : null;
}

async function nodeGpu(flags: readonly string[], tried: string[]): Promise<GPU | null> {
  const proc = nodeProcess();
  if (!proc) return null;
  // A variable specifier keeps bundlers from pulling the Node-only package into browser builds.
  const spec = 'webgpu';
  let mod: DawnModule;
  try {
    mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ spec)) as DawnModule;
  } catch (e) {
    tried.push(`the 'webgpu' npm package (Dawn): could not be loaded (${(e as Error).message}; it is an optional peer dependency of @tsgrad/webgpu: \`npm install webgpu\` to use WebGPU in Node)`);
    return null;
  }
  const gpu = mod.create([...flags]);
  keepAlive.push(gpu);
  tried.push(`the 'webgpu' npm package (Dawn) with flags [${flags.join(', ')}], VK_ICD_FILENAMES=${proc.env['VK_ICD_FILENAMES'] ?? '(unset)'}`);
  return gpu;
}

/** Finds an adapter and creates a device, or throws an error naming everything tried. */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  if (opts.device) return { device: opts.device, adapterName: 'user-supplied device', isFallback: false, gpu: opts.gpu ?? null };
  const tried: string[] = [];
  const candidates: GPU[] = [];
  if (opts.gpu) {
    candidates.push(opts.gpu);
    tried.push('the GPU object passed in options.gpu');
  } else {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav?.gpu) {
      candidates.push(nav.gpu);
      tried.push('navigator.gpu');
    } else {
      tried.push('navigator.gpu (absent)');
      const g = await nodeGpu(opts.dawnFlags ?? [], tried);
      if (g) candidates.push(g);
    }
  }
  for (const gpu of candidates) {
    const req: GPURequestAdapterOptions = {};
    if (opts.powerPreference) req.powerPreference = opts.powerPreference;
    if (opts.forceFallbackAdapter) req.forceFallbackAdapter = true;
    const adapter = await gpu.requestAdapter(req);
    if (!adapter) {
      tried[tried.length - 1] += ': requestAdapter() returned null';
      continue;
    }
    const requiredLimits: Record<string, number> = {};
    for (const k of WANTED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const device = await adapter.requestDevice({ requiredLimits });
    const info = adapter.info as GPUAdapterInfo | undefined;
    const parts = info ? [info.vendor, info.architecture, info.device, info.description].filter((s) => typeof s === 'string' && s.length > 0) : [];
    const isFallback = Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
    return { device, adapterName: parts.length ? parts.join(' / ') : 'unknown adapter', isFallback, gpu };
  }
  const hint = nodeProcess()
      ? " In Node without a GPU, install Debian's chromium and libvulkan1 and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader); see docs/webgpu.md."
      : ' In Chromium, WebGPU needs a secure context (https or localhost); headless or GPU-less machines need --enable-unsafe-webgpu.';
  throw new Error(`webgpu: no WebGPU adapter found. Tried: ${tried.join('; ')}.${hint}`);
}
