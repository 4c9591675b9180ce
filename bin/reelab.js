#!/usr/bin/env node
// The `reelab` command: loads the TypeScript CLI through tsx (no build step; the same sources as notebooks/tests).
require('tsx/cjs/api').register();
require('../lib/cli/main.ts').main(process.argv);
