/** Runs the tsgrad-convnext `main` in this process and captures what it prints (as a user sees it). */
import { vi } from 'vitest';
import { main } from '../../src/cli.js';

/** The exit code and the captured stdout / stderr of one command. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true)),
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`)),
  ];
  try {
    return { code: await main(args), out, err };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

/** A micro ConvNeXt for one short epoch on the js backend. */
export const MICRO = ['--depths', '1,1,1,1', '--dims', '8,16,16,24', '--epochs', '1', '--batch-size', '16', '--backend', 'js', '--warmup-epochs', '0'];
