import { describe, expect, it } from '@jest/globals';
import { validateDeploymentSettings } from './deployment-settings.js';

describe('deployment settings', () => {
  it('keep their defaults when unset or empty, read numbers from strings, and refuse nonsense naming it', () => {
    const defaults = validateDeploymentSettings({ PREDICT_RATE_LIMIT: undefined, MODEL_CACHE_MAX_MODELS: '' });
    expect(defaults.PREDICT_RATE_LIMIT).toBe(6000);
    expect(defaults.MODEL_CACHE_MAX_MODELS).toBe(16);
    expect(validateDeploymentSettings({ PREDICT_RATE_LIMIT: '20' }).PREDICT_RATE_LIMIT).toBe(20);
    expect(() => validateDeploymentSettings({ PREDICT_RATE_WINDOW_SECONDS: '0' })).toThrow(/PREDICT_RATE_WINDOW_SECONDS/);
  });
});
