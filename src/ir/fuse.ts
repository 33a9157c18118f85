import type { DequantizeNode, FloatNode, GatherNode, LinearNode, MaxPoolNode, QuantizeNode, ReluNode, Shape } from './graph.js';

/**
 * Composes a linear node into the linear node that consumes it (not in an int8 model, whose
 * weights must stay exact: a product of two of them need not be a double, nor 1/n of an average) (BatchNorm after Conv, a bias Add
 * after MatMul, AveragePool before Conv, GlobalAveragePool before Gemm), and folds pure movement
 * (Flatten, Pad, Transpose) into a consuming linear node. Composition removes the rescale the
 * circuit would otherwise need between the two (a range decomposition per element) and a
 * rounding step; it is done when the composed op stays within a small multiple of the two
 * ops' terms. Only tensors with a single consumer that are not the graph output are fused away.
 */
export function fuse(nodes: FloatNode[], graphOutput: string): FloatNode[] {
  const composeAffine = !nodes.some((n) => n.kind === 'quantize' || n.kind === 'dequantize' || (n.kind === 'linear' && (n.rowScale || n.rowDivisor)));
  let current = nodes;
  for (;;) {
    const next = fuseOnce(current, graphOutput, composeAffine);
    if (next === current) return current;
    current = next;
  }
}

function fuseOnce(nodes: FloatNode[], graphOutput: string, composeAffine: boolean): FloatNode[] {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map(nodes.map((n) => [n.output, n]));
  for (const consumer of nodes) {
    if (consumer.kind !== 'linear') continue;
    for (const input of consumer.inputs) {
      const p = producer.get(input);
      if (!p || uses.get(input) !== 1 || input === graphOutput) continue;
      let fused: LinearNode | undefined;
      if (composeAffine && p.kind === 'linear' && composedTerms(consumer, input, p) <= TERM_GROWTH * (consumer.weight.length + p.weight.length)) fused = composeLinear(consumer, input, p);
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
    ...(consumer.rowScale ? { rowScale: consumer.rowScale } : {}),
    ...(consumer.rowDivisor ? { rowDivisor: consumer.rowDivisor } : {}),
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
 * MaxPool(g(x)) -> g(MaxPool(x)) for an elementwise, non-decreasing g that is the same across each
 * pooling window: Relu, and an int8 model's QuantizeLinear and DequantizeLinear (per-tensor or
 * per-channel parameters; windows stay within a channel). They commute exactly, in floats and in
 * the integer program, and pooling first leaves g one element per window instead of one per
 * element: 2x2 pooling drops three of every four rescale-ReLU or requantization decompositions.
 * Repeated, a pool climbs an int8 model's Q -> DQ -> Relu -> Q chain up to its Conv. `shapes`
 * gains the new intermediate tensors.
 */
export function poolEarly(nodes: FloatNode[], graphOutput: string, shapes: Map<string, Shape>): FloatNode[] {
  for (;;) {
    const next = poolEarlyOnce(nodes, graphOutput, shapes);
    if (next === nodes) return nodes;
    nodes = next;
  }
}

function poolEarlyOnce(nodes: FloatNode[], graphOutput: string, shapes: Map<string, Shape>): FloatNode[] {
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const producer = new Map(nodes.map((n) => [n.output, n]));
  for (const pool of nodes) {
    if (pool.kind !== 'maxPool') continue;
    const g = producer.get(pool.inputs[0]);
    if (!g || uses.get(g.output) !== 1 || g.output === graphOutput) continue;
    // A QuantizeLinear of a model input stays first: the host quantizes the input (src/quant/io.ts).
    if (g.kind === 'quantize' && !producer.has(g.inputs[0])) continue;
    const pooledG = onWindows(g, pool.windows);
    if (!pooledG) continue;
    const pooled = `${pool.output}__before_${g.kind}`;
    shapes.set(pooled, shapes.get(pool.output)!);
    const newPool: MaxPoolNode = { ...pool, inputs: [g.inputs[0]], output: pooled };
    // g's input is computed before g, so the pair can stand where the pool stood.
    return nodes.flatMap((n) => (n === pool ? [newPool, { ...pooledG, inputs: [pooled], output: pool.output } as FloatNode] : n === g ? [] : [n]));
  }
  return nodes;
}

/** g applied to one element per window, if g is elementwise, non-decreasing and uniform over each window. */
function onWindows(g: FloatNode, windows: readonly Int32Array[]): ReluNode | QuantizeNode | DequantizeNode | undefined {
  if (g.kind === 'relu') return g;
  if (g.kind !== 'quantize' && g.kind !== 'dequantize') return undefined;
  const uniform = windows.every((w) => w.every((i) => g.scale[i] === g.scale[w[0]] && g.zeroPoint[i] === g.zeroPoint[w[0]]));
  if (!uniform) return undefined;
  return { ...g, scale: Float64Array.from(windows, (w) => g.scale[w[0]]), zeroPoint: Int32Array.from(windows, (w) => g.zeroPoint[w[0]]) };
}
