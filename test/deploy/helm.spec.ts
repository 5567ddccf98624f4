import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KNOWN_NAMES, SETTINGS } from '@preflight/bus';

// The chart as Kubernetes would get it: `helm lint` and `helm template` (helm built from the Go
// module proxy by .ci/run), then what must hold for every workload, for the default values and
// for each documented example (Confluent Cloud, MSK with SCRAM, Strimzi with mTLS).
const root = fileURLToPath(new URL('../..', import.meta.url));
const chart = join(root, 'deploy', 'helm', 'connector-preflight');
const examples = join(root, 'deploy', 'helm', 'examples');

function helmBin(): string {
  const candidates = [process.env['HELM'], join(homedir(), '.cache', 'preflight', 'bin', 'helm')].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  const which = spawnSync('sh', ['-c', 'command -v helm'], { encoding: 'utf8' });
  if (which.status === 0) return which.stdout.trim();
  throw new Error('helm not found: .ci/run installs it into ~/.cache/preflight/bin (or set HELM)');
}

function helm(args: string[]): string {
  const r = spawnSync(helmBin(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string }; spec: Record<string, unknown>; data?: Record<string, string> };
interface Container {
  name: string;
  args?: string[];
  livenessProbe?: { httpGet?: { path: string; port: number } };
  readinessProbe?: { httpGet?: { path: string; port: number } };
  resources?: { limits?: { cpu?: string; memory?: string }; requests?: { cpu?: string; memory?: string } };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: Array<{ name: string; secret?: { secretName: string } }>;
  enableServiceLinks?: boolean;
}

function render(valuesFile?: string, set: string[] = []): Obj[] {
  const out = helm(['template', 'rel', chart, ...(valuesFile ? ['-f', valuesFile] : []), ...set.flatMap((s) => ['--set', s])]);
  return parseAllDocuments(out).map((d) => d.toJSON() as Obj | null).filter((o): o is Obj => !!o);
}
const podSpec = (o: Obj): PodSpec => (o.spec['template'] as { spec: PodSpec }).spec;

const cases: Array<[string, string | undefined]> = [['default values', undefined], ...readdirSync(examples).map((f): [string, string] => [f, join(examples, f)])];

describe('the Helm chart', () => {
  it('passes helm lint, with every example values file', () => {
    expect(helm(['lint', chart])).toContain('1 chart(s) linted, 0 chart(s) failed');
    for (const [, file] of cases) if (file) expect(helm(['lint', chart, '-f', file])).toContain('0 chart(s) failed');
  });

  describe.each(cases)('rendered with %s', (_name, file) => {
    const objs = render(file);
    const deployments = objs.filter((o) => o.kind === 'Deployment');
    const workloads = objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');

    it('has a Deployment per service, with its PodDisruptionBudget', () => {
      const names = deployments.map((d) => d.metadata.name.replace('rel-connector-preflight-', ''));
      expect(names).toEqual(expect.arrayContaining(['handshake', 'schema-validator', 'credential-auditor', 'readiness', 'projector']));
      const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget').map((p) => p.metadata.name);
      for (const d of deployments) expect(pdbs).toContain(d.metadata.name);
    });

    it('every Deployment container has HTTP liveness and readiness probes', () => {
      for (const d of deployments) {
        for (const c of podSpec(d).containers) {
          expect(c.livenessProbe?.httpGet?.path, `${d.metadata.name}/${c.name} liveness`).toMatch(/^\//);
          expect(c.readinessProbe?.httpGet?.path, `${d.metadata.name}/${c.name} readiness`).toMatch(/^\//);
        }
      }
    });

    it('every container runs as non-root, without privilege escalation, on a read-only root', () => {
      for (const w of workloads) {
        const spec = podSpec(w);
        expect(spec.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
        expect(spec.securityContext?.runAsUser, w.metadata.name).toBeGreaterThan(0);
        expect(spec.enableServiceLinks, w.metadata.name).toBe(false);
        for (const c of spec.containers) {
          expect(c.securityContext?.allowPrivilegeEscalation, `${w.metadata.name}/${c.name}`).toBe(false);
          expect(c.securityContext?.readOnlyRootFilesystem, `${w.metadata.name}/${c.name}`).toBe(true);
          expect(c.securityContext?.capabilities?.drop, `${w.metadata.name}/${c.name}`).toContain('ALL');
        }
      }
    });

    it('every container has CPU and memory requests and limits', () => {
      for (const w of workloads) {
        for (const c of podSpec(w).containers) {
          expect(c.resources?.limits?.cpu, `${w.metadata.name}/${c.name}`).toBeTruthy();
          expect(c.resources?.limits?.memory, `${w.metadata.name}/${c.name}`).toBeTruthy();
          expect(c.resources?.requests?.memory, `${w.metadata.name}/${c.name}`).toBeTruthy();
        }
      }
    });

    it('configures only settings the services know, and never a secret value', () => {
      const cm = objs.find((o) => o.kind === 'ConfigMap')!;
      for (const key of Object.keys(cm.data ?? {})) expect(KNOWN_NAMES.has(key), key).toBe(true);
      const inlineSecrets = new Set(SETTINGS.filter((s) => s.secret && !s.name.endsWith('_FILE')).map((s) => s.name));
      for (const key of Object.keys(cm.data ?? {})) expect(inlineSecrets.has(key), `${key} holds a secret: only its _FILE variant belongs in a ConfigMap`).toBe(false);
    });

    it('mounts every referenced secret file from a Secret volume', () => {
      const cm = objs.find((o) => o.kind === 'ConfigMap')!;
      const files = Object.entries(cm.data ?? {}).filter(([k]) => k.endsWith('_FILE')).map(([, v]) => v);
      for (const w of workloads) {
        const spec = podSpec(w);
        const secretVolumes = new Set((spec.volumes ?? []).filter((v) => v.secret).map((v) => v.name));
        const mounts = spec.containers[0]!.volumeMounts ?? [];
        for (const f of files) {
          const m = mounts.find((mt) => f.startsWith(`${mt.mountPath}/`));
          expect(m, `${w.metadata.name}: ${f}`).toBeDefined();
          expect(secretVolumes.has(m!.name), `${w.metadata.name}: ${f} from a Secret`).toBe(true);
          expect(m!.readOnly).toBe(true);
        }
      }
    });
  });

  it('runs the bundled registry only when no external registry is configured', () => {
    const bundled = render();
    expect(bundled.some((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-schema-registry'))).toBe(true);
    expect(bundled.find((o) => o.kind === 'ConfigMap')?.data?.['SCHEMA_REGISTRY_URL']).toBe('http://rel-connector-preflight-schema-registry:8081');
    const external = render(undefined, ['schemaRegistry.url=https://registry.example']);
    expect(external.some((o) => o.metadata.name.endsWith('-schema-registry'))).toBe(false);
    expect(external.find((o) => o.kind === 'ConfigMap')?.data?.['SCHEMA_REGISTRY_URL']).toBe('https://registry.example');
  });

  it('provisions topics with a Job running the provision-topics command', () => {
    const job = render().find((o) => o.kind === 'Job')!;
    expect(podSpec(job).containers[0]!.args).toEqual(['provision-topics']);
    expect(render(undefined, ['topics.provision=false']).some((o) => o.kind === 'Job')).toBe(false);
  });
});
