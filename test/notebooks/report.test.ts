import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeNotebook, notebookOutputs, notebookText } from '../../lib/notebooks/execute';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { runExperiment } from '../../lib/workflows/experiment';
import { HAS_ML100K, realDataDir } from '../helpers/data';
import { useMlflowServer, useTempDir } from '../helpers/mlflow';

const server = useMlflowServer();
const tmp = useTempDir('reelab-nb-report-');

const YAML = `
name: nb-report
dataset: ml-100k
split: [u1, u2]
seed: 1
metrics: [rmse, mae]
models:
  - model: baseline
  - model: svd
    params: { epochs: 8 }
    space: { factors: [5, 10] }
mlflow: { experiment: nb-report-test }
`;

describe.runIf(HAS_ML100K)('notebooks/06-report.ipynb through the tslab kernel', () => {
  it('rebuilds a report from MLflow alone and shows its leaderboard and plots', async () => {
    const file = join(tmp(), 'nb-report.yaml');
    writeFileSync(file, YAML);
    const original = await runExperiment(file, {
      tracking: new MlflowClient({ trackingUri: server().url, outboxDir: false }),
      dataDir: realDataDir(),
      progress: 'none',
      log: () => {},
      reportDir: join(tmp(), 'original'),
    });
    const runId = original.search.parentRunId!;
    const outDir = join(tmp(), 'from-notebook');
    const nb = await executeNotebook('notebooks/06-report.ipynb', {
      params: { runId: runId, outDir: outDir },
      env: { MLFLOW_TRACKING_URI: server().url },
      outDir: 'test-artifacts/notebooks',
      timeoutSeconds: 600,
    });
    const text = notebookText(nb.content);
    expect(text).toContain(`report "nb-report" from run ${runId}: 6 trials`);
    expect(text).toContain('Student-t confidence intervals over the 2 test folds');
    // the leaderboard table: both models with intervals
    const html = notebookOutputs(nb.content)
      .map((o) => String(o.data?.['text/html'] ?? ''))
      .join('\n');
    expect(html).toMatch(/<td>svd \(best\)<\/td>|<td>baseline \(best\)<\/td>/);
    expect(html).toMatch(/\d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]/);
    const figures = notebookOutputs(nb.content).filter((o) => o.data?.['application/vnd.plotly.v1+json']);
    expect(figures.length).toBe(original.report.figures.length);
    // the files the notebook wrote are the original report, byte for byte
    expect(readFileSync(join(outDir, 'nb-report.md'), 'utf8')).toBe(
      readFileSync(original.files.markdown, 'utf8'),
    );
  });
});
