/**
 * Commands from the desktop app's menu and from writer:// links (src/main/menu.ts,
 * deepLink.ts), checked before anything acts on them. In Electron they come through the
 * preload (IPC_COMMAND); the same commands can be given as a "writer:command" DOM event,
 * which is how the browser shell's tests give them.
 */
import { parseDesktopCommand, type DesktopCommand } from "../../shared/desktopCommands";

const DESKTOP_COMMAND_EVENT = "writer:command";

/** Calls `handler` with each valid command until the returned function is called. */
export function listenForDesktopCommands(handler: (command: DesktopCommand) => void): () => void {
  const take = (payload: unknown) => {
    const command = parseDesktopCommand(payload);
    if (command) handler(command);
    else console.warn("a desktop command that is not one was ignored");
  };
  const fromDom = (event: Event) => take((event as CustomEvent<unknown>).detail);
  window.addEventListener(DESKTOP_COMMAND_EVENT, fromDom);
  const stopIpc = window.writerHost?.onCommand?.(take);
  return () => {
    window.removeEventListener(DESKTOP_COMMAND_EVENT, fromDom);
    stopIpc?.();
  };
}
