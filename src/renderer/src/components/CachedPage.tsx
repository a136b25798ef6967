/**
 * A document's opening page: its title and text from the host's render cache
 * (src/host/RenderCache.ts), as they were last time, while the document itself loads
 * into this window. The text takes typing at once (openingPage.ts); the editor carries
 * what was typed into the document when it replaces this page (openingTyping.ts).
 */
import { useLayoutEffect, useRef } from "react";
import type { RenderCacheView } from "../../../shared/api";
import { UNTITLED } from "../../../shared/library";
import { openingPageFor } from "../openingTyping";
import { OPENING_NOTE } from "../openingPage";

export function CachedPage({ url, view }: { url: string; view: RenderCacheView }) {
  const mountRef = useRef<HTMLDivElement>(null);
  // A layout effect: the page (and the writer's caret in it) is back in the same frame
  // that took early.ts's page, or the previous CachedPage's, off the screen.
  useLayoutEffect(() => {
    const mount = mountRef.current;
    if (!mount) return;
    const page = openingPageFor(url, view);
    page.mountIn(mount);
    mount.dataset.cached = "true";
    // The long-document bench measures time to text on screen, and to typing, from these.
    requestAnimationFrame(() => {
      performance.mark("writer:cached-text");
      performance.mark("writer:editable");
    });
    return () => page.element.remove();
  }, [url, view]);
  return (
    <div className="editor-pane cached-pane" aria-busy="true">
      <div className="opening-bar" role="status">
        {OPENING_NOTE}
      </div>
      <div className="scroller">
        <article className="page">
          <h1 className="title-input cached-title">{view.title || UNTITLED}</h1>
          <div ref={mountRef} className="cached-mount" />
        </article>
      </div>
    </div>
  );
}
