/**
 * A full Config for tests: the schema's defaults, with the knobs a test does not name pinned to the plain
 * behaviour (branch rank 0, gated sets, no split rate, no pruning, no schedule), so tests do not silently
 * follow a schema default change. Components read their slice (a Pick of Config); a whole Config fits any.
 */
import { defaultConfig, type Config } from '../../src/params/schema.js';

export const testConfig = (o: Partial<Config> = {}): Config => ({
  ...defaultConfig(),
  dendriteRank: 0,
  dendriteForm: 'gated',
  splitLearningRate: false,
  newDendriteRate: 1,
  pruneDendrites: false,
  pruneSignificance: 0,
  lrSchedule: 'none',
  ...o,
});
