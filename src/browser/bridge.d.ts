/** `window.attn`: defined by the Electron preload (src/preload/index.ts), absent in a plain browser. */
import type { AttnBridge } from '../common/contract';

declare global {
  interface Window {
    readonly attn?: AttnBridge;
  }
}

export {};
