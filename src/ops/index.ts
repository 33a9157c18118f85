import { argmaxDef } from './argmax.js';
import { clampDef } from './clamp.js';
import { divDef } from './div.js';
import { gatherDef } from './gather.js';
import { inputDef } from './input.js';
import { leakyDef } from './leaky.js';
import { linearDef } from './linear.js';
import { lookupDef } from './lookup.js';
import { maxDef } from './max.js';
import { mulDef } from './mul.js';
import { pwlDef } from './pwl.js';
import { requantDef } from './requant.js';
import { rescaleDef } from './rescale.js';
import { sqrtDef } from './sqrt.js';
import type { OpDef, OpDefs, QOp } from './types.js';

/** The one table of op meanings. A new op kind without an entry here is a type error. */
export const opDefs = {
  input: inputDef,
  linear: linearDef,
  gather: gatherDef,
  rescale: rescaleDef,
  requant: requantDef,
  leaky: leakyDef,
  clamp: clampDef,
  pwl: pwlDef,
  max: maxDef,
  mul: mulDef,
  argmax: argmaxDef,
  div: divDef,
  sqrt: sqrtDef,
  lookup: lookupDef,
} satisfies OpDefs;

export function defOf<O extends QOp>(op: O): OpDef<O> {
  return opDefs[op.kind] as unknown as OpDef<O>;
}

export * from './types.js';
