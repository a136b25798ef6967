/**
 * The first paint, before the app's own code has even been parsed: asks the
 * host for the document it reopens and that document's render cache, and draws its
 * title and text as plain HTML into the page, and takes typing on it at once
 * (openingPage.ts). A few kilobytes with no framework and no Automerge; the app replaces
 * the page around it as soon as it starts (React clears #root) and carries the text, with
 * what was typed and the caret, into its own opening page until the document is loaded.
 */
import type { Bootstrap, RenderCacheView } from "../../shared/api";
import { UNTITLED } from "../../shared/library";
import { compileAutomergeWasm } from "./automergeWasm";
import { shellHeaders } from "./shellCredential";
import { OPENING_NOTE, TypingOnCache } from "./openingPage";

type Call = (request: Record<string, unknown>) => Promise<{ ok: boolean; value?: unknown }>;

const call: Call = window.writerHost
  ? (request) => window.writerHost!.call(request as never) as Promise<{ ok: boolean; value?: unknown }>
  : (request) => fetch("/api", { method: "POST", headers: shellHeaders(), body: JSON.stringify(request) }).then((r) => r.json() as Promise<{ ok: boolean; value?: unknown }>);

function draw(view: RenderCacheView): void {
  const root = document.getElementById("root");
  if (!root || root.childElementCount > 0) return;
  window.writerEarlyPaint = view;
  const page = document.createElement("article");
  page.className = "page";
  const title = document.createElement("h1");
  title.className = "title-input cached-title";
  title.textContent = view.title || UNTITLED;
  // Typing is taken at once (openingPage.ts); the app carries it over to the document.
  const typing = new TypingOnCache(view.spans, view.heads);
  window.writerEarlyTyping = typing;
  const prose = typing.element;
  const scroller = document.createElement("div");
  scroller.className = "scroller";
  page.append(title, prose);
  scroller.append(page);
  const shell = document.createElement("div");
  shell.className = "app early";
  shell.setAttribute("aria-busy", "true");
  const sidebar = document.createElement("aside");
  sidebar.className = "sidebar";
  const pane = document.createElement("main");
  pane.className = "pane";
  const bar = document.createElement("div");
  bar.className = "opening-bar";
  bar.setAttribute("role", "status");
  bar.textContent = OPENING_NOTE;
  pane.append(bar, scroller);
  shell.append(sidebar, pane);
  root.append(shell);
  if (document.hasFocus()) typing.element.focus({ preventScroll: true });
  requestAnimationFrame(() => {
    performance.mark("writer:cached-text");
    performance.mark("writer:editable");
  });
}

async function paint(): Promise<void> {
  const asked = call({ method: "bootstrap" });
  // The app starts from this answer rather than asking again behind whatever the host is
  // busy with by then (loading this document for the window, say).
  window.writerEarlyBoot = asked.then((r) => (r.ok ? (r.value as Bootstrap) : null));
  window.writerEarlyBoot.catch(() => undefined);
  const boot = await asked;
  const url = boot.ok ? (boot.value as { lastOpened?: unknown }).lastOpened : null;
  if (typeof url !== "string") return;
  window.writerReopening = url;
  const asking = call({ method: "renderCache", url });
  // The document itself, asked for now, after its cache: the app loads it as soon as its
  // Automerge is ready (savedDocument.ts).
  const saved = call({ method: "savedDocument", url }).then((r) => (r.ok && r.value && typeof (r.value as { base64?: unknown }).base64 === "string" ? (r.value as { base64: string }) : null));
  saved.catch(() => undefined);
  window.writerEarlySaved = { url, saved };
  const cache = await asking;
  if (cache.ok && cache.value && typeof cache.value === "object") draw(cache.value as RenderCacheView);
}

// A first paint that fails is only a later one; the app reports its own problems.
// The Automerge wasm is compiled here, while the app's own script is still being parsed;
// main.tsx instantiates the result.
// After the paint: it is megabytes long, and fetched sooner it holds the paint back
// (bench/long-document has the figures).
// A host that does not answer holds the paint, not the wasm (nor the app).
window.writerWasm = Promise.race([paint().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 300))])
  .then(compileAutomergeWasm);
window.writerWasm.catch(() => undefined);
