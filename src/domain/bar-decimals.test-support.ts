/** Decimal texts for the tests of bars held in columns (src/domain/bar-decimal-columns.ts), one per decimal field. */

/** Decimals that fit a column: a safe coefficient and a 16-bit scale. */
export const ORDINARY_DECIMALS = ['0.10', '0.2500', '0.0999', '0.1234', '12.5', '1.5625000', '0', '0.00'];

/** Coefficients of 2^53 and beyond and scales past 16 bits, which are kept aside, and the safe-integer edges. */
export const LONG_DECIMALS = [
  '9007199254740993',
  '-123456789012345678901234567890.123456789',
  '1e-999',
  '0.000000000000000000000000000001',
  '99999999999999999999',
  '9007199254740991',
  '-9007199254740991',
  '5',
];
