/** Nested bigint arrays as circom array literals; negative values are written as field negatives. */
export function circomArray(values: readonly unknown[]): string {
  return `[${values.map((v) => (Array.isArray(v) ? circomArray(v) : String(v))).join(',')}]`;
}
