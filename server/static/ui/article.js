// The article's highlights explained: hovering or clicking a <mark> shows the
// triples of the graph nodes the span supports (fetched from /ui/api/span).
// Without JavaScript the page is unchanged: every highlight still links to its node.
(function () {
  "use strict";
  const cache = new Map();
  let popup = null;
  let pinned = false;
  let hoverTimer = null;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    for (const child of [].concat(children || [])) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function link(term) {
    return term.href ? el("a", { href: term.href }, term.text) : term.text;
  }

  async function supports(range) {
    if (!cache.has(range)) {
      const [start, end] = range.split("-");
      cache.set(range, fetch(`/ui/api/span?start=${start}&end=${end}`).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      }));
    }
    return cache.get(range);
  }

  function close() {
    if (popup) popup.remove();
    popup = null;
    pinned = false;
  }

  async function show(mark, pin) {
    const range = mark.dataset.span;
    if (!range) return;
    if (popup && popup.dataset.span === range) { pinned = pinned || pin; return; }
    close();
    pinned = pin;
    popup = el("div", { class: "span-popup", role: "dialog", "aria-label": "Triples this passage supports", "data-span": range }, "Loading…");
    const box = mark.getBoundingClientRect();
    popup.style.left = `${Math.max(8, window.scrollX + box.left)}px`;
    popup.style.top = `${window.scrollY + box.bottom + 6}px`;
    document.body.append(popup);
    const current = popup;
    try {
      const data = await supports(range);
      if (popup !== current) return;
      current.textContent = "";
      current.append(el("p", { class: "meta" }, `Characters ${data.start}–${data.end} support:`));
      for (const node of data.nodes) {
        current.append(el("h3", {}, el("a", { href: node.href }, node.label)));
        const rows = node.triples.map((t) => el("tr", {}, [el("th", { scope: "row" }, link(t.predicate)), el("td", {}, link(t.object))]));
        current.append(el("table", { class: "triples" }, el("tbody", {}, rows)));
      }
      if (!data.nodes.length) current.append(el("p", {}, "No node cites exactly this span."));
    } catch (error) {
      current.textContent = `Could not load the triples: ${error.message}`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const text = document.querySelector(".article-text");
    if (!text) return;
    text.addEventListener("mouseover", (event) => {
      const mark = event.target.closest("mark[data-span]");
      if (!mark || pinned) return;
      clearTimeout(hoverTimer);
      hoverTimer = setTimeout(() => show(mark, false), 250);
    });
    text.addEventListener("mouseout", (event) => {
      clearTimeout(hoverTimer);
      if (!pinned && popup && !(event.relatedTarget && popup.contains(event.relatedTarget))) {
        hoverTimer = setTimeout(() => { if (!pinned) close(); }, 400);
      }
    });
    text.addEventListener("click", (event) => {
      const mark = event.target.closest("mark[data-span]");
      if (!mark || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault(); // the link inside stays reachable from the popup
      show(mark, true);
    });
    document.addEventListener("mouseover", (event) => {
      if (popup && popup.contains(event.target)) clearTimeout(hoverTimer);
    });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
    document.addEventListener("click", (event) => {
      if (popup && !popup.contains(event.target) && !event.target.closest("mark[data-span]")) close();
    });
  });
})();
