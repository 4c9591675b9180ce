// Driven by test/viz/progress.test.ts: a job that ticks N times as fast as it can, with stderr piped.
import { progress } from '../../lib/util/progress';

const n = Number(process.argv[2] ?? 1000);
const bar = progress({ total: n, label: 'cli work', unit: 'steps' });
let x = 0;
for (let i = 0; i < n; i++) {
  for (let j = 0; j < 2000; j++) x += Math.sqrt(j + i);
  bar.tick();
}
bar.done(x > 0 ? 'finished' : '');
process.stdout.write(`done ${n}\n`);
