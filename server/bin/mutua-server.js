#!/usr/bin/env node
// The coordinator's command. Sources are TypeScript run through tsx's loader, so the
// package ships without a build step; see src/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
