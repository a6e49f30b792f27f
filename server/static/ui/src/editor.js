// The workbench's SPARQL editor: CodeMirror 6 with the SPARQL mode of
// @codemirror/legacy-modes. Bundled by `npm run build` into
// ../vendor/editor.bundle.js (global OpenSkiesEditor); see README, "Web UI assets".
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput,
} from "@codemirror/language";
import { closeBrackets, closeBracketsKeymap, autocompletion } from "@codemirror/autocomplete";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";

const KEYWORDS = [
  "SELECT", "DISTINCT", "REDUCED", "WHERE", "OPTIONAL", "FILTER", "UNION", "MINUS", "GRAPH",
  "SERVICE", "BIND", "VALUES", "GROUP BY", "HAVING", "ORDER BY", "LIMIT", "OFFSET", "ASK",
  "CONSTRUCT", "DESCRIBE", "PREFIX", "BASE", "FROM", "FROM NAMED", "NOT EXISTS", "EXISTS",
  "COUNT", "SAMPLE", "GROUP_CONCAT", "STR", "LANG", "LANGMATCHES", "REGEX", "CONTAINS",
  "STRSTARTS", "COALESCE", "IF", "isIRI", "isLiteral", "DATATYPE", "YEAR", "ASC", "DESC",
];

/** Completion of keywords, declared prefixes and the terms the page passes in. */
function sparqlCompletions(terms) {
  return (context) => {
    const word = context.matchBefore(/[A-Za-z_][\w-]*:?[\w-]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const options = KEYWORDS.map((label) => ({ label, type: "keyword" })).concat(
      terms.map((label) => ({ label, type: label.endsWith(":") ? "namespace" : "variable" })),
    );
    return { from: word.from, options, validFor: /^[\w:-]*$/ };
  };
}

/**
 * Replace `textarea` by an editor; `onRun` is called by Ctrl/Cmd+Enter.
 * Returns {view, getValue(), setValue(text), focus()}.
 */
export function createEditor(textarea, { onRun, terms = [] } = {}) {
  const run = () => { onRun && onRun(); return true; };
  const state = EditorState.create({
    doc: textarea.value,
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(),
      drawSelection(), indentOnInput(), bracketMatching(), closeBrackets(),
      highlightActiveLine(), highlightSelectionMatches(),
      autocompletion({ override: [sparqlCompletions(terms)] }),
      StreamLanguage.define(sparql),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      keymap.of([
        { key: "Mod-Enter", run, preventDefault: true },
        { key: "Shift-Enter", run, preventDefault: true },
        ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, indentWithTab,
      ]),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-label": "SPARQL query", "data-testid": "editor" }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) textarea.value = update.state.doc.toString();
      }),
    ],
  });
  const view = new EditorView({ state });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (text) => {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      textarea.value = text;
    },
    focus: () => view.focus(),
  };
}
