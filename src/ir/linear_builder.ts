import type { LinearNode } from './graph.js';

/** Builds the compressed sparse rows of a linear node one output element at a time. */
export class LinearBuilder {
  private starts: number[] = [0];
  private srcs: number[] = [];
  private indexes: number[] = [];
  private weights: number[] = [];
  private biases: number[] = [];

  term(src: number, index: number, weight: number): this {
    if (weight !== 0) {
      this.srcs.push(src);
      this.indexes.push(index);
      this.weights.push(weight);
    }
    return this;
  }

  endRow(bias = 0): void {
    this.biases.push(bias);
    this.starts.push(this.srcs.length);
  }

  build(node: string, inputs: string[], output: string): LinearNode {
    return {
      kind: 'linear',
      node,
      inputs,
      output,
      rowStart: Int32Array.from(this.starts),
      src: Uint8Array.from(this.srcs),
      index: Int32Array.from(this.indexes),
      weight: Float64Array.from(this.weights),
      bias: Float64Array.from(this.biases),
    };
  }
}
