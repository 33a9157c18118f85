import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ITEM_STATES, JOB_STATES, type JobBackend } from './jobs.js';

/** Proof latency buckets (seconds): from a small model's 50 ms proof to a large one's minutes. */
const PROOF_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * The service's Prometheus metrics. Gauges are read from the backend at scrape time (the embedded
 * store keeps running totals in the transactions that change them, so a scrape reads one record,
 * not every job), so they are right after a restart, a delete or a retention sweep and, on Redis,
 * across every server; latencies and request counts are this
 * process's own. A registry per service, not prom-client's global one, so that several services
 * can share a process (tests).
 */
export function serviceMetrics(backend: JobBackend) {
  const registry = new Registry();
  registry.setDefaultLabels({ backend: backend.kind });
  let last: Awaited<ReturnType<JobBackend['stats']>> | undefined;
  const refresh = async () => (last = await backend.stats());

  new Gauge({
    name: 'zkml_queue_depth',
    help: 'Proofs waiting to start',
    registers: [registry],
    collect() {
      this.set(last?.queueDepth ?? 0);
    },
  });
  new Gauge({
    name: 'zkml_proofs',
    help: 'Proofs (job items) by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const s of ITEM_STATES) this.set({ state: s }, last?.items[s] ?? 0);
    },
  });
  new Gauge({
    name: 'zkml_jobs',
    help: 'Jobs by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      if (last?.jobs) for (const s of JOB_STATES) this.set({ state: s }, last.jobs[s] ?? 0);
    },
  });
  new Gauge({
    name: 'zkml_worker_restarts',
    help: 'Proving worker threads replaced after a crash or a time limit (on Redis: summed over every worker process)',
    registers: [registry],
    collect() {
      this.set(last?.workerRestarts ?? 0);
    },
  });
  const proofSeconds = new Histogram({
    name: 'zkml_proof_duration_seconds',
    help: 'Wall time of each proving attempt (inference, witness and Groth16 proof)',
    labelNames: ['result'],
    buckets: PROOF_BUCKETS,
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'zkml_job_duration_seconds',
    help: 'Time from a job being accepted to its last proof finishing',
    labelNames: ['result'],
    buckets: PROOF_BUCKETS,
    registers: [registry],
  });
  const requests = new Counter({
    name: 'zkml_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'],
    registers: [registry],
  });

  backend.onTiming = (kind, seconds, ok) => (kind === 'proof' ? proofSeconds : jobSeconds).observe({ result: ok ? 'ok' : 'failed' }, seconds);

  return {
    registry,
    request(route: string, status: number) {
      requests.inc({ route, status: String(status) });
    },
    /** One read of the backend's stats per scrape; every gauge reports from it. */
    async text(): Promise<string> {
      await refresh();
      return registry.metrics();
    },
  };
}
