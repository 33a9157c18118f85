// Minimal declarations for the untyped packages this project uses.
declare module 'snarkjs' {
  export type Groth16Proof = {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  };
  export type PublicSignals = string[];
  type Logger = { debug(...a: unknown[]): void; info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void } | undefined;
  type FileRef = string | { type: 'mem'; data?: Uint8Array };
  export const groth16: {
    prove(zkey: FileRef, witness: FileRef, logger?: Logger, options?: { singleThread?: boolean }): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    verify(vk: unknown, publicSignals: PublicSignals, proof: Groth16Proof, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: PublicSignals): Promise<string>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: string, logger?: Logger): Promise<unknown>;
    contribute(oldFile: string, newFile: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: Logger): Promise<unknown>;
    verify(file: string, logger?: Logger): Promise<boolean>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: FileRef, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: FileRef, newZkey: FileRef, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    beacon(oldZkey: FileRef, newZkey: FileRef, name: string, beaconHash: string, iterationsExp: number, logger?: Logger): Promise<unknown>;
    exportVerificationKey(zkey: FileRef, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: FileRef, templates: { groth16: string }, logger?: Logger): Promise<string>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: FileRef, logger?: Logger): Promise<boolean>;
  };
  export const r1cs: {
    info(file: string, logger?: Logger): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number; nLabels: number }>;
    exportJson(file: string, logger?: Logger): Promise<{ prime: string; nConstraints: number; constraints: Record<string, string>[][] }>;
  };
  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<{ terminate(): Promise<void> }>;
  };
}

declare module 'circom_runtime' {
  export interface WitnessCalculator {
    calculateWitness(input: Record<string, unknown>, sanityCheck?: boolean): Promise<bigint[]>;
    calculateWTNSBin(input: Record<string, unknown>, sanityCheck?: boolean): Promise<Uint8Array>;
  }
  export function WitnessCalculatorBuilder(code: Uint8Array, options?: Record<string, unknown>): Promise<WitnessCalculator>;
}

declare module '@iden3/binfileutils' {
  export interface BinFile {
    write(buff: Uint8Array): Promise<void>;
    close(): Promise<void>;
    pos: number;
  }
  export function readBinFile(file: string, type: string, maxVersion: number): Promise<{ fd: BinFile; sections: unknown[] }>;
  export function createBinFile(file: string, type: string, version: number, nSections: number): Promise<BinFile>;
  export function copySection(from: BinFile, sections: unknown[], to: BinFile, id: number): Promise<void>;
  export function startWriteSection(fd: BinFile, id: number): Promise<void>;
  export function endWriteSection(fd: BinFile): Promise<void>;
  export function writeBigInt(fd: BinFile, n: bigint, n8: number): Promise<void>;
}

declare module 'ffjavascript' {
  /** The BN254 curve engine snarkjs uses; single-threaded when asked (no worker threads). */
  export function buildBn128(singleThread?: boolean): Promise<unknown>;
}

declare module 'r1csfile' {
  export function readR1csHeader(fd: unknown, sections: unknown, options?: { singleThread?: boolean }): Promise<unknown>;
}

declare module 'circomlibjs' {
  /** Poseidon over BN254 with circomlib's parameters; returns a field element in Montgomery form (use F.toObject). */
  export function buildPoseidon(): Promise<((inputs: (bigint | number)[]) => unknown) & { F: { toObject(x: unknown): bigint } }>;
  /** EVM bytecode and ABI of a Poseidon contract taking nInputs (1..8) field elements: `poseidon(uint256[n])`. */
  export const poseidonContract: { createCode(nInputs: number): string; generateABI(nInputs: number): unknown[] };
}
