/**
 * Benchmarks, each beside an anchor measured in the same process and run (the machine is
 * shared and noisy, so only ratios mean much). Writes JSON and a markdown table to
 * bench/results/.
 *
 *   pnpm bench            # all suites
 *   pnpm bench core       # one suite
 *   pnpm bench wasm-browser  # the wasm backend in headless Chromium vs Node
 *   pnpm bench targets    # the issue-11 targets table (bench/results/targets.md, ~5-10 min)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { coreSuite } from './suites/core.js';
import { webgpuSuite } from './suites/webgpu.js';
import type { Case, Suite } from './suites/types.js';

const suites: Record<string, () => Promise<Suite>> = { core: coreSuite, webgpu: webgpuSuite };
suites['wasm'] = async () => (await import('./suites/wasm.js')).wasmSuite();
suites['convnext'] = async () => (await import('./suites/convnext.js')).convnextSuite();
suites['wasm-browser'] = async () => (await import('./suites/wasm-browser.js')).wasmBrowserSuite();
suites['optim'] = async () => (await import('./suites/optim.js')).optimSuite();
suites['targets'] = async () => (await import('./suites/targets.js')).targetsSuite();

interface Row {
  readonly case: string;
  readonly ours: string;
  readonly anchor: string;
  readonly oursMs: number;
  readonly anchorMs: number;
  /** anchor time / our time: above 1 means we are faster. */
  readonly speedup: number;
  readonly note: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A case timed in alternating pairs (see {@link Case.paired}). */
async function timePaired(c: Case, pairs: number): Promise<Row> {
  const anchor = c.anchor;
  if (typeof anchor !== 'function') throw new Error(`bench: '${c.name}' is paired but its anchor is a measured time`);
  const timed = async (f: () => unknown) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  await timed(c.ours);
  await timed(anchor);
  const ours: number[] = [];
  const anchors: number[] = [];
  for (let i = 0; i < pairs; i++) {
    ours.push(await timed(c.ours));
    anchors.push(await timed(anchor));
  }
  const speedup = median(anchors.map((a, i) => a / ours[i]!));
  const note = `${pairs} alternating pairs, medians; speedup: median of per-pair ratios${c.note ? `; ${c.note}` : ''}`;
  return { case: c.name, ours: c.oursLabel, anchor: c.anchorLabel, oursMs: median(ours), anchorMs: median(anchors), speedup, note };
}

async function timeCase(c: Case, time: number): Promise<Row> {
  if (c.paired !== undefined) return timePaired(c, c.paired);
  const bench = new Bench({ time, warmup: true, warmupTime: 100, ...(c.iterations !== undefined ? { iterations: c.iterations, warmupIterations: 1 } : {}) });
  bench.add('ours', c.ours);
  if (typeof c.anchor === 'function') bench.add('anchor', c.anchor);
  await bench.run();
  const ms = (name: string) => {
    const r = bench.getTask(name)?.result;
    if (!r || !('latency' in r)) {
      const why = r && 'error' in r ? String(r.error) : 'no result';
      throw new Error(`bench: task ${name} of '${c.name}' failed: ${why}`);
    }
    return r.latency.mean;
  };
  const oursMs = ms('ours');
  const anchorMs = typeof c.anchor === 'function' ? ms('anchor') : c.anchor.measuredMs;
  return { case: c.name, ours: c.oursLabel, anchor: c.anchorLabel, oursMs, anchorMs, speedup: anchorMs / oursMs, note: c.note ?? '' };
}

const wanted = process.argv.slice(2);
for (const w of wanted) if (!suites[w]) throw new Error(`bench: unknown suite '${w}'; have ${Object.keys(suites).join(', ')}`);
const time = Number(process.env['BENCH_TIME_MS'] ?? 1000);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
for (const name of wanted.length ? wanted : Object.keys(suites)) {
  const suite = await suites[name]!();
  if (suite.report) {
    const r = await suite.report();
    writeFileSync(new URL(`./results/${name}.json`, import.meta.url), JSON.stringify(r.json, null, 1) + '\n');
    writeFileSync(new URL(`./results/${name}.md`, import.meta.url), r.markdown);
    console.log(r.markdown);
    await suite.dispose?.();
    continue;
  }
  const rows: Row[] = [];
  for (const c of suite.cases) {
    const row = await timeCase(c, time);
    rows.push(row);
    console.log(`${name}: ${row.case}: ours ${row.oursMs.toFixed(3)} ms, ${row.anchor} ${row.anchorMs.toFixed(3)} ms, speedup ${row.speedup.toFixed(2)}x`);
  }
  const meta = { suite: name, date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, timePerTaskMs: time };
  writeFileSync(new URL(`./results/${name}.json`, import.meta.url), JSON.stringify({ ...meta, rows }, null, 1) + '\n');
  const md = [
    `# bench: ${name}`,
    '',
    `${meta.date}, Node ${meta.node}, ${meta.cpu} (${meta.cores} cores). Speedup = anchor time / our time (above 1: we are faster), both measured in this run.`,
    '',
    '| case | ours | ms | anchor | ms | speedup | notes |',
    '|---|---|---:|---|---:|---:|---|',
    ...rows.map((r) => `| ${r.case} | ${r.ours} | ${r.oursMs.toFixed(3)} | ${r.anchor} | ${r.anchorMs.toFixed(3)} | ${r.speedup.toFixed(2)}x | ${r.note} |`),
    '',
    suite.note,
    '',
  ].join('\n');
  writeFileSync(new URL(`./results/${name}.md`, import.meta.url), md);
  await suite.dispose?.();
}
