// A fast plan for the common configuration: named keys and `[*]` only (what fast-redact handles), no scanning.
import type { PathNode } from './paths.js';

/** The state of a walk at one value when only named keys and `[*]` can match. */
export interface PlanNode {
  rule: number | undefined;
  keys: [string, PlanNode][];
  /** The plan for each element when the value is an array (arrays stay transparent to named keys). */
  elements: PlanNode | undefined;
}

/** True when a trie uses nothing but named keys and `[*]`, so a plan can replace state sets. */
export function planFits(node: PathNode): boolean {
  if (node.any || node.glob || node.loops || node.indexes.size > 0) return false;
  for (const child of node.keys.values()) if (!planFits(child)) return false;
  return node.anyIndex ? planFits(node.anyIndex) : true;
}

/** Compiles the trie into plan nodes once; element plans are unions computed ahead of time. */
export function compilePlan(root: PathNode): PlanNode {
  const memo = new Map<string, PlanNode>();
  const ids = new Map<PathNode, number>();
  const idOf = (node: PathNode) => {
    let id = ids.get(node);
    if (id === undefined) ids.set(node, (id = ids.size));
    return id;
  };
  const build = (nodes: PathNode[]): PlanNode => {
    const key = nodes
      .map(idOf)
      .sort((a, b) => a - b)
      .join(',');
    const cached = memo.get(key);
    if (cached) return cached;
    let rule: number | undefined;
    const byKey = new Map<string, PathNode[]>();
    const elementStates: PathNode[] = [];
    for (const node of nodes) {
      if (node.rule !== undefined && (rule === undefined || node.rule < rule)) rule = node.rule;
      for (const [name, child] of node.keys) {
        const list = byKey.get(name) ?? [];
        if (!list.includes(child)) list.push(child);
        byKey.set(name, list);
      }
    }
    const plan: PlanNode = { rule, keys: [], elements: undefined };
    memo.set(key, plan);
    for (const [name, children] of byKey) plan.keys.push([name, build(children)]);
    // An array element keeps the array's own states (transparency) and gains those after `[*]`.
    for (const node of nodes) {
      if (!elementStates.includes(node)) elementStates.push(node);
      if (node.anyIndex && !elementStates.includes(node.anyIndex)) elementStates.push(node.anyIndex);
    }
    const descends = (list: PathNode[]) => list.some((n) => n.keys.size > 0 || n.anyIndex || n.rule !== undefined);
    if (nodes.some((node) => node.anyIndex) || descends(nodes)) {
      plan.elements = elementStates.length === nodes.length ? plan : build(elementStates);
    }
    return plan;
  };
  return build([root]);
}
