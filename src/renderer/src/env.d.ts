/// <reference types="vite/client" />
import type { HostRequest } from "../../shared/api";

declare global {
  interface Window {
    /** Present only in Electron, exposed by the preload. */
    writerHost?: {
      call(request: HostRequest): Promise<unknown>;
      /** Saves the page as a PDF where the writer chooses (main's webContents.printToPDF). */
      printToPDF?(title: string): Promise<{ ok: true; saved: string | null } | { ok: false; message: string }>;
    };
  }
}
export {};
