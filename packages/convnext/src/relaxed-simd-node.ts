/**
 * Relaxed SIMD for the command line: Node 20's V8 validates `f32x4.relaxed_madd` (the fused
 * multiply-add the wasm GEMM uses) only with `--experimental-wasm-relaxed-simd`, so the CLI
 * runs itself again under that flag when a command computes on wasm, saying so in one line.
 * `TSGRAD_RELAXED_SIMD=0` opts out; engines that validate relaxed SIMD already (Node 22+,
 * or a run that has the flag) are left alone.
 *
 * The child runs in its own process group and session, so a Ctrl-C that the terminal sends
 * to the whole foreground group reaches only this parent, which forwards it once: the child
 * saves a checkpoint exactly as it does when run directly (two SIGINTs would mean "quit now").
 */
import { spawn } from 'node:child_process';

/** The V8 flag that turns relaxed SIMD on in Node 20. */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';
/** Set in the re-executed child (so it never re-executes again). */
const CHILD_MARK = 'TSGRAD_RELAXED_SIMD_CHILD';
/** Commands that compute (on wasm unless another backend is named). */
const COMPUTING = new Set(['train', 'eval', 'predict', 'roadmap-ablation']);

/** A module `() -> v128` computing `f32x4.relaxed_madd` of three constants. */
function relaxedProbeBytes(): Uint8Array<ArrayBuffer> {
  const c = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0, ...c, ...c, ...c, 0xfd, 0x85, 0x02, 0x0b];
  const code = [1, body.length, ...body];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, code.length, ...code]);
}

/** Whether this engine validates relaxed SIMD now. */
export function engineHasRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(relaxedProbeBytes());
  } catch {
    return false;
  }
}

/** The `--backend` value in argv, if one is given. */
function backendArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--backend') return argv[i + 1];
    if (a.startsWith('--backend=')) return a.slice('--backend='.length);
  }
  return undefined;
}

/**
 * Why the CLI should (a string: the line to print) or should not (null) run itself again
 * with {@link RELAXED_SIMD_FLAG}, for `argv` (the command and its options) and `env`.
 */
export function relaxedSimdReexecReason(argv: readonly string[], env: NodeJS.ProcessEnv, execArgv: readonly string[], hasRelaxed: () => boolean = engineHasRelaxedSimd): string | null {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || !COMPUTING.has(cmd)) return null;
  if (rest.includes('--help') || rest.includes('-h')) return null;
  const backend = backendArg(rest);
  if (backend !== undefined && backend !== 'wasm' && backend !== 'auto') return null;
  const opt = (env['TSGRAD_RELAXED_SIMD'] ?? '').toLowerCase();
  if (opt === '0' || opt === 'false' || opt === 'off') return null;
  if (env[CHILD_MARK] || execArgv.includes(RELAXED_SIMD_FLAG)) return null;
  if (hasRelaxed()) return null;
  return `tsgrad-convnext: restarting Node ${process.version} with ${RELAXED_SIMD_FLAG} so the wasm kernels use fused multiply-add (set TSGRAD_RELAXED_SIMD=0 to skip)`;
}

/**
 * Runs this script again as a child with {@link RELAXED_SIMD_FLAG} (same Node, same
 * execArgv, same arguments, stdio inherited), forwarding SIGINT, SIGTERM and SIGHUP to it;
 * resolves with the child's exit code (128 + signal number when a signal ended it).
 */
export function reexecWithRelaxedSimd(script: string, argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, RELAXED_SIMD_FLAG, script, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [CHILD_MARK]: '1' },
    // Its own group: a terminal's group-wide Ctrl-C reaches only us, and we forward it once.
    detached: true,
  });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const forward = (sig: NodeJS.Signals) => () => {
    child.kill(sig);
  };
  const handlers = signals.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise<number>((resolve, reject) => {
    child.on('error', (e) => {
      for (const [s, h] of handlers) process.off(s, h);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      const num: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
      resolve(code ?? 128 + (signal ? (num[signal] ?? 1) : 1));
    });
  });
}
