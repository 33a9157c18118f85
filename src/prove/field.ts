/** The BN254 scalar field: circuit values and public signals live here. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export function toField(v: bigint): bigint {
  const r = v % FIELD_MODULUS;
  return r < 0n ? r + FIELD_MODULUS : r;
}

/** A field element read back as a signed integer (values above p/2 are negative). */
export function fromField(v: bigint): bigint {
  return v > FIELD_MODULUS / 2n ? v - FIELD_MODULUS : v;
}
