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
  { op: 'Add', suite: 'node', pattern: /^test_add/, computed: 2 },
  { op: 'Sub', suite: 'node', pattern: /^test_sub/, computed: 2 },
  { op: 'Mul', suite: 'node', pattern: /^test_mul/, computed: 2 },
  { op: 'MatMul', suite: 'node', pattern: /^test_matmul_/, computed: 2 },
  { op: 'Gemm', suite: 'node', pattern: /^test_gemm_/ },
  { op: 'Conv', suite: 'node', pattern: /^test_conv_with_/ },
  { op: 'MaxPool', suite: 'node', pattern: /^test_maxpool_/ },
  { op: 'AveragePool', suite: 'node', pattern: /^test_averagepool_/ },
  { op: 'GlobalAveragePool', suite: 'node', pattern: /^test_globalaveragepool/ },
  { op: 'BatchNormalization', suite: 'node', pattern: /^test_batchnorm_/ },
  { op: 'Relu', suite: 'node', pattern: /^test_relu$/ },
  { op: 'LeakyRelu', suite: 'node', pattern: /^test_leakyrelu/ },
  { op: 'PRelu', suite: 'node', pattern: /^test_prelu_/ },
  { op: 'Clip', suite: 'node', pattern: /^test_clip/ },
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
  { op: 'Dropout', suite: 'node', pattern: /^test_dropout_/ },
  { op: 'Conv1d/2d (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Conv[12]d/ },
  { op: 'MaxPool (PyTorch)', suite: 'pytorch-converted', pattern: /^test_MaxPool[12]d/ },
  { op: 'AvgPool (PyTorch)', suite: 'pytorch-converted', pattern: /^test_AvgPool[12]d/ },
  { op: 'BatchNorm (PyTorch)', suite: 'pytorch-converted', pattern: /^test_BatchNorm[12]d/ },
  { op: 'Linear (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Linear/ },
  { op: 'ReLU (PyTorch)', suite: 'pytorch-converted', pattern: /^test_ReLU$/ },
  { op: 'LeakyReLU (PyTorch)', suite: 'pytorch-converted', pattern: /^test_LeakyReLU/ },
  { op: 'PReLU (PyTorch)', suite: 'pytorch-converted', pattern: /^test_PReLU_[12]d/ },
  { op: 'Sigmoid (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Sigmoid$/ },
  { op: 'Tanh (PyTorch)', suite: 'pytorch-converted', pattern: /^test_Tanh$/ },
  { op: 'Pad (PyTorch)', suite: 'pytorch-converted', pattern: /^test_(ZeroPad2d|ConstantPad2d)$/ },
  { op: 'Softmax (PyTorch)', suite: 'pytorch-converted', pattern: /^test_(Softmax|softmax_lastdim|softmax_functional_dim3)$/ },
];

/** Cases of supported ops that do not run, each with its reason. */
export const excluded: Record<string, string> = {
  'node/test_add_uint8': 'uint8 inputs: the pipeline takes float models',
  'node/test_sub_uint8': 'uint8 inputs: the pipeline takes float models',
  'node/test_mul_uint8': 'uint8 inputs: the pipeline takes float models',
  'node/test_maxpool_2d_uint8': 'uint8 inputs: the pipeline takes float models',
  'node/test_clip_default_int8_inbounds': 'int8 inputs: the pipeline takes float models',
  'node/test_clip_default_int8_max': 'int8 inputs: the pipeline takes float models',
  'node/test_clip_default_int8_min': 'int8 inputs: the pipeline takes float models',
  'node/test_maxpool_with_argmax_2d_precomputed_pads': 'uses the Indices output of MaxPool (unsupported, reported as such)',
  'node/test_maxpool_with_argmax_2d_precomputed_strides': 'uses the Indices output of MaxPool (unsupported, reported as such)',
  'node/test_maxpool_3d_default': '3-D pooling of a 98,304-element input: outside the 1-D/2-D scope and the test time budget',
  'node/test_averagepool_3d_default': '3-D pooling of a 98,304-element input: outside the 1-D/2-D scope and the test time budget',
  'node/test_batchnorm_epsilon_training_mode': 'training mode (batch statistics) is rejected: proofs are of inference',
  'node/test_batchnorm_example_training_mode': 'training mode (batch statistics) is rejected: proofs are of inference',
  'node/test_dropout_default_mask': 'uses the mask output of Dropout (unsupported, reported as such)',
  'node/test_dropout_default_mask_ratio': 'uses the mask output of Dropout (unsupported, reported as such)',
  'node/test_reshape_allowzero_reordered': 'an empty tensor (a dimension of size 0), rejected with a clear error',
  'pytorch-converted/test_MaxPool1d_stride_padding_dilation': 'a 220,000-element input: beyond the test time budget',
  'pytorch-converted/test_MaxPool2d_stride_padding_dilation': 'a 1,000,000-element input: beyond the test time budget',
};
