import type { OrdersBridge } from '../../shared/bridge';

declare global {
  interface Window {
    /** Present in the Electron app (preload bridge); absent in a plain browser. */
    orders?: OrdersBridge;
  }
}
