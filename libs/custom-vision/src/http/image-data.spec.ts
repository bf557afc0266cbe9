import { describe, expect, it } from 'vitest';
import { parseMultipart } from './image-data.js';

describe('parseMultipart', () => {
  it('keeps parts without a filename (as the SDKs send a Buffer) and binary data intact', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff]);
    const body = Buffer.concat([
      Buffer.from(
        '--xyz\r\nContent-Disposition: form-data; name="imageData"\r\nContent-Type: application/octet-stream\r\n\r\n',
      ),
      bytes,
      Buffer.from(
        '\r\n--xyz\r\nContent-Disposition: form-data; name="imageData"; filename="b.png"\r\n\r\nsecond\r\n--xyz--\r\n',
      ),
    ]);
    const parts = parseMultipart(body, 'multipart/form-data; boundary=xyz');
    expect(parts.map((part) => [part.name, part.filename])).toEqual([
      ['imageData', undefined],
      ['imageData', 'b.png'],
    ]);
    expect(parts[0].data.equals(bytes)).toBe(true);
    expect(parts[1].data.toString()).toBe('second');
  });

  it('refuses a body without its boundary', () => {
    expect(() => parseMultipart(Buffer.from('nothing'), 'multipart/form-data; boundary=xyz')).toThrow(
      'could not be read',
    );
    expect(() => parseMultipart(Buffer.from('--xyz'), 'multipart/form-data')).toThrow('no boundary');
  });
});
