/**
 * Typed errors. Every error a user can cause names the thing that is wrong (file, node, tensor,
 * index) and, where there is one, what to do about it. The CLI prints `message` and exits non-zero.
 */
export abstract class ZkmlError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class MalformedModelError extends ZkmlError {
  readonly code = 'MALFORMED_MODEL';
  constructor(readonly file: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`${file}: not a valid ONNX model: ${reason}`, options);
  }
}

export class UnsupportedOpError extends ZkmlError {
  readonly code = 'UNSUPPORTED_OP';
  constructor(readonly op: string, readonly node: string, readonly supported: readonly string[], others = '') {
    super(`unsupported ONNX op ${op} (node "${node}")${others}; supported ops: ${supported.join(', ')}`);
  }
}

export class UnsupportedModelError extends ZkmlError {
  readonly code = 'UNSUPPORTED_MODEL';
  constructor(readonly op: string, readonly node: string, readonly reason: string) {
    super(`${op} node "${node}": ${reason}`);
  }
}

export class ShapeMismatchError extends ZkmlError {
  readonly code = 'SHAPE_MISMATCH';
  constructor(readonly what: string, readonly expected: string, readonly actual: string) {
    super(`${what}: expected ${expected}, got ${actual}`);
  }
}

/** The witness, program and keys of a build do not belong together (changed since compile or setup). */
export class CircuitMismatchError extends ZkmlError {
  readonly code = 'CIRCUIT_MISMATCH';
}

/** A proving key or witness file whose bytes are not what its format says. */
export class KeyFormatError extends ZkmlError {
  readonly code = 'KEY_FORMAT';
  constructor(detail: string) {
    super(`malformed proving key or witness: ${detail}`);
  }
}

export class InvalidInputError extends ZkmlError {
  readonly code = 'INVALID_INPUT';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class FixedPointRangeError extends ZkmlError {
  readonly code = 'FIXED_POINT_RANGE';
  constructor(
    readonly tensor: string,
    readonly index: number,
    readonly value: bigint,
    readonly min: bigint,
    readonly max: bigint,
    readonly hint = '',
  ) {
    super(
      `${tensor}[${index}] = ${value} is outside the planned fixed-point range [${min}, ${max}]` +
        (hint ? `: ${hint}` : ''),
    );
  }
}

export class FieldOverflowError extends ZkmlError {
  readonly code = 'FIELD_OVERFLOW';
  constructor(readonly tensor: string, readonly bits: number) {
    super(
      `${tensor}: values need ${bits} bits, more than a BN254 field element can hold without aliasing; ` +
        `lower --weight-bits or --activation-bits`,
    );
  }
}

/** A compiled model would not compute what the float model computes closely enough. */
export class AccuracyError extends ZkmlError {
  readonly code = 'ACCURACY';
}

export class MissingArtifactError extends ZkmlError {
  readonly code = 'MISSING_ARTIFACT';
  constructor(readonly path: string, readonly hint: string) {
    super(`missing ${path}: ${hint}`);
  }
}

export class CircomError extends ZkmlError {
  readonly code = 'CIRCOM_FAILED';
  constructor(readonly output: string) {
    super(`circom failed:\n${output}`);
  }
}

export class ChainError extends ZkmlError {
  readonly code = 'CHAIN';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class InvalidProofFileError extends ZkmlError {
  readonly code = 'INVALID_PROOF_FILE';
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

/**
 * Keys anyone can forge proofs for (dev keys: no phase-2 secret; a beacon-only phase 2; a dev
 * phase 1), used where a proof must be trusted: verification, deployment, registration, the service.
 */
export class InsecureKeysError extends ZkmlError {
  readonly code = 'INSECURE_KEYS';
  constructor(readonly build: string, readonly reason: string, readonly development: boolean, readonly where = '') {
    super(
      `the keys of ${build} are ${development ? 'development keys' : 'not secure'}: ${reason}; ` +
        `run a ceremony (\`zkml ceremony\`) or pass --insecure-dev-keys (library: insecureDevKeys: true)${where ? ` ${where}` : ''}`,
    );
  }
}

/**
 * A worker thread that an operation was waiting on died (a crash, an exit, a failure to start): the
 * proving pool's, the setup's fixed-base pool's, or one of snarkjs' curve threads. The operation
 * fails with this error rather than waiting forever; `pool` names which threads, `reason` what happened.
 */
export class WorkerCrashedError extends ZkmlError {
  readonly code = 'WORKER_CRASHED';
  constructor(readonly pool: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`a ${pool} worker thread died: ${reason}`, options);
  }
}
