/**
 * Side effect only: in the thread that imports this module, blake-hash (a dependency of
 * circomlibjs, used by its EdDSA) resolves to its own pure-JS implementation instead of its native
 * addon. Import it before circomlibjs; src/commit/circomlib.ts does, and is the only place that
 * imports circomlibjs.
 *
 * Why: blake-hash@2.0.0's addon keeps its classes in static `Napi::FunctionReference` members, so
 * every thread that loads it deletes the references of the thread that loaded it before, from the
 * wrong thread (napi_delete_reference on another isolate's handles, seen in gdb). With the addon
 * in the main thread and in proving workers, that corrupted the heap as workers came and went:
 * `free(): invalid pointer`, `corrupted size vs. prev_size`, SIGSEGV, V8 fatal errors, in about
 * half of the processes that started and stopped a ProvingPool twice. zkml only uses Poseidon; the
 * JS implementation is blake-hash's own fallback when its addon does not load, with the same output.
 */
import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

function preferJsBlakeHash(): void {
  let from: NodeJS.Require;
  let bindings: string;
  try {
    from = createRequire(require.resolve('circomlibjs'));
    bindings = from.resolve('blake-hash/bindings.js');
  } catch {
    return; // a circomlibjs without blake-hash: nothing to do
  }
  if (require.cache[bindings]) return; // already loaded in this thread (by whoever imported circomlibjs first)
  const js = new Module(bindings);
  js.filename = bindings;
  js.exports = from('blake-hash/js.js');
  js.loaded = true;
  require.cache[bindings] = js;
}

preferJsBlakeHash();
