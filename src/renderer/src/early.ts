/**
 * The first paint, before the app's own code has even been parsed: asks the
 * host for the document it reopens and that document's render cache, and draws its
 * title and text as plain, read-only HTML into the page. A few kilobytes with no
 * framework and no Automerge; the app replaces it as soon as it starts (React clears
 * #root), then shows the cache again in the editor's own rendering until the document
 * is loaded. Text is set as text, never as markup, and links are not links here.
 */
import type { Bootstrap, RenderCacheView } from "../../shared/api";
import { UNTITLED } from "../../shared/library";
import { decodeBase64 } from "./base64";
import { shellHeaders } from "./shellCredential";

type Call = (request: Record<string, unknown>) => Promise<{ ok: boolean; value?: unknown }>;

const call: Call = window.writerHost
  ? (request) => window.writerHost!.call(request as never) as Promise<{ ok: boolean; value?: unknown }>
  : (request) => fetch("/api", { method: "POST", headers: shellHeaders(), body: JSON.stringify(request) }).then((r) => r.json() as Promise<{ ok: boolean; value?: unknown }>);

type Span = { type: "block"; value: { type?: unknown; parents?: unknown; attrs?: { level?: unknown } } } | { type: "text"; value: string; marks?: Record<string, unknown> };

/** One block's element: headings, code and rules as such, list items and quotes by class. */
function blockElement(block: Extract<Span, { type: "block" }>["value"]): HTMLElement {
  const type = typeof block.type === "string" ? block.type : "paragraph";
  const parents = Array.isArray(block.parents) ? block.parents.map(String) : [];
  let el: HTMLElement;
  if (type === "heading") el = document.createElement(`h${Math.min(3, Math.max(1, Number(block.attrs?.level) || 1))}`);
  else if (type === "code-block") el = document.createElement("pre");
  else if (type === "horizontal-rule") el = document.createElement("hr");
  else el = document.createElement("p");
  if (type.endsWith("list-item") || type === "task-item") el.className = "early-item";
  if (parents.includes("blockquote")) el.classList.add("early-quote");
  return el;
}

function draw(view: RenderCacheView): void {
  const root = document.getElementById("root");
  if (!root || root.childElementCount > 0) return;
  window.writerEarlyPaint = view;
  const page = document.createElement("article");
  page.className = "page";
  const title = document.createElement("h1");
  title.className = "title-input cached-title";
  title.textContent = view.title || UNTITLED;
  const prose = document.createElement("div");
  prose.className = "prose";
  let current: HTMLElement | null = null;
  for (const span of view.spans as Span[]) {
    if (span.type === "block") {
      current = blockElement(span.value ?? {});
      prose.append(current);
    } else if (span.type === "text" && typeof span.value === "string") {
      if (!current) prose.append((current = document.createElement("p")));
      const marks = span.marks ?? {};
      let node: Node = document.createTextNode(span.value);
      for (const [name, tag] of [["strong", "strong"], ["em", "em"], ["code", "code"], ["strike", "s"], ["underline", "u"]] as const) {
        if (marks[name]) {
          const wrap = document.createElement(tag);
          wrap.append(node);
          node = wrap;
        }
      }
      current.append(node);
    }
  }
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
  bar.textContent = "Opening… the text is shown as it was last saved; you can edit in a moment.";
  pane.append(bar, scroller);
  shell.append(sidebar, pane);
  root.append(shell);
  requestAnimationFrame(() => performance.mark("writer:cached-text"));
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
// After the paint: its module is megabytes long, and loaded sooner it holds the paint back
// (bench/long-document has the figures).
// A host that does not answer holds the paint, not the wasm (nor the app).
window.writerWasm = Promise.race([paint().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 300))])
  .then(() => import("@automerge/automerge/automerge.wasm.base64"))
  .then(({ automergeWasmBase64 }) => WebAssembly.compile(decodeBase64(automergeWasmBase64)));
window.writerWasm.catch(() => undefined);
