/**
 * deploy/kubernetes: each overlay (dev, staging, prod), as shipped and (dev, on one process) with
 * components/gateways added, rendered by
 * `kubectl kustomize` (as `kubectl apply -k` would) in a copy of the tree where staging and prod have the
 * secrets.env an operator writes. Every rendered object is validated with kubernetes-models (the class of its
 * apiVersion and kind), then the properties the issue asks for are checked on the rendered objects: the
 * engine a StatefulSet of one replica with its journal on a claim and never behind an autoscaler, probes,
 * resources and a restricted security context on every container, references that resolve, a configuration
 * that production mode accepts, and NetworkPolicies that allow exactly the paths Rialto uses.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/ops/index.js';
import { lastOf, readDockerfile, ROOT, START_BUDGET_SECONDS } from './dockerfile-model.js';
import { allowed, type NetworkPolicyObject, type Pod } from './network-policy.js';
import { numericUser } from './scratch-image.js';

const KUBERNETES = join(ROOT, 'deploy', 'kubernetes');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const OVERLAYS = { dev: 'rialto-dev', staging: 'rialto-staging', prod: 'rialto' } as const;
type Overlay = keyof typeof OVERLAYS;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}

interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: Array<{ metadata: { name: string } }>;
  };
}

type ModelClass = new (data: unknown) => { validate(): void };

/** The kubernetes-models class for an object's apiVersion and kind (`apps/v1` StatefulSet, `v1` Service...). */
async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
  const cls = mod[kind];
  assert.equal(typeof cls, 'function', `kubernetes-models has ${apiVersion} ${kind}`);
  return cls as ModelClass;
}

function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) {
    assert.fail(`kubectl is needed (Debian's kubernetes-client; .ci/run installs it): ${r.error.message}`);
  }
  assert.equal(r.status, 0, `kubectl kustomize ${dir}:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

function only<T extends K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind}${name === undefined ? '' : ` ${name}`}`);
  return found[0] as T;
}

function ofKind<T extends K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

/** The generated name kustomize gave a ConfigMap or Secret (`rialto-env-5fk2...`). */
function generated(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter(
    (o) => o.kind === kind && new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name),
  );
  assert.equal(found.length, 1, `one generated ${kind} ${name}`);
  return found[0];
}

/**
 * kustomize writes a long Secret value's base64 over several lines (at 70 characters); the API server decodes
 * it with Go's encoding/base64, which skips line breaks, while kubernetes-models' `byte` format does not.
 */
function asApiServerReads(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || o.data === undefined) return o;
  const data = Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')]));
  return { ...o, data };
}

/** Whether an overlay's kustomization lists the gateway tier's component. */
function includesGateways(kustomization: string): boolean {
  return /^components:\n(?:\s+- .*\n)*\s+- \.\.\/\.\.\/components\/gateways$/m.test(kustomization);
}

function rialtoHas(command: string): boolean {
  return spawnSync(process.execPath, [MAIN, command, '--help'], { encoding: 'utf8' }).status === 0;
}

