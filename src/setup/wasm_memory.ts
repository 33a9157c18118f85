/** ffjavascript's thread manager, as far as its WASM memory goes. */
export interface WasmMemory {
  memory: WebAssembly.Memory;
  u8: Uint8Array;
  u32: Uint32Array;
  alloc(bytes: number): number;
}

/**
 * ffjavascript's main-thread (and single-threaded) WASM memory never grows by itself: grows it so
 * that `bytes` fit above the free pointer (u32[0]), and renews the views that growing detaches.
 */
export function ensureFree(tm: WasmMemory, bytes: number): void {
  const end = ((tm.u32[0] + 3) & ~3) + bytes;
  const missing = Math.ceil((end - tm.memory.buffer.byteLength) / 65536);
  if (missing > 0) {
    tm.memory.grow(missing);
    tm.u8 = new Uint8Array(tm.memory.buffer);
    tm.u32 = new Uint32Array(tm.memory.buffer);
  }
}

/** Runs `use` with `bytes` of room above the free pointer, then frees it, so that later calls reuse the space. */
export function withRoom<T>(tm: WasmMemory, bytes: number, use: () => T): T {
  const saved = tm.u32[0];
  ensureFree(tm, bytes);
  try {
    return use();
  } finally {
    tm.u32[0] = saved;
  }
}
