import type { FloatNode, GatherNode, LinearNode, MaxPoolNode, ReluNode, Shape } from './graph.js';

/**
 * Composes a linear node into the linear node that consumes it (BatchNorm after Conv, a bias Add
 * after MatMul, AveragePool before Conv, GlobalAveragePool before Gemm), and folds pure movement
 * (Flatten, Pad, Transpose) into a consuming linear node. Composition removes the rescale the
 * circuit would otherwise need between the two (a range decomposition per element) and a
 * rounding step; it is done when the composed op stays within a small multiple of the two
 * ops' terms. Only tensors with a single consumer that are not the graph output are fused away.
 */
export function fuse(nodes: FloatNode[], graphOutput: string): FloatNode[] {
  let current = nodes;
  for (;;) {
    const next = fuseOnce(current, graphOutput);
    if (next === current) return current;
    current = next;
  }
}

function fuseOnce(nodes: FloatNode[], graphOutput: string): FloatNode[] {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map(nodes.map((n) => [n.output, n]));
  for (const consumer of nodes) {
    if (consumer.kind !== 'linear') continue;
    for (const input of consumer.inputs) {
      const p = producer.get(input);
      if (!p || uses.get(input) !== 1 || input === graphOutput) continue;
      let fused: LinearNode | undefined;
      if (p.kind === 'linear' && composedTerms(consumer, input, p) <= TERM_GROWTH * (consumer.weight.length + p.weight.length)) fused = composeLinear(consumer, input, p);
      else if (p.kind === 'gather') fused = composeGather(consumer, input, p);
      if (fused) return nodes.filter((n) => n !== p).map((n) => (n === consumer ? fused! : n));
    }
  }
  return nodes;
}

/** How much larger than the two ops a composition may be (it only grows the circuit's linear part). */
const TERM_GROWTH = 8;

/** Terms of the composition before merging duplicates: an upper bound. */
function composedTerms(consumer: LinearNode, tensor: string, p: LinearNode): number {
  const fused = consumer.inputs.indexOf(tensor);
  let n = 0;
  for (let t = 0; t < consumer.weight.length; t++) n += consumer.src[t] === fused ? p.rowStart[consumer.index[t] + 1] - p.rowStart[consumer.index[t]] : 1;
  return n;
}

/** Rewrites every term of `consumer` that reads `tensor` through `expand`, keeping the others. */
function rewrite(consumer: LinearNode, tensor: string, producerInputs: string[], expand: (index: number, weight: number, add: (src: number, index: number, weight: number) => void) => number, name: string): LinearNode {
  const inputs = consumer.inputs.filter((i) => i !== tensor);
  for (const i of producerInputs) if (!inputs.includes(i)) inputs.push(i);
  const remapConsumer = consumer.inputs.map((i) => inputs.indexOf(i));
  const remapProducer = producerInputs.map((i) => inputs.indexOf(i));
  const fusedSrc = consumer.inputs.indexOf(tensor);
  const rowStart = [0];
  const src: number[] = [];
  const index: number[] = [];
  const weight: number[] = [];
  const bias = Float64Array.from(consumer.bias);
  for (let j = 0; j < consumer.bias.length; j++) {
    const row = new Map<string, number>();
    const add = (s: number, i: number, w: number) => {
      const key = `${s}:${i}`;
      row.set(key, (row.get(key) ?? 0) + w);
    };
    for (let t = consumer.rowStart[j]; t < consumer.rowStart[j + 1]; t++) {
      if (consumer.src[t] === fusedSrc) bias[j] += expand(consumer.index[t], consumer.weight[t], (s, i, w) => add(remapProducer[s], i, w));
      else add(remapConsumer[consumer.src[t]], consumer.index[t], consumer.weight[t]);
    }
    for (const [key, w] of row) {
      if (w === 0) continue;
      const [s, i] = key.split(':').map(Number);
      src.push(s);
      index.push(i);
      weight.push(w);
    }
    rowStart.push(src.length);
  }
  return {
    kind: 'linear',
    node: name,
    inputs,
    output: consumer.output,
    rowStart: Int32Array.from(rowStart),
    src: Uint8Array.from(src),
    index: Int32Array.from(index),
    weight: Float64Array.from(weight),
    bias,
  };
}

function composeLinear(consumer: LinearNode, tensor: string, p: LinearNode): LinearNode {
  return rewrite(
    consumer,
    tensor,
    p.inputs,
    (i, w, add) => {
      for (let t = p.rowStart[i]; t < p.rowStart[i + 1]; t++) add(p.src[t], p.index[t], w * p.weight[t]);
      return w * p.bias[i];
    },
    `${p.node}+${consumer.node}`,
  );
}

function composeGather(consumer: LinearNode, tensor: string, p: GatherNode): LinearNode {
  return rewrite(
    consumer,
    tensor,
    p.inputs,
    (i, w, add) => {
      if (p.src[i] < 0) return w * p.constant[i];
      add(p.src[i], p.index[i], w);
      return 0;
    },
    `${p.node}+${consumer.node}`,
  );
}

/**
 * MaxPool(Relu(x)) -> Relu(MaxPool(x)): both are monotone, so they commute exactly, in floats and
 * in the integer program (where the Relu is fused into a rescale, also monotone). Pooling first
 * compares the accumulators and leaves one rescale-ReLU decomposition per window instead of one
 * per element: 2x2 pooling drops three of every four. `shapes` gains the new intermediate tensor.
 */
export function poolBeforeRelu(nodes: FloatNode[], graphOutput: string, shapes: Map<string, Shape>): FloatNode[] {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map(nodes.map((n) => [n.output, n]));
  const swapped = new Map<FloatNode, FloatNode[]>();
  const dropped = new Set<FloatNode>();
  for (const pool of nodes) {
    if (pool.kind !== 'maxPool') continue;
    const relu = producer.get(pool.inputs[0]);
    if (relu?.kind !== 'relu' || uses.get(relu.output) !== 1 || relu.output === graphOutput) continue;
    const pooled = `${pool.output}__before_relu`;
    shapes.set(pooled, shapes.get(pool.output)!);
    const newPool: MaxPoolNode = { ...pool, inputs: [relu.inputs[0]], output: pooled };
    const newRelu: ReluNode = { kind: 'relu', node: relu.node, inputs: [pooled], output: pool.output };
    // The relu's input is computed before the old relu, so the pair can stand where the pool stood.
    swapped.set(pool, [newPool, newRelu]);
    dropped.add(relu);
  }
  return swapped.size === 0 ? nodes : nodes.flatMap((n) => swapped.get(n) ?? (dropped.has(n) ? [] : [n]));
}
