/** Nested bigint/number arrays as circom array literals. */
export function circomArray(values: readonly unknown[]): string {
  return `[${values.map((v) => (Array.isArray(v) ? circomArray(v) : String(v))).join(',')}]`;
}

/** A circom function returning a constant array: template parameters that are arrays come from these. */
export function constArrayFunction(name: string, values: readonly (bigint | number)[]): string {
  return `function ${name}() {\n    var v[${values.length}] = ${circomArray(values)};\n    return v;\n}`;
}

/** w * expr as circom text, with the weight parenthesized when negative. */
export function term(weight: bigint, expr: string): string {
  if (weight === 1n) return expr;
  return weight < 0n ? `(${weight})*${expr}` : `${weight}*${expr}`;
}

/**
 * A sum as a balanced tree of parenthesised halves: circom parses `a + b + c ...` into a chain as
 * deep as the sum is long, and its WASM build overflows its stack on chains of ~800 terms.
 */
export function balancedSum(parts: readonly string[]): string {
  if (parts.length <= 16) return parts.join(' + ');
  const mid = parts.length >> 1;
  return `(${balancedSum(parts.slice(0, mid))}) + (${balancedSum(parts.slice(mid))})`;
}
