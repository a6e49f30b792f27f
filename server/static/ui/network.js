// The entity network: Cytoscape.js (bundled locally) over the JSON the page embeds.
(function () {
  "use strict";
  const COLOURS = { state: "#0b5cad", person: "#b35900", institution: "#2b8a3e", event: "#8250df", statement: "#cf222e" };
  const SHAPES = { state: "round-rectangle", person: "ellipse", institution: "hexagon", event: "diamond", statement: "round-tag" };

  document.addEventListener("DOMContentLoaded", () => {
    const data = JSON.parse(document.getElementById("network-data").textContent);
    const container = document.getElementById("network");
    const detail = document.getElementById("network-detail");
    const elements = [
      ...data.nodes.map((n) => ({ data: { id: n.id, label: n.label, type: n.type, href: n.href } })),
      ...data.edges.map((e) => ({ data: { id: e.id, source: e.source, target: e.target, label: e.label } })),
    ];
    const cy = window.OpenSkiesCytoscape.cytoscape({
      container,
      elements,
      
      style: [
        { selector: "node", style: {
          label: "data(label)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 110,
          "background-color": (n) => COLOURS[n.data("type")], shape: (n) => SHAPES[n.data("type")],
          width: 18, height: 18, color: "#1b1f24", "text-valign": "bottom", "text-margin-y": 3 } },
        { selector: "edge", style: {
          width: 1.2, "line-color": "#b6bec8", "target-arrow-color": "#b6bec8",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.7 } },
        { selector: "edge:selected, edge.near", style: { label: "data(label)", "font-size": 8, "line-color": "#59636e", "target-arrow-color": "#59636e", "text-rotation": "autorotate" } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#1b1f24" } },
        { selector: ".faded", style: { opacity: 0.25 } },
      ],
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 70, padding: 20 },
    });
    window.openSkiesNetwork = cy;

    function describe(node) {
      detail.textContent = "";
      const h = document.createElement("h2");
      const a = document.createElement("a");
      a.href = node.data("href");
      a.textContent = node.data("label");
      h.append(a);
      const p = document.createElement("p");
      p.className = "meta";
      p.textContent = node.data("type");
      const list = document.createElement("ul");
      node.connectedEdges().forEach((edge) => {
        const li = document.createElement("li");
        const other = edge.source().same(node) ? edge.target() : edge.source();
        const link = document.createElement("a");
        link.href = other.data("href");
        link.textContent = other.data("label");
        li.append(edge.source().same(node) ? `${edge.data("label")} → ` : `← ${edge.data("label")} · `, link);
        list.append(li);
      });
      detail.append(h, p, list);
    }

    cy.on("tap", "node", (event) => {
      const node = event.target;
      cy.elements().removeClass("faded near");
      cy.elements().not(node.closedNeighborhood()).addClass("faded");
      node.connectedEdges().addClass("near");
      describe(node);
    });
    cy.on("tap", (event) => { if (event.target === cy) cy.elements().removeClass("faded near"); });
    cy.on("dbltap", "node", (event) => { window.location.href = event.target.data("href"); });

    const filter = document.getElementById("network-filter");
    filter.addEventListener("change", () => {
      const shown = new Set([...filter.querySelectorAll("input:checked")].map((box) => box.value));
      cy.batch(() => cy.nodes().forEach((node) => node.style("display", shown.has(node.data("type")) ? "element" : "none")));
    });
    container.dataset.ready = "true";
  });
})();
