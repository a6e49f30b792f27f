// The workbench at "/": CodeMirror editor, question gallery, results table.
// Progressive enhancement of a plain form that submits to /sparql.
(function () {
  "use strict";
  const OURS = "https://w3id.org/openskies/";
  const SOLUTION_FORMATS = [["json", "SPARQL JSON"], ["xml", "SPARQL XML"], ["csv", "CSV"], ["tsv", "TSV"]];
  const GRAPH_FORMATS = [["turtle", "Turtle"], ["ntriples", "N-Triples"], ["jsonld", "JSON-LD"], ["rdfxml", "RDF/XML"]];
  const EXTENSIONS = { json: "srj", xml: "srx", csv: "csv", tsv: "tsv", turtle: "ttl", ntriples: "nt", jsonld: "jsonld", rdfxml: "rdf" };

  let editor = null;
  let prefixes = {};
  let questions = null; // name -> entry, loaded on first use
  let active = null; // {name, values, text}: the question the editor shows, if any
  let running = 0;

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function shorten(iri) {
    let best = null;
    for (const [name, ns] of Object.entries(prefixes)) {
      if (iri.startsWith(ns) && (!best || ns.length > best[1].length)) best = [name, ns];
    }
    if (best && /^[\w.-]*$/.test(iri.slice(best[1].length))) return `${best[0]}:${iri.slice(best[1].length)}`;
    return `<${iri}>`;
  }

  /** A result term as a cell: our IRIs link to their pages, others to themselves. */
  function termNode(term) {
    if (!term) return "";
    if (term.type === "uri") {
      const local = term.value.startsWith(OURS) ? "/" + term.value.slice(OURS.length) : null;
      return el("a", { href: local || term.value, class: local ? "internal" : "external", title: term.value }, shorten(term.value));
    }
    if (term.type === "bnode") return `_:${term.value}`;
    const parts = [term.value];
    if (term["xml:lang"]) parts.push(el("span", { class: "lit-meta" }, ` @${term["xml:lang"]}`));
    else if (term.datatype && !term.datatype.endsWith("#string")) parts.push(el("span", { class: "lit-meta" }, ` ${shorten(term.datatype)}`));
    return el("span", {}, parts);
  }

  function sortValue(term) {
    if (!term) return ["", null];
    const number = term.type === "literal" && term.datatype && /#(integer|decimal|double|float|int|long|nonNegativeInteger)$/.test(term.datatype) ? Number(term.value) : null;
    return [term.type === "uri" ? shorten(term.value) : term.value, number];
  }

  function compare(a, b) {
    const [ta, na] = sortValue(a);
    const [tb, nb] = sortValue(b);
    if (na !== null && nb !== null) return na - nb;
    if (!a && b) return 1;
    if (a && !b) return -1;
    return ta.localeCompare(tb, undefined, { numeric: true });
  }

  function renderTable(vars, rows) {
    const table = el("table", { class: "results-table", "data-testid": "results-table" });
    const head = el("tr");
    const tbody = el("tbody");
    const fill = (list) => {
      tbody.textContent = "";
      for (const row of list) tbody.append(el("tr", {}, vars.map((v) => el("td", { "data-var": v }, termNode(row[v])))));
    };
    vars.forEach((v) => {
      const button = el("button", { type: "button", title: `Sort by ${v}` }, `?${v}`);
      const th = el("th", { scope: "col", "aria-sort": "none", "data-var": v }, button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        head.querySelectorAll("th").forEach((other) => other.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        fill(rows.slice().sort((a, b) => (ascending ? 1 : -1) * compare(a[v], b[v])));
      });
      head.append(th);
    });
    table.append(el("thead", {}, head), tbody);
    fill(rows);
    return table;
  }

  function showDownloads(query, kind) {
    const box = $("downloads");
    box.textContent = "";
    box.append(el("span", { class: "meta" }, "Download:"));
    for (const [name, label] of kind === "graph" ? GRAPH_FORMATS : SOLUTION_FORMATS) {
      const href = `/sparql?${new URLSearchParams({ query, format: name })}`;
      box.append(el("a", { href, download: `openskies-results.${EXTENSIONS[name]}`, "data-format": name }, label));
    }
    box.hidden = false;
  }

  function clearOutput() {
    $("error").hidden = true;
    $("error").textContent = "";
    $("downloads").hidden = true;
    $("results").textContent = "";
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = false;
  }

  function keepInUrl() {
    const text = editor.getValue();
    const params = new URLSearchParams();
    if (active && active.text === text) {
      params.set("question", active.name);
      for (const [key, value] of Object.entries(active.values)) if (value) params.set(key, value);
    } else {
      active = null;
      params.set("query", text);
    }
    const url = `/?${params}`;
    if (location.pathname + location.search !== url) history.replaceState(null, "", url);
  }

  async function run() {
    const query = editor.getValue();
    const ticket = ++running;
    clearOutput();
    keepInUrl();
    $("status").textContent = "Running…";
    const started = performance.now();
    let response;
    let body;
    try {
      response = await fetch("/sparql", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/sparql-results+json, text/turtle;q=0.9",
        },
        body: new URLSearchParams({ query }),
      });
      body = await response.text();
    } catch (error) {
      if (ticket !== running) return;
      $("status").textContent = "";
      showError(`The server could not be reached: ${error.message}`);
      return;
    }
    if (ticket !== running) return;
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      $("status").textContent = `Failed after ${ms} ms.`;
      showError(`${response.status} ${response.statusText}\n${body.trim()}`);
      return;
    }
    const type = (response.headers.get("content-type") || "").split(";")[0].trim();
    const truncated = response.headers.get("x-openskies-truncated") === "true" ? " (truncated by the server's row limit)" : "";
    if (type === "application/sparql-results+json") {
      const data = JSON.parse(body);
      if ("boolean" in data) {
        $("status").textContent = `ASK answered in ${ms} ms.`;
        $("results").append(el("p", { class: "ask-result", "data-testid": "ask-result" }, `Answer: ${data.boolean ? "yes (true)" : "no (false)"}`));
      } else {
        const rows = data.results.bindings;
        $("status").textContent = `${rows.length} row${rows.length === 1 ? "" : "s"} in ${ms} ms${truncated}.`;
        $("results").append(renderTable(data.head.vars, rows));
      }
      showDownloads(query, "solutions");
    } else {
      const triples = body.split("\n").filter((line) => line.trim() && !line.startsWith("@prefix") && !line.startsWith("PREFIX")).length;
      $("status").textContent = `Graph in ${ms} ms (Turtle, ${triples} line${triples === 1 ? "" : "s"})${truncated}.`;
      $("results").append(el("pre", { class: "turtle", "data-testid": "turtle" }, el("code", {}, body)));
      showDownloads(query, "graph");
    }
  }

  async function catalog() {
    if (!questions) {
      const response = await fetch("/ui/api/questions");
      const list = await response.json();
      questions = Object.fromEntries(list.map((q) => [q.name, q]));
    }
    return questions;
  }

  function parameterField(parameter, value) {
    const id = `param-${parameter.name}`;
    let input;
    if (parameter.enum) {
      input = el("select", { id, name: parameter.name }, parameter.enum.map((option) =>
        el("option", { value: option, selected: option === value }, parameter.kind === "iri" ? shorten(option) : option)));
      if (!parameter.required && !parameter.default) input.prepend(el("option", { value: "", selected: !value }, "(any)"));
    } else {
      input = el("input", {
        id, name: parameter.name, type: "text", value: value || "",
        placeholder: parameter.default ? shorten(parameter.default) : parameter.kind === "iri" ? "osd:…" : "",
        required: parameter.required,
      });
    }
    const hint = parameter.kind === "iri" ? "an IRI (osd:… accepted)" : parameter.datatype ? shorten(parameter.datatype) : "text";
    return el("label", { for: id }, [`${parameter.name} `, el("span", { class: "meta" }, `(${hint}${parameter.required ? ", required" : ""})`), input]);
  }

  async function selectQuestion(name, values, runNow) {
    const all = await catalog();
    const question = all[name];
    if (!question) return;
    document.querySelectorAll(".questions li").forEach((li) => li.classList.toggle("chosen", li.dataset.name === name));
    $("question-info").hidden = false;
    $("question-summary").textContent = question.summary;
    $("question-description").textContent = question.description || "";
    const form = $("question-params");
    form.textContent = "";
    const given = {};
    for (const parameter of question.parameters) {
      const value = values[parameter.name] || (parameter.enum ? parameter.default || parameter.enum[0] : "");
      if (value) given[parameter.name] = value;
      form.append(parameterField(parameter, value));
    }
    if (question.parameters.length) form.append(el("button", { type: "submit" }, "Run with these values"));
    form.onsubmit = (event) => {
      event.preventDefault();
      const chosen = {};
      for (const [key, value] of new FormData(form).entries()) if (value) chosen[key] = value;
      selectQuestion(name, chosen, true);
    };
    clearOutput();
    const response = await fetch(`/ui/api/questions/${encodeURIComponent(name)}/sparql?${new URLSearchParams(given)}`);
    const data = await response.json();
    if (!response.ok) {
      showError(data.error || `HTTP ${response.status}`);
      return;
    }
    editor.setValue(data.query);
    active = { name, values: given, text: data.query };
    if (runNow) await run();
    else keepInUrl();
  }

  document.addEventListener("DOMContentLoaded", () => {
    prefixes = JSON.parse($("prefixes").textContent);
    const textarea = $("query");
    if (window.OpenSkiesEditor) {
      editor = window.OpenSkiesEditor.createEditor(textarea, { onRun: run, terms: Object.keys(prefixes).map((p) => `${p}:`) });
    } else { // the bundle failed to load: keep the textarea, still run with Ctrl+Enter
      editor = { getValue: () => textarea.value, setValue: (text) => { textarea.value = text; }, focus: () => textarea.focus() };
      textarea.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
      });
    }
    $("query-form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
    $("questions").addEventListener("click", (event) => {
      const link = event.target.closest("a[data-question]");
      if (!link) return;
      event.preventDefault();
      selectQuestion(link.dataset.question, {}, true);
    });
    const params = new URLSearchParams(location.search);
    if (params.has("query")) {
      run();
    } else if (params.has("question")) {
      const values = {};
      for (const [key, value] of params) if (key !== "question") values[key] = value;
      selectQuestion(params.get("question"), values, true);
    }
    document.body.dataset.workbench = "ready";
  });
})();
