#!/usr/bin/env node
/**
 * Command-line entry point (`dendritic`, bin of the package). `train` is the Edge Impulse block's
 * ENTRYPOINT. The commands, their help and the exit codes are in src/cli/main.ts.
 */
import { runMain } from './cli/main.js';

runMain(process.argv.slice(2));
