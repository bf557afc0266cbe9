import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's Node environment, with Node's own typed-array constructors inside the test context (Jest already does this
 * for ArrayBuffer and Uint8Array). Native add-ons such as onnxruntime-node create their results in Node's context,
 * and onnxruntime's `instanceof Float32Array` checks would otherwise fail inside a test.
 */
export default class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'Int8Array',
      'Uint8ClampedArray',
      'Int16Array',
      'Uint16Array',
      'Int32Array',
      'Uint32Array',
      'Float32Array',
      'Float64Array',
      'BigInt64Array',
      'BigUint64Array',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}
