import { addConstDef } from './add_const.js';
import { denseDef } from './dense.js';
import { inputDef } from './input.js';
import { rescaleDef } from './rescale.js';
import { reshapeDef } from './reshape.js';
import type { OpDef, OpDefs, QOp } from './types.js';

/** The one table of op meanings. A new op kind without an entry here is a type error. */
export const opDefs = {
  input: inputDef,
  dense: denseDef,
  addConst: addConstDef,
  rescale: rescaleDef,
  reshape: reshapeDef,
} satisfies OpDefs;

export function defOf<O extends QOp>(op: O): OpDef<O> {
  return opDefs[op.kind] as unknown as OpDef<O>;
}

export * from './types.js';
