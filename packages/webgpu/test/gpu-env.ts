/**
 * Test setup for WebGPU without a GPU: Dawn (the `webgpu` package) on SwiftShader, the
 * Vulkan driver Debian's chromium package ships. Import this module first in every test
 * file that needs a device; it fails loudly (never skips) when no adapter is found.
 */
import { existsSync } from 'node:fs';
import { createWebGPUBackend, type WebGPUBackend } from '@tsgrad/webgpu';

/** The SwiftShader Vulkan ICD of Debian's chromium package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Must be set before Dawn creates its Vulkan instance; a real GPU's ICD can be chosen by
// exporting VK_ICD_FILENAMES before running the tests.
if (!process.env['VK_ICD_FILENAMES'] && existsSync(SWIFTSHADER_ICD)) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
process.env['NODEVICE_SELECT'] ??= '1';

let shared: Promise<WebGPUBackend> | null = null;

/** One backend per test file (each file runs in its own forked process). */
export function gpuBackend(): Promise<WebGPUBackend> {
  shared ??= createWebGPUBackend().catch((e: unknown) => {
    throw new Error(
      `WebGPU tests need an adapter and none was found; they fail rather than skip. ${(e as Error).message}` +
        (existsSync(SWIFTSHADER_ICD) ? '' : ` (${SWIFTSHADER_ICD} is missing: apt-get install chromium libvulkan1, as .ci/run does)`),
    );
  });
  return shared;
}
