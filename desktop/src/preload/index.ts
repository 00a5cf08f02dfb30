/** Preload (sandboxed, bundled as CommonJS): exposes the typed bridge as `window.orders`. */
import { contextBridge, ipcRenderer } from 'electron';
import { exposeBridge } from './bridge.js';

exposeBridge(contextBridge, ipcRenderer);
