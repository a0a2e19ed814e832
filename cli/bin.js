#!/usr/bin/env node
// The `mlserve` executable: loads the TypeScript command line through tsx, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
