/**
 * The ONNX backend test cases (Debian's libonnx-testdata) run through the full path, grouped by
 * the op they test. `computed`: how many leading graph inputs stay circuit inputs (the rest are
 * weights, shapes or slopes and become constants, as in an exported model).
 */
export interface CaseGroup {
  op: string;
  suite: 'node' | 'pytorch-converted';
  pattern: RegExp;
  computed?: number;
}

export const caseGroups: CaseGroup[] = [
  { op: 'Add', suite: 'node', pattern: /^test_add(_bcast)?$/, computed: 2 },
  { op: 'Sub', suite: 'node', pattern: /^test_sub(_bcast|_example)?$/, computed: 2 },
  { op: 'Mul', suite: 'node', pattern: /^test_mul(_bcast|_example)?$/, computed: 2 },
  { op: 'MatMul', suite: 'node', pattern: /^test_matmul_[234]d$/, computed: 2 },
  { op: 'Gemm', suite: 'node', pattern: /^test_gemm_/ },
  { op: 'Conv', suite: 'node', pattern: /^test_conv_with_/ },
  { op: 'MaxPool', suite: 'node', pattern: /^test_maxpool_(1d|2d|3d)_(?!uint8)/ },
  { op: 'AveragePool', suite: 'node', pattern: /^test_averagepool_/ },
  { op: 'GlobalAveragePool', suite: 'node', pattern: /^test_globalaveragepool/ },
  { op: 'BatchNormalization', suite: 'node', pattern: /^test_batchnorm_(epsilon|example)$/ },
  { op: 'Relu', suite: 'node', pattern: /^test_relu$/ },
  { op: 'LeakyRelu', suite: 'node', pattern: /^test_leakyrelu/ },
  { op: 'PRelu', suite: 'node', pattern: /^test_prelu_/ },
  { op: 'Clip', suite: 'node', pattern: /^test_clip(?!_default_int8)/ },
  { op: 'Sigmoid', suite: 'node', pattern: /^test_sigmoid/ },
  { op: 'Tanh', suite: 'node', pattern: /^test_tanh/ },
  { op: 'Softmax', suite: 'node', pattern: /^test_softmax_(?!.*expanded)/ },
  { op: 'ArgMax', suite: 'node', pattern: /^test_argmax_/ },
  { op: 'Concat', suite: 'node', pattern: /^test_concat_/, computed: 3 },
  { op: 'Transpose', suite: 'node', pattern: /^test_transpose_/ },
  { op: 'Reshape', suite: 'node', pattern: /^test_reshape_/ },
  { op: 'Flatten', suite: 'node', pattern: /^test_flatten_/ },
  { op: 'Squeeze', suite: 'node', pattern: /^test_squeeze/ },
  { op: 'Unsqueeze', suite: 'node', pattern: /^test_unsqueeze/ },
  { op: 'Pad', suite: 'node', pattern: /^test_constant_pad$/ },
  { op: 'Identity', suite: 'node', pattern: /^test_identity$/ },
  { op: 'Dropout', suite: 'node', pattern: /^test_dropout_default(_ratio|_old)?$|^test_dropout_random_old$/ },
  { op: 'Conv (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Conv[12]d/ },
  { op: 'MaxPool (PyTorch)', suite: 'pytorch-converted', pattern: /^test_MaxPool[12]d/ },
  { op: 'AvgPool (PyTorch)', suite: 'pytorch-converted', pattern: /^test_AvgPool[12]d/ },
  { op: 'BatchNorm (PyTorch)', suite: 'pytorch-converted', pattern: /^test_BatchNorm[12]d/ },
  { op: 'Linear (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Linear/ },
  { op: 'ReLU (PyTorch)', suite: 'pytorch-converted', pattern: /^test_ReLU$/ },
  { op: 'LeakyReLU (PyTorch)', suite: 'pytorch-converted', pattern: /^test_LeakyReLU/ },
  { op: 'PReLU (PyTorch)', suite: 'pytorch-converted', pattern: /^test_PReLU_[12]d/ },
  { op: 'Sigmoid (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Sigmoid$/ },
  { op: 'Tanh (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Tanh$/ },
  { op: 'ZeroPad (PyTorch)', suite: 'pytorch-converted', pattern: /^test_(ZeroPad2d|ConstantPad2d)$/ },
  { op: 'Softmax (PyTorch)', suite: 'pytorch-converted', pattern: /^test_(Softmax|softmax_lastdim|softmax_functional_dim3)$/ },
];
