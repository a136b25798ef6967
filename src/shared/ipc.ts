/**
 * IPC channel names, apart from the API schemas so that the sandboxed preload (which
 * cannot load npm packages at run time) bundles nothing but these strings.
 */

/** Name of the single IPC channel the preload exposes. */
export const IPC_CHANNEL = "writer:host";
/** Channel on which the main process hands the renderer its sync MessagePort. */
export const IPC_SYNC_PORT = "writer:sync-port";
/** Channel on which the renderer asks main to print the page to a PDF file (Electron only). */
export const IPC_PRINT_PDF = "writer:print-pdf";
/** Channel on which main asks the page to run a menu item or open a writer:// link (shared/desktopCommands.ts). */
export const IPC_COMMAND = "writer:command";
/** The page tells main it listens for commands: what came before (a file Writer was opened with) is sent then. */
export const IPC_COMMAND_READY = "writer:command-ready";
