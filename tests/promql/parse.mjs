// Parse PromQL expressions with the Prometheus project's grammar (@prometheus-io/lezer-promql).
// stdin: a JSON list of expressions. stdout: a JSON list of {errors: [offsets], metrics: [names]}.
import { parser } from '@prometheus-io/lezer-promql';
import { readFileSync } from 'node:fs';

const exprs = JSON.parse(readFileSync(0, 'utf8'));
const out = exprs.map((expr) => {
  const errors = [];
  const metrics = new Set();
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'Identifier' && node.node.parent && node.node.parent.name === 'VectorSelector') {
        metrics.add(expr.slice(node.from, node.to));
      }
    },
  });
  return { errors, metrics: [...metrics].sort() };
});
process.stdout.write(JSON.stringify(out));
