import axios from 'axios';
import { describe, expect, it } from 'vitest';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { withRun } from '../../lib/tracking/run';
import { useMlflowServer } from '../helpers/mlflow';

const server = useMlflowServer();

describe('real MLflow server', () => {
  it('listens on loopback and reports health', async () => {
    expect(server().url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await axios.get(`${server().url}/health`);
    expect(res.status).toBe(200);
  });

  it('logs a run through the client and reads it back through the REST API', async () => {
    const client = new MlflowClient({ trackingUri: server().url });
    const runId = await withRun(
      client,
      { experiment: 'foundation-test', runName: 'slice', source: 'test' },
      async (run) => {
        await run.logParams({ factors: 10, method: 'als' });
        await run.logMetrics({ rmse: 0.95 }, 3);
        return run.runId;
      },
    );
    const res = await axios.get(`${server().url}/api/2.0/mlflow/runs/get`, { params: { run_id: runId } });
    const run = res.data.run;
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params).toEqual(
      expect.arrayContaining([
        { key: 'factors', value: '10' },
        { key: 'method', value: 'als' },
      ]),
    );
    expect(run.data.metrics).toEqual([expect.objectContaining({ key: 'rmse', value: 0.95, step: 3 })]);
    const tags = Object.fromEntries(
      run.data.tags.map((t: { key: string; value: string }) => [t.key, t.value]),
    );
    expect(tags['mlflow.runName']).toBe('slice');
    expect(tags['reelab.source']).toBe('test');
  });

  it('marks a run FAILED when the body throws', async () => {
    const client = new MlflowClient({ trackingUri: server().url });
    let runId = '';
    await expect(
      withRun(client, { experiment: 'foundation-test', runName: 'boom', source: 'test' }, async (run) => {
        runId = run.runId!;
        throw new Error('model exploded');
      }),
    ).rejects.toThrow('model exploded');
    const run = await client.getRun(runId);
    expect(run.info.status).toBe('FAILED');
    expect(run.data.tags?.find((t) => t.key === 'reelab.error')?.value).toBe('model exploded');
  });
});
