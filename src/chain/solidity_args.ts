import type { Groth16Proof, PublicSignals } from 'snarkjs';

export type SolidityArgs = [string[], string[][], string[], string[]];

/** The generated verifier's calldata: pi_b's coordinates are swapped for the EVM's pairing. (No Node imports: the web app uses it too.) */
export function solidityArgs(proof: Groth16Proof, publicSignals: PublicSignals): SolidityArgs {
  return [
    [proof.pi_a[0], proof.pi_a[1]],
    [
      [proof.pi_b[0][1], proof.pi_b[0][0]],
      [proof.pi_b[1][1], proof.pi_b[1][0]],
    ],
    [proof.pi_c[0], proof.pi_c[1]],
    [...publicSignals],
  ];
}
