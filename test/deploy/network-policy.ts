/**
 * Kubernetes NetworkPolicy semantics, small enough to read: whether a connection from one pod to another on a
 * port is allowed by a set of policies. A pod that no policy selects for a direction is open in it; a selected
 * pod accepts (or sends) only what some rule of a selecting policy allows. Peers are pod and namespace
 * selectors (matchLabels only: anything else is refused, so that this never quietly disagrees with a cluster);
 * a namespace's labels are its `kubernetes.io/metadata.name`, as the API server sets it.
 */
import { strict as assert } from 'node:assert';

export interface Pod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: unknown;
}

interface Port {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Port[];
}

export interface NetworkPolicyObject {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: Selector;
    policyTypes?: Array<'Ingress' | 'Egress'>;
    ingress?: Rule[];
    egress?: Rule[];
  };
}

function selects(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  assert.equal(selector.matchExpressions, undefined, 'only matchLabels selectors are understood here');
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function peerMatches(peer: Peer, policyNamespace: string, pod: Pod): boolean {
  assert.equal(peer.ipBlock, undefined, 'ipBlock peers are not understood here');
  const namespaceOk =
    peer.namespaceSelector === undefined
      ? pod.namespace === policyNamespace
      : selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': pod.namespace });
  const podOk = peer.podSelector === undefined || selects(peer.podSelector, pod.labels);
  return namespaceOk && podOk;
}

function portMatches(ports: Port[] | undefined, port: number, protocol: string): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    assert.notEqual(typeof p.port, 'string', 'named ports are not understood here');
    const from = p.port as number | undefined;
    const inRange = from === undefined || (port >= from && port <= (p.endPort ?? from));
    return (p.protocol ?? 'TCP') === protocol && inRange;
  });
}

function direction(
  policies: readonly NetworkPolicyObject[],
  type: 'Ingress' | 'Egress',
  subject: Pod,
  other: Pod,
  port: number,
  protocol: string,
): boolean {
  const applying = policies.filter((p) => {
    const types = p.spec.policyTypes ?? (p.spec.egress === undefined ? ['Ingress'] : ['Ingress', 'Egress']);
    return (
      p.metadata.namespace === subject.namespace &&
      types.includes(type) &&
      selects(p.spec.podSelector, subject.labels)
    );
  });
  if (applying.length === 0) return true;
  return applying.some((p) =>
    (type === 'Ingress' ? (p.spec.ingress ?? []) : (p.spec.egress ?? [])).some((rule) => {
      const peers = type === 'Ingress' ? rule.from : rule.to;
      const peerOk =
        peers === undefined ||
        peers.length === 0 ||
        peers.some((peer) => peerMatches(peer, subject.namespace, other));
      return peerOk && portMatches(rule.ports, port, protocol);
    }),
  );
}

/** Whether `from` may open a connection to `to` on this port: its egress and the target's ingress agree. */
export function allowed(
  policies: readonly NetworkPolicyObject[],
  from: Pod,
  to: Pod,
  port: number,
  protocol = 'TCP',
): boolean {
  return (
    direction(policies, 'Egress', from, to, port, protocol) &&
    direction(policies, 'Ingress', to, from, port, protocol)
  );
}
