import { lowerArgMax, lowerClip, lowerLeakyRelu, lowerMaxPool, lowerPRelu, lowerRelu, lowerSigmoid, lowerSoftmax, lowerTanh } from './activations.js';
import { lowerArithmetic, lowerAveragePool, lowerBatchNormalization, lowerConv, lowerGemm, lowerGlobalAveragePool, lowerMatMul } from './affine.js';
import type { Lowering } from './context.js';
import {
  lowerCast,
  lowerConcat,
  lowerConstant,
  lowerDropout,
  lowerFlatten,
  lowerGather,
  lowerIdentity,
  lowerPad,
  lowerReshape,
  lowerShape,
  lowerSlice,
  lowerSqueeze,
  lowerTranspose,
  lowerUnsqueeze,
} from './movement.js';

/** One entry per supported ONNX op, each lowering onto the float IR's small op set. */
export const lowerings: Record<string, Lowering> = {
  Add: lowerArithmetic('Add'),
  ArgMax: lowerArgMax,
  AveragePool: lowerAveragePool,
  BatchNormalization: lowerBatchNormalization,
  Cast: lowerCast,
  Clip: lowerClip,
  Concat: lowerConcat,
  Constant: lowerConstant,
  Conv: lowerConv,
  Div: lowerArithmetic('Div'),
  Dropout: lowerDropout,
  Flatten: lowerFlatten,
  Gather: lowerGather,
  Gemm: lowerGemm,
  GlobalAveragePool: lowerGlobalAveragePool,
  Identity: lowerIdentity,
  LeakyRelu: lowerLeakyRelu,
  MatMul: lowerMatMul,
  MaxPool: lowerMaxPool,
  Mul: lowerArithmetic('Mul'),
  Pad: lowerPad,
  PRelu: lowerPRelu,
  Relu: lowerRelu,
  Reshape: lowerReshape,
  Shape: lowerShape,
  Sigmoid: lowerSigmoid,
  Slice: lowerSlice,
  Softmax: lowerSoftmax,
  Squeeze: lowerSqueeze,
  Sub: lowerArithmetic('Sub'),
  Tanh: lowerTanh,
  Transpose: lowerTranspose,
  Unsqueeze: lowerUnsqueeze,
};

export const supportedOps = Object.keys(lowerings).sort();
