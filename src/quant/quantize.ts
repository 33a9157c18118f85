import { UnsupportedModelError } from '../errors.js';
import type { FloatGraph } from '../ir/graph.js';
import { size } from '../ir/graph.js';
import { unsignedBits } from '../ops/fixed_point.js';
import type { QOp } from '../ops/types.js';
import { calibrate, type TensorStats } from './calibrate.js';
import { defaultQuantConfig, type QProgram, type QuantConfig, type QTensor } from './program.js';

/** Largest number of fractional bits a weight scale may use (keeps widths sane for tiny weights). */
const MAX_FRAC = 24;

/** Fractional bits so that `maxAbs` fits in a signed `bits`-bit integer: the power-of-two scale. */
export function fracFor(maxAbs: number, bits: number): number {
  if (!(maxAbs > 0)) return MAX_FRAC;
  return Math.min(MAX_FRAC, Math.floor(Math.log2((2 ** (bits - 1) - 1) / maxAbs)));
}

interface Pending {
  tensor: QTensor;
  /** True while the tensor is an accumulator at scale frac_x + frac_w, not yet rescaled. */
  accumulator: boolean;
}

/**
 * Float IR + calibration samples -> integer program with power-of-two scales.
 * Affine layers accumulate at the product scale; a rescale brings the result back to the
 * activation scale chosen from calibration, fused with the ReLU that follows when there is one.
 * The graph output is left at the accumulator scale: rescaling it would cost constraints and lose
 * precision for nothing.
 */
export function quantize(graph: FloatGraph, samples: readonly (readonly number[])[], config: QuantConfig = defaultQuantConfig): QProgram {
  const stats = calibrate(graph, samples);
  const ops: QOp[] = [];
  const tensors = new Map<string, Pending>();
  let counter = 0;
  const fresh = (base: string) => `t${counter++}_${base.replace(/[^A-Za-z0-9_]/g, '_')}`;

  const inStats = stats.get(graph.input.name)!;
  const span = inStats.max - inStats.min || inStats.maxAbs || 1;
  const floatLo = inStats.min - config.inputMargin * span;
  const floatHi = inStats.max + config.inputMargin * span;
  const inFrac = fracFor(Math.max(Math.abs(floatLo), Math.abs(floatHi)), config.inputBits);
  const lo = BigInt(Math.floor(floatLo * 2 ** inFrac));
  const hi = BigInt(Math.ceil(floatHi * 2 ** inFrac));
  const input: QTensor = { name: fresh('input'), shape: graph.input.shape, frac: inFrac };
  ops.push({ kind: 'input', source: graph.input.name, output: input.name, shape: input.shape, lo, bits: unsignedBits(hi - lo) });
  tensors.set(graph.input.name, { tensor: input, accumulator: false });

  const activationFrac = (name: string, current: number) => Math.min(current, fracFor(stats.get(name)!.maxAbs, config.activationBits));

  /** Brings an accumulator back to its activation scale before another affine op consumes it. */
  const settle = (name: string, source: string): QTensor => {
    const t = tensors.get(name)!;
    if (!t.accumulator) return t.tensor;
    const frac = activationFrac(name, t.tensor.frac);
    const out: QTensor = { name: fresh(`${source}_rescale`), shape: t.tensor.shape, frac };
    ops.push({ kind: 'rescale', source, input: t.tensor.name, output: out.name, shift: t.tensor.frac - frac, relu: false });
    tensors.set(name, { tensor: out, accumulator: false });
    return out;
  };

  for (const node of graph.nodes) {
    const shape = graph.shapes.get(node.output)!;
    switch (node.kind) {
      case 'dense': {
        const x = settle(node.input, node.node);
        const maxW = node.weight.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
        const wFrac = fracFor(maxW, config.weightBits);
        const accFrac = x.frac + wFrac;
        const weight = Array.from(node.weight, (w) => BigInt(Math.round(w * 2 ** wFrac)));
        const bias = Array.from(node.bias, (b) => BigInt(Math.round(b * 2 ** accFrac)));
        const out: QTensor = { name: fresh(node.node), shape, frac: accFrac };
        ops.push({ kind: 'dense', source: node.node, input: x.name, output: out.name, nIn: node.inFeatures, nOut: node.outFeatures, weight, bias });
        tensors.set(node.output, { tensor: out, accumulator: true });
        break;
      }
      case 'addConst': {
        const x = tensors.get(node.input)!;
        const constant = Array.from(node.constant, (c) => BigInt(Math.round(c * 2 ** x.tensor.frac)));
        const out: QTensor = { name: fresh(node.node), shape, frac: x.tensor.frac };
        ops.push({ kind: 'addConst', source: node.node, input: x.tensor.name, output: out.name, constant });
        tensors.set(node.output, { tensor: out, accumulator: x.accumulator });
        break;
      }
      case 'relu': {
        const x = tensors.get(node.input)!;
        const frac = activationFrac(node.output, x.tensor.frac);
        const out: QTensor = { name: fresh(node.node), shape, frac };
        ops.push({ kind: 'rescale', source: node.node, input: x.tensor.name, output: out.name, shift: x.tensor.frac - frac, relu: true });
        tensors.set(node.output, { tensor: out, accumulator: false });
        break;
      }
      case 'reshape': {
        const x = tensors.get(node.input)!;
        if (size(shape) !== size(x.tensor.shape)) throw new UnsupportedModelError('Reshape', node.node, 'element count changes');
        const out: QTensor = { name: fresh(node.node), shape, frac: x.tensor.frac };
        ops.push({ kind: 'reshape', source: node.node, input: x.tensor.name, output: out.name, shape });
        tensors.set(node.output, { tensor: out, accumulator: x.accumulator });
        break;
      }
    }
  }
  return { ops, input, output: tensors.get(graph.output.name)!.tensor };
}

export type { TensorStats };
