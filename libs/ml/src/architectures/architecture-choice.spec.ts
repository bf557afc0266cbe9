import { describe, expect, it } from 'vitest';
import { chooseArchitecture, PHOTO_MIN_SIDE } from './architecture-registry.js';

describe('choosing the architecture from the data', () => {
  it('trains photos on a pretrained backbone', () => {
    const photos = [
      { width: 1024, height: 768 },
      { width: 640, height: 480 },
      { width: 96, height: 120 },
    ];
    expect(chooseArchitecture('classification', photos)).toMatchObject({
      id: 'backbone-classifier',
      reason: expect.stringContaining('photos'),
    });
  });

  it('keeps the small CNN for tiny images such as 28×28 Fashion-MNIST scans', () => {
    const scans = Array.from({ length: 5 }, () => ({ width: 28, height: 28 }));
    expect(chooseArchitecture('classification', scans)).toMatchObject({
      id: 'small-cnn',
      reason: expect.stringContaining('small images'),
    });
  });

  it('decides by the median shorter side, so a few large images among small ones do not switch it', () => {
    const mostlySmall = [
      { width: 2000, height: 2000 },
      { width: 32, height: 500 },
      { width: 64, height: 64 },
    ];
    expect(chooseArchitecture('classification', mostlySmall).id).toBe('small-cnn');
    expect(chooseArchitecture('classification', [{ width: PHOTO_MIN_SIDE, height: 400 }]).id).toBe(
      'backbone-classifier',
    );
  });

  it('picks backbone-detector for detection photos and tiny-detector for tiny detection images', () => {
    expect(chooseArchitecture('detection', [{ width: 1024, height: 768 }])).toMatchObject({
      id: 'backbone-detector',
      reason: expect.stringContaining('photos'),
    });
    expect(chooseArchitecture('detection', [{ width: 64, height: 64 }])).toMatchObject({
      id: 'tiny-detector',
      reason: expect.stringContaining('small images'),
    });
  });
});
