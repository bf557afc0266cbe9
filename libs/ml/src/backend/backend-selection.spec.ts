import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend-selection.js';

describe('selecting the wasm backend', () => {
  it('leaves the process its own handling of uncaught errors and unhandled rejections', async () => {
    const handlers = () => [...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')];
    const before = handlers();
    expect(await selectBackend('wasm')).toBe('wasm');
    // The backend works, and Emscripten's rethrowing handlers (exit code 7 on any stray rejection) are gone.
    expect(Array.from(await tf.add(tf.scalar(1), tf.scalar(2)).data())).toEqual([3]);
    expect(handlers()).toEqual(before);
  });
});
