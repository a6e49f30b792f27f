// Cytoscape.js for the entity network, bundled by `npm run build` into
// ../vendor/cytoscape.bundle.js (global OpenSkiesCytoscape.cytoscape).
import cytoscape from "cytoscape";
export { cytoscape };
