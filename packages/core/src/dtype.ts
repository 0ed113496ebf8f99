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
}

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
    throw new TypeError(`${op}: unknown dtype '${dtype}'; expected one of ${DTYPES.join(', ')}`);
  }
  return dtype as DType;
}
