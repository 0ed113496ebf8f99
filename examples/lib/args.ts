/** Checked command-line values for the examples (a bad value names its flag), and a model's name for their reports. */
import { CONVNEXT_VARIANTS, type TrainConfig } from '@tsgrad/convnext';

/** `v` as a positive integer, or an error naming `--flag`. */
export function positiveInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** `v` as a non-negative integer (0 allowed: "none"), or an error naming `--flag`. */
export function nonNegativeInt(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`--${flag} must be a non-negative integer, got '${v}'`);
  return n;
}

/** `v` as a positive number, or an error naming `--flag`. */
export function positiveNumber(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !(Number.isFinite(n) && n > 0)) throw new Error(`--${flag} must be a positive number, got '${v}'`);
  return n;
}

/** One of `choices`, or an error naming `--flag` and the choices. */
export function oneOf<T extends string>(flag: string, v: string | undefined, choices: readonly T[]): T {
  if (v === undefined || !(choices as readonly string[]).includes(v)) throw new Error(`--${flag} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

/** Four comma-separated positive integers (blocks or channels per stage), or an error naming `--flag`. */
export function stages(flag: string, v: string): number[] {
  const parts = v.split(',').map((x) => Number(x));
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--${flag} must be 4 comma-separated positive integers, got '${v}'`);
  return parts;
}

/** `atto`, or `custom (depths [...], dims [...])` for a config with its own depths or dims. */
export function archName(c: Pick<TrainConfig, 'model' | 'depths' | 'dims'>): string {
  if (!c.depths && !c.dims) return c.model;
  const v = CONVNEXT_VARIANTS[c.model];
  return `custom (depths [${(c.depths ?? v.depths).join(', ')}], dims [${(c.dims ?? v.dims).join(', ')}])`;
}
