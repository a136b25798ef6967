/// <reference types="vite/client" />
import type { HostRequest } from "../../shared/api";

declare global {
  interface Window {
    /** Present only in Electron, exposed by the preload. */
    writerHost?: { call(request: HostRequest): Promise<unknown> };
  }
}
export {};
