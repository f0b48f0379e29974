// Parses PromQL queries with Prometheus's own grammar (@prometheus-io/lezer-promql, the parser
// of the Prometheus UI) and reports, for each, the syntax errors and the metric names it reads.
//
// stdin:  a JSON array of query strings
// stdout: a JSON array, one object per query, in order:
//         {"query": ..., "errors": [{"from": n, "to": n, "near": "..."}], "metrics": [...]}
// An error is an error node of the tree (lezer recovers from syntax errors by inserting them).
// The metric names are those of the vector selectors: `name`, `{"name"}` and `{__name__="name"}`.
import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";

function unquote(literal) {
  // PromQL strings are Go strings: "..." and '...' with escapes, `...` raw.
  if (literal.startsWith("`")) return literal.slice(1, -1);
  if (literal.startsWith("'")) {
    literal = `"${literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`;
  }
  return JSON.parse(literal);
}

function check(query) {
  const tree = parser.parse(query);
  const errors = [];
  const metrics = new Set();
  const text = (node) => query.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        const near = query.slice(Math.max(0, ref.from - 10), ref.to + 10);
        errors.push({ from: ref.from, to: ref.to, near });
        return;
      }
      const node = ref.node;
      const parent = node.parent?.name;
      if (ref.name === "Identifier" && parent === "VectorSelector") {
        metrics.add(text(node));
      } else if (ref.name === "QuotedLabelName" && parent === "LabelMatchers") {
        metrics.add(unquote(text(node)));
      } else if (ref.name === "UnquotedLabelMatcher") {
        const name = node.getChild("LabelName");
        const op = node.getChild("MatchOp");
        const value = node.getChild("StringLiteral");
        if (name && op && value && text(name) === "__name__" && op.getChild("EqlSingle")) {
          metrics.add(unquote(text(value)));
        }
      }
    },
  });
  return { query, errors, metrics: [...metrics].sort() };
}

const queries = JSON.parse(readFileSync(0, "utf8"));
if (!Array.isArray(queries) || !queries.every((q) => typeof q === "string")) {
  process.stderr.write("expected a JSON array of strings on stdin\n");
  process.exit(2);
}
process.stdout.write(JSON.stringify(queries.map(check)) + "\n");
