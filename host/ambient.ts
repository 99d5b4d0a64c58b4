/// <reference lib="esnext.disposable" preserve="true" />
// Global types that webgrad's declarations name but not every TypeScript setup
// has, so a strict program with `skipLibCheck: false` type-checks against the
// shipped types whether its lib is ES2022 with @types/node (Node), DOM
// (browsers), or a later ES:
// - Symbol.dispose (Tensor is Disposable): the esnext.disposable lib above,
//   kept in the emitted declarations by preserve="true".
// - WebAssembly.Memory and WebAssembly.Module (the wasm backend's memory and
//   module): declared by lib.dom only, not by @types/node. Declared here as
//   empty interfaces, which merge with lib.dom's full ones where it is present.
export {};

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace WebAssembly {
    interface Memory {}
    interface Module {}
  }
}
