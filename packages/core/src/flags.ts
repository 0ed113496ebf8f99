/** Debugging switches that cost speed, off by default. */

/** The switches. */
export interface Flags {
  /**
   * Check every op's output for NaN and throw an error naming the op that made it.
   * Reads values back after each op, so only on backends that read synchronously.
   */
  checkNaN: boolean;
}

const flags: Flags = { checkNaN: false };

/** Sets some of the debugging switches. */
export function setFlags(update: Partial<Flags>): void {
  Object.assign(flags, update);
}

/** The debugging switches now in force. */
export function getFlags(): Readonly<Flags> {
  return flags;
}
