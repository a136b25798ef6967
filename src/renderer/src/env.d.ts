/// <reference types="vite/client" />
import type { HostRequest, RenderCacheView } from "../../shared/api";

declare global {
  interface Window {
    /** The render cache early.ts painted first, for the app to keep showing until its own view is ready. */
    writerEarlyPaint?: RenderCacheView;
    /** The document the app reopens, as early.ts learnt it: main.tsx asks the host for it at once. */
    writerReopening?: string;
    /** Present only in Electron, exposed by the preload. */
    writerHost?: {
      call(request: HostRequest): Promise<unknown>;
      /** Saves the page as a PDF where the writer chooses (main's webContents.printToPDF). */
      printToPDF?(title: string): Promise<{ ok: true; saved: string | null } | { ok: false; message: string }>;
    };
  }
}
export {};
