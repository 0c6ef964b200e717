/** `window.attn`: defined by the Electron preload (preload/index.ts), absent in a plain browser. */
import type { AttnBridge } from '../../preload/bridge';

declare global {
  interface Window {
    readonly attn?: AttnBridge;
  }
}

export {};
