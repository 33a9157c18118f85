import type { FloatNode } from '../ir/graph.js';

/**
 * Folds `dense -> addConst` into the dense bias when the dense output feeds only the add
 * (MatMul + Add is how many exporters spell Linear). Saves a node; the bias is free anyway.
 */
export function foldBiases(nodes: FloatNode[], graphOutput: string): FloatNode[] {
  const uses = new Map<string, number>();
  for (const n of nodes) uses.set(n.input, (uses.get(n.input) ?? 0) + 1);
  const byOutput = new Map(nodes.map((n) => [n.output, n]));
  const out: FloatNode[] = [];
  for (const n of nodes) {
    const producer = n.kind === 'addConst' ? byOutput.get(n.input) : undefined;
    if (n.kind === 'addConst' && producer?.kind === 'dense' && uses.get(n.input) === 1 && n.input !== graphOutput) {
      const bias = producer.bias.map((b, j) => b + n.constant[j]);
      const merged = { ...producer, output: n.output, bias, node: `${producer.node}+${n.node}` };
      out[out.indexOf(producer)] = merged;
      continue;
    }
    out.push(n);
  }
  return out;
}
