import { describe, expect, it } from 'vitest';
import { validateDeploymentSettings } from './deployment-settings.js';

describe('deployment settings', () => {
  it('keep their defaults when unset or empty, read numbers from strings, and refuse nonsense naming it', () => {
    const defaults = validateDeploymentSettings({ PREDICT_RATE_LIMIT: undefined, MODEL_CACHE_MAX_MODELS: '' });
    expect(defaults.PREDICT_RATE_LIMIT).toBe(6000);
    expect(defaults.MODEL_CACHE_MAX_MODELS).toBe(16);
    expect(validateDeploymentSettings({ PREDICT_RATE_LIMIT: '20' }).PREDICT_RATE_LIMIT).toBe(20);
    expect(() => validateDeploymentSettings({ PREDICT_RATE_WINDOW_SECONDS: '0' })).toThrow(
      /PREDICT_RATE_WINDOW_SECONDS/,
    );
    expect([defaults.SHARED_PREDICT_RATE_LIMIT, defaults.USAGE_FLUSH_SECONDS]).toEqual([600, 60]);
    expect(validateDeploymentSettings({ USAGE_FLUSH_SECONDS: '0.5' }).USAGE_FLUSH_SECONDS).toBe(0.5);
    expect(() => validateDeploymentSettings({ SHARED_PREDICT_RATE_LIMIT: '0' })).toThrow(/SHARED_PREDICT_RATE_LIMIT/);
  });
});
