/** The element types a tensor can hold. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Every dtype, in promotion order (least to most general). */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/** The typed array that stores each dtype. */
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

/** Any typed array a tensor's data may come back as. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Bytes per element of a dtype. */
export function itemSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}

/** Whether values of this dtype are floating point (and so differentiable). */
export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** Allocates a zeroed typed array for `size` elements of `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
  checkDType(dtype as string, 'allocArray');
  throw new TypeError(`allocArray: unknown dtype ${String(dtype)}`);
}

/** The smallest and largest int32. */
export const INT32_MIN = -(2 ** 31);
/** The largest int32. */
export const INT32_MAX = 2 ** 31 - 1;

/**
 * One value as stored in `dtype`, checked: int32 truncates toward zero (as PyTorch) but
 * throws a RangeError for NaN, +-Inf and values outside [-2^31, 2^31 - 1] (a typed array
 * would silently wrap them); bool is `value != 0` (NaN is true, as in PyTorch); floats pass.
 * `where` says which value it was, for the message (a function: built only on error).
 */
export function storedValue(value: number, dtype: DType, op: string, where: string | (() => string) = ''): number {
  if (dtype === 'int32') {
    const t = Math.trunc(value);
    if (!(t >= INT32_MIN && t <= INT32_MAX)) {
      throw new RangeError(`${op}: value ${value}${typeof where === 'string' ? where : where()} cannot be stored as int32 (integers from ${INT32_MIN} to ${INT32_MAX}); use float32/float64 or smaller values`);
    }
    return t;
  }
  if (dtype === 'bool') return value !== 0 ? 1 : 0;
  return value;
}

/**
 * `values` as a typed array of `dtype`, every value checked by {@link storedValue}. A typed
 * array that already has `dtype`'s class is returned as is (no copy: backends copy on upload).
 */
export function toDTypeArray(values: ArrayLike<number>, dtype: DType, op: string): TypedArray {
  checkDType(dtype, op);
  if (values instanceof (ARRAY_CLASS[dtype] as unknown as typeof Float32Array)) {
    // A Uint8Array as bool may hold values other than 0/1: normalise those.
    if (dtype !== 'bool' || (values as unknown as Uint8Array).every((v) => v <= 1)) return values as TypedArray;
  }
  const out = allocArray(dtype, values.length);
  const exact = dtype === 'float32' || dtype === 'float64' || values instanceof Int32Array || (dtype === 'int32' && (values instanceof Uint8Array || values instanceof Int16Array || values instanceof Uint16Array || values instanceof Int8Array));
  if (exact) out.set(values);
  else for (let i = 0; i < values.length; i++) out[i] = storedValue(values[i]!, dtype, op, () => ` at flat index ${i}`);
  return out;
}

const ARRAY_CLASS: Record<DType, unknown> = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };

/** The dtype a typed array stores (Uint8Array is read as bool). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Throws unless `dtype` names a supported dtype. */
export function checkDType(dtype: string, op: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new TypeError(`${op}: unknown dtype ${typeof dtype === 'string' ? `'${dtype}'` : String(dtype)}; the supported dtypes are ${DTYPES.join(', ')}`);
  }
  return dtype as DType;
}
