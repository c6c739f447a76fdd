/**
 * Picks the worker's TensorFlow.js backend: WebGL only when a hardware GPU backs it,
 * else WebAssembly (with core's gradient kernels, which conv nets need to train on it),
 * else the plain-JS CPU backend.
 *
 * Why not simply "WebGL if it works": browsers without a usable GPU (headless Chromium,
 * VMs, blocklisted drivers) still offer WebGL through a software rasterizer — SwiftShader
 * or llvmpipe — which trains about ten times slower than WebAssembly (measured here:
 * cnn-fedavg ~5 samples/s on SwiftShader against ~54 on wasm). The renderer string from
 * WEBGL_debug_renderer_info tells them apart; when it cannot be read we do not gamble.
 */
import { describeFailure, useCpuBackend, useWasmBackend } from '@mutua/core/backend';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendReport } from './messages.ts';

/** Where routes/web.ts serves the binaries vite.config.ts copies (dist/tfjs-wasm/). */
export const WASM_PATH = '/tfjs-wasm/';

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|microsoft basic render|mesa offscreen/i;

export interface GpuProbe {
  /** A WebGL context could be created at all. */
  webgl: boolean;
  renderer: string | null;
  hardware: boolean;
  why: string;
}

/** Creates a throwaway WebGL context and reads who renders it. */
export function probeGpu(): GpuProbe {
  if (typeof OffscreenCanvas === 'undefined') {
    return { webgl: false, renderer: null, hardware: false, why: 'no OffscreenCanvas in this worker' };
  }
  let gl: WebGL2RenderingContext | WebGLRenderingContext | null = null;
  try {
    const canvas = new OffscreenCanvas(1, 1);
    gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  } catch {
    gl = null;
  }
  if (!gl) return { webgl: false, renderer: null, hardware: false, why: 'WebGL is not available' };
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : null;
    if (!renderer) {
      return { webgl: true, renderer: null, hardware: false, why: 'the WebGL renderer is not disclosed' };
    }
    const software = SOFTWARE_RENDERER.exec(renderer);
    if (software) {
      return { webgl: true, renderer, hardware: false, why: `WebGL is software-rendered (${software[0]})` };
    }
    return { webgl: true, renderer, hardware: true, why: `hardware GPU (${renderer})` };
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

export async function chooseBackend(origin: string): Promise<BackendReport> {
  const gpu = probeGpu();
  const notes: string[] = [];
  if (gpu.hardware) {
    try {
      if (await tf.setBackend('webgl')) {
        await tf.ready();
        return { name: 'webgl', reason: gpu.why, renderer: gpu.renderer ?? undefined };
      }
      notes.push('WebGL failed to initialise');
    } catch (err) {
      notes.push(`WebGL failed: ${describeFailure(err)}`);
    }
  } else {
    notes.push(gpu.why);
  }
  if (typeof WebAssembly === 'object') {
    try {
      setWasmPaths(new URL(WASM_PATH, origin).href);
      // One thread, as in Node (tfjs never threads there): the threaded build starts its
      // pthread workers from the stringified Emscripten factory, which a minifying bundler
      // breaks ("e is not defined" in every pthread), and the gain on 2-4 cores is small.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      const wasm = await useWasmBackend();
      return {
        ...wasm,
        reason: notes.join('; '),
        renderer: gpu.renderer ?? undefined,
      };
    } catch (err) {
      notes.push(`WebAssembly failed: ${describeFailure(err)}`);
    }
  } else {
    notes.push('this browser has no WebAssembly');
  }
  await useCpuBackend();
  await tf.ready();
  return { name: 'cpu', reason: notes.join('; '), renderer: gpu.renderer ?? undefined };
}