describe('deploy/kubernetes', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'rialto-k8s-'));
  const renders = new Map<string, { overlay: Overlay; gateways: boolean; objects: K8sObject[] }>();
  const image = readDockerfile().stages.at(-1);
  assert.ok(image !== undefined);
  const dockerUser = numericUser(lastOf(image, 'USER')?.args[0] ?? 'root');

  before(() => {
    const version = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    const kustomizeMajor = Number(/Kustomize Version: v(\d+)\./.exec(version.stdout ?? '')?.[1] ?? 0);
    assert.ok(
      kustomizeMajor >= 5,
      `kubectl with kustomize v5 is needed (labels without selectors, components); found:\n${version.stdout ?? ''}${String(version.error ?? '')}`,
    );
    // The tree as an operator has it: secrets.env written from the example for the overlays that read one.
    const tree = join(scratch, 'kubernetes');
    cpSync(KUBERNETES, tree, { recursive: true });
    for (const overlay of ['staging', 'prod']) {
      const example = readFileSync(join(tree, 'overlays', overlay, 'secrets.env.example'), 'utf8');
      const filled = example.replace(/replace-with-[a-z0-9-]+/g, () => randomBytes(24).toString('hex'));
      writeFileSync(join(tree, 'overlays', overlay, 'secrets.env'), filled);
    }
    for (const overlay of Object.keys(OVERLAYS) as Overlay[]) {
      const source = join(tree, 'overlays', overlay);
      const kustomization = readFileSync(join(source, 'kustomization.yaml'), 'utf8');
      const split = includesGateways(kustomization);
      renders.set(overlay, { overlay, gateways: split, objects: kustomize(source) });
      if (split) continue;
      // The overlay with the gateway tier, as an operator adds it: the component listed in the overlay
      // itself (so that its objects get the overlay's namespace and names).
      const withGateways = join(tree, 'overlays', `${overlay}-with-gateways`);
      cpSync(source, withGateways, { recursive: true });
      writeFileSync(
        join(withGateways, 'kustomization.yaml'),
        `${kustomization}\ncomponents:\n  - ../../components/gateways\n`,
      );
      renders.set(`${overlay}+gateways`, { overlay, gateways: true, objects: kustomize(withGateways) });
    }
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('every rendered object is valid for its apiVersion and kind (kubernetes-models)', async () => {
    let validated = 0;
    for (const [name, { objects }] of renders) {
      for (const o of objects) {
        const Model = await modelClass(o.apiVersion, o.kind);
        assert.doesNotThrow(
          () => new Model(asApiServerReads(o)).validate(),
          `${name}: ${o.kind} ${o.metadata.name}`,
        );
        validated++;
      }
    }
    assert.ok(validated > 60, `${validated} objects validated`);
    // The validation has teeth: a wrong type is refused.
    const Model = await modelClass('apps/v1', 'StatefulSet');
    const prod = renders.get('prod');
    assert.ok(prod !== undefined);
    const sts = structuredClone(only(prod.objects, 'StatefulSet'));
    (sts.spec as Workload['spec']).replicas = '1' as unknown as number;
    assert.throws(() => new Model(sts).validate(), /replicas/);
  });

  it('renders the expected objects, each overlay in its own namespace', () => {
    for (const [name, { overlay, gateways, objects }] of renders) {
      const kinds = objects.map((o) => o.kind).sort();
      const expected = [
        'ConfigMap',
        'ConfigMap',
        'Ingress',
        'NetworkPolicy',
        'NetworkPolicy',
        'NetworkPolicy',
        'NetworkPolicy',
        'Secret',
        'Service',
        'Service',
        'StatefulSet',
        ...(gateways
          ? [
              'Deployment',
              'HorizontalPodAutoscaler',
              'NetworkPolicy',
              'NetworkPolicy',
              'NetworkPolicy',
              'PodDisruptionBudget',
            ]
          : []),
      ].sort();
      assert.deepEqual(kinds, expected, name);
      for (const o of objects)
        assert.equal(o.metadata.namespace, OVERLAYS[overlay], `${name}: ${o.kind} ${o.metadata.name}`);
      for (const o of objects) assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'rialto');
    }
  });

  it('runs the engine as a StatefulSet of one, its journal on a claim, behind a headless Service, never autoscaled', () => {
    for (const [name, { objects, gateways }] of renders) {
      const sts = only<Workload>(objects, 'StatefulSet', 'rialto-engine');
      assert.equal(sts.spec.replicas, 1, `${name}: one writer per journal`);
      const headless = only<K8sObject>(objects, 'Service', sts.spec.serviceName);
      assert.equal(headless.spec?.clusterIP, 'None', `${name}: the governing Service is headless`);
      // The governing Service selects the engine pods (every shard's: each pod has its own stable name).
      for (const [k, v] of Object.entries(headless.spec?.selector as Record<string, string>)) {
        assert.equal(sts.spec.template.metadata.labels[k], v, `${name}: ${k}`);
      }
      const claims = (sts.spec.volumeClaimTemplates ?? []).map((c) => c.metadata.name);
      const env = generated(objects, 'ConfigMap', 'rialto-env').data ?? {};
      const mount = sts.spec.template.spec.containers[0].volumeMounts?.find(
        (m) => m.mountPath === env.RIALTO_DATA_DIR,
      );
      assert.ok(
        mount !== undefined && claims.includes(mount.name),
        `${name}: the data directory is on a claim`,
      );
      for (const selector of Object.entries(sts.spec.selector.matchLabels)) {
        assert.equal(sts.spec.template.metadata.labels[selector[0]], selector[1]);
      }
      for (const hpa of ofKind<K8sObject>(objects, 'HorizontalPodAutoscaler')) {
        const target = hpa.spec?.scaleTargetRef as { kind: string; name: string };
        assert.equal(target.kind, 'Deployment', `${name}: HPA ${hpa.metadata.name} scales a Deployment`);
        only(objects, 'Deployment', target.name);
      }
      // With the gateway tier the engine runs alone; without, the whole venue.
      assert.deepEqual(sts.spec.template.spec.containers[0].args, [gateways ? 'engine' : 'start'], name);
    }
    for (const command of ['start', 'engine', 'gateway']) {
      assert.ok(rialtoHas(command), `the pods run commands the CLI has: ${command}`);
    }
  });

  it('with the gateway tier: a Deployment with an autoscaler and a disruption budget, behind rialto-api', () => {
    for (const [name, { objects, gateways }] of renders) {
      const api = only<K8sObject>(objects, 'Service', 'rialto-api');
      const selector = api.spec?.selector as Record<string, string>;
      const ingress = only<K8sObject>(objects, 'Ingress');
      const backend = JSON.stringify(ingress.spec);
      assert.match(backend, /"service":\{"name":"rialto-api","port":\{"name":"http"\}\}/);
      if (!gateways) {
        assert.equal(
          selector['app.kubernetes.io/component'],
          'engine',
          `${name}: the engine serves the API today`,
        );
        continue;
      }
      const deployment = only<Workload>(objects, 'Deployment', 'rialto-gateway');
      assert.deepEqual(
        selector,
        deployment.spec.selector.matchLabels,
        `${name}: rialto-api selects the gateways`,
      );
      const hpa = only<K8sObject>(objects, 'HorizontalPodAutoscaler', 'rialto-gateway');
      assert.ok((hpa.spec?.minReplicas as number) >= 2, 'at least two gateways');
      const pdb = only<K8sObject>(objects, 'PodDisruptionBudget', 'rialto-gateway');
      assert.deepEqual(
        (pdb.spec?.selector as Workload['spec']['selector']).matchLabels,
        deployment.spec.selector.matchLabels,
      );
      assert.deepEqual(deployment.spec.template.spec.containers[0].args, ['gateway']);
    }
    // Production and staging run the split (the engine's process is the venue's one writer of market data,
    // docs/internal-transport.md); dev stays one process, and is rendered with the gateways too.
    for (const overlay of ['dev', 'staging', 'prod']) {
      const k = readFileSync(join(KUBERNETES, 'overlays', overlay, 'kustomization.yaml'), 'utf8');
      const split = overlay !== 'dev';
      assert.equal(
        includesGateways(k),
        split,
        `${overlay} ${split ? 'includes' : 'leaves out'} the gateways`,
      );
      assert.equal(renders.get(overlay)?.gateways, split, overlay);
      if (!split) assert.equal(renders.get(`${overlay}+gateways`)?.gateways, true, `${overlay}+gateways`);
    }
  });

  it('with the gateway tier: the gateways find the engine on its internal port, with the shared secret', () => {
    for (const [name, { overlay, objects, gateways }] of renders) {
      if (!gateways) continue;
      const env = generated(objects, 'ConfigMap', 'rialto-env').data ?? {};
      const sts = only<Workload>(objects, 'StatefulSet', 'rialto-engine');
      const container = sts.spec.template.spec.containers[0];
      const internal = container.ports?.find((p) => p.name === 'internal');
      assert.ok(internal !== undefined, `${name}: the engine has its internal port`);
      assert.equal(container.ports?.length, 1, `${name}: and only it`);
      const listen = /^0\.0\.0\.0:(\d+)$/.exec(env.RIALTO_ENGINE_LISTEN ?? '');
      assert.equal(listen?.[1], String(internal.containerPort), `${name}: the engine listens on it`);
      // The engine's pod by its stable name under the headless Service, on the Service's internal port.
      const headless = only<K8sObject>(objects, 'Service', sts.spec.serviceName);
      const ports = headless.spec?.ports as { name: string; port: number; targetPort: string }[];
      assert.deepEqual(ports, [{ name: 'internal', port: internal.containerPort, targetPort: 'internal' }]);
      assert.equal(
        env.RIALTO_ENGINE_ADDRESS,
        `${sts.metadata.name}-0.${headless.metadata.name}:${internal.containerPort}`,
        name,
      );
      const secret = generated(objects, 'Secret', 'rialto-secrets').data?.RIALTO_ENGINE_SECRET;
      assert.ok(secret !== undefined, `${name}: the engine's secret is in rialto-secrets`);
      if (overlay !== 'dev') {
        assert.ok(
          Buffer.from(secret, 'base64').toString('utf8').length >= 32,
          `${name}: a production secret`,
        );
      }
    }
  });

  it('gives every container probes on /health and /ready, resources and a restricted security context', () => {
    for (const [name, { objects }] of renders) {
      const env = generated(objects, 'ConfigMap', 'rialto-env').data ?? {};
      for (const w of [
        ...ofKind<Workload>(objects, 'StatefulSet'),
        ...ofKind<Workload>(objects, 'Deployment'),
      ]) {
        const pod = w.spec.template.spec;
        const where = `${name}: ${w.kind} ${w.metadata.name}`;
        assert.equal(pod.securityContext?.runAsNonRoot, true, where);
        assert.equal(pod.securityContext?.runAsUser, dockerUser.uid, `${where}: the image's user`);
        assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', where);
        // `rialto engine` answers its probes on its internal port; everything else on the API's.
        const engineAlone = w.kind === 'StatefulSet' && pod.containers[0].args?.[0] === 'engine';
        const probed = engineAlone ? 'internal' : 'http';
        for (const c of pod.containers) {
          if (!engineAlone) {
            const port = c.ports?.find((p) => p.name === 'http');
            assert.equal(String(port?.containerPort), env.PORT, `${where}: the http port is PORT`);
          }
          assert.deepEqual(c.livenessProbe?.httpGet, { path: '/health', port: probed }, where);
          assert.deepEqual(c.startupProbe?.httpGet, { path: '/health', port: probed }, where);
          // Every process here replays the whole journal before it listens: a start that takes longer than its
          // probe allows is killed and starts the replay again, for good.
          const startup = c.startupProbe;
          assert.ok(
            (startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3) >= START_BUDGET_SECONDS,
            `${where}: the startup probe allows ${START_BUDGET_SECONDS} s for the journal's replay`,
          );
          // Judged by the engine alone: the order path keeps matching while Redis, NATS or PostgreSQL is away
          // (docs/operations.md), so such an outage must not take every process out of the Service.
          assert.deepEqual(c.readinessProbe?.httpGet, { path: '/ready?only=engine', port: probed }, where);
          assert.ok(
            c.resources?.requests?.cpu !== undefined && c.resources.requests.memory !== undefined,
            where,
          );
          assert.ok(c.resources.limits?.memory !== undefined, `${where}: a memory limit`);
          const sc = c.securityContext;
          assert.equal(sc?.allowPrivilegeEscalation, false, where);
          assert.equal(sc?.readOnlyRootFilesystem, true, where);
          assert.equal(sc?.runAsNonRoot, true, where);
          assert.deepEqual(sc?.capabilities?.drop, ['ALL'], where);
          assert.equal(sc?.seccompProfile?.type, 'RuntimeDefault', where);
        }
      }
    }
  });

  it('references resolve, the image is the release, and production mode accepts the configuration', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const [name, { overlay, objects }] of renders) {
      const names = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
      for (const w of [
        ...ofKind<Workload>(objects, 'StatefulSet'),
        ...ofKind<Workload>(objects, 'Deployment'),
      ]) {
        const pod = w.spec.template.spec;
        for (const v of pod.volumes ?? []) {
          if (v.configMap !== undefined)
            assert.ok(names.has(`ConfigMap/${v.configMap.name}`), `${name}: ${v.configMap.name}`);
        }
        for (const c of pod.containers) {
          const image =
            overlay === 'dev' ? `rialto:${pkg.version}` : `registry.example.com/rialto/rialto:${pkg.version}`;
          assert.equal(c.image, image, `${name}: ${w.metadata.name}'s image`);
          for (const from of c.envFrom ?? []) {
            if (from.configMapRef !== undefined) assert.ok(names.has(`ConfigMap/${from.configMapRef.name}`));
            if (from.secretRef !== undefined) assert.ok(names.has(`Secret/${from.secretRef.name}`));
          }
        }
      }

      // The environment a pod gets (ConfigMap and Secret) and the configuration file it mounts, as it reads them.
      const env = { ...generated(objects, 'ConfigMap', 'rialto-env').data };
      for (const [k, v] of Object.entries(generated(objects, 'Secret', 'rialto-secrets').data ?? {})) {
        env[k] = Buffer.from(v, 'base64').toString('utf8');
      }
      const dir = join(scratch, 'config', name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'rialto.yaml');
      writeFileSync(file, generated(objects, 'ConfigMap', 'rialto-config').data?.['rialto.yaml'] ?? '');
      const sts = only<Workload>(objects, 'StatefulSet');
      const configMount = sts.spec.template.spec.containers[0].volumeMounts?.find((m) => m.name === 'config');
      assert.ok(configMount !== undefined, `${name}: the configuration is mounted`);
      assert.equal(
        env.RIALTO_CONFIG,
        `${configMount.mountPath}/rialto.yaml`,
        `${name}: RIALTO_CONFIG is the mounted file`,
      );
      assert.equal(configMount.readOnly, true);
      const loaded = loadConfig({ file, env, cwd: dir });
      assert.ok(loaded.ok, `${name}: ${JSON.stringify(loaded)}`);
      assert.deepEqual(loaded.warnings, [], `${name}: no warnings`);
      assert.equal(loaded.config.mode, 'production');
      assert.equal(loaded.config.database.kind, 'postgres');
      assert.ok(loaded.config.redisUrl !== null && loaded.config.natsUrl !== null);
      assert.equal(loaded.config.instruments.length, 2);
    }
  });

  it('NetworkPolicies allow exactly the paths Rialto uses', () => {
    for (const [name, { overlay, gateways, objects }] of renders) {
      const policies = ofKind<K8sObject>(objects, 'NetworkPolicy') as unknown as NetworkPolicyObject[];
      const ns = OVERLAYS[overlay];
      const podOf = (w: Workload): Pod => ({ namespace: ns, labels: w.spec.template.metadata.labels });
      const engine = podOf(only<Workload>(objects, 'StatefulSet'));
      const ingress: Pod = {
        namespace: 'ingress-nginx',
        labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
      };
      const prometheus: Pod = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
      const impostor: Pod = { namespace: 'default', labels: { 'app.kubernetes.io/name': 'prometheus' } };
      const postgres: Pod = { namespace: ns, labels: { 'app.kubernetes.io/name': 'postgresql' } };
      const redis: Pod = { namespace: ns, labels: { 'app.kubernetes.io/name': 'redis' } };
      const nats: Pod = { namespace: ns, labels: { 'app.kubernetes.io/name': 'nats' } };
      const dns: Pod = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
      const stranger: Pod = { namespace: ns, labels: { app: 'something-else' } };
      const front = gateways ? podOf(only<Workload>(objects, 'Deployment')) : engine;
      const backends = gateways ? [engine, front] : [engine];
      const yes = (from: Pod, to: Pod, port: number, protocol = 'TCP'): void =>
        assert.ok(
          allowed(policies, from, to, port, protocol),
          `${name}: ${JSON.stringify([from, to, port])} allowed`,
        );
      const no = (from: Pod, to: Pod, port: number, protocol = 'TCP'): void =>
        assert.ok(
          !allowed(policies, from, to, port, protocol),
          `${name}: ${JSON.stringify([from, to, port])} refused`,
        );

      yes(ingress, front, 8080);
      no(ingress, front, 9229);
      for (const pod of backends) {
        // Prometheus scrapes /metrics where the process serves it: a split engine's internal port.
        const metricsPort = gateways && pod === engine ? 7070 : 8080;
        yes(prometheus, pod, metricsPort);
        no(impostor, pod, metricsPort);
        no(stranger, pod, metricsPort);
        yes(pod, postgres, 5432);
        yes(pod, redis, 6379);
        yes(pod, nats, 4222);
        yes(pod, dns, 53, 'UDP');
        yes(pod, dns, 53, 'TCP');
        no(pod, postgres, 6379);
        no(pod, stranger, 443);
        no(pod, { namespace: 'elsewhere', labels: dns.labels }, 53, 'UDP');
      }
      if (gateways) {
        // Gateways reach the engine's internal port, and nothing else of it; nobody else reaches that port.
        yes(front, engine, 7070);
        no(front, engine, 8080);
        no(ingress, engine, 7070);
        no(ingress, engine, 8080);
        no(stranger, engine, 7070);
        no(prometheus, engine, 8080);
        no(prometheus, front, 7070);
        no(engine, front, 8080);
      }
      // The namespace's other workloads are not Rialto's to fence: no policy here selects them.
      yes(stranger, postgres, 5432);
    }
  });
});
