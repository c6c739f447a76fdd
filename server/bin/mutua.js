#!/usr/bin/env node
// The operator's admin command. Sources are TypeScript run through tsx's loader, so the
// package ships without a build step; see src/admin-cli/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/admin-cli/cli.ts');
