import { readFileSync } from 'node:fs';
import { MalformedModelError, UnsupportedModelError, UnsupportedOpError } from '../errors.js';
import { fuse, poolEarly } from '../ir/fuse.js';
import { carriesQuantization, foldDivisor, type FloatGraph, type FloatNode, type QuantType, type Shape, type TensorInfo } from '../ir/graph.js';
import { Attributes } from './attributes.js';
import type { LoweringContext } from './lower/context.js';
import { lowerings, supportedOps } from './lower/index.js';
import { onnx, toNumber, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from './proto.js';
import { readTensor, type ConstTensor } from './tensor.js';

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

/** Lowers an ONNX model (static shapes; a symbolic leading dimension is taken as batch 1) onto the float IR. */
export function importGraph(model: ModelProto, file = 'model'): FloatGraph {
  const graph = model.graph as GraphProto;
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version) || 13;
  const constants = new Map<string, ConstTensor>();
  for (const init of graph.initializer ?? []) constants.set(init.name!, readTensor(init, `initializer ${init.name}`));

  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name!));
  if (inputs.length === 0) throw new MalformedModelError(file, 'the graph has no (non-constant) input');
  if ((graph.output ?? []).length !== 1) throw new MalformedModelError(file, `expected exactly one graph output, found ${graph.output?.length ?? 0}`);

  const live = liveNodes(graph);
  checkOps({ ...graph, node: live });
  const shapes = new Map<string, Shape>();
  const inputInfo: TensorInfo[] = inputs.map((i) => ({ name: i.name!, shape: staticShape(i, file) }));
  for (const i of inputInfo) shapes.set(i.name, i.shape);
  // Integer inputs (token ids) and the tensors moved from them, each with the inputs it comes
  // from; only re-indexing and lookups may read them.
  const integer = new Map<string, Set<string>>();
  const types = inputs.map(checkElementType);
  // Quantized (uint8/int8) tensors: QuantizeLinear outputs and uint8/int8 inputs, and what is moved from them.
  const quantTypes = new Map<string, QuantType>();
  types.forEach((type, k) => {
    if (type === 'uint8' || type === 'int8') {
      inputInfo[k].quantized = type;
      quantTypes.set(inputInfo[k].name, type);
    } else if (type) integer.set(inputInfo[k].name, new Set([inputInfo[k].name]));
  });
  const vocabulary = new Map<string, number>();
  const aliases = new Map<string, string>();
  const nodes: FloatNode[] = [];
  const resolve = (name: string) => aliases.get(name) ?? name;

  for (const node of live) {
    const op = node.opType ?? '';
    const name = node.name || `${op}(${(node.output ?? []).join(',')})`;
    const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${op}` : op;
    const lower = lowerings[key];
    if (!lower) throw new UnsupportedOpError(key, name, supportedOps);
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
      op,
      opset,
      attrs: new Attributes(node),
      has: (i) => ((node.input ?? [])[i] ?? '') !== '',
      constant: (i) => constants.get(inputName(i)),
      shape: (i) => {
        const c = constants.get(inputName(i));
        if (c) return c.dims;
        const s = shapes.get(inputName(i));
        if (!s) fail(`input "${inputName(i)}" is not produced by any earlier node`);
        return s!;
      },
      tensor: (i) => {
        const t = inputName(i);
        if (!shapes.has(t)) fail(`input "${t}" must be computed from the model input`);
        return t;
      },
      output: (i = 0) => (node.output ?? [])[i],
      isInteger: (i) => integer.has(inputName(i)),
      quantType: (i) => quantTypes.get(inputName(i)),
      emit: (n, shape) => {
        const ints = n.inputs.filter((t) => integer.has(t));
        const roots = new Set(ints.flatMap((t) => [...integer.get(t)!]));
        if (ints.length > 0 && n.kind === 'lookup') {
          for (const root of roots) vocabulary.set(root, Math.min(vocabulary.get(root) ?? Infinity, n.rows));
        } else if (ints.length > 0) {
          if (n.kind !== 'gather' || ints.length !== n.inputs.length || n.src.some((s) => s < 0)) fail(`it reads the integer input "${[...roots][0]}": integer inputs (token ids) can only be re-indexed (Reshape, Unsqueeze, ...) and used as Gather indices into a constant table`);
          integer.set(n.output, roots);
        }
        const moved = (n.kind === 'gather' || n.kind === 'maxPool') && n.inputs.length > 0 && new Set(n.inputs.map((t) => quantTypes.get(t))).size === 1 ? quantTypes.get(n.inputs[0]) : undefined;
        const quantType = n.kind === 'quantize' ? n.type : moved;
        if (quantType) quantTypes.set(n.output, quantType);
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

  inputInfo.forEach((info, k) => {
    const type = types[k];
    if (type !== 'int64' && type !== 'int32') return;
    const rows = vocabulary.get(info.name);
    if (rows === undefined) throw new UnsupportedModelError('input', info.name, 'an integer input must be read by a Gather into a constant table (token ids for an embedding); this one is not');
    info.integer = { type, max: rows - 1 };
  });
  const onnxOutputName = graph.output![0].name!;
  let outName = resolve(onnxOutputName);
  const outShape = shapes.get(outName);
  if (!outShape) throw new MalformedModelError(file, `graph output "${onnxOutputName}" is not computed from the input`);
  if (inputInfo.some((i) => i.name === outName)) {
    // The output is an input (Identity, Dropout in eval mode): an explicit copy keeps them distinct tensors.
    const n = outShape.reduce((a, b) => a * b, 1);
    const copy = `${onnxOutputName}__copy`;
    nodes.push({ kind: 'gather', node: 'output copy', inputs: [outName], output: copy, src: new Int8Array(n), index: Int32Array.from({ length: n }, (_, i) => i), constant: new Float64Array(n) });
    shapes.set(copy, outShape);
    outName = copy;
  }
  // A calibrated model takes an average's divisor into its weights; an int8 model keeps it exact,
  // and only re-indexing is composed into its affine ops.
  const int8 = carriesQuantization(nodes, inputInfo);
  const lowered = int8 ? nodes : nodes.map(foldDivisor);
  return { inputs: inputInfo, output: { name: outName, shape: outShape }, onnxOutputName, nodes: poolEarly(fuse(lowered, outName), outName, shapes), shapes };
}

/**
 * The nodes the graph output depends on, in order. The rest (a LayerNormalization's Mean output,
 * a debugging branch) is dropped before lowering, so an unsupported op there does not matter.
 */
function liveNodes(graph: GraphProto): NodeProto[] {
  const nodes = graph.node ?? [];
  const needed = new Set((graph.output ?? []).slice(0, 1).map((o) => o.name!));
  const live: NodeProto[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    live.push(n);
    for (const i of n.input ?? []) if (i) needed.add(i);
  }
  return live.reverse();
}

/** Layers that exporters spell with helper ops (PyTorch's LSTM comes with Expand, Shape...): named first. */
const LAYERS = new Set(['LSTM', 'GRU', 'RNN', 'Attention', 'MultiHeadAttention', 'LayerNormalization', 'Loop', 'Scan', 'If']);

/**
 * Every op of the graph is checked before any is lowered, so that the error names what the model
 * is (an LSTM), not the first helper op an exporter put before it (an Expand of its initial state).
 */
function checkOps(graph: GraphProto): void {
  const unsupported = new Map<string, string>();
  for (const node of graph.node ?? []) {
    const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : (node.opType ?? '');
    if (!lowerings[op] && !unsupported.has(op)) unsupported.set(op, node.name || `${op}(${(node.output ?? []).join(',')})`);
  }
  if (unsupported.size === 0) return;
  const ops = [...unsupported].sort(([a], [b]) => Number(LAYERS.has(b)) - Number(LAYERS.has(a)));
  const [[op, node]] = ops;
  const others = ops.slice(1).map(([o, n]) => `${o} ("${n}")`);
  throw new UnsupportedOpError(op, node, supportedOps, others.length ? `; also unsupported here: ${others.join(', ')}` : '');
}

/**
 * zkml runs float32 models (onnxruntime would refuse a float32 feed to a float64 input at run
 * time); INT64/INT32 inputs are token ids, UINT8/INT8 inputs an int8 model's quantized input,
 * returned as such.
 */
function checkElementType(value: ValueInfoProto): 'int64' | 'int32' | QuantType | undefined {
  const type = value.type?.tensorType?.elemType ?? onnx.TensorProto.DataType.FLOAT;
  if (type === onnx.TensorProto.DataType.FLOAT) return undefined;
  if (type === onnx.TensorProto.DataType.INT64) return 'int64';
  if (type === onnx.TensorProto.DataType.INT32) return 'int32';
  if (type === onnx.TensorProto.DataType.UINT8) return 'uint8';
  if (type === onnx.TensorProto.DataType.INT8) return 'int8';
  const name = onnx.TensorProto.DataType[type] ?? String(type);
  const fix = type === onnx.TensorProto.DataType.DOUBLE ? ': export the model in float32 (PyTorch: model.float() before torch.onnx.export; sklearn-onnx: FloatTensorType)' : '';
  throw new UnsupportedModelError('input', value.name ?? '', `its element type is ${name}; zkml takes float32 model inputs (and int64/int32 token ids for an embedding, uint8/int8 inputs of an int8 model)${fix}`);
}

function staticShape(value: ValueInfoProto, file: string): Shape {
  const dims = value.type?.tensorType?.shape?.dim;
  if (!dims) throw new MalformedModelError(file, `input "${value.name}" has no tensor shape`);
  return dims.map((d, i) => {
    const v = toNumber(d.dimValue);
    if (v > 0) return v;
    if ((d as { value?: string }).value === 'dimValue') throw new UnsupportedModelError('input', value.name ?? '', `dimension ${i} is 0: empty tensors are not supported`);
    // A symbolic leading dimension is the batch: proofs are for one sample at a time.
    if (i === 0) return 1;
    throw new UnsupportedModelError('input', value.name ?? '', `dimension ${i} is symbolic ("${d.dimParam}"); export with static shapes`);
  });
}
