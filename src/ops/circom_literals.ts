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

/**
 * One component per element, `template(<per-element widths>..., <fixed args>...)`: each list of
 * widths becomes a constant-array function `<id>_<name>` read into `var <id>_<name>w`, so the
 * generated code stays a loop however many elements there are.
 */
export function componentArray(id: string, template: string, widths: readonly (readonly [string, readonly number[]])[], fixed: readonly (string | number)[]): { declarations: string[]; statements: string[] } {
  const n = widths[0][1].length;
  const args = [...widths.map(([name]) => `${id}_${name}w[i]`), ...fixed.map(String)].join(', ');
  return {
    declarations: widths.map(([name, values]) => constArrayFunction(`${id}_${name}`, values)),
    statements: [`component ${id}[${n}];`, ...widths.map(([name]) => `var ${id}_${name}w[${n}] = ${id}_${name}();`), `for (var i = 0; i < ${n}; i++) ${id}[i] = ${template}(${args});`],
  };
}
