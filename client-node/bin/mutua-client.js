#!/usr/bin/env node
// The edge client's command. Sources are TypeScript run through tsx's loader, so the
// package ships without a build step; see src/cli.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
