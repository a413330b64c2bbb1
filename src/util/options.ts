/**
 * Checks of numeric options, one wording for every component: a bad option is a RangeError that names the owner,
 * the field, the rule and the value given, thrown where the component is built (not later, at first use).
 */

/** `value` unless it is not a safe integer ≥ `min` (and ≤ `max` when given). */
export function integerOption(
  owner: string,
  field: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const rule =
      max !== Number.MAX_SAFE_INTEGER
        ? `an integer from ${min} to ${max}`
        : min === 1
          ? 'a positive integer'
          : `an integer ≥ ${min}`;
    throw new RangeError(`${owner}: ${field} must be ${rule}, got ${String(value)}`);
  }
  return value;
}

/** `value` unless it is not a safe integer ≥ 1. */
export function positiveInteger(owner: string, field: string, value: number): number {
  return integerOption(owner, field, value, 1);
}

/** `value` unless it is not a safe integer ≥ 0. */
export function nonNegativeInteger(owner: string, field: string, value: number): number {
  return integerOption(owner, field, value, 0);
}
