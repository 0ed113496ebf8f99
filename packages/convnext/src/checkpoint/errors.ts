/**
 * The error every checkpoint reader in `@tsgrad/convnext` throws for bad input (truncated or
 * corrupt archives, unsupported pickle content, tensors that cannot be converted).
 *
 * @module
 */

/** A checkpoint could not be read; the message says what is wrong and where. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
