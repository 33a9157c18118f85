import { readFileSync } from 'node:fs';
import { MalformedModelError, UnsupportedModelError, UnsupportedOpError } from '../errors.js';
import type { FloatGraph, FloatNode, Shape } from '../ir/graph.js';
import { Attributes } from './attributes.js';
import { lowerings, supportedOps, type LoweringContext } from './lowerings.js';
import { onnx, toNumber, type GraphProto, type ModelProto, type ValueInfoProto } from './proto.js';
import { readTensor, type ConstTensor } from './tensor.js';
import { foldBiases } from './fold.js';

/** Parses ONNX bytes; any decoding failure becomes a MalformedModelError naming the file. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new MalformedModelError(file, (err as Error).message, { cause: err });
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) throw new MalformedModelError(file, 'the model has no graph nodes');
  return model;
}

export function loadOnnx(file: string): FloatGraph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new MalformedModelError(file, (err as Error).message, { cause: err });
  }
  return importGraph(decodeModel(bytes, file), file);
}

/** Lowers an ONNX model (batch 1, static shapes) onto the float IR. */
export function importGraph(model: ModelProto, file = 'model'): FloatGraph {
  const graph = model.graph as GraphProto;
  const constants = new Map<string, ConstTensor>();
  for (const init of graph.initializer ?? []) constants.set(init.name!, readTensor(init, `initializer ${init.name}`));

  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name!));
  if (inputs.length !== 1) throw new MalformedModelError(file, `expected exactly one graph input, found ${inputs.length}`);
  if ((graph.output ?? []).length !== 1) throw new MalformedModelError(file, `expected exactly one graph output, found ${graph.output?.length ?? 0}`);
  const input = inputs[0];
  const inputShape = staticShape(input, file);

  const shapes = new Map<string, Shape>([[input.name!, inputShape]]);
  const aliases = new Map<string, string>();
  const nodes: FloatNode[] = [];
  const resolve = (name: string) => aliases.get(name) ?? name;

  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    const name = node.name || `${op}(${(node.output ?? []).join(',')})`;
    if (node.domain && node.domain !== 'ai.onnx') throw new UnsupportedOpError(`${node.domain}.${op}`, name, supportedOps);
    const lower = lowerings[op];
    if (!lower) throw new UnsupportedOpError(op, name, supportedOps);
    const fail = (reason: string): never => {
      throw new UnsupportedModelError(op, name, reason);
    };
    const inputName = (i: number) => {
      const n = (node.input ?? [])[i];
      if (n === undefined || n === '') fail(`input ${i} is missing`);
      return resolve(n!);
    };
    const ctx: LoweringContext = {
      node,
      name,
      attrs: new Attributes(node),
      constant: (i) => constants.get(inputName(i)),
      shape: (i) => {
        const s = shapes.get(inputName(i));
        if (!s) fail(`input "${inputName(i)}" is not produced by any earlier node`);
        return s!;
      },
      tensor: (i) => {
        const t = inputName(i);
        if (!shapes.has(t)) fail(`input "${t}" must be a computed tensor`);
        return t;
      },
      emit: (n, shape) => {
        nodes.push(n);
        shapes.set(n.output, shape);
      },
      alias: (out, of) => {
        aliases.set(out, of);
      },
      defineConstant: (out, value) => {
        constants.set(out, value);
      },
      fail,
    };
    lower(ctx);
  }

  const outName = resolve(graph.output![0].name!);
  const outShape = shapes.get(outName);
  if (!outShape || outName === input.name) {
    throw new MalformedModelError(file, `graph output "${graph.output![0].name}" is not computed from the input`);
  }
  return {
    input: { name: input.name!, shape: inputShape },
    output: { name: outName, shape: outShape },
    onnxOutputName: graph.output![0].name!,
    nodes: foldBiases(nodes, outName),
    shapes,
  };
}

function staticShape(value: ValueInfoProto, file: string): Shape {
  const dims = value.type?.tensorType?.shape?.dim;
  if (!dims) throw new MalformedModelError(file, `input "${value.name}" has no tensor shape`);
  return dims.map((d, i) => {
    const v = toNumber(d.dimValue);
    if (v > 0) return v;
    // A symbolic leading dimension is the batch: proofs are for one sample at a time.
    if (i === 0) return 1;
    throw new UnsupportedModelError('input', value.name ?? '', `dimension ${i} is symbolic ("${d.dimParam}"); export with static shapes`);
  });
}
