import { size, strides, unflatten, type Shape } from '../../ir/graph.js';
import type { LoweringContext } from './context.js';

export interface WindowGeometry {
  /** Spatial output sizes. */
  out: number[];
  padBegin: number[];
  padEnd: number[];
  kernel: number[];
  stride: number[];
  dilation: number[];
}

/**
 * Output sizes and padding of a sliding window (Conv, MaxPool, AveragePool) over the spatial axes
 * of an [N, C, ...spatial] tensor, with ONNX's auto_pad, pads, strides, dilations and ceil_mode.
 */
export function windowGeometry(ctx: LoweringContext, spatial: Shape, kernel: number[], ceilMode = false): WindowGeometry {
  const k = spatial.length;
  if (kernel.length !== k) ctx.fail(`kernel_shape [${kernel}] does not match ${k} spatial axes`);
  const stride = ctx.attrs.ints('strides') ?? new Array(k).fill(1);
  const dilation = ctx.attrs.ints('dilations') ?? new Array(k).fill(1);
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let pads = ctx.attrs.ints('pads') ?? new Array(2 * k).fill(0);
  const extent = kernel.map((kk, i) => (kk - 1) * dilation[i] + 1);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * k).fill(0);
    spatial.forEach((d, i) => {
      const out = Math.ceil(d / stride[i]);
      const total = Math.max(0, (out - 1) * stride[i] + extent[i] - d);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + k] = total - pads[i];
    });
  } else if (autoPad === 'VALID') {
    pads = new Array(2 * k).fill(0);
  } else if (autoPad !== 'NOTSET') {
    ctx.fail(`auto_pad "${autoPad}" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  if (stride.length !== k || dilation.length !== k || pads.length !== 2 * k) ctx.fail('strides, dilations and pads must match the spatial rank');
  const out = spatial.map((d, i) => {
    const span = d + pads[i] + pads[i + k] - extent[i];
    if (span < 0) ctx.fail(`the window (${extent[i]}) is larger than padded axis ${i} (${d + pads[i] + pads[i + k]})`);
    let o = (ceilMode ? Math.ceil(span / stride[i]) : Math.floor(span / stride[i])) + 1;
    // A window may not start in the end padding (ONNX and PyTorch agree on this rule).
    if (ceilMode && (o - 1) * stride[i] >= d + pads[i]) o--;
    return o;
  });
  return { out, padBegin: pads.slice(0, k), padEnd: pads.slice(k), kernel, stride, dilation };
}

export interface WindowTap {
  /** Flat spatial offset in the input, or -1 where the tap falls outside the input. */
  offset: number;
  /** The tap's offset within the kernel (flat). */
  kernelOffset: number;
  /** Inside the input or its explicit padding (count_include_pad counts these). */
  inPadded: boolean;
}

/** The taps of the window at each spatial output position, in row-major output order. */
export function windowTaps(spatial: Shape, g: WindowGeometry): WindowTap[][] {
  const k = spatial.length;
  const inStrides = strides(spatial);
  const nKernel = size(g.kernel);
  const result: WindowTap[][] = [];
  for (let o = 0; o < size(g.out); o++) {
    const pos = unflatten(o, g.out);
    const taps: WindowTap[] = [];
    for (let q = 0; q < nKernel; q++) {
      const kk = unflatten(q, g.kernel);
      let offset = 0;
      let inside = true;
      let inPadded = true;
      for (let d = 0; d < k; d++) {
        const x = pos[d] * g.stride[d] - g.padBegin[d] + kk[d] * g.dilation[d];
        if (x < 0 || x >= spatial[d]) inside = false;
        if (x < -g.padBegin[d] || x >= spatial[d] + g.padEnd[d]) inPadded = false;
        offset += x * inStrides[d];
      }
      taps.push({ offset: inside ? offset : -1, kernelOffset: q, inPadded });
    }
    result.push(taps);
  }
  return result;
}
