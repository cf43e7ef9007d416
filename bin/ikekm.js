#!/usr/bin/env node
// Loads the TypeScript CLI through tsx's loader in this same process (no build step, and
// signals reach the daemon directly).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/ikekm.ts');
