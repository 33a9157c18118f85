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
