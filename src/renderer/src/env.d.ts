/// <reference types="vite/client" />
import type { Bootstrap, HostRequest, RenderCacheView } from "../../shared/api";
import type { TypingOnCache } from "./openingPage";

declare global {
  interface Window {
    /** The render cache early.ts painted first, for the app to keep showing until its own view is ready. */
    writerEarlyPaint?: RenderCacheView;
    /** The document the app reopens, as early.ts learnt it: main.tsx asks the host for it at once. */
    writerReopening?: string;
    /** The host's bootstrap answer to early.ts (null if it failed): the app starts from it. */
    writerEarlyBoot?: Promise<Bootstrap | null>;
    /** The Automerge wasm, compiled by early.ts while the app's script loads. */
    writerWasm?: Promise<WebAssembly.Module>;
    /** The host's saved copy of that document, asked for by early.ts (savedDocument.ts). */
    writerEarlySaved?: { url: string; saved: Promise<{ base64: string } | null> };
    /** Typing on early.ts's page, for the app to carry on and hand to the document (openingTyping.ts). */
    writerEarlyTyping?: TypingOnCache;
    /** Present only in Electron, exposed by the preload. */
    writerHost?: {
      call(request: HostRequest): Promise<unknown>;
      /** Saves the page as a PDF where the writer chooses (main's webContents.printToPDF). */
      printToPDF?(title: string): Promise<{ ok: true; saved: string | null } | { ok: false; message: string }>;
      /** Menu items and writer:// links, from main (desktopCommands.ts); returns the unsubscription. */
      onCommand?(listener: (payload: unknown) => void): () => void;
    };
  }
}
export {};
